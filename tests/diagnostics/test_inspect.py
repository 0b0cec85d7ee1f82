"""``diagnostics.inspect``: verdicts from measurements, tested both ways, on every kind of model."""

import json

import numpy as np
import pytest

import neurona as nr
from neurona import initializers, layers
from neurona.diagnostics import inspect


def _x(n=256, d=64, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d)).astype("float32")


def _stack(depth, activation, init, width=64, bias="zeros", d=64):
    return nr.Sequential([nr.Input((d,))] + [
        layers.Dense(width, activation=activation, kernel_initializer=init, bias_initializer=bias)
        for _ in range(depth)] + [layers.Dense(10)])


def test_vanishing_on_twenty_sigmoid_layers_with_tiny_weights():
    report = inspect(_stack(20, "sigmoid", initializers.RandomNormal(stddev=0.01, seed=1)), _x())
    assert "vanishing" in report.kinds()
    assert report.network["gradient_ratio"] < 1e-10  # each layer multiplies it by about 0.25 * 0.01 * 8


def test_nothing_reported_on_a_six_layer_he_normal_relu_network():
    report = inspect(_stack(6, "relu", initializers.HeNormal(seed=2)), _x())
    assert report.verdicts == [] and report.verdict == "healthy" and report.healthy
    assert 0.1 < report.network["gradient_ratio"] < 10


def test_exploding_on_a_deep_relu_network_with_unit_std_weights():
    report = inspect(_stack(10, "relu", initializers.RandomNormal(stddev=1.0, seed=3)), _x())
    assert "exploding" in report.kinds()
    # He et al.: each layer multiplies the pre-activation variance by fan_in * 1 / 2 = 32
    stds = [r["preactivation_std"] for r in report.layers[:10]]
    growth = np.exp(np.mean(np.diff(np.log(stds))))
    assert 32 ** 0.5 / 2 < growth < 32 ** 0.5 * 2


def test_dead_units_on_a_relu_layer_with_a_large_negative_bias():
    model = nr.Sequential([nr.Input((64,)), layers.Dense(32, activation="relu", kernel_initializer="he_normal"),
                           layers.Dense(32, activation="relu", kernel_initializer="he_normal",
                                        bias_initializer=initializers.Constant(-10.0), name="dying"),
                           layers.Dense(10)])
    report = inspect(model, _x())
    assert "dead units" in report.kinds()
    assert report["dying"]["dead_fraction"] == 1.0
    assert report[model.layers[0].name]["dead_fraction"] == 0.0
    dead = next(v for v in report.verdicts if v["kind"] == "dead units")
    assert dead["layers"] == ["dying"]


def test_saturation_on_tanh_with_large_weights_and_none_with_glorot():
    big = inspect(_stack(3, "tanh", initializers.RandomNormal(stddev=1.0, seed=4)), _x())
    assert "saturated" in big.kinds()
    assert big.layers[0]["saturated_fraction"] > 0.5
    small = inspect(_stack(3, "tanh", initializers.GlorotUniform(seed=4)), _x())
    assert "saturated" not in small.kinds()


def test_symmetric_units_found_under_zeros_and_not_under_random_init():
    assert "symmetric units" in inspect(_stack(2, "relu", "zeros"), _x()).kinds()
    assert "symmetric units" not in inspect(_stack(2, "relu", "he_normal"), _x()).kinds()


