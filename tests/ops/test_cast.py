"""The differentiable cast (issue 10, defect 1): a dtype change inside a graph never cuts it."""

import numpy as np
import pytest

import neurona as nr
from neurona import layers, losses, ops


def _leaf(rng, shape=(4, 3), dtype="float64"):
    return nr.Tensor(rng.standard_normal(shape), requires_grad=True, dtype=dtype)


@pytest.mark.parametrize("target", ["float32", "float16", np.float32, np.dtype("float32")])
def test_cast_gradient_comes_back_in_the_input_dtype(device, rng, target):
    x = _leaf(rng)
    y = ops.cast(x, target)
    assert y.dtype == np.dtype(target) and y.requires_grad
    upstream = rng.standard_normal(x.shape).astype(y.dtype)
    y.backward(upstream)
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad, upstream.astype("float64"))  # the identity, back in float64


def test_cast_chain_passes_gradcheck(device, rng):
    # float64 -> float32 loses precision in the forward pass; the check goes through float64 both ways
    assert nr.gradcheck(lambda t: (ops.cast(ops.cast(t, "float64"), "float64") * t).sum(), rng.standard_normal(5))


def test_cast_to_the_same_dtype_is_the_tensor_itself(rng):
    x = _leaf(rng)
    assert ops.cast(x, "float64") is x


def test_cast_output_never_aliases_the_input(rng):
    x = _leaf(rng)
    y = ops.cast(x, "float32")
    y.data[...] = 0
    assert np.abs(x.data).sum() > 0


def test_cast_to_integers_ends_the_graph(rng):
    x = _leaf(rng)
    y = ops.cast(x, "int64")
    assert y.dtype == np.int64 and not y.requires_grad


def test_cast_names_a_bad_dtype(rng):
    with pytest.raises(TypeError, match="not a dtype"):
        ops.cast(_leaf(rng), "banana")


def test_tensor_astype_and_to_keep_the_graph(device, rng):
    x = _leaf(rng)
    (x.astype("float32") * 2).sum().backward()
    np.testing.assert_array_equal(x.grad, np.full(x.shape, 2.0))
    x.grad = None
    (x.to("float32") * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, np.full(x.shape, 3.0))
    x.grad = None
    (x.to(device) * 4).sum().backward()
    np.testing.assert_array_equal(nr.backend.asnumpy(x.grad), np.full(x.shape, 4.0))


def test_float64_input_reaches_through_a_float32_layer(rng):
    x = _leaf(rng)
    layer = layers.Dense(2)
    out = layer(x)
    assert out.dtype == np.float32
    out.sum().backward()
    assert x.grad is not None and x.grad.dtype == np.float64
    np.testing.assert_allclose(x.grad, np.tile(layer.kernel.numpy().sum(1), (4, 1)), rtol=1e-6)


def test_gradcheck_through_a_float32_layer_sees_the_gradient(rng):
    # gradcheck works on float64 copies, which the float32 layer casts down: the cast must keep the graph (it used
    # to report a zero backprop). Finite differences through float32 arithmetic need a wide step and tolerance.
    layer = layers.Dense(2, activation="tanh")
    assert nr.gradcheck(layer, rng.standard_normal((4, 3)), eps=1e-2, rtol=1e-2)


def test_a_float64_target_tensor_gets_its_gradient_through_the_loss_cast(rng):
    y_pred = nr.Tensor(rng.standard_normal((3, 2)), dtype="float32")
    y_true = _leaf(rng, (3, 2))
    losses.mean_squared_error(y_true, y_pred).sum().backward()
    expected = 2 * (y_true.numpy() - y_pred.numpy().astype("float64")) / 2
    assert y_true.grad.dtype == np.float64
    np.testing.assert_allclose(y_true.grad, expected, rtol=1e-6)


def test_engine_hands_each_tensor_a_gradient_of_its_own_dtype(rng):
    a = _leaf(rng, (3,), "float32")
    b = _leaf(rng, (3,), "float64")
    hidden = a * 2  # float32, not a leaf
    (hidden * b).sum().backward()  # the float32 * float64 product is float64
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_allclose(a.grad, 2 * b.numpy(), rtol=1e-6)


@pytest.mark.parametrize("cast", [ops.cast, lambda t, d: t.astype(d), lambda t, d: t.to(d)])
@pytest.mark.parametrize("target, what", [
    (str, "text"), ("str", "text"), ("U8", "text"), (bytes, "bytes"), (object, "Python objects"),
    ("complex64", "complex numbers"), (np.complex128, "complex numbers"), ("datetime64[s]", "datetimes"),
    ("timedelta64[s]", "time deltas"), ([("a", "f4")], "raw or structured"),
])
def test_cast_to_a_dtype_no_tensor_can_hold_is_refused(rng, cast, target, what):
    # issue 10 bad-input probe, ops item 2: ops.cast(t, "str") / object / t.astype("complex64") succeeded
    x = _leaf(rng)
    with pytest.raises(TypeError, match=rf"cast: a Tensor holds booleans, integers or floats; got dtype .*\({what}"):
        cast(x, target)


@pytest.mark.parametrize("target", ["bool", "int8", "uint8", np.int32, "float16", np.dtype("float64")])
def test_cast_to_every_numeric_kind_still_works(rng, target):
    x = _leaf(rng)
    assert ops.cast(x, target).dtype == np.dtype(target)


def test_cast_to_none_is_floatx_as_in_keras(rng):
    assert ops.cast(_leaf(rng), None).dtype == np.float32


def test_astype_to_the_same_dtype_copies_as_numpy_does(rng):
    x = _leaf(rng)
    y = x.astype("float64")
    assert y is not x and not np.shares_memory(y.data, x.data)
    (y * 2).sum().backward()
    np.testing.assert_array_equal(x.grad, np.full(x.shape, 2.0))  # the copy is still in the graph
    assert x.astype("float64", copy=False) is x and ops.cast(x, "float64") is x


@pytest.mark.parametrize("device", ["cpu", "CPU", "cuda:0"])
def test_to_takes_pytorch_device_strings_and_keywords(rng, device):
    x = _leaf(rng)
    if device == "cuda:0" and not nr.backend.cuda.available:
        with pytest.raises(RuntimeError, match="cuda"):
            x.to(device)
        return
    y = x.to(device=device, dtype="float32")
    assert y.dtype == np.float32
    y.sum().backward()
    np.testing.assert_array_equal(nr.backend.asnumpy(x.grad), np.ones(x.shape))


def test_to_names_a_device_it_cannot_use(rng):
    with pytest.raises(ValueError, match="one GPU"):
        _leaf(rng).to("cuda:1")
    with pytest.raises(TypeError, match="not both"):
        _leaf(rng).to("float32", dtype="float64")
