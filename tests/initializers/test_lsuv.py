"""LSUV (Mishkin & Matas 2016): every layer's pre-activation variance within tol of the target, measured by
independent NumPy forwards from the weights; forward order on every kind of model; frozen, zero-variance and
shared cases; the ``LSUV`` initializer resolved once at the first ``fit``; errors before any weight changes."""

import inspect
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.lib.stride_tricks import sliding_window_view

import neurona as nr
from neurona import initializers, layers, models, optimizers
from neurona.initializers.lsuv import LSUV, LSUVReport, is_pending, lsuv, mark_resolved, resolve_pending
from neurona.saving import saved_model

ACTIVATIONS = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0.0), "linear": lambda z: z}


# ---- independent NumPy forwards (float64, from the weights only) -----------------------------------------------
def _w(layer):
    return layer.kernel.numpy().astype(np.float64), (0.0 if layer.bias is None else
                                                     layer.bias.numpy().astype(np.float64))


def _act(layer):
    return ACTIVATIONS[nr.activations.serialize(layer.activation)]


def dense_z(layer, h):
    kernel, bias = _w(layer)
    return h @ kernel + bias


def conv_z(layer, h):
    """'valid', stride-1 convolution of channels-last ``h`` (1-D or 2-D) with sliding windows and einsum."""
    kernel, bias = _w(layer)
    spatial = kernel.shape[:-2]
    windows = sliding_window_view(h, spatial, axis=tuple(range(1, 1 + len(spatial))))
    if len(spatial) == 2:
        return np.einsum("nijcab,abcf->nijf", windows, kernel) + bias
    return np.einsum("nica,acf->nif", windows, kernel) + bias


