"""3-D convolution and pooling, NDHWC, composed from the 2-D ops (Ji et al., 2013, "3D convolutional neural
networks for human action recognition"; Tran et al., 2015, C3D).

A 3-D correlation is a sum over the kernel's depth taps of 2-D correlations of depth slices,

    y[n, z] = sum_a conv2d(x[n, z s_d + a d_d], k[a])      (z over the output depths),

so each tap is one 2-D convolution of all the strided depth slices at once (batch and depth folded together),
and pooling over depth is a maximum or a sum of the strided depth slices after the 2-D pooling. Average pooling
leaves the "same" padding out of the count, as the 2-D op (TensorFlow's and Keras's convention). Gradients come
from the ops composed.
"""

from ..backend import xp_of
from .convert import as_tensor
from .convolution import conv2d, int_tuple, same_padding
from .elementwise import maximum
from .pooling import avg_pool2d, max_pool2d
from .shape import reshape
from .shape_extra import pad


def _depth_padding(padding, depth, kernel, stride, dilation):
    if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
        raise ValueError(f"3-D convolution and pooling take padding 'valid' or 'same', got {padding!r}")
    return (0, 0) if padding.lower() == "valid" else same_padding(depth, kernel, stride, dilation)


def _depth_slices(x, taps, stride, dilation, padding, fill=0.0):
    """The strided depth slices of ``x`` (padded along depth with ``fill``) that each depth tap reads, and the
    output depth."""
    kernel = taps
    before, after = _depth_padding(padding, x.shape[1], kernel, stride, dilation)
    if before or after:
        x = pad(x, ((0, 0), (before, after), (0, 0), (0, 0), (0, 0)), constant_values=fill)
    depth = (x.shape[1] - (kernel - 1) * dilation - 1) // stride + 1
    if depth < 1:
        raise ValueError(f"a depth window of {kernel} (dilation {dilation}) does not fit an input depth of "
                         f"{x.shape[1] - before - after}")
    return [x[:, a * dilation:a * dilation + stride * (depth - 1) + 1:stride] for a in range(kernel)], depth


def _fold(x):
    """(N, D, H, W, C) as (N D, H, W, C)."""
    return reshape(x, (x.shape[0] * x.shape[1],) + tuple(x.shape[2:]))


def _unfold(y, batch, depth):
    return reshape(y, (batch, depth) + tuple(y.shape[1:]))


def conv3d(x, kernel, strides=1, padding="valid", dilation_rate=1, bias=None):
    """3-D convolution (cross-correlation), channels_last: ``x`` ``(N, D, H, W, C_in)``, ``kernel`` ``(k_d, k_h,
    k_w, C_in, C_out)``; ``padding`` ``"valid"`` or ``"same"``; returns ``(N, D_out, H_out, W_out, C_out)``."""
    x, kernel = as_tensor(x), as_tensor(kernel)
    if x.ndim != 5 or kernel.ndim != 5 or x.shape[-1] != kernel.shape[3]:
        raise ValueError(f"conv3d expects a 5-D (N, D, H, W, C) input and a (k_d, k_h, k_w, C, F) kernel with the "
                         f"same C, got shapes {x.shape} and {kernel.shape}")
    strides = int_tuple(strides, 3, "conv3d", "strides")
    dilation = int_tuple(dilation_rate, 3, "conv3d", "dilation_rate")
    slices, depth = _depth_slices(x, kernel.shape[0], strides[0], dilation[0], padding)
    total = None
    for a, part in enumerate(slices):
        y = conv2d(_fold(part), kernel[a], strides=strides[1:], padding=padding.lower(), dilation_rate=dilation[1:])
        total = y if total is None else total + y
    out = _unfold(total, x.shape[0], depth)
    return out if bias is None else out + bias


def _pool3d(x, pool_size, strides, padding, name, pool2d, combine, fill):
    x = as_tensor(x)
    if x.ndim != 5:
        raise ValueError(f"{name} expects a 5-D (N, D, H, W, C) input, got shape {x.shape}")
    pool = int_tuple(pool_size, 3, name, "pool_size")
    strides = pool if strides is None else int_tuple(strides, 3, name, "strides")
    slices, depth = _depth_slices(x, pool[0], strides[0], 1, padding, fill)
    planes = [_unfold(pool2d(_fold(part), pool[1:], strides[1:], padding.lower()), x.shape[0], depth)
              for part in slices]
    return combine(planes, x, pool[0], strides[0], padding)


def _max(planes, *_):
    out = planes[0]
    for plane in planes[1:]:
        out = maximum(out, plane)
    return out


def _mean(planes, x, pool, stride, padding):
    total = planes[0]
    for plane in planes[1:]:
        total = total + plane
    # the depth taps that fall on real slices (not on "same" padding) at each output depth
    before, _ = _depth_padding(padding, x.shape[1], pool, stride, 1)
    xp = xp_of(total.data)
    starts = xp.arange(total.shape[1]) * stride - before
    counts = xp.minimum(starts + pool, x.shape[1]) - xp.maximum(starts, 0)
    return total / counts.astype(total.dtype).reshape(1, -1, 1, 1, 1)


def max_pool3d(x, pool_size=2, strides=None, padding="valid"):
    """Max over ``pool_size`` windows of an NDHWC input moved by ``strides`` (default: the pool size)."""
    return _pool3d(x, pool_size, strides, padding, "max_pool3d", max_pool2d, _max, -float("inf"))


def avg_pool3d(x, pool_size=2, strides=None, padding="valid"):
    """Mean over ``pool_size`` windows of an NDHWC input ("same" padding left out of the count)."""
    return _pool3d(x, pool_size, strides, padding, "avg_pool3d", avg_pool2d, _mean, 0.0)
