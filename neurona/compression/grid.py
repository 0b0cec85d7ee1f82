"""Integer grids: the code ranges and the scale / zero-point of a value range (NumPy, no autograd).

Two schemes, as in Krishnamoorthi 2018 ("Quantizing deep convolutional networks for efficient inference"),
TensorFlow Lite and onnxruntime's QDQ format:

- **weights, symmetric, per output channel:** codes in ``[-(2^(b-1) - 1), 2^(b-1) - 1]`` (the "narrow" range,
  -127..127 for 8 bits, so that -w quantizes to -q), zero point 0, ``scale_c = max_i |w_ic| / (2^(b-1) - 1)``.
- **activations, affine, per tensor:** unsigned codes in ``[0, 2^b - 1]``, a range ``[lo, hi]`` widened to hold
  0.0 (zero padding and ReLU's zeros are then exact), ``scale = (hi - lo) / (2^b - 1)`` and the zero point
  ``round(-lo / scale)``.

A round trip ``dequantize(quantize(x))`` is off by at most ``scale / 2`` for every ``x`` inside the range
(rounding to the nearest code); values outside it are clipped to the nearest end.
"""

import numpy

WEIGHT_BITS = (2, 3, 4, 5, 6, 7, 8)
ACTIVATION_BITS = (2, 3, 4, 5, 6, 7, 8)


def check_bits(bits, what):
    """``bits`` as an int from the supported widths, or ``ValueError`` naming ``what``."""
    if isinstance(bits, bool) or not isinstance(bits, (int, numpy.integer)) or int(bits) not in WEIGHT_BITS:
        raise ValueError(f"{what} must be an integer from 2 to 8, got {bits!r}")
    return int(bits)


def weight_codes(bits):
    """``(qmin, qmax)`` of symmetric signed weights: ``(-(2^(b-1) - 1), 2^(b-1) - 1)``."""
    top = 2 ** (bits - 1) - 1
    return -top, top


def activation_codes(bits):
    """``(qmin, qmax)`` of unsigned activations: ``(0, 2^b - 1)``."""
    return 0, 2**bits - 1


def symmetric_scale(absmax, bits):
    """Per-channel weight scales ``absmax / qmax`` (1.0 where a channel is all zeros: every code is then 0)."""
    absmax = numpy.asarray(absmax, dtype=numpy.float64)
    scale = absmax / weight_codes(bits)[1]
    return numpy.where(scale > 0, scale, 1.0)


def affine_params(lo, hi, bits):
    """``(scale, zero_point)`` of unsigned ``bits``-bit codes covering ``[min(lo, 0), max(hi, 0)]``."""
    if not (numpy.isfinite(lo) and numpy.isfinite(hi)) or lo > hi:
        raise ValueError(f"an activation range needs finite lo <= hi, got [{lo}, {hi}]")
    qmin, qmax = activation_codes(bits)
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    scale = (hi - lo) / (qmax - qmin)
    if scale == 0.0:  # an all-zero activation: any positive step represents it exactly
        return 1.0, qmin
    zero_point = int(numpy.clip(numpy.round(qmin - lo / scale), qmin, qmax))
    return scale, zero_point


def quantize(x, scale, zero_point, qmin, qmax, axis=None):
    """Integer codes ``clip(round(x / scale) + zero_point, qmin, qmax)`` (int8 when they fit, else uint8;
    int32 for the wider bias grid), per channel along ``axis`` when ``scale`` is an array."""
    x = numpy.asarray(x)
    scale, zero_point = _shaped(scale, x.ndim, axis), _shaped(zero_point, x.ndim, axis)
    codes = numpy.clip(numpy.round(x / scale.astype(x.dtype)) + zero_point, qmin, qmax)
    return codes.astype(code_dtype(qmin, qmax))


def dequantize(codes, scale, zero_point, axis=None, dtype="float32"):
    """Real values ``(codes - zero_point) * scale``."""
    codes = numpy.asarray(codes)
    scale, zero_point = _shaped(scale, codes.ndim, axis), _shaped(zero_point, codes.ndim, axis)
    return ((codes.astype(numpy.float64) - zero_point) * scale).astype(dtype)


def code_dtype(qmin, qmax):
    """uint8 for codes from 0 up (activations), int8 for signed ones (weights), int32 for wider grids (biases)."""
    for dtype in ((numpy.uint8,) if qmin >= 0 else (numpy.int8,)) + (numpy.int32,):
        info = numpy.iinfo(dtype)
        if info.min <= qmin and qmax <= info.max:
            return numpy.dtype(dtype)
    raise ValueError(f"no integer type holds codes in [{qmin}, {qmax}]")


def _shaped(values, ndim, axis):
    values = numpy.asarray(values, dtype=numpy.float64)
    if axis is None or values.ndim == 0:
        return values
    shape = [1] * ndim
    shape[axis] = values.shape[0]
    return values.reshape(shape)
