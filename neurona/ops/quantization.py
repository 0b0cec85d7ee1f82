"""Fake quantization (round to an integer grid and back) and binarization (to ``{-H, +H}``, BinaryConnect), with
straight-through gradients.

Affine quantization maps a real ``x`` to an integer code and back (Jacob et al. 2018, "Quantization and
Training of Neural Networks for Efficient Integer-Arithmetic-Only Inference")::

    q = clip(round(x / scale) + zero_point, quant_min, quant_max)      (round half to even, as ONNX)
    fake_quantize(x) = (q - zero_point) * scale

``round`` has derivative 0 almost everywhere, which would stop training. The straight-through estimator
(Bengio, Leonard and Courville 2013; used by Courbariaux et al. 2015 and Jacob et al. 2018) takes the
derivative of the rounding as 1, and that of the clipping as it is::

    d fake_quantize / dx = 1  where quant_min <= round(x / scale) + zero_point <= quant_max,  else 0

This is the gradient of PyTorch's ``torch.fake_quantize_per_tensor_affine`` and
``fake_quantize_per_channel_affine`` (the tests use them as the oracle). It is a chosen surrogate, not the
derivative of the forward pass, so the op is not in ``ops.__all__`` (whose ops are gradient-checked against
finite differences). ``scale`` and ``zero_point`` are parameters, not inputs: they receive no gradient.
``binarize_weights`` (below) is the one-bit case, with its own surrogate gradient.
"""

from .. import backend
from ..autograd import Function
from .convert import as_tensor


def _per_axis(values, ndim, axis, xp):
    """``values`` (a scalar, or one per index along ``axis``) shaped to broadcast against a rank-``ndim`` array."""
    values = xp.asarray(values)
    if axis is None or values.ndim == 0:
        return values
    shape = [1] * ndim
    shape[axis] = values.shape[0]
    return values.reshape(shape)


class FakeQuantize(Function):
    """``(clip(round(x / s) + z, qmin, qmax) - z) * s``; backward passes the gradient where ``x`` is in range."""

    def forward(self, x, scale=None, zero_point=None, quant_min=None, quant_max=None, axis=None):
        xp = backend.get_xp()
        scale = _per_axis(scale, x.ndim, axis, xp).astype(x.dtype)
        zero_point = _per_axis(zero_point, x.ndim, axis, xp).astype(x.dtype)
        code = xp.round(x / scale) + zero_point
        self.inside = (code >= quant_min) & (code <= quant_max)
        return (xp.clip(code, quant_min, quant_max) - zero_point) * scale

    def backward(self, g):
        return g * self.inside


def fake_quantize(x, scale, zero_point=0, quant_min=-128, quant_max=127, axis=None):
    """``x`` rounded to the integer grid ``scale * (q - zero_point)``, ``q`` in ``[quant_min, quant_max]``.

    Args:
        x: a Tensor (or array).
        scale: the step, positive: a number (per tensor), or one per index along ``axis`` (per channel).
        zero_point: the integer code of 0.0, like ``scale`` (a number or one per channel).
        quant_min, quant_max: the code range (int8: -128, 127; uint8: 0, 255; symmetric int8 weights: -127,
            127; 4 bits: -8, 7 or 0, 15).
        axis: the channel axis of per-channel ``scale`` and ``zero_point``; None for per-tensor ones.

    Returns:
        A Tensor of ``x``'s shape and dtype holding the dequantized values; its gradient is the straight-through
        one (1 where ``x`` lies within the range, 0 where it was clipped).

    Raises:
        ValueError: a non-positive or non-finite scale, an empty or inverted code range, a zero point outside
            it, or per-channel parameters that do not match ``x``'s ``axis``.
    """
    xp = backend.get_xp()
    x = as_tensor(x)
    if int(quant_min) != quant_min or int(quant_max) != quant_max or quant_min >= quant_max:
        raise ValueError(f"fake_quantize: quant_min < quant_max must be integers, got {quant_min!r}, {quant_max!r}")
    scale_array, zero_array = xp.asarray(scale, dtype="float64"), xp.asarray(zero_point, dtype="float64")
    if not bool(xp.all(xp.isfinite(scale_array)) and xp.all(scale_array > 0)):
        raise ValueError(f"fake_quantize: scale must be positive and finite, got {scale!r}")
    if bool(xp.any(zero_array != xp.round(zero_array)) or xp.any(zero_array < quant_min) or
            xp.any(zero_array > quant_max)):
        raise ValueError(f"fake_quantize: zero_point must be an integer in [{quant_min}, {quant_max}], "
                         f"got {zero_point!r}")
    if axis is not None:
        if not -x.ndim <= axis < x.ndim:
            raise ValueError(f"fake_quantize: axis {axis} is out of range for an input of shape {x.shape}")
        axis %= x.ndim
        for name, values in (("scale", scale_array), ("zero_point", zero_array)):
            if values.ndim not in (0, 1) or (values.ndim == 1 and values.shape[0] != x.shape[axis]):
                raise ValueError(f"fake_quantize: per-channel {name} must hold one value per index of axis {axis} "
                                 f"({x.shape[axis]}), got shape {values.shape}")
    elif scale_array.ndim or zero_array.ndim:
        raise ValueError("fake_quantize: per-channel scale or zero_point need axis=, got arrays of shapes "
                         f"{scale_array.shape} and {zero_array.shape} with axis=None")
    return FakeQuantize.apply(x, scale=scale_array, zero_point=zero_array, quant_min=int(quant_min),
                              quant_max=int(quant_max), axis=axis)


