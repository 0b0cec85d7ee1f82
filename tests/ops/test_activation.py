"""Activations: forward against closed forms, gradients against finite differences, stability."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import neurona as nr
from neurona import ops

ERF = np.vectorize(math.erf)

REFERENCE = {
    "relu": (ops.relu, lambda x: np.maximum(x, 0)),
    "leaky_relu": (ops.leaky_relu, lambda x: np.where(x > 0, x, 0.2 * x)),
    "elu": (ops.elu, lambda x: np.where(x > 0, x, np.exp(x) - 1)),
    "selu": (ops.selu, lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * (np.exp(x) - 1))),
    "gelu": (ops.gelu, lambda x: 0.5 * x * (1 + ERF(x / np.sqrt(2)))),
    "gelu_tanh": (lambda t: ops.gelu(t, approximate=True),
                  lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))),
    "sigmoid": (ops.sigmoid, lambda x: 1 / (1 + np.exp(-x))),
    "tanh": (ops.tanh, np.tanh),
    "softplus": (ops.softplus, lambda x: np.log1p(np.exp(x))),
    "softmax": (ops.softmax, lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True)),
    "log_softmax": (ops.log_softmax, lambda x: x - np.log(np.exp(x).sum(-1, keepdims=True))),
}


def _inputs(shape, seed=0):
    x = np.random.default_rng(seed).uniform(-3, 3, shape)
    x[np.abs(x) < 0.05] = 0.1  # keep finite differences away from the kinks at 0
    return x


@pytest.mark.parametrize("name", sorted(REFERENCE))
@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 3, 4)])
def test_activation_forward_and_gradcheck(device, name, shape):
    op, reference = REFERENCE[name]
    x = _inputs(shape)
    np.testing.assert_allclose(op(nr.Tensor(x)).numpy(), reference(x), rtol=1e-10, atol=1e-12)
    assert nr.gradcheck(op, x)


@pytest.mark.parametrize("axis", [0, 1])
def test_softmax_other_axes(device, axis):
    x = _inputs((3, 4))
    expected = np.exp(x) / np.exp(x).sum(axis, keepdims=True)
    np.testing.assert_allclose(ops.softmax(nr.Tensor(x), axis=axis).numpy(), expected, rtol=1e-12)
    assert nr.gradcheck(lambda t: ops.softmax(t, axis=axis), x)
    assert nr.gradcheck(lambda t: ops.log_softmax(t, axis=axis), x)


def test_large_inputs_do_not_overflow():
    big = nr.Tensor(np.array([[1000.0, 0.0, -1000.0]]))
    np.testing.assert_allclose(ops.softmax(big).numpy(), [[1.0, 0.0, 0.0]])
    np.testing.assert_allclose(ops.log_softmax(big).numpy(), [[0.0, -1000.0, -2000.0]])
    np.testing.assert_allclose(ops.sigmoid(big).numpy(), [[1.0, 0.5, 0.0]])
    np.testing.assert_allclose(ops.softplus(big).numpy(), [[1000.0, np.log(2.0), 0.0]], atol=1e-300)
    with np.errstate(over="raise", invalid="raise"):  # no overflow or NaN either (underflow to 0 is fine)
        ops.sigmoid(big)
        ops.softmax(big)


def test_tensor_method_forms():
    x = nr.Tensor(_inputs((2, 3)))
    np.testing.assert_array_equal(x.relu().numpy(), ops.relu(x).numpy())
    np.testing.assert_array_equal(x.softmax().numpy(), ops.softmax(x).numpy())


@settings(max_examples=25, deadline=None)
@given(x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
                    elements=st.floats(-4, 4).filter(lambda v: abs(v) > 1e-3)),
       name=st.sampled_from(sorted(REFERENCE)))
def test_activation_gradcheck_random_inputs(x, name):
    assert nr.gradcheck(REFERENCE[name][0], x)


@pytest.mark.parametrize("axis", [None, (0, 1), (-1,)])
def test_softmax_over_several_axes(device, axis):
    # Keras 3: axis=None normalizes over every axis
    x = _inputs((3, 4))
    axes = None if axis is None else tuple(a % 2 for a in axis)
    expected = np.exp(x) / np.exp(x).sum(axis=axes, keepdims=True)
    np.testing.assert_allclose(ops.softmax(nr.Tensor(x), axis=axis).numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(ops.log_softmax(nr.Tensor(x), axis=axis).numpy(), np.log(expected), rtol=1e-12)
    assert nr.gradcheck(lambda t: ops.softmax(t, axis=axis), x)
    assert nr.gradcheck(lambda t: ops.log_softmax(t, axis=axis), x)


def test_categorical_crossentropy_on_a_softmax_over_all_axes(rng):
    # issue 10, defect 5: TypeError: None % int. A softmax over every axis is not the class-axis softmax, so the
    # loss takes the probability path (renormalized over the class axis), exactly as for any other probabilities.
    from neurona import losses

    x = rng.standard_normal((3, 4))
    y = np.eye(4)[[0, 2, 3]]
    probs = ops.softmax(nr.Tensor(x, requires_grad=True, dtype="float64"), axis=None)
    out = losses.categorical_crossentropy(y, probs)
    p = np.exp(x) / np.exp(x).sum()
    p = p / p.sum(-1, keepdims=True)
    np.testing.assert_allclose(out.numpy(), -(y * np.log(p)).sum(-1), rtol=1e-12)
    assert nr.gradcheck(lambda t: losses.categorical_crossentropy(y, ops.softmax(t, axis=None)), x)


@pytest.mark.parametrize("op, kwargs, error, message", [
    (ops.leaky_relu, dict(alpha="a"), TypeError, r"leaky_relu: alpha must be a real number, got 'a' \(str\)"),
    (ops.leaky_relu, dict(alpha=None), TypeError, r"leaky_relu: alpha must be a real number, got None"),
    (ops.leaky_relu, dict(alpha=True), TypeError, r"leaky_relu: alpha must be a real number, got True \(bool\)"),
    (ops.leaky_relu, dict(alpha=[0.1]), TypeError, r"leaky_relu: alpha must be a real number, got \[0\.1\] \(list\)"),
    (ops.elu, dict(alpha="a"), TypeError, r"elu: alpha must be a real number, got 'a' \(str\)"),
    (ops.elu, dict(alpha=np.array([1.0, 2.0])), TypeError, r"elu: alpha must be a real number"),
    (ops.gelu, dict(approximate="tanh"), TypeError, r"gelu: approximate must be True or False, got 'tanh' \(str\)"),
    (ops.gelu, dict(approximate=1), TypeError, r"gelu: approximate must be True or False, got 1 \(int\)"),
])
def test_bad_scalar_parameters_are_named(op, kwargs, error, message):
    # issue 10 bad-input probe, ops item 5: leaky_relu/elu alpha='a' raised NumPy's "ufunc ... did not contain a loop"
    with pytest.raises(error, match=message):
        op(nr.Tensor([-1.0, 2.0]), **kwargs)


def test_numpy_scalar_parameters_are_accepted_and_keep_the_input_dtype():
    x = nr.Tensor(np.array([-1.0, 2.0], dtype="float32"))
    out = ops.leaky_relu(x, alpha=np.float64(0.1))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), [-0.1, 2.0], rtol=1e-6)
    np.testing.assert_allclose(ops.elu(x, alpha=np.int64(2)).numpy(), [2 * np.expm1(-1.0), 2.0], rtol=1e-6)
    np.testing.assert_array_equal(ops.gelu(x, approximate=np.True_).numpy(), ops.gelu(x, approximate=True).numpy())


@pytest.mark.parametrize("name", [n for n in __import__("neurona").activations.names()])
def test_every_activation_name_computes_what_keras_computes_under_that_name(monkeypatch, name):
    """Each registered name is Keras 3's activation of that name (real Keras on its numpy backend), and its
    alias maps to the same function (so a Keras file's ``"activation": name`` means the same here)."""
    from _harness.keras_oracle import numpy_keras

    from neurona import activations

    keras = numpy_keras(monkeypatch)
    x = np.linspace(-5.0, 5.25, 42).reshape(1, 42)  # through the kinks of relu6 and the hard ones; even for glu
    ours = activations.get(name)(nr.Tensor(x)).numpy()
    theirs = np.asarray(keras.activations.get(name)(x))
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("alias, name", [("swish", "silu"), ("hard_swish", "hard_silu"), ("identity", "linear")])
def test_activation_aliases_serialize_under_keras_names(alias, name):
    from neurona import activations

    assert activations.serialize(activations.get(alias)) == name


@pytest.mark.parametrize("name, torch_name", [("hard_sigmoid", "hardsigmoid"), ("hard_silu", "hardswish"),
                                              ("mish", "mish"), ("relu6", "relu6"), ("silu", "silu"),
                                              ("softsign", "softsign")])
def test_composed_activation_gradients_match_pytorch(name, torch_name):
    torch = pytest.importorskip("torch")
    from neurona import activations

    x = np.random.default_rng(3).uniform(-5, 5, (4, 9))
    x[np.isin(np.round(x), (-3, 0, 3, 6))] += 0.3  # away from kinks, where the one-sided choices differ
    t = torch.tensor(x, requires_grad=True)
    getattr(torch.nn.functional, torch_name)(t).sum().backward()
    ours = nr.Tensor(x, requires_grad=True)
    activations.get(name)(ours).sum().backward()
    # rtol 1e-7: PyTorch's float64 hardsigmoid backward multiplies by a float32 1/6 (0.1666666716...)
    np.testing.assert_allclose(np.asarray(ours.grad), t.grad.numpy(), rtol=1e-7, atol=1e-12)
