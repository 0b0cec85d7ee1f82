"""Mixed precision: policies, 16-bit layer calls on float32 weights, float32 losses, and dynamic loss scaling."""

import numpy as np
import pytest

import neurona as nr
from neurona import layers, mixed_precision, optimizers
from neurona.backend import dtypes


@pytest.fixture(autouse=True)
def _plain_policy():
    yield
    mixed_precision.set_policy(None)


def _mlp(policy=None, units=16, inputs=8, classes=3, activation="relu"):
    return nr.Sequential([layers.Input((inputs,)), layers.Dense(units, activation=activation, dtype=policy),
                          layers.Dense(classes, activation="softmax", dtype=policy)])


# ---- policies ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, compute, variable", [("mixed_float16", "float16", "float32"),
                                                     ("mixed_bfloat16", "bfloat16", "float32"),
                                                     ("float32", "float32", "float32"),
                                                     ("float64", "float64", "float64"),
                                                     ("int64", "int64", "int64")])
def test_policies_name_their_compute_and_variable_dtypes(name, compute, variable):
    policy = mixed_precision.Policy(name)
    assert (policy.name, policy.compute_dtype, policy.variable_dtype) == (name, compute, variable)
    assert policy.is_mixed == (compute != variable)
    assert mixed_precision.Policy.from_config(policy.get_config()) == policy
    assert mixed_precision.get({"class_name": "DTypePolicy", "config": {"name": name}}) == policy


def test_bad_policies_are_refused_with_what_was_expected():
    with pytest.raises(ValueError, match="unknown dtype policy 'mixed_float8'.*'mixed_float16'"):
        mixed_precision.Policy("mixed_float8")
    with pytest.raises(ValueError, match="'complex64' is not a float, integer or bool"):
        mixed_precision.Policy("complex64")
    with pytest.raises(TypeError, match="needs a name"):
        mixed_precision.Policy(None)
    with pytest.raises(ValueError, match="needs \\{'config'"):
        mixed_precision.get({"class_name": "DTypePolicy"})
    with pytest.raises(ValueError, match="unknown dtype policy"):
        mixed_precision.set_policy("half_float")
    assert mixed_precision.global_policy().name == "float32"  # a refused policy changes nothing


def test_the_global_policy_applies_to_layers_made_after_it():
    before = layers.Dense(2)
    mixed_precision.set_policy("mixed_float16")
    after, own = layers.Dense(2), layers.Dense(2, dtype="float32")
    assert (before.compute_dtype, after.compute_dtype, own.compute_dtype) == ("float32", "float16", "float32")
    assert after.dtype == after.variable_dtype == "float32" and after.dtype_policy.name == "mixed_float16"
    assert after.get_config()["dtype"] == "mixed_float16"
    assert layers.Dense.from_config(after.get_config()).compute_dtype == "float16"
    mixed_precision.set_policy(None)
    assert layers.Dense(2).compute_dtype == nr.floatx()


# ---- layer calls ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_a_mixed_layer_computes_in_16_bits_and_its_float32_weights_get_float32_gradients(policy):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 8)).astype(np.float32)
    # tanh, not a ReLU: a 16-bit pre-activation of the other sign near 0 would switch a sample's gradient off
    mixed, full = _mlp(policy, activation="tanh"), _mlp(activation="tanh")
    full.set_weights(mixed.get_weights())
    out = mixed(x)
    compute = dtypes.as_dtype(mixed_precision.Policy(policy).compute_dtype)
    assert out.dtype == compute
    assert all(w.dtype == np.float32 for w in mixed.weights)
    assert all(type(layer.kernel).__name__ == "Variable" for layer in mixed.layers)  # restored after the call
    # the same loss in both models, compared gradient by gradient
    weights = rng.normal(size=(32, 3)).astype(np.float32)
    grads = []
    for model in (mixed, full):
        model.zero_grad()
        nr.ops.sum(nr.ops.cast(model(x), "float32") * nr.Tensor(weights)).backward()
        grads.append([np.asarray(w.grad) for w in model.trainable_weights])
    epsilon = float(dtypes.finfo(compute).eps)
    for g16, g32 in zip(*grads):
        assert g16.dtype == np.float32
        scale = float(np.abs(g32).max())
        np.testing.assert_allclose(g16, g32, atol=16 * epsilon * scale)