class BinarySign(Function):
    """``H * sign(w)`` (``+H`` at 0), or ``+H`` with probability ``hard_sigmoid(w / H)``; backward passes the
    gradient where ``|w| <= H`` (the hard-tanh straight-through estimator)."""

    def forward(self, w, scale=None, uniform=None):
        xp = backend.get_xp()
        h = w.dtype.type(scale)
        self.inside = xp.abs(w) <= h
        if uniform is None:
            positive = w >= 0
        else:  # P(+H) = hard_sigmoid(w / H) = clip((w / H + 1) / 2, 0, 1)
            positive = uniform < xp.clip((w / h + 1) / 2, 0, 1)
        return xp.where(positive, h, -h).astype(w.dtype, copy=False)

    def backward(self, g):
        return g * self.inside


def binarize_weights(w, scale, rng=None):
    """BinaryConnect's binarization of a weight tensor to ``{-H, +H}`` (Courbariaux, Bengio and David 2015,
    "BinaryConnect: Training Deep Neural Networks with binary weights during propagations", eqs. 1-3)::

        deterministic:  w_b = +H if w >= 0 else -H           (sign(0) = +1: the paper's code rounds
                                                                hard_sigmoid(0) = 0.5 half away from zero)
        stochastic:     w_b = +H with probability p = hard_sigmoid(w / H) = clip((w / H + 1) / 2, 0, 1),
                              -H with probability 1 - p

    The gradient is the straight-through estimator with the hard-tanh cancellation of Hubara et al. 2016
    ("Binarized Neural Networks"), ``d w_b / d w = 1`` where ``|w| <= H`` and 0 elsewhere, which is
    ``torch.where(w.abs() <= H, grad, 0)``. Like ``fake_quantize``'s, it is a chosen surrogate, not the
    derivative of the forward pass (0 almost everywhere), so the op is not in ``ops.__all__``; ``scale`` is a
    parameter, not an input: it receives no gradient.

    Args:
        w: a Tensor (or array) of real-valued weights.
        scale: ``H > 0``, the magnitude of the two values (a number: one per tensor, as in the paper).
        rng: None for the deterministic binarization; a ``numpy.random.Generator`` for the stochastic one, whose
            uniform draws (one per weight, on the CPU, then moved to ``w``'s device) decide each sign.

    Returns:
        A Tensor of ``w``'s shape and dtype holding only ``-H`` and ``+H``.

    Raises:
        ValueError: a scale that is not a positive finite number.
    """
    w = as_tensor(w)
    try:
        h = float(scale)
    except (TypeError, ValueError):
        raise ValueError(f"binarize_weights: scale must be a positive number, got {scale!r}") from None
    if isinstance(scale, bool) or not 0.0 < h < float("inf"):
        raise ValueError(f"binarize_weights: scale must be a positive finite number, got {scale!r}")
    uniform = None
    if rng is not None:
        draw = rng.random(w.shape, dtype="float32" if w.dtype.itemsize <= 4 else "float64")
        uniform = backend.to_device(draw, w.device).astype(w.dtype, copy=False)
    return BinarySign.apply(w, scale=h, uniform=uniform)
