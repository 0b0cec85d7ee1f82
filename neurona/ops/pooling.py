"""Max and average pooling, channels_last (NHWC): the windows' maximum or mean (``kernels.pooling``).

With ``x_k`` the cells of a ``p_h x p_w`` window (row-major ``k``) moved by ``(s_h, s_w)``:

    max:      y = max_k x_k,             dx_k = g [k = first k attaining the max]
    average:  y = sum_k x_k / count,     dx_k = g / count

The max gradient goes to the first element that attains the maximum (so a window of tied values, e.g. zeros
after ReLU, passes its gradient once, as in TensorFlow and PyTorch); a window holding a NaN gives NaN and no
gradient. With 'same' padding, max pooling pads with -inf and average pooling divides by the number of real
(unpadded) cells in each window, as Keras does.
"""

from ..autograd import Function
from ..backend import kernels
from .convert import as_tensor
from .convolution import check_padding, conv_output_size, int_tuple, resolve_padding
from .shape import reshape


class MaxPool2D(Function):
    def forward(self, x, pool=(2, 2), strides=(2, 2), padding=((0, 0), (0, 0))):
        self.x_shape, self.window = x.shape, (pool, strides, padding)
        y, self.arg = kernels.max_pool(x, pool, strides, padding)
        return y

    def backward(self, g):
        return kernels.max_pool_grad(g, self.arg, self.x_shape, *self.window)


class AvgPool2D(Function):
    def forward(self, x, pool=(2, 2), strides=(2, 2), padding=((0, 0), (0, 0))):
        self.x_shape, self.window = x.shape, (pool, strides, padding)
        y, self.count = kernels.avg_pool(x, pool, strides, padding)
        return y

    def backward(self, g):
        return kernels.avg_pool_grad(g, self.count, self.x_shape, *self.window)


def _pool_args(x, pool_size, strides, padding, name):
    x = as_tensor(x)
    if x.ndim != 4:
        raise ValueError(f"{name} expects a 4-D NHWC input, got shape {x.shape}")
    pool = int_tuple(pool_size, 2, name, "pool_size")
    strides = pool if strides is None else int_tuple(strides, 2, name, "strides")
    pad = resolve_padding(check_padding(padding, name), x.shape[1:3], pool, strides, (1, 1))
    out = [conv_output_size(n, k, s, 1, p) for n, k, s, p in zip(x.shape[1:3], pool, strides, pad)]
    if min(out) < 1:
        raise ValueError(f"{name}: a {pool} window does not fit an input of spatial size {x.shape[1:3]}")
    return x, dict(pool=pool, strides=strides, padding=pad)


def max_pool2d(x, pool_size=2, strides=None, padding="valid"):
    """Max over ``pool_size`` windows moved by ``strides`` (default: the pool size), NHWC.

    ``pool_size`` and ``strides`` are a positive int or pair (Python or NumPy ints); ``padding`` is
    ``"valid"``, ``"same"`` (any case) or explicit ``((top, bottom), (left, right))``.
    """
    x, kwargs = _pool_args(x, pool_size, strides, padding, "max_pool2d")
    return MaxPool2D.apply(x, **kwargs)


def avg_pool2d(x, pool_size=2, strides=None, padding="valid"):
    """Mean over ``pool_size`` windows moved by ``strides`` (default: the pool size), NHWC; arguments as in
    ``max_pool2d``."""
    x, kwargs = _pool_args(x, pool_size, strides, padding, "avg_pool2d")
    return AvgPool2D.apply(x, **kwargs)


def _as_2d(fn, name, x, pool_size, strides, padding):
    """Run a 2-D pooling over ``(N, L, C)`` seen as a height-1 image."""
    x = as_tensor(x)
    if x.ndim != 3:
        raise ValueError(f"{name} expects a 3-D (N, L, C) input, got shape {x.shape}")
    (pool,) = int_tuple(pool_size, 1, name, "pool_size")
    (stride,) = (pool,) if strides is None else int_tuple(strides, 1, name, "strides")
    padding = check_padding(padding, name, rank=1)
    pad2d = padding if isinstance(padding, str) else ((0, 0), padding)
    out = fn(reshape(x, (x.shape[0], 1) + x.shape[1:]), (1, pool), (1, stride), pad2d)
    return reshape(out, (out.shape[0],) + out.shape[2:])


def max_pool1d(x, pool_size=2, strides=None, padding="valid"):
    """Max pooling over the length axis of ``(N, L, C)``: ``pool_size`` and ``strides`` a positive int or
    1-tuple, ``padding`` ``"valid"``, ``"same"`` or explicit ``(left, right)``."""
    return _as_2d(max_pool2d, "max_pool1d", x, pool_size, strides, padding)


def avg_pool1d(x, pool_size=2, strides=None, padding="valid"):
    """Average pooling over the length axis of ``(N, L, C)``; arguments as in ``max_pool1d``."""
    return _as_2d(avg_pool2d, "avg_pool1d", x, pool_size, strides, padding)