def test_the_weights_are_restored_when_a_mixed_call_raises():
    class Failing(layers.Dense):
        def call(self, inputs):
            assert self.kernel.dtype == np.float16  # read in the compute dtype inside call
            raise RuntimeError("boom")

    layer = Failing(3, dtype="mixed_float16")
    layer.build((None, 4))
    with pytest.raises(RuntimeError, match="boom"):
        layer(np.ones((2, 4), np.float32))
    assert type(layer.kernel).__name__ == "Variable" and layer.kernel.dtype == np.float32


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_normalization_keeps_float32_statistics_and_returns_the_compute_dtype(policy):
    bn = layers.BatchNormalization(dtype=policy)
    x = (200.0 + 50.0 * np.random.default_rng(1).normal(size=(64, 5))).astype(np.float32)
    out = bn(x, training=True)
    assert out.dtype == dtypes.as_dtype(bn.compute_dtype)
    assert bn.moving_mean.dtype == np.float32 and bn.gamma.dtype == np.float32
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.01 * x.mean(axis=0), rtol=1e-5)
    # the normalized batch has mean 0 and variance 1 up to the output's 16-bit rounding
    values = np.asarray(out.numpy(), np.float32)
    np.testing.assert_allclose(values.mean(axis=0), 0.0, atol=0.02)
    np.testing.assert_allclose(values.std(axis=0), 1.0, atol=0.02)


def test_16_bit_matrix_products_round_the_float32_sum_once():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(64, 300)).astype(np.float16), rng.normal(size=(300, 40)).astype(np.float16)
    got = nr.backend.kernels.matmul(a, b)
    exact = a.astype(np.float64) @ b.astype(np.float64)
    assert got.dtype == np.float16
    # one rounding to float16 (half a unit in the last place) plus float32's accumulation error (far smaller)
    ulp = np.spacing(np.abs(exact).astype(np.float16)).astype(np.float64)
    assert np.all(np.abs(got.astype(np.float64) - exact) <= 0.5 * ulp + 300 * 2.0**-24 * np.abs(a).max()
                  * np.abs(b).max())


# ---- losses --------------------------------------------------------------------------------------------------------
def test_losses_of_16_bit_predictions_are_computed_in_float32():
    y_pred = nr.Tensor(np.array([[1.0, 0.0], [0.5, 0.5]], np.float16))
    loss = nr.losses.SparseCategoricalCrossentropy()(np.array([1, 0]), y_pred)
    assert loss.dtype == np.float32
    # -log of the clipped 0 (1e-7: a float16 log would see 0) and -log(0.5), averaged
    assert float(loss.numpy()) == pytest.approx((-np.log(1e-7) - np.log(0.5)) / 2, rel=1e-4)


# ---- loss scaling --------------------------------------------------------------------------------------------------
def _variable(values):
    return nr.Variable(np.asarray(values, np.float32))


def test_loss_scaling_unscales_the_gradients_and_grows_the_scale():
    var, reference = _variable([1.0, -2.0]), _variable([1.0, -2.0])
    scaler = optimizers.LossScaleOptimizer(optimizers.SGD(0.1), initial_scale=8.0, dynamic_growth_steps=2)
    plain = optimizers.SGD(0.1)
    gradient = np.array([0.5, 0.25], np.float32)
    for _ in range(3):
        scaler.apply_gradients([(gradient * scaler.dynamic_scale, var)])
        plain.apply_gradients([(gradient, reference)])
        np.testing.assert_array_equal(var.numpy(), reference.numpy())  # a power-of-two scale divides exactly
    assert scaler.iterations == 3 and scaler.dynamic_scale == 16.0 and scaler.step_counter == 1
    assert float(scaler.scale_loss(nr.Tensor(np.float32(2.0))).numpy()) == 32.0


