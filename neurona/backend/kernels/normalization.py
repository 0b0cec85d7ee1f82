"""Normalization kernels: the reductions and broadcasts behind batch, layer, group and instance normalization.

    sum_over(a, axes)            = sum_{axes} a                       (keepdims)
    sum_product_over(a, b, axes) = sum_{axes} a * b                   (keepdims)
    spread(stat, shape, axes)    = stat, copied along short inner axes of ``shape`` when that keeps it small
    moments(x, axes, epsilon)    = (x_hat, mean, var, inv_std),  x_hat = (x - mean) * inv_std,
                                   inv_std = 1 / sqrt(var + epsilon), mean and biased var over ``axes``
    batch_norm_grad(g, x_hat, scale, axes)
                                 = (dx, d_gamma, d_beta),  d_beta = sum_{axes} g,  d_gamma = sum_{axes} g x_hat,
                                   dx = scale (g - d_beta / M - x_hat d_gamma / M)   (Ioffe & Szegedy, 2015;
                                   ``scale = gamma / sqrt(var + epsilon)``, M the number of values reduced)

The references are the NumPy (or CuPy) reductions in the orders NumPy runs fast: neighbouring reduced (or kept)
axes merged into one (a free reshape of a contiguous array), the outer axis summed first, einsum for the sum of a
product of two matrices. Where the reduced axes merge into the leading axis of a (rows, channels) matrix (batch
normalization of channels-last or (N, C) data), ``moments`` and ``batch_norm_grad`` have compiled versions
(numba) that read the batch once per statistic: fixed pieces of ``PIECE_ROWS`` rows, each summed into float64
accumulators, the partial sums added in piece order, so the result does not depend on the number of threads.
They round differently from the references (which accumulate in the input's dtype): float32 results agree to
about 1e-5 relative. Measured on a (128, 24, 24, 64) float32 batch: see ``benchmarks/batchnorm_step.py``.
"""

from .. import parallel
from ..device import xp_of
from . import select
from .widening import widened

__all__ = ["sum_over", "sum_product_over", "spread", "moments", "batch_norm_grad"]

PIECE_ROWS = 4096  # rows of a (rows, channels) batch per partial sum: fixed, so results ignore the thread count


@widened
def sum_over(a, axes):
    """``a.sum(axis=axes, keepdims=True)``, one merged axis at a time from the outermost.

    NumPy sums over several strided axes at once slowly (33 ms instead of 4 ms for a (128, 576, 32, 2) array
    over axes (1, 3)); summing the outer axis first shrinks the array with fast row additions before the
    inner, short axes.
    """
    if not a.flags.c_contiguous:  # e.g. a broadcast gradient: merging axes would need a copy
        return a.sum(axis=axes, keepdims=True)
    keep_shape = tuple(1 if i in axes else s for i, s in enumerate(a.shape))
    shape, merged_axes = _coalesce(a.shape, axes)
    out = a.reshape(shape)
    for axis in merged_axes:
        out = out.sum(axis=axis, keepdims=True)
    return out.reshape(keep_shape)


@widened
def sum_product_over(a, b, axes):
    """``(a * b).sum(axis=axes, keepdims=True)``; one einsum without the product array when it is a matrix.

    For the (N*H*W, C) matrix of channels-last batch norm and the (rows, features) matrix of layer norm,
    einsum is 4x faster than multiplying then summing; for higher ranks NumPy's einsum is slower, so the
    product is formed.
    """
    if a.flags.c_contiguous and b.flags.c_contiguous:
        shape, merged_axes = _coalesce(a.shape, axes)
        if len(shape) == 2:
            keep_shape = tuple(1 if i in axes else s for i, s in enumerate(a.shape))
            spec = "ab,ab->b" if merged_axes == (0,) else "ab,ab->a"
            return xp_of(a).einsum(spec, a.reshape(shape), b.reshape(shape)).reshape(keep_shape)
    return sum_over(a * b, axes)


def spread(stat, shape, axes):
    """A keepdims statistic copied along the innermost reduced axes of ``shape``, when that keeps it small.

    Group normalization of channels-last data also reduces over the last axis (``C / groups`` channels,
    often 2 to 8): broadcasting along so short an inner axis makes NumPy's elementwise loops 4x slower than
    first spreading the (N, 1, 1, G, 1) statistic to (N, 1, 1, G, C / G), a small array.
    """
    kept = [i for i in range(len(shape)) if i not in axes]
    if not kept or kept[-1] == len(shape) - 1:
        return stat
    target = stat.shape[:kept[-1] + 1] + tuple(shape[kept[-1] + 1:])
    if _prod(target) * 8 > _prod(shape):
        return stat
    return xp_of(stat).ascontiguousarray(xp_of(stat).broadcast_to(stat, target))


@widened
def moments(x, axes, epsilon):
    """``(x_hat, mean, var, inv_std)`` over ``axes`` (keepdims): ``x_hat`` a new array of ``x``'s shape.

    Two passes (the mean, then the mean of squared deviations) rather than ``E[x^2] - E[x]^2``, which loses
    all precision when |mean| >> std; ``var`` is the biased one (divided by the count, as Keras and the
    paper's training-mode batch norm).
    """
    count = _prod(x.shape[i] for i in axes)
    fast, rows = _compiled_rows(x, axes)
    if fast is not None:
        return _compiled_moments(fast, x, axes, rows, count, epsilon)
    mean = sum_over(x, axes) / count
    x_hat = x - spread(mean, x.shape, axes)
    var = sum_product_over(x_hat, x_hat, axes) / count
    inv_std = 1.0 / xp_of(x).sqrt(var + epsilon)
    x_hat *= spread(inv_std, x.shape, axes)
    return x_hat, mean, var, inv_std


