"""fake_quantize against PyTorch's fake_quantize_per_tensor_affine / per_channel_affine (forward and gradient)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import neurona as nr
from neurona.ops.quantization import fake_quantize

torch = pytest.importorskip("torch", reason="PyTorch is the oracle of these tests")


def _ours(x, scale, zero_point, qmin, qmax, axis=None):
    t = nr.Tensor(x, requires_grad=True)
    y = fake_quantize(t, scale, zero_point, qmin, qmax, axis=axis)
    g = np.random.default_rng(1).normal(size=x.shape).astype(x.dtype)
    y.backward(nr.Tensor(g))
    return y.numpy(), np.asarray(t.grad), g


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**16), scale=st.floats(0.01, 2.0), zero_point=st.integers(0, 255),
       spread=st.floats(0.5, 400.0))
def test_per_tensor_matches_pytorch_forward_and_straight_through_gradient(seed, scale, zero_point, spread):
    x = np.random.default_rng(seed).uniform(-spread, spread, size=(6, 7)).astype(np.float32)
    ours, grad, g = _ours(x, scale, zero_point, 0, 255)
    xt = torch.tensor(x, requires_grad=True)
    # PyTorch multiplies by 1/scale where ONNX (and Neurona) divide: the two differ only at exact half-steps,
    # which a random draw reaches with probability 0; and its scale is float32, like ours
    yt = torch.fake_quantize_per_tensor_affine(xt, float(np.float32(scale)), zero_point, 0, 255)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(ours, yt.detach().numpy(), rtol=0, atol=1e-5 * max(1.0, scale))
    np.testing.assert_array_equal(grad, xt.grad.numpy())


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), axis=st.sampled_from([0, 1, -1]), bits=st.sampled_from([8, 4, 2]))
def test_per_channel_symmetric_matches_pytorch(seed, axis, bits):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(4, 5, 3)).astype(np.float32)
    channels = x.shape[axis]
    top = 2 ** (bits - 1) - 1
    scale = (np.abs(np.moveaxis(x, axis, 0)).reshape(channels, -1).max(axis=1) / top * 0.6).astype(np.float32)
    ours, grad, g = _ours(x, scale, 0, -top, top, axis=axis)
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.fake_quantize_per_channel_affine(xt, torch.tensor(scale), torch.zeros(channels, dtype=torch.int32),
                                                axis % 3, -top, top)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(ours, yt.detach().numpy(), rtol=0, atol=1e-6)
    np.testing.assert_array_equal(grad, xt.grad.numpy())
    assert (grad == 0).any() and (grad == g).any()  # 0.6 of the range: some values clip, others pass


def test_values_on_the_grid_come_back_exactly_and_outside_it_saturate():
    codes = np.arange(-5, 6, dtype=np.float64)
    x = np.concatenate([codes * 0.25, [10.0, -10.0]])
    y, grad, g = _ours(x, 0.25, 0, -4, 4)
    np.testing.assert_array_equal(y, np.concatenate([np.clip(codes, -4, 4) * 0.25, [1.0, -1.0]]))
    np.testing.assert_array_equal(grad, np.where(np.abs(np.concatenate([codes, [40.0, -40.0]])) <= 4, g, 0.0))
    assert y.dtype == np.float64


@pytest.mark.parametrize("kwargs, message", [
    ({"scale": 0.0}, "scale must be positive"),
    ({"scale": float("nan")}, "scale must be positive"),
    ({"scale": 0.1, "zero_point": 300, "quant_min": 0, "quant_max": 255}, "zero_point must be an integer"),
    ({"scale": 0.1, "zero_point": 1.5}, "zero_point must be an integer"),
    ({"scale": 0.1, "quant_min": 5, "quant_max": 5}, "quant_min < quant_max"),
    ({"scale": np.ones(3), "axis": None}, "need axis="),
    ({"scale": np.ones(3), "axis": 1}, "one value per index of axis 1"),
    ({"scale": 0.1, "axis": 4}, "out of range"),
])
def test_bad_parameters_are_refused_with_what_was_expected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        fake_quantize(np.zeros((2, 4), np.float32), **kwargs)