def test_an_overflowed_step_is_skipped_and_halves_the_scale():
    var = _variable([1.0, 2.0])
    scaler = optimizers.LossScaleOptimizer(optimizers.Adam(0.1), initial_scale=1024.0, dynamic_growth_steps=3)
    scaler.apply_gradients([(np.array([1.0, 1.0], np.float32), var)])
    state = scaler.get_state([var])
    before = var.numpy()
    for bad in (np.inf, np.nan):
        scaler.apply_gradients([(np.array([bad, 1.0], np.float32), var)])
    np.testing.assert_array_equal(var.numpy(), before)  # no weight moved
    after = scaler.get_state([var])
    assert after["iterations"] == 1 and scaler.skipped_steps == 2
    np.testing.assert_array_equal(after["slots"][0]["momentum"], state["slots"][0]["momentum"])  # nor a slot
    assert scaler.dynamic_scale == 256.0 and scaler.step_counter == 0


def test_fit_recovers_from_an_injected_overflow(monkeypatch):
    mixed_precision.set_policy("mixed_float16")
    model = _mlp()
    model.compile(optimizers.Adam(1e-2), "sparse_categorical_crossentropy")
    assert isinstance(model.optimizer, optimizers.LossScaleOptimizer)
    assert isinstance(model.optimizer.inner_optimizer, optimizers.Adam)
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(256, 8)).astype(np.float32), rng.integers(0, 3, 256)
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    scale, steps = model.optimizer.dynamic_scale, model.optimizer.iterations
    weights = model.get_weights()
    # one batch whose scaled gradients overflow float16 (a loss scale of 2**40: 65504 is float16's largest)
    model.optimizer.dynamic_scale = 2.0**40
    model.train_on_batch(x[:32], y[:32])
    assert model.optimizer.iterations == steps and model.optimizer.skipped_steps >= 1
    assert model.optimizer.dynamic_scale == 2.0**39
    for before, after in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(before, after)
    # halving until the gradients fit again: training goes on, finite
    history = model.fit(x, y, batch_size=32, epochs=3, verbose=0)
    assert np.isfinite(history.history["loss"]).all() and model.optimizer.iterations > steps
    assert model.optimizer.dynamic_scale < 2.0**39 and scale > 0
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_bfloat16_needs_no_loss_scaling_and_auto_scale_loss_can_be_turned_off():
    mixed_precision.set_policy("mixed_bfloat16")
    model = _mlp()
    model.compile("adam", "sparse_categorical_crossentropy")
    assert type(model.optimizer).__name__ == "Adam"
    mixed_precision.set_policy("mixed_float16")
    model = _mlp()
    model.compile("adam", "sparse_categorical_crossentropy", auto_scale_loss=False)
    assert type(model.optimizer).__name__ == "Adam"


def test_loss_scale_arguments_are_checked():
    with pytest.raises(TypeError, match="wraps an optimizer"):
        optimizers.LossScaleOptimizer("adam")
    with pytest.raises(TypeError, match="wraps an optimizer"):
        optimizers.LossScaleOptimizer(optimizers.LossScaleOptimizer(optimizers.SGD()))
    with pytest.raises(ValueError, match="dynamic_growth_steps must be an integer >= 1"):
        optimizers.LossScaleOptimizer(optimizers.SGD(), dynamic_growth_steps=0)
    with pytest.raises(ValueError, match="initial_scale"):
        optimizers.LossScaleOptimizer(optimizers.SGD(), initial_scale=-1.0)
    scaler = optimizers.LossScaleOptimizer(optimizers.SGD())
    with pytest.raises(ValueError, match="'loss_scale' must hold"):
        scaler.set_state({"iterations": 0, "learning_rate": 0.01, "slots": [], "loss_scale": {"scale": 0}}, [])


