"""QuantizeWrapper's gradients are the straight-through estimator's, by its formula.

With ``x_q = fake_quantize(x)`` and ``W_q = fake_quantize(W)``, the STE takes ``dx_q/dx = 1`` where ``x`` lies in
the grid's range (0 where it was clipped) and ``dW_q/dW = 1`` (a symmetric absmax grid clips no weight). So the
wrapper's gradients must be those of the plain layer evaluated at ``(x_q, W_q)``, masked by ``x``'s range.
"""

import numpy as np

import neurona as nr
from neurona import layers
from neurona.compression import QuantizeWrapper


def test_gradients_are_the_plain_layers_at_the_quantized_point_masked_by_the_input_range():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(5, 6)) * 2.0
    wrapper = QuantizeWrapper(layers.Dense(4, activation="tanh", dtype="float64"), weight_bits=4,
                              activation_bits=5, input_range=(-1.5, 2.0))
    wrapper.build_for((None, 6))
    wrapper.layer.set_weights([rng.normal(size=(6, 4)), rng.normal(size=4)])
    upstream = rng.normal(size=(5, 4))
    x_in = nr.Tensor(x, requires_grad=True)
    (wrapper(x_in) * nr.Tensor(upstream)).sum().backward()

    scale, zero_point = wrapper.activation_params("input")
    codes = np.round(x / scale) + zero_point
    inside = (codes >= 0) & (codes <= 31)
    x_q = (np.clip(codes, 0, 31) - zero_point) * scale
    w_scale = wrapper.weight_scale()
    kernel = wrapper.layer.kernel.numpy()
    w_q = np.clip(np.round(kernel / w_scale), -7, 7) * w_scale
    b_q = np.round(wrapper.layer.bias.numpy() / (scale * w_scale)) * (scale * w_scale)
    plain = layers.Dense(4, activation="tanh", dtype="float64")
    plain.build_for((None, 6))
    plain.set_weights([w_q, b_q])
    xq_in = nr.Tensor(x_q, requires_grad=True)
    out = plain(xq_in)
    np.testing.assert_allclose(wrapper(nr.Tensor(x)).numpy(), out.numpy(), rtol=1e-12)
    (out * nr.Tensor(upstream)).sum().backward()

    assert 0 < inside.mean() < 1  # the draw has values on both sides of the range's ends
    np.testing.assert_allclose(np.asarray(x_in.grad), np.asarray(xq_in.grad) * inside, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(wrapper.layer.kernel.grad), np.asarray(plain.kernel.grad), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(wrapper.layer.bias.grad), np.asarray(plain.bias.grad), rtol=1e-12)