def test_per_layer_figures_match_an_independent_numpy_forward_and_backward():
    model = _stack(3, "tanh", initializers.GlorotNormal(seed=5), width=16, d=8)
    x = _x(64, 8)
    y = np.random.default_rng(1).integers(0, 10, 64)
    report = inspect(model, x, y, loss=nr.losses.SparseCategoricalCrossentropy(from_logits=True))
    ws = [(layer.kernel.numpy().astype(np.float64), layer.bias.numpy().astype(np.float64)) for layer in model.layers]
    a, zs, acts = x.astype(np.float64), [], []
    for i, (w, b) in enumerate(ws):
        z = a @ w + b
        zs.append(z)
        a = np.tanh(z) if i < 3 else z
        acts.append(a)
    p = np.exp(a - a.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    expected_loss = -np.mean(np.log(p[np.arange(64), y]))
    assert report.network["loss"] == pytest.approx(expected_loss, rel=1e-5)
    grad = (p - np.eye(10)[y]) / 64  # d loss / d logits
    grads = [grad]
    for i in range(3, 0, -1):
        grad = grad @ ws[i][0].T
        grads.insert(0, grad)
        grad = grad * (1 - acts[i - 1] ** 2)
    for record, z, act, g in zip(report.layers, zs, acts, grads):
        assert record["preactivation_std"] == pytest.approx(z.std(), rel=1e-4)
        assert record["activation_mean"] == pytest.approx(act.mean(), rel=1e-3, abs=1e-6)
        assert record["activation_std"] == pytest.approx(act.std(), rel=1e-4)
        assert record["output_grad_std"] == pytest.approx(g.std(), rel=1e-4)
    first = report.layers[0]["kernel"]
    dz0 = grads[0] * (1 - acts[0] ** 2)
    dw0 = x.T.astype(np.float64) @ dz0
    assert first["grad_std"] == pytest.approx(dw0.std(), rel=1e-4)
    # one SGD(0.01) step: ||0.01 dW|| / ||W||
    assert first["update_ratio"] == pytest.approx(0.01 * np.linalg.norm(dw0) / np.linalg.norm(ws[0][0]), rel=1e-4)
    assert first["std"] == pytest.approx(ws[0][0].std(), rel=1e-6)


def test_inspect_leaves_the_model_as_it_found_it():
    model = nr.Sequential([nr.Input((8,)), layers.Dense(16, activation="relu"), layers.BatchNormalization(),
                           layers.Dense(4)])
    x = _x(32, 8)
    model(x)
    model.layers[0].kernel.grad = np.full(model.layers[0].kernel.shape, 7.0, dtype="float32")
    before = [w.numpy() for w in model.weights]
    report = inspect(model, x, training=True)
    for w, b in zip(model.weights, before):
        np.testing.assert_array_equal(w.numpy(), b)
    assert np.all(model.layers[0].kernel.grad == 7.0)
    assert model.layers[0]._hook_table is not None and not model.layers[0]._hook_table  # hooks removed
    assert [r["type"] for r in report.layers] == ["Dense", "BatchNormalization", "Dense"]


def _functional():
    inp = nr.Input((8,))
    h = layers.Dense(16, activation="relu", kernel_initializer="he_normal", name="a")(inp)
    h2 = layers.Dense(16, activation="relu", kernel_initializer="he_normal", name="b")(h)
    return nr.Model(inp, layers.Dense(3, name="head")(layers.Add()([h, h2])))


class _Sub(nr.Model):
    def __init__(self):
        super().__init__()
        self.a = layers.Dense(16, activation="tanh", name="a")
        self.head = layers.Dense(3, name="head")

    def call(self, x):
        return self.head(self.a(x))


def _nested():
    inner = nr.Sequential([nr.Input((8,)), layers.Dense(16, activation="relu", name="a")], name="inner")
    inp = nr.Input((8,))
    return nr.Model(inp, layers.Dense(3, name="head")(inner(inp)))


@pytest.mark.parametrize("make, names", [(_functional, ["a", "b", "head"]), (_Sub, ["a", "head"]),
                                         (_nested, ["inner/a", "head"])], ids=["functional", "subclassed", "nested"])
def test_every_kind_of_model(make, names):
    report = inspect(make(), _x(32, 8))
    assert [r["layer"] for r in report.layers] == names
    assert all(r["output_grad_std"] > 0 for r in report.layers)
    json.loads(report.to_json())  # JSON-safe
    assert "head" in str(report)


def test_cnn_with_conv_and_normalization():
    model = nr.Sequential([nr.Input((8, 8, 1)), layers.Conv2D(4, 3, activation="relu", kernel_initializer="he_normal"),
                           layers.BatchNormalization(), layers.MaxPooling2D(), layers.Flatten(), layers.Dense(3)])
    x = np.random.default_rng(0).normal(size=(16, 8, 8, 1)).astype("float32")
    report = inspect(model, x)
    assert [r["type"] for r in report.layers] == ["Conv2D", "BatchNormalization", "Dense"]
    conv = report.layers[0]
    assert conv["dead_fraction"] is not None and conv["kernel"]["grad_std"] > 0
    assert report.network["mean_field"] is False  # not a Dense stack: no prediction


def test_mean_field_prediction_beside_the_measurement_on_a_dense_stack():
    report = inspect(_stack(5, "tanh", initializers.GlorotNormal(seed=6), width=256, d=256), _x(256, 256))
    assert report.network["mean_field"] is True
    for record in report.layers[:5]:
        predicted, measured = record["predicted_preactivation_variance"], record["preactivation_second_moment"]
        assert predicted == pytest.approx(measured, rel=0.15)
    assert "q mean-field" in report.table()


def test_jacobian_summary_for_a_small_model_and_none_when_large():
    small = inspect(_stack(2, "linear", initializers.Orthogonal(seed=0), width=16, d=16), _x(32, 16),
                    jacobian=True)
    assert small.network["jacobian"]["n_samples"] == 16
    big = inspect(nr.Sequential([nr.Input((1024,)), layers.Dense(512)]), _x(8, 1024))
    assert big.network["jacobian"] is None  # "auto" skips a 512 x 1024 Jacobian per example
    with pytest.raises(nr.diagnostics.JacobianTooLarge):
        inspect(nr.Sequential([nr.Input((4096,)), layers.Dense(1024)]), _x(2, 4096), jacobian=True)


def test_bad_input_is_refused_with_a_clear_error():
    model = _stack(1, "relu", "he_normal", width=4, d=4)
    with pytest.raises(TypeError, match="Layer or Model"):
        inspect("model", _x(4, 4))
    with pytest.raises(ValueError, match="non-empty"):
        inspect(model, np.zeros((0, 4), "float32"))
    with pytest.raises(ValueError, match="NaN"):
        inspect(model, np.full((2, 4), np.nan, "float32"))
    with pytest.raises(ValueError, match="no loss"):
        inspect(model, _x(4, 4), np.zeros(4))
    with pytest.raises(ValueError, match="needs targets"):
        inspect(model, _x(4, 4), loss="mse")
    with pytest.raises(ValueError, match="jacobian"):
        inspect(model, _x(4, 4), jacobian="sometimes")


def test_the_keras_mnist_convnet_with_default_init_and_a_softmax_output_is_healthy():
    (x, y), _ = nr.datasets.mnist.load_data(source="embedded", verbose=False)
    x = x[:128, :, :, None].astype("float32") / 255.0
    model = nr.Sequential([nr.Input((28, 28, 1)), layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(2),
                           layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(2), layers.Flatten(),
                           layers.Dropout(0.5), layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    report = inspect(model, x, y[:128])
    assert report.healthy, report.verdicts
    # taken before the softmax, the last layer's gradient is d loss / d logits = (p - onehot) / n
    p = model(x).numpy()
    expected = np.sqrt(np.mean(np.sum(((p - np.eye(10)[y[:128]]) / 128) ** 2, axis=1)))
    assert report.layers[-1]["preactivation_grad_norm"] == pytest.approx(expected, rel=1e-3)


def test_a_bare_layer_and_an_optimizer_name():
    dense = layers.Dense(4, activation="tanh")
    report = inspect(dense, _x(32, 8), optimizer="adam")
    assert report.network["optimizer"] == "Adam" and report.network["mean_field"] is False
    # Adam's first step moves each weight by the learning rate (m / sqrt(v) = sign(g)): ||step|| = 1e-3 sqrt(32)
    expected = 1e-3 * np.sqrt(32) / np.linalg.norm(dense.kernel.numpy())
    assert report.layers[0]["kernel"]["update_ratio"] == pytest.approx(expected, rel=1e-3)


def test_dropout_masks_after_inspect_are_the_ones_without_it():
    def masks(with_inspect):
        model = nr.Sequential([nr.Input((8,)), layers.Dense(16), layers.Dropout(0.5, seed=3)])
        model(_x(4, 8))
        if with_inspect:
            inspect(model, _x(32, 8), training=True)
        return model(np.ones((4, 8), "float32"), training=True).numpy() == 0
    np.testing.assert_array_equal(masks(True), masks(False))


def test_dead_units_are_not_judged_on_a_handful_of_examples():
    model = _stack(3, "relu", "he_normal", width=64)
    assert "dead units" not in inspect(model, _x(4)).kinds()


def test_a_shared_layer_is_measured_at_its_first_call():
    shared = layers.Dense(8, activation="tanh", name="shared")
    inp = nr.Input((8,))
    model = nr.Model(inp, layers.Dense(2, name="head")(shared(shared(inp))))
    x = _x(16, 8)
    report = inspect(model, x)
    first = np.tanh(x @ shared.kernel.numpy() + shared.bias.numpy())
    record = report["shared"]
    assert record["calls"] == 2
    assert record["activation_std"] == pytest.approx(first.std(), rel=1e-5)
    # its output gradient: the second call's input gradient, W^T (d/dz2)
    assert record["output_grad_std"] > 0