# ---- saving and training -------------------------------------------------------------------------------------------
def test_a_mixed_model_saves_and_resumes_with_its_loss_scale(tmp_path):
    mixed_precision.set_policy("mixed_float16")
    model = _mlp()
    model.compile(optimizers.LossScaleOptimizer(optimizers.Adam(1e-2), initial_scale=512.0,
                                                dynamic_growth_steps=5), "sparse_categorical_crossentropy")
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(128, 8)).astype(np.float32), rng.integers(0, 3, 128)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    model.save(tmp_path / "m")
    mixed_precision.set_policy(None)  # the file, not the global policy, gives the layers theirs
    loaded = nr.models.load_model(tmp_path / "m")
    assert [layer.compute_dtype for layer in loaded.layers] == ["float16", "float16"]
    opt = loaded.optimizer
    assert isinstance(opt, optimizers.LossScaleOptimizer) and opt.dynamic_growth_steps == 5
    assert (opt.dynamic_scale, opt.step_counter, opt.iterations) == \
        (model.optimizer.dynamic_scale, model.optimizer.step_counter, model.optimizer.iterations)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    loaded.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_trains_a_cnn_as_well_as_float32(policy):
    """The embedded MNIST subset, a small CNN, the same seed: the 16-bit model's test accuracy within two
    points of the float32 one's (the issue's 0.2-point target is measured on full MNIST, in
    benchmarks/compression.py; on 1000 test images one image is 0.1 point)."""
    (x_train, y_train), (x_test, y_test) = nr.datasets.mnist.load_data(source="embedded", verbose=False)
    x_train, x_test = x_train[:3000, :, :, None] / 255.0, x_test[:1000, :, :, None] / 255.0
    y_train, y_test = y_train[:3000], y_test[:1000]
    accuracies = {}
    for name in ("float32", policy):
        mixed_precision.set_policy(name)
        nr.seed(0)
        model = nr.Sequential([layers.Input((28, 28, 1)), layers.Conv2D(8, 3, activation="relu"),
                               layers.MaxPooling2D(2), layers.Flatten(), layers.Dense(32, activation="relu"),
                               layers.Dense(10, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(x_train.astype(np.float32), y_train, batch_size=32, epochs=3, verbose=0)
        accuracies[name] = model.evaluate(x_test.astype(np.float32), y_test, verbose=0)[1]
    assert accuracies["float32"] > 0.8
    assert abs(accuracies[policy] - accuracies["float32"]) <= 0.02, accuracies


def test_a_step_without_gradients_is_an_error_not_a_finite_step():
    scaler = optimizers.LossScaleOptimizer(optimizers.SGD(), dynamic_growth_steps=1)
    var = _variable([1.0])
    with pytest.raises(ValueError, match="no gradient for any trainable variable"):
        scaler.apply([var])
    with pytest.raises(ValueError, match="no gradient for any trainable variable"):
        scaler.apply_gradients([(None, var)])
    assert scaler.dynamic_scale == 2.0**15 and scaler.iterations == 0


def test_after_a_step_the_gradients_read_are_the_losss_own():
    """What diagnostics read: ``.grad`` after the update, InitMonitor's recorded gradients, inspect's ratios."""
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(64, 8)).astype(np.float32), rng.integers(0, 3, 64)
    grads = {}
    for policy in ("float32", "mixed_float16"):
        mixed_precision.set_policy(policy)
        nr.seed(0)
        model = _mlp(activation="tanh")
        model.compile(optimizers.SGD(0.0), "sparse_categorical_crossentropy")
        monitor = nr.callbacks.InitMonitor(every=1, warn=False)
        model.fit(x, y, batch_size=64, epochs=1, verbose=0, callbacks=[monitor])
        first = monitor.records[0]["layers"][0]
        grads[policy] = (np.asarray(model.layers[0].kernel.grad), first["output_grad_std"])
    np.testing.assert_allclose(grads["mixed_float16"][0], grads["float32"][0], rtol=0.05, atol=1e-4)
    assert grads["mixed_float16"][1] == pytest.approx(grads["float32"][1], rel=0.05)


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_attention_recurrent_cells_and_dot_compute_in_the_policys_dtype(policy):
    mixed_precision.set_policy(policy)
    compute = dtypes.as_dtype(mixed_precision.Policy(policy).compute_dtype)
    x = np.random.default_rng(6).normal(size=(4, 5, 6)).astype(np.float32)
    inputs = nr.Input((5, 6))
    attended = layers.MultiHeadAttention(num_heads=2, key_dim=3)(inputs, inputs)
    assert attended.dtype == compute.name  # the symbolic output too
    assert layers.MultiHeadAttention(num_heads=2, key_dim=3)(x, x).dtype == compute  # built in this first call
    outputs = layers.RNN(layers.GRUCell(3), return_state=True)(x)
    assert [t.dtype for t in outputs] == [compute, compute]
    assert layers.Dot(axes=1)([x[:, 0], x[:, 1]]).dtype == compute
    assert nr.ops.einsum("ij->j", nr.Tensor(x[:, 0].astype(compute))).dtype == compute


def test_weights_in_lists_are_cast_and_a_call_may_assign_its_own_weight():
    class Counting(layers.Layer):
        def build(self, shape):
            self.parts = [self.add_weight(shape=(shape[-1], 3)), self.add_weight(shape=(3,), initializer="zeros")]
            self.gain = self.add_weight(shape=(), initializer="ones")

        def call(self, x):
            self.gain.assign(self.gain * 2.0)  # read in float16, written to the float32 variable
            return nr.ops.matmul(x, self.parts[0]) + self.parts[1]

    layer = Counting(dtype="mixed_float16")
    y = layer(np.ones((2, 4), np.float32))
    assert y.dtype == np.float16 and float(layer.gain.numpy()) == 2.0
    assert type(layer.parts[0]).__name__ == "Variable"  # the list is the layer's own again
    nr.ops.sum(nr.ops.cast(y, "float32")).backward()
    assert layer.parts[0].grad.dtype == np.float32 and layer.parts[1].grad.tolist() == [2.0, 2.0, 2.0]


def test_plain_bfloat16_layers_and_bfloat16_inputs_train():
    bfloat16 = dtypes.bfloat16()
    model = nr.Sequential([layers.Input((3,)), layers.Dense(4, dtype="bfloat16"),
                           layers.LayerNormalization(dtype="bfloat16"), layers.Dense(2, dtype="bfloat16")])
    model.compile("adam", "mse")
    assert all(w.dtype == bfloat16 for w in model.weights)
    rng = np.random.default_rng(7)
    x, y = rng.normal(size=(32, 3)).astype(bfloat16), rng.normal(size=(32, 2)).astype(np.float32)
    history = model.fit(x, y, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert model.predict(x, verbose=0).dtype == bfloat16


def test_keras_config_names_and_the_policy_setter():
    nr.config.set_dtype_policy("mixed_bfloat16")
    assert nr.config.dtype_policy().name == "mixed_bfloat16"
    nr.config.set_dtype_policy(None)
    layer = layers.Dense(2)
    layer.dtype_policy = "mixed_float16"
    assert (layer.compute_dtype, layer.dtype) == ("float16", "float32")
    layer.build((None, 3))
    with pytest.raises(ValueError, match="holds float32 weights.*'float64'"):
        layer.dtype_policy = "float64"


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16", "bfloat16"])
def test_16_bit_models_export_a_float32_onnx_graph(policy, tmp_path):
    ort = pytest.importorskip("onnxruntime", reason="the onnx extra is not installed: pip install 'neurona[onnx]'")
    mixed_precision.set_policy(policy)
    model = _mlp(units=6, inputs=5)
    mixed_precision.set_policy(None)
    nr.saving.export_onnx(model, tmp_path / "m.onnx")
    x = np.random.default_rng(8).normal(size=(7, 5)).astype(np.float32)
    got = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"]).run(None, {"input": x})[0]
    assert got.dtype == np.float32
    # onnxruntime computes in float32 what the model computes in 16 bits: equal within the 16-bit rounding
    np.testing.assert_allclose(got, model.predict(x, verbose=0).astype(np.float32), atol=2e-2)