def stack_preactivations(model_layers, x):
    """The pre-activation of each Dense / Conv layer of a plain stack, and the stack's output."""
    h, zs = np.asarray(x, dtype=np.float64), []
    for layer in model_layers:
        if isinstance(layer, layers.Dense):
            zs.append(dense_z(layer, h))
            h = _act(layer)(zs[-1])
        elif isinstance(layer, (layers.Conv2D, layers.Conv1D)):
            zs.append(conv_z(layer, h))
            h = _act(layer)(zs[-1])
        elif isinstance(layer, layers.MaxPooling2D):
            n, rows, cols, c = h.shape
            h = h[:, :rows // 2 * 2, :cols // 2 * 2].reshape(n, rows // 2, 2, cols // 2, 2, c).max(axis=(2, 4))
        elif isinstance(layer, layers.Flatten):
            h = h.reshape(len(h), -1)
        else:
            raise AssertionError(f"no NumPy forward for {layer!r}")
    return zs, h


def assert_within(zs, target, tol):
    variances = [float(z.var()) for z in zs]
    assert all(abs(v - target) < tol for v in variances), f"variances {variances}, target {target} +- {tol}"
    return variances


def tanh_stack(depth=10, width=64, inputs=32, **kwargs):
    return models.Sequential([layers.Input((inputs,))] +
                             [layers.Dense(width, activation="tanh", **kwargs) for _ in range(depth)])


def small_cnn():
    return models.Sequential([
        layers.Input((12, 12, 3)),
        layers.Conv2D(8, 3, activation="relu"),
        layers.Conv2D(8, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(10),
    ])


@pytest.fixture
def x64(rng):
    return rng.standard_normal((256, 32)).astype("float32")


# ---- the two cases -----------------------------------------------------------------------------------
def test_ten_layer_tanh_network_every_preactivation_within_tol(device, x64):
    model = tanh_stack()
    report = lsuv(model, x64, seed=0)
    variances = assert_within(stack_preactivations(model.layers, x64)[0], 1.0, 0.1)
    assert isinstance(report, LSUVReport) and report.converged
    assert [r.layer for r in report] == [layer.name for layer in model.layers]
    assert all(r.status == "converged" and 1 <= r.iterations <= 10 for r in report)
    # the report's final variances are the ones an independent forward finds
    np.testing.assert_allclose([r.final_variance for r in report], variances, rtol=1e-4)
    # without LSUV the default init shrinks tanh pre-activations well below 1 (the reason for the method)
    assert min(r.initial_variance for r in report) < 0.6


def test_small_cnn_every_preactivation_within_tol(device, rng):
    x = rng.standard_normal((64, 12, 12, 3)).astype("float32")
    model = small_cnn()
    report = lsuv(model, x, seed=1)
    assert_within(stack_preactivations(model.layers, x)[0], 1.0, 0.1)
    assert [r.class_name for r in report] == ["Conv2D", "Conv2D", "Dense"] and report.converged


@pytest.mark.parametrize("target_var, tol", [(0.25, 0.02), (2.0, 0.1), (4.0, 0.01)])
def test_other_targets(x64, target_var, tol):
    model = tanh_stack(depth=5, width=48)
    report = lsuv(model, x64, target_var=target_var, tol=tol, seed=2)
    assert_within(stack_preactivations(model.layers, x64)[0], target_var, tol)
    assert all(r.target_var == target_var and r.tol == tol for r in report)


@settings(max_examples=12, deadline=None, derandomize=True)
@given(depth=st.integers(1, 5), width=st.integers(16, 48), target=st.floats(0.2, 5.0),
       activation=st.sampled_from(["tanh", "relu", "linear"]), seed=st.integers(0, 1000))
def test_convergence_property(depth, width, target, activation, seed):
    x = np.random.default_rng(seed).standard_normal((128, 20)).astype("float32")
    model = models.Sequential([layers.Input((20,))] +
                              [layers.Dense(width, activation=activation) for _ in range(depth)])
    assert lsuv(model, x, target_var=target, tol=0.05 * target, seed=seed).converged
    assert_within(stack_preactivations(model.layers, x)[0], target, 0.05 * target)


def test_conv1d_layers(rng):
    x = rng.standard_normal((32, 20, 4)).astype("float32")
    model = models.Sequential([layers.Input((20, 4)), layers.Conv1D(6, 3, activation="tanh"),
                               layers.Conv1D(6, 5, activation="relu"), layers.Flatten(), layers.Dense(3)])
    assert lsuv(model, x, seed=3).converged
    assert_within(stack_preactivations(model.layers, x)[0], 1.0, 0.1)


# ---- the algorithm's steps --------------------------------------------------------------------------------------
def test_kernels_are_rescaled_orthonormal_matrices(x64):
    model = models.Sequential([layers.Input((32,)), layers.Dense(64, activation="tanh"),
                               layers.Dense(64, activation="tanh"), layers.Dense(16)])
    report = lsuv(model, x64, seed=4)
    for layer, record in zip(model.layers, report):
        w = layer.kernel.numpy().astype(np.float64)
        gram = w.T @ w if w.shape[0] >= w.shape[1] else w @ w.T
        np.testing.assert_allclose(gram, record.scale**2 * np.eye(min(w.shape)), atol=1e-5 * record.scale**2)


def test_orthonormal_false_only_rescales_and_biases_are_never_touched(x64):
    model = tanh_stack(depth=4, width=32, bias_initializer=initializers.RandomNormal(stddev=0.1, seed=0))
    kernels, biases = [layer.kernel.numpy() for layer in model.layers], [layer.bias.numpy() for layer in model.layers]
    report = lsuv(model, x64, orthonormal=False)
    assert report.converged
    for layer, record, kernel, bias in zip(model.layers, report, kernels, biases):
        np.testing.assert_allclose(layer.kernel.numpy(), kernel * record.scale, rtol=1e-5)
        np.testing.assert_array_equal(layer.bias.numpy(), bias)
    assert_within(stack_preactivations(model.layers, x64)[0], 1.0, 0.1)


def test_a_seed_makes_it_reproducible(x64):
    first, second = tanh_stack(depth=3), tanh_stack(depth=3)  # different initial kernels
    lsuv(first, x64, seed=11)
    lsuv(second, x64, seed=11)
    for a, b in zip(first.get_weights(), second.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_max_iter_and_status_when_the_tolerance_is_not_reached(x64):
    model = tanh_stack(depth=2, width=32, bias_initializer=initializers.RandomNormal(stddev=1.0, seed=1))
    report = lsuv(model, x64, tol=1e-9, max_iter=1, seed=0)
    assert [(r.status, r.iterations, r.converged) for r in report] == [("max_iter", 1, False)] * 2
    assert not report.converged


def test_an_unbuilt_model_is_built_on_the_batch(x64):
    model = models.Sequential([layers.Dense(32, activation="tanh"), layers.Dense(8)])
    assert lsuv(model, x64, seed=0).converged
    assert_within(stack_preactivations(model.layers, x64)[0], 1.0, 0.1)


def test_layers_selects_which_are_initialized(x64):
    model = tanh_stack(depth=3, width=32)
    before = model.get_weights()
    report = lsuv(model, x64, layers=[model.layers[2].name, model.layers[1]], seed=0)
    assert [r.layer for r in report] == [model.layers[1].name, model.layers[2].name]  # forward order
    np.testing.assert_array_equal(model.layers[0].kernel.numpy(), before[0])
    zs = stack_preactivations(model.layers, x64)[0]
    assert_within(zs[1:], 1.0, 0.1)


# ---- every kind of model: forward order, shared layers ---------------------------------------------------------
def test_functional_model_with_a_residual_connection(x64):
    inputs = nr.Input((32,))
    h1 = layers.Dense(32, activation="tanh", name="d1")(inputs)
    h2 = layers.Dense(32, activation="tanh", name="d2")(h1)
    out = layers.Dense(8, name="d3")(layers.add([h2, h1]))
    model = nr.Model(inputs, out)
    report = lsuv(model, x64, seed=0)
    assert [r.layer for r in report] == ["d1", "d2", "d3"]
    d1, d2, d3 = (model.get_layer(n) for n in ("d1", "d2", "d3"))
    z1 = dense_z(d1, x64.astype(np.float64))
    z2 = dense_z(d2, np.tanh(z1))
    z3 = dense_z(d3, np.tanh(z2) + np.tanh(z1))
    assert_within([z1, z2, z3], 1.0, 0.1)


def test_a_shared_layer_is_scaled_once_measured_at_its_first_call(x64):
    inputs = nr.Input((32,))
    shared = layers.Dense(32, activation="tanh", name="shared")
    out = layers.Dense(4, name="out")(shared(shared(inputs)))
    model = nr.Model(inputs, out)
    report = lsuv(model, x64, seed=0)
    assert [r.layer for r in report] == ["shared", "out"]
    z_first = dense_z(shared, x64.astype(np.float64))
    z_second = dense_z(shared, np.tanh(z_first))
    assert_within([z_first, dense_z(model.get_layer("out"), np.tanh(z_second))], 1.0, 0.1)


class _Subclassed(nr.Model):
    """Attributes assigned in another order than the call runs them, plus a layer it never calls."""

    def __init__(self):
        super().__init__()
        self.head = layers.Dense(4, name="head")
        self.unused = layers.Dense(4, name="unused")
        self.body = [layers.Dense(32, activation="tanh", name=f"body{i}") for i in range(3)]

    def call(self, x):
        for layer in self.body:
            x = layer(x)
        return self.head(x)


def test_subclassed_model_in_call_order_and_an_unreached_layer_untouched(x64):
    model = _Subclassed()
    model(x64[:2])
    model.unused.build((None, 32))
    unused_kernel = model.unused.kernel.numpy()
    report = lsuv(model, x64, seed=0)
    assert [r.layer for r in report] == ["body0", "body1", "body2", "head", "unused"]
    assert report[-1].status == "not_called" and report.converged
    np.testing.assert_array_equal(model.unused.kernel.numpy(), unused_kernel)
    assert_within(stack_preactivations([*model.body, model.head], x64)[0], 1.0, 0.1)
    json.dumps(report.to_dict(), allow_nan=False)  # the unmeasured variances are None, not NaN


def test_nested_models(x64):
    inner = models.Sequential([layers.Input((32,)), layers.Dense(32, activation="tanh"),
                               layers.Dense(32, activation="tanh")], name="inner")
    model = models.Sequential([layers.Input((32,)), layers.Dense(32, activation="tanh"), inner, layers.Dense(6)])
    report = lsuv(model, x64, seed=0)
    flat = [model.layers[0], *inner.layers, model.layers[2]]
    assert [r.layer for r in report] == [layer.name for layer in flat]
    assert_within(stack_preactivations(flat, x64)[0], 1.0, 0.1)


def test_tied_kernels_are_rescaled_once(x64):
    model = tanh_stack(depth=2, width=32, inputs=32)
    model.layers[1].kernel = model.layers[0].kernel
    report = lsuv(model, x64, seed=0)
    assert [r.status for r in report] == ["converged", "shared_kernel"]
    w = model.layers[0].kernel.numpy().astype(np.float64)
    np.testing.assert_allclose(w.T @ w, report[0].scale**2 * np.eye(32), atol=1e-5)


# ---- frozen, zero variance, failures ---------------------------------------------------------------------------
def test_a_frozen_layer_is_untouched_bit_exact(x64):
    model = tanh_stack(depth=4, width=32)
    model.layers[1].trainable = False
    frozen = model.layers[1].kernel.numpy()
    report = lsuv(model, x64, seed=0)
    assert model.layers[1].kernel.numpy().tobytes() == frozen.tobytes()
    assert [r.status for r in report] == ["converged", "frozen", "converged", "converged"]
    assert report[1].iterations == 0 and report[1].scale == 1.0
    zs = stack_preactivations(model.layers, x64)[0]
    assert_within([zs[0], zs[2], zs[3]], 1.0, 0.1)  # the layers after the frozen one see its real output
    assert report[1].final_variance == pytest.approx(float(zs[1].var()), rel=1e-4)


def _dead_relu_stack(bias_initializer):
    # the first layer's pre-activations are about -100: its ReLU outputs only zeros
    return models.Sequential([layers.Input((32,)),
                              layers.Dense(16, activation="relu", bias_initializer=initializers.Constant(-100.0)),
                              layers.Dense(8, activation="tanh", bias_initializer=bias_initializer)])


def test_zero_variance_stops_without_dividing_by_zero(x64):
    model = _dead_relu_stack("zeros")
    kernel = model.layers[1].kernel.numpy()
    report = lsuv(model, x64, orthonormal=False)
    assert report[0].status == "converged"
    dead = report[1]
    assert (dead.status, dead.converged, dead.iterations, dead.scale) == ("zero_variance", False, 0, 1.0)
    assert dead.initial_variance == 0.0 and "zero" in dead.message
    np.testing.assert_array_equal(model.layers[1].kernel.numpy(), kernel)
    assert not report.converged and "NOT all" in str(report)


def test_a_variance_set_by_the_bias_alone_leaves_the_kernel_unscaled(x64):
    model = _dead_relu_stack(initializers.RandomNormal(stddev=1.0, seed=0))
    kernel = model.layers[1].kernel.numpy()
    report = lsuv(model, x64, orthonormal=False)
    assert (report[1].status, report[1].iterations, report[1].converged) == ("no_effect", 0, False)
    np.testing.assert_array_equal(model.layers[1].kernel.numpy(), kernel)


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning", "ignore:invalid value:RuntimeWarning")
def test_an_overflowing_forward_is_reported_not_scaled(rng):
    x = (rng.choice([-1.0, 1.0], size=(64, 32)) * 3e38).astype("float32")  # x W overflows float32
    model = tanh_stack(depth=2, width=16)
    kernel = model.layers[0].kernel.numpy()
    report = lsuv(model, x, orthonormal=False)
    assert (report[0].status, report[0].iterations, report[0].converged) == ("non_finite", 0, False)
    np.testing.assert_array_equal(model.layers[0].kernel.numpy(), kernel)


def test_a_failure_midway_restores_every_kernel(x64):
    calls = []

    def fails_later(t):
        calls.append(1)
        if len(calls) > 3:
            raise RuntimeError("boom")
        return t

    model = models.Sequential([layers.Input((32,)), layers.Dense(32, activation="tanh"), layers.Lambda(fails_later),
                               layers.Dense(32, activation="tanh")])
    before = model.get_weights()
    with pytest.raises(RuntimeError, match="boom"):
        lsuv(model, x64, seed=0)
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    assert not is_pending(model.layers[0])


@pytest.mark.parametrize("kwargs, error, words", [
    ({"target_var": 0.0}, ValueError, "target_var"),
    ({"target_var": -1.0}, ValueError, "target_var"),
    ({"target_var": float("nan")}, ValueError, "target_var"),
    ({"target_var": "1"}, TypeError, "target_var"),
    ({"tol": 0}, ValueError, "tol"),
    ({"max_iter": 0}, ValueError, "max_iter"),
    ({"max_iter": 2.5}, ValueError, "max_iter"),
    ({"seed": -1}, ValueError, "seed"),
    ({"orthonormal": "yes"}, TypeError, "orthonormal"),
    ({"layers": "dense"}, TypeError, "layers"),
    ({"layers": ["no_such_layer"]}, ValueError, "no_such_layer"),
    ({"layers": []}, ValueError, "layers"),
])
def test_bad_arguments_fail_before_any_weight_changes(x64, kwargs, error, words):
    model = tanh_stack(depth=2, width=16)
    before = model.get_weights()
    with pytest.raises(error, match=words):
        lsuv(model, x64, **kwargs)
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("batch, error, words", [
    (np.zeros((0, 32), "float32"), ValueError, "at least one sample"),
    (np.full((4, 32), np.nan, "float32"), ValueError, "NaN"),
    (None, TypeError, "x_batch"),
    ("abc", TypeError, "x_batch"),
])
def test_bad_batches(batch, error, words):
    model = tanh_stack(depth=2, width=16)
    before = model.get_weights()
    with pytest.raises(error, match=words):
        lsuv(model, batch)
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def test_bad_models(x64):
    with pytest.raises(TypeError, match="model must be"):
        lsuv("model", x64)
    with pytest.raises(ValueError, match="no layer with a kernel"):
        lsuv(models.Sequential([layers.Input((32,)), layers.Activation("tanh")]), x64)


def test_a_single_layer_and_the_report(x64, capsys):
    layer = layers.Dense(16, activation="tanh", name="alone")
    report = lsuv(layer, x64, target_var=0.5, tol=0.01, seed=0, verbose=True)
    assert "LSUV alone: converged" in capsys.readouterr().out
    assert_within([dense_z(layer, x64.astype(np.float64))], 0.5, 0.01)
    text = str(report)
    assert "alone" in text and "final var" in text and "all converged" in text
    record = json.loads(json.dumps(report.to_dict(), allow_nan=False))["layers"][0]
    assert record["layer"] == "alone" and record["converged"] is True and record["iterations"] == report[0].iterations
    assert set(record) >= {"initial_variance", "final_variance", "scale", "status", "class_name"}


# ---- the LSUV initializer, resolved at the first fit -----------------------------------------------------------
def _lsuv_model(init=lambda i: LSUV(seed=i), built=True):
    stack = [layers.Dense(64, activation="tanh", kernel_initializer=init(i)) for i in range(6)]
    model = models.Sequential(([layers.Input((32,))] if built else []) +
                              stack + [layers.Dense(1, kernel_initializer=init(99))])
    model.compile(optimizer=optimizers.SGD(learning_rate=0.0), loss="mse")
    return model


def _fit(model, x, y):
    model.fit(x, y, batch_size=128, epochs=1, shuffle=False, verbose=0)


def test_lsuv_initializer_draws_orthonormal_then_fit_resolves_it_once(x64, rng):
    y = rng.standard_normal((256, 1)).astype("float32")
    model = _lsuv_model()
    for layer in model.layers:
        w = layer.kernel.numpy().astype(np.float64)
        np.testing.assert_allclose(w.T @ w if w.shape[0] >= w.shape[1] else w @ w.T, np.eye(min(w.shape)),
                                   atol=1e-5)  # usable before fit
    assert all(is_pending(layer) for layer in model.layers)
    _fit(model, x64, y)
    # learning_rate=0: the weights are LSUV's, rescaled on the first batch (shuffle=False: the first 128 rows)
    assert_within(stack_preactivations(model.layers, x64[:128])[0], 1.0, 0.1)
    assert not any(is_pending(layer) for layer in model.layers)
    resolved = model.get_weights()
    _fit(model, 5.0 * x64, y)  # a re-run would rescale for the new data's variance
    for a, b in zip(model.get_weights(), resolved):
        np.testing.assert_array_equal(a, b)


def test_an_unbuilt_model_and_each_layers_own_settings(x64, rng):
    y = rng.standard_normal((256, 1)).astype("float32")
    model = _lsuv_model(init=lambda i: LSUV(target_var=0.5 if i % 2 else 2.0, tol=0.05, seed=i), built=False)
    _fit(model, x64, y)
    zs = stack_preactivations(model.layers, x64[:128])[0]
    for i, z in zip([*range(6), 99], zs):
        assert_within([z], 0.5 if i % 2 else 2.0, 0.05)


def test_lsuv_called_by_hand_resolves_pending_kernels(x64, rng):
    model = _lsuv_model()
    lsuv(model, x64, target_var=0.3, tol=0.01, seed=0)
    assert not any(is_pending(layer) for layer in model.layers)
    assert not resolve_pending(model, x64)  # empty report: nothing left to do
    weights = model.get_weights()
    _fit(model, x64, rng.standard_normal((256, 1)).astype("float32"))
    for a, b in zip(model.get_weights(), weights):
        np.testing.assert_array_equal(a, b)


def _assert_fit_keeps(model, x, y):
    saved = model.get_weights()
    model.compile(optimizer=optimizers.SGD(learning_rate=0.0), loss="mse")
    _fit(model, 5.0 * x, y)
    for a, b in zip(model.get_weights(), saved):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("seeded", [True, False])
def test_a_loaded_resolved_model_keeps_its_saved_weights(tmp_path, x64, rng, seeded):
    y = rng.standard_normal((256, 1)).astype("float32")
    model = _lsuv_model(init=(lambda i: LSUV(seed=i)) if seeded else (lambda i: LSUV()))
    _fit(model, x64, y)
    model.save(tmp_path / "m")
    loaded = models.load_model(tmp_path / "m", custom_objects={"LSUV": LSUV})
    assert isinstance(loaded.layers[0].kernel.initializer, LSUV)
    assert not any(is_pending(layer) for layer in loaded.layers)  # the weights come from the file
    _assert_fit_keeps(loaded, x64, y)


def test_a_model_saved_before_fit_loads_with_the_files_weights(tmp_path, x64, rng):
    model = _lsuv_model(init=lambda i: LSUV())  # unseeded: the rebuilt model draws other values than the file's
    model.save(tmp_path / "m")
    loaded = models.load_model(tmp_path / "m", custom_objects={"LSUV": LSUV})
    assert not any(is_pending(layer) for layer in loaded.layers)
    _assert_fit_keeps(loaded, x64, rng.standard_normal((256, 1)).astype("float32"))


def test_mark_resolved(x64, rng):
    model = _lsuv_model()
    mark_resolved(model)
    assert not any(is_pending(layer) for layer in model.layers)
    _assert_fit_keeps(model, x64, rng.standard_normal((256, 1)).astype("float32"))


@pytest.mark.skipif("mark_resolved" not in inspect.getsource(saved_model),
                    reason="needs load_model/load_weights to call initializers.lsuv.mark_resolved (saved_model.py)")
def test_a_seeded_model_saved_before_fit_loads_with_the_files_weights(tmp_path, x64, rng):
    # the rebuilt seeded LSUV draws exactly the file's values, so only the loader can tell they are final
    model = _lsuv_model()
    model.save(tmp_path / "m")
    loaded = models.load_model(tmp_path / "m", custom_objects={"LSUV": LSUV})
    assert not any(is_pending(layer) for layer in loaded.layers)
    _assert_fit_keeps(loaded, x64, rng.standard_normal((256, 1)).astype("float32"))
    into = _lsuv_model()
    into.load_weights(tmp_path / "m")
    assert not any(is_pending(layer) for layer in into.layers)


def test_frozen_lsuv_layer_is_not_pending(x64, rng):
    model = _lsuv_model()
    model.layers[0].trainable = False
    drawn = model.layers[0].kernel.numpy()
    _fit(model, x64, rng.standard_normal((256, 1)).astype("float32"))
    np.testing.assert_array_equal(model.layers[0].kernel.numpy(), drawn)
    assert not is_pending(model.layers[0])
    model.layers[0].trainable = True
    assert is_pending(model.layers[0])  # still the draw: unfrozen, the next fit rescales it


def test_lsuv_initializer_config_and_errors():
    init = LSUV(target_var=2.0, tol=0.05, max_iter=3, seed=5)
    assert init.get_config() == {"target_var": 2.0, "tol": 0.05, "max_iter": 3, "seed": 5}
    again = LSUV.from_config(init.get_config())
    np.testing.assert_array_equal(again((8, 4)), nr.initializers.Orthogonal(seed=5)((8, 4)))
    with pytest.raises(ValueError, match="kernels"):
        init((5,))
    for kwargs, error in [({"target_var": 0}, ValueError), ({"tol": -1.0}, ValueError), ({"max_iter": 0}, ValueError),
                          ({"seed": -1}, ValueError), ({"tol": "0.1"}, TypeError)]:
        with pytest.raises(error):
            LSUV(**kwargs)


@pytest.mark.skipif("lsuv" not in initializers.names(), reason="LSUV is not registered in neurona.initializers yet")
def test_by_name(tmp_path, x64, rng):
    assert isinstance(initializers.get("lsuv"), LSUV) and isinstance(initializers.get("LSUV"), LSUV)
    config = initializers.serialize(LSUV(target_var=2.0, seed=1))
    assert config == {"class_name": "LSUV", "config": {"target_var": 2.0, "tol": 0.1, "max_iter": 10, "seed": 1}}
    assert initializers.deserialize(config).get_config() == config["config"]
    model = _lsuv_model(init=lambda i: "lsuv")
    _fit(model, x64, rng.standard_normal((256, 1)).astype("float32"))
    assert_within(stack_preactivations(model.layers, x64[:128])[0], 1.0, 0.1)
    model.save(tmp_path / "m")
    loaded = models.load_model(tmp_path / "m")
    assert not any(is_pending(layer) for layer in loaded.layers)
