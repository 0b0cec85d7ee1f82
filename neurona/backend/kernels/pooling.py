"""Pooling kernels, channels last (NHWC): max pooling with its first-max index, average pooling.

A ``p_h x p_w`` window moved by strides ``(s_h, s_w)`` over ``x`` padded by ``((top, bottom), (left, right))``
covers, for output cell ``(i, j)``, the input cells ``(i s_h + a - top, j s_w + b - left)``, ``0 <= a < p_h``,
``0 <= b < p_w``; ``k = a p_w + b`` numbers them row-major. Then

    max:      y[i, j] = max_k x_k,     arg[i, j] = the first k with x_k = y[i, j]   (padded cells are -inf)
              dx_k   += g[i, j] [k = arg[i, j]]
    average:  y[i, j] = sum_k x_k / count[i, j],  count = the number of real (unpadded) cells, as Keras does
              dx_k   += g[i, j] / count[i, j]

The first-max index passes the gradient of a window of tied values (zeros after a ReLU) once, as TensorFlow
and PyTorch do. NaN: a window holding a NaN gives NaN (as ``numpy.maximum`` does) and ``arg = -1``, so no
gradient flows back through it (Neurona's behaviour before this kernel; PyTorch sends it to the NaN instead).

``arg`` is int8 when the window has at most 127 cells (a quarter of a boolean mask of the input), else int32.
The references reduce the ``p_h p_w`` strided slices of the padded input elementwise; the compiled max pool
(numba) finds the maximum and its index in one pass over the input. Both are split over the batch on the
backend's threads: every sample is computed on its own, so results do not depend on the number of threads.
"""

from .. import parallel
from ..device import xp_of
from . import select
from .widening import widened

__all__ = ["max_pool", "max_pool_grad", "avg_pool", "avg_pool_grad"]

_COMPILED_DTYPES = ("float32", "float64")  # others (float16, integers) take the reference


@widened
def max_pool(x, pool, strides, padding):
    """``(y, arg)``: the max over each window of the NHWC array ``x`` and the index of its first maximum.

    Args:
        x: (N, H, W, C) array.
        pool, strides: pairs of positive ints.
        padding: ``((top, bottom), (left, right))`` cells of -inf around the spatial axes.

    Returns:
        ``y`` of shape (N, H_out, W_out, C) and ``arg`` of the same shape (int8 or int32, -1 where the window
        holds a NaN), for ``max_pool_grad``.
    """
    xp = xp_of(x)
    out_hw = _output_size(x.shape, pool, strides, padding)
    y = xp.empty((x.shape[0],) + out_hw + (x.shape[3],), dtype=x.dtype)
    arg = xp.empty(y.shape, dtype=_index_dtype(xp, pool))
    fast = select.compiled("pooling", x)
    if fast is not None and x.flags.c_contiguous and x.dtype in _COMPILED_DTYPES:
        _over_batch(x, lambda s: fast.max_pool(x[s], pool[0], pool[1], strides[0], strides[1], padding[0][0],
                                               padding[1][0], y[s], arg[s]))
    else:
        _over_batch(x, lambda s: _max_pool_reference(x[s], pool, strides, padding, y[s], arg[s]))
    return y, arg


@widened
def max_pool_grad(g, arg, x_shape, pool, strides, padding):
    """``dx``: each output's gradient ``g`` added to the input cell ``arg`` names in its window (none for -1)."""
    xp = xp_of(g)
    overlap = strides[0] < pool[0] or strides[1] < pool[1]
    fast = select.compiled("pooling", g, arg)
    if fast is not None and g.flags.c_contiguous and arg.flags.c_contiguous and g.dtype in _COMPILED_DTYPES:
        covered = _covers(x_shape, g.shape, pool, strides, padding)
        # every input cell is written once when windows tile the input exactly, so no zeroing pass is needed
        dx = xp.empty(x_shape, dtype=g.dtype) if covered and not overlap else xp.zeros(x_shape, dtype=g.dtype)
        _over_batch(dx, lambda s: fast.max_pool_grad(g[s], arg[s], pool[0], pool[1], strides[0], strides[1],
                                                     padding[0][0], padding[1][0], overlap, dx[s]))
        return dx
    dx = xp.zeros(x_shape, dtype=g.dtype)
    _over_batch(dx, lambda s: _scatter(g[s], arg[s], pool, strides, padding, dx[s]))
    return dx


