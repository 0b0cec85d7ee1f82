"""Keras 3's ``relu(x, negative_slope, max_value, threshold)``, celu, glu and log_sigmoid against real Keras
(numpy backend) and PyTorch; their registry names; their errors. The op harness gradchecks them
(test_harness_activation_extra.py)."""

import numpy as np
import pytest
from _harness.keras_oracle import numpy_keras

import neurona as nr
from neurona import activations, layers, models, ops

# through every kink of the options below (0, thresholds 0.5 and 1, max values 1.5, 2 and 6), and beyond them
X = np.linspace(-8.0, 8.0, 65).reshape(5, 13)

RELU_OPTIONS = [
    dict(), dict(negative_slope=0.1), dict(max_value=6.0), dict(max_value=1.5), dict(threshold=0.5),
    dict(negative_slope=0.2, max_value=2.0), dict(negative_slope=0.3, threshold=1.0),
    dict(negative_slope=0.25, max_value=2.0, threshold=1.0), dict(max_value=2.0, threshold=0.5),
    # Keras's formula for values the ReLU layer refuses: a negative threshold zeroes only x <= threshold,
    # a max_value below the threshold clips everything above it
    dict(threshold=-1.0, negative_slope=0.5), dict(max_value=0.5, threshold=1.0, negative_slope=0.1),
]


@pytest.mark.parametrize("options", RELU_OPTIONS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()) or "-")
def test_relu_options_compute_what_keras_computes(monkeypatch, options):
    keras = numpy_keras(monkeypatch)
    expected = np.asarray(keras.activations.relu(X, **options))  # Keras rounds the slope to float32: rtol 1e-7
    np.testing.assert_allclose(activations.relu(nr.Tensor(X), **options).numpy(), expected, rtol=1e-7, atol=0)
    x32 = X.astype("float32")
    got = activations.get("relu")(nr.Tensor(x32), **options)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got.numpy(), np.asarray(keras.activations.relu(x32, **options)), rtol=1e-6)


def test_relu_with_default_options_is_the_one_primitive():
    x = nr.Tensor(X, requires_grad=True)
    assert type(ops.relu(x)._ctx).__name__ == "ReLU" and activations.relu is ops.relu
    assert activations.serialize(activations.get("relu")) == "relu"


@pytest.mark.parametrize("name, params", [("celu", {}), ("celu", dict(alpha=0.5)), ("celu", dict(alpha=3.0)),
                                          ("glu", {}), ("glu", dict(axis=0)), ("log_sigmoid", {})])
def test_new_activations_compute_what_keras_computes(monkeypatch, name, params):
    keras = numpy_keras(monkeypatch)
    x = np.linspace(-6.0, 6.0, 48).reshape(4, 12).astype("float32")  # Keras's numpy backend computes in float32
    expected = np.asarray(getattr(keras.activations, name)(x, **params))
    got = activations.get(name)(nr.Tensor(x), **params).numpy()
    assert got.shape == expected.shape and got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=2e-6, atol=1e-7)


@pytest.mark.parametrize("name, torch_call", [
    ("celu", lambda F, t: F.celu(t, alpha=0.5)), ("glu", lambda F, t: F.glu(t, dim=-1)),
    ("glu_axis0", lambda F, t: F.glu(t, dim=0)), ("log_sigmoid", lambda F, t: F.logsigmoid(t)),
])
def test_new_activation_values_and_gradients_match_pytorch(name, torch_call):
    torch = pytest.importorskip("torch")
    ours_fn = {"celu": lambda t: ops.celu(t, alpha=0.5), "glu": ops.glu, "glu_axis0": lambda t: ops.glu(t, axis=0),
               "log_sigmoid": ops.log_sigmoid}[name]
    x = np.random.default_rng(5).uniform(-30, 30, (4, 6))
    t = torch.tensor(x, requires_grad=True)
    out_t = torch_call(torch.nn.functional, t)
    g = np.random.default_rng(6).standard_normal(tuple(out_t.shape))
    out_t.backward(torch.tensor(g))
    ours = nr.Tensor(x, requires_grad=True)
    out = ours_fn(ours)
    out.backward(g)
    np.testing.assert_allclose(out.numpy(), out_t.detach().numpy(), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(np.asarray(ours.grad), t.grad.numpy(), rtol=1e-12, atol=1e-300)


def test_log_sigmoid_is_finite_where_the_literal_formula_is_not():
    x = nr.Tensor(np.array([-1000.0, 1000.0]), requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = ops.log_sigmoid(x)
        out.sum().backward()
    np.testing.assert_allclose(out.numpy(), [-1000.0, 0.0])
    np.testing.assert_allclose(np.asarray(x.grad), [1.0, 0.0])


@pytest.mark.parametrize("name", ["celu", "glu", "log_sigmoid"])
def test_dense_takes_the_new_activations_by_name_and_saves_them(tmp_path, name):
    model = models.Sequential([layers.Input((5,)), layers.Dense(6, activation=name)])
    x = np.random.default_rng(0).normal(size=(3, 5)).astype("float32")
    assert model.predict(x).shape == (3, 3 if name == "glu" else 6)
    assert model.layers[-1].get_config()["activation"] == name
    model.save(tmp_path / "m")
    loaded = models.load_model(tmp_path / "m")
    assert loaded.layers[-1].activation is activations.get(name)
    assert np.array_equal(loaded.predict(x), model.predict(x))


@pytest.mark.parametrize("call, error, message", [
    (lambda x: ops.glu(x), ValueError, r"glu: the size along axis -1 must be even .*shape \(2, 3\)"),
    (lambda x: ops.glu(x, axis=2), ValueError, r"glu: axis 2 is out of range for an input of shape \(2, 3\)"),
    (lambda x: ops.glu(x, axis=0.5), ValueError, r"glu: axis must be an integer, got 0\.5 \(float\)"),
    (lambda x: ops.celu(x, alpha=0.0), ValueError, r"celu: alpha must be a finite number > 0, got 0\.0"),
    (lambda x: ops.celu(x, alpha="a"), TypeError, r"celu: alpha must be a real number, got 'a' \(str\)"),
    (lambda x: ops.relu(x, max_value="6"), TypeError, r"relu: max_value must be a real number or None"),
    (lambda x: ops.relu(x, negative_slope=None), TypeError, r"relu: negative_slope must be a real number"),
    (lambda x: ops.relu(x, threshold=float("nan")), ValueError, r"relu: threshold must be finite"),
])
def test_bad_arguments_are_named(call, error, message):
    with pytest.raises(error, match=message):
        call(nr.Tensor(np.ones((2, 3))))
