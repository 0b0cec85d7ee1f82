"""Max and average pooling, channels_last (NHWC), as sums and maxima of strided slices.

A ``p_h x p_w`` window moved with strides ``(s_h, s_w)`` reads, for each
offset ``(a, b)`` in the window, the strided slice ``x[:, a::s_h, b::s_w, :]``
(cut to the output size). Pooling is then an elementwise reduction of those
``p_h p_w`` slices, with no Python loop over pixels:

    max:  y = max_{a,b} slice_{a,b}        average:  y = sum_{a,b} slice_{a,b} / count

When windows do not overlap (strides equal to the pool size, 'valid'
padding: the classic 2x2 pooling) the input is instead seen as tiles (a
reshape, no copy) and the maximum and its first-max mask are taken tile slice
by tile slice, on every core. The max gradient goes to the
first element that attains the maximum (so a window of tied values, e.g.
zeros after ReLU, passes its gradient once, as in TensorFlow and PyTorch);
the average gradient is shared equally. With 'same' padding, max pooling
pads with -inf and average pooling divides by the number of real (unpadded)
cells in each window, as Keras does.
"""

from ..autograd import Function
from ..backend import xp_of
from ..backend.parallel import for_each_chunk
from .convert import as_tensor
from .convolution import check_padding, conv_output_size, int_tuple, pad_spatial, resolve_padding, window_slices
from .shape import reshape


class _Pool2D(Function):
    def _setup(self, x, pool, strides, padding):
        n, h, w, c = x.shape
        self.x_shape, self.pool, self.strides, self.pad = x.shape, pool, strides, padding
        self.out_hw = tuple(conv_output_size(s, k, st, 1, p) for s, k, st, p in zip((h, w), pool, strides, padding))
        return window_slices(pool, strides, (1, 1), self.out_hw)

    def _unpad(self, dx):
        (pt, _), (pl, _) = self.pad
        n, h, w, c = self.x_shape
        return dx[:, pt:pt + h, pl:pl + w, :]

    def _padded_zeros(self, g):
        n, h, w, c = self.x_shape
        (pt, pb), (pl, pr) = self.pad
        return xp_of(g).zeros((n, h + pt + pb, w + pl + pr, c), dtype=g.dtype)


class MaxPool2D(_Pool2D):
    def forward(self, x, pool=(2, 2), strides=(2, 2), padding=((0, 0), (0, 0))):
        if pool == strides and not any(p for pair in padding for p in pair):
            return self._forward_tiled(x, pool)
        self.tiles = None
        slices = list(self._setup(x, pool, strides, padding))
        self.xpad = pad_spatial(x, padding, value=-xp_of(x).inf)
        self.regions = [region for _, _, region in slices]
        out = self.xpad[self.regions[0]].copy()
        for region in self.regions[1:]:
            xp_of(x).maximum(out, self.xpad[region], out=out)
        self.out = out
        return out

    def _forward_tiled(self, x, pool):
        """Non-overlapping windows (the common 2x2/2 case): a tile view, slice-wise maxima, a first-max mask."""
        xp = xp_of(x)
        n, h, w, c = x.shape
        (ph, pw) = pool
        ho, wo = h // ph, w // pw
        self.x_shape, self.tiles = x.shape, (ho, wo, ph, pw)
        tiles = x[:, :ho * ph, :wo * pw, :].reshape(n, ho, ph, wo, pw, c)
        out = xp.empty((n, ho, wo, c), dtype=x.dtype)
        mask = self.mask = xp.empty(tiles.shape, dtype=bool)

        offsets = [(a, b) for a in range(ph) for b in range(pw)]

        def pool_chunk(s):
            t, o, m = tiles[s], out[s], mask[s]
            # elementwise maxima of the window's slices: a 2x2 MNIST-CNN pool 1.7 -> 0.9 ms a half batch
            # against tiles.max(axis=(2, 4)), which NumPy reduces over two strided axes slowly
            xp.copyto(o, t[:, :, 0, :, 0, :])
            for a, b in offsets[1:]:
                xp.maximum(o, t[:, :, a, :, b, :], out=o)
            xp.equal(t, o[:, :, None, :, None, :], out=m)
            # keep only the first maximum of each window (row-major), so ties pass the gradient once;
            # on booleans hit > taken is hit & ~taken in one pass
            taken = m[:, :, 0, :, 0, :].copy()
            for a, b in offsets[1:]:
                hit = m[:, :, a, :, b, :]
                xp.greater(hit, taken, out=hit)
                taken |= hit

        for_each_chunk(n, pool_chunk, tiles)
        return out

    def _backward_tiled(self, g):
        xp = xp_of(g)
        n, h, w, c = self.x_shape
        ho, wo, ph, pw = self.tiles
        full = (ho * ph, wo * pw) == (h, w)
        dx = xp.empty(self.x_shape, dtype=g.dtype) if full else xp.zeros(self.x_shape, dtype=g.dtype)
        dtiles = dx[:, :ho * ph, :wo * pw, :].reshape(n, ho, ph, wo, pw, c)  # a view: rows no window covers stay 0
        mask = self.mask
        for_each_chunk(n, lambda s: xp.multiply(mask[s], g[s][:, :, None, :, None, :], out=dtiles[s]), dtiles)
        return dx

    def backward(self, g):
        if self.tiles is not None:
            return self._backward_tiled(g)
        xp = xp_of(g)
        dx = self._padded_zeros(g)
        taken = xp.zeros(g.shape, dtype=bool)
        for region in self.regions:
            hit = self.xpad[region] == self.out
            hit &= ~taken
            taken |= hit
            dx[region] += g * hit
        return self._unpad(dx)


class AvgPool2D(_Pool2D):
    def forward(self, x, pool=(2, 2), strides=(2, 2), padding=((0, 0), (0, 0))):
        xp = xp_of(x)
        self.regions = [region for _, _, region in self._setup(x, pool, strides, padding)]
        xpad = pad_spatial(x, padding)
        total = xpad[self.regions[0]].copy()
        for region in self.regions[1:]:
            total += xpad[region]
        if any(p for pair in padding for p in pair):  # count only real cells in each window
            ones = pad_spatial(xp.ones((1,) + x.shape[1:3] + (1,), dtype=x.dtype), padding)
            count = sum(ones[region] for region in self.regions)
        else:
            count = float(pool[0] * pool[1])
        self.count = count
        return total / count

    def backward(self, g):
        dx = self._padded_zeros(g)
        share = g / self.count
        for region in self.regions:
            dx[region] += share
        return self._unpad(dx)


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