@widened
def avg_pool(x, pool, strides, padding):
    """``(y, count)``: the mean of each window's real cells, and ``count`` (a number, or an array of
    (1, H_out, W_out, 1) where padding makes it vary) for ``avg_pool_grad``."""
    xp = xp_of(x)
    out_hw = _output_size(x.shape, pool, strides, padding)
    regions = _regions(pool, strides, out_hw)
    xpad = _pad(x, padding, 0)
    total = xpad[regions[0]].copy()
    for region in regions[1:]:
        total += xpad[region]
    if any(p for pair in padding for p in pair):  # count only the real cells in each window
        ones = _pad(xp.ones((1,) + tuple(x.shape[1:3]) + (1,), dtype=x.dtype), padding, 0)
        count = sum(ones[region] for region in regions)
    else:
        count = float(pool[0] * pool[1])
    return total / count, count


@widened
def avg_pool_grad(g, count, x_shape, pool, strides, padding):
    """``dx``: each output's gradient shared equally, ``g / count``, by the real cells of its window."""
    xp = xp_of(g)
    (top, bottom), (left, right) = padding
    n, h, w, c = x_shape
    dx = xp.zeros((n, h + top + bottom, w + left + right, c), dtype=g.dtype)
    share = g / count
    for region in _regions(pool, strides, g.shape[1:3]):
        dx[region] += share
    return dx[:, top:top + h, left:left + w, :]


def _max_pool_reference(x, pool, strides, padding, y, arg):
    """The max of the windows' strided slices, then the first slice equal to it (NaN equals nothing: -1)."""
    xp = xp_of(x)
    regions = _regions(pool, strides, y.shape[1:3])
    xpad = _pad(x, padding, -xp.inf)
    xp.copyto(y, xpad[regions[0]])
    for region in regions[1:]:
        xp.maximum(y, xpad[region], out=y)
    arg.fill(-1)
    hit, step = xp.empty(y.shape, dtype=bool), xp.empty(y.shape, dtype=arg.dtype)
    for k in range(len(regions) - 1, -1, -1):  # backwards, so the first maximum is written last
        xp.equal(xpad[regions[k]], y, out=hit)
        # arg = k where hit, as arithmetic: 4x faster than copyto(..., where=hit) on small integers
        xp.subtract(arg, k, out=step)
        step *= hit
        arg -= step


def _scatter(g, arg, pool, strides, padding, dx):
    """``dx[window cell k] += g [arg == k]`` for each ``k`` in turn (on the padded grid, then cut)."""
    xp = xp_of(g)
    (top, bottom), (left, right) = padding
    n, h, w, c = dx.shape
    padded = dx if not any(padding[0] + padding[1]) else xp.zeros((n, h + top + bottom, w + left + right, c),
                                                                   dtype=dx.dtype)
    overlap = strides[0] < pool[0] or strides[1] < pool[1]
    hit = xp.empty(g.shape, dtype=bool)
    for k, region in enumerate(_regions(pool, strides, g.shape[1:3])):
        xp.equal(arg, k, out=hit)
        if overlap:
            padded[region] += g * hit
        else:  # each cell is in one window at most: written, not added
            xp.multiply(g, hit, out=padded[region])
    if padded is not dx:
        dx[...] = padded[:, top:top + h, left:left + w, :]


def _output_size(shape, pool, strides, padding):
    sizes = tuple((shape[1 + d] + sum(padding[d]) - pool[d]) // strides[d] + 1 for d in range(2))
    if min(sizes) < 1:
        raise ValueError(f"pooling: a {tuple(pool)} window with padding {padding} does not fit an input of "
                         f"spatial size {tuple(shape[1:3])}")
    return sizes


def _regions(pool, strides, out_hw):
    """Per window cell ``k`` (row-major), the strided slice of the padded input it reads for every output."""
    (ph, pw), (sh, sw), (ho, wo) = pool, strides, out_hw
    return [(slice(None), slice(a, a + sh * (ho - 1) + 1, sh), slice(b, b + sw * (wo - 1) + 1, sw), slice(None))
            for a in range(ph) for b in range(pw)]


def _pad(x, padding, value):
    if not any(padding[0] + padding[1]):
        return x
    return xp_of(x).pad(x, ((0, 0), tuple(padding[0]), tuple(padding[1]), (0, 0)), constant_values=value)


def _covers(x_shape, y_shape, pool, strides, padding):
    """Whether the windows reach every input cell (no padding, and strides equal to the pool size, exactly)."""
    return (not any(padding[0] + padding[1]) and tuple(pool) == tuple(strides)
            and (y_shape[1] * pool[0], y_shape[2] * pool[1]) == tuple(x_shape[1:3]))


def _index_dtype(xp, pool):
    return xp.int8 if pool[0] * pool[1] <= 127 else xp.int32


def _over_batch(array, fn):
    parallel.for_each_chunk(array.shape[0], fn, array)