@widened
def batch_norm_grad(g, x_hat, scale, axes, need_dx=True):
    """``(dx, d_gamma, d_beta)`` of ``y = gamma * x_hat + beta``, keepdims statistics; ``dx`` None unless
    ``need_dx``. ``scale`` is ``gamma / sqrt(var + epsilon)`` (keepdims)."""
    count = _prod(g.shape[i] for i in axes)
    fast, rows = _compiled_rows(g, axes, x_hat)
    if fast is not None:
        return _compiled_grad(fast, g, x_hat, axes, rows, scale, count, need_dx)
    d_beta = sum_over(g, axes)
    d_gamma = sum_product_over(g, x_hat, axes)
    dx = None
    if need_dx:
        dx = g * scale
        dx -= x_hat * (d_gamma * (scale / count))
        dx -= d_beta * (scale / count)
    return dx, d_gamma, d_beta


def _compiled_rows(x, axes, *others):
    """The compiled module and ``x`` as a (rows, channels) matrix, when the reduced axes are its leading ones."""
    fast = select.compiled("normalization", x, *others)
    if fast is None or x.dtype not in ("float32", "float64") or not x.flags.c_contiguous:
        return None, None
    if any(o.dtype != x.dtype or not o.flags.c_contiguous for o in others):
        return None, None
    shape, merged_axes = _coalesce(x.shape, axes)
    if len(shape) != 2 or merged_axes != (0,):
        return None, None
    return fast, shape


def _piecewise_sums(fn, matrices, extra, partials):
    """``fn(pieces of matrices, *extra, partial rows)`` over fixed pieces of rows, then each partial summed in
    piece order (float64)."""
    rows = matrices[0].shape[0]
    pieces = -(-rows // PIECE_ROWS)
    parts = [xp_of(matrices[0]).empty((pieces, matrices[0].shape[1]), dtype="float64") for _ in range(partials)]

    def chunk(s):
        for p in range(s.start, s.stop):
            piece = slice(p * PIECE_ROWS, (p + 1) * PIECE_ROWS)
            fn(*(m[piece] for m in matrices), *extra, *(part[p] for part in parts))

    parallel.for_each_chunk(pieces, chunk, matrices[0], size=matrices[0].size)
    return [part.sum(axis=0) for part in parts]


def _compiled_moments(fast, x, axes, rows, count, epsilon):
    xp, keep = xp_of(x), _keepdims(x.shape, axes)
    x2 = x.reshape(rows)
    (total,) = _piecewise_sums(fast.col_sums, (x2,), (), 1)
    mean = (total / count).astype(x.dtype)
    (squares,) = _piecewise_sums(fast.col_squared_deviations, (x2,), (mean,), 1)
    var = (squares / count).astype(x.dtype)
    inv_std = (1.0 / xp.sqrt(var + epsilon)).astype(x.dtype)
    x_hat = xp.empty(rows, dtype=x.dtype)
    parallel.for_each_chunk(rows[0], lambda s: fast.normalize(x2[s], mean, inv_std, x_hat[s]), x2)
    return x_hat.reshape(x.shape), mean.reshape(keep), var.reshape(keep), inv_std.reshape(keep)


def _compiled_grad(fast, g, x_hat, axes, rows, scale, count, need_dx):
    xp, keep = xp_of(g), _keepdims(g.shape, axes)
    g2, x_hat2 = g.reshape(rows), x_hat.reshape(rows)
    sum_g, sum_gx = _piecewise_sums(fast.grad_sums, (g2, x_hat2), (), 2)
    d_beta, d_gamma = sum_g.astype(g.dtype), sum_gx.astype(g.dtype)
    dx = None
    if need_dx:
        s = scale.reshape(-1).astype(g.dtype)
        a, b = d_gamma * (s / count), d_beta * (s / count)
        dx = xp.empty(rows, dtype=g.dtype)
        parallel.for_each_chunk(rows[0], lambda r: fast.grad_input(g2[r], x_hat2[r], s, a, b, dx[r]), g2)
        dx = dx.reshape(g.shape)
    return dx, d_gamma.reshape(keep), d_beta.reshape(keep)


def _keepdims(shape, axes):
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _coalesce(shape, axes):
    """Merge neighbouring axes that are all reduced or all kept: the merged shape and its reduced axes.

    A (N, H, W, C) batch reduced over (0, 1, 2) becomes a (N*H*W, C) matrix reduced over axis 0.
    """
    merged, reduced = [], []
    for i, size in enumerate(shape):
        is_reduced = i in axes
        if merged and reduced[-1] == is_reduced:
            merged[-1] *= size
        else:
            merged.append(size)
            reduced.append(is_reduced)
    return tuple(merged), tuple(i for i, r in enumerate(reduced) if r)


def _prod(values):
    result = 1
    for v in values:
        result *= int(v)
    return result
