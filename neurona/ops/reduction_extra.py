"""More reductions and orderings, with Keras's names: prod, var, std, amax, amin, logsumexp, cumsum, cumprod,
sort, top_k (differentiable), and argmax, argmin, argsort, all, any, count_nonzero (not: their results are
indices, truth values and counts, returned with ``requires_grad=False``).

New primitives: ``Prod`` and the cumulative ``CumSum`` and ``CumProd``, whose
gradients are exact with zeros in the input (no division by an element that is
0, as PyTorch's). var, std and logsumexp are composed; sort and top_k gather
with ``take_along_axis``. Indices are int32 and counts int32, as in Keras.
"""

import builtins

from ..arguments import check_bool, check_int
from ..autograd import Function, Tensor
from ..backend import xp_of
from .cast import cast
from .convert import as_tensor, normalize_axis
from .elementwise import add, exp, log, sqrt, square, sub
from .indexing import take_along_axis
from .math_extra import as_float
from .reduction import max, mean, min, sum
from .shape import _axis, reshape


class Prod(Function):
    """Product over ``axis`` (a tuple, or None for all). d/dx_i = g * (product of the others), no division."""

    def forward(self, a, axis=None, keepdims=False):
        self.a, self.axis = a, tuple(range(a.ndim)) if axis is None else axis
        return a.prod(axis=axis, keepdims=keepdims)

    def backward(self, g):
        xp, a, axes = xp_of(g), self.a, self.axis
        kept = [i for i in range(a.ndim) if i not in axes]
        order = kept + list(axes)
        moved = a.transpose(order).reshape(tuple(a.shape[i] for i in kept) + (-1,))
        others = xp.ones_like(moved)
        if moved.shape[-1] > 1:  # exclusive prefix products times exclusive suffix products
            others[..., 1:] = xp.cumprod(moved[..., :-1], axis=-1)
            others[..., :-1] *= xp.flip(xp.cumprod(xp.flip(moved[..., 1:], -1), axis=-1), -1)
        others = others.reshape(tuple(a.shape[i] for i in order)).transpose(_inverse(order))
        return others * g.reshape(tuple(1 if i in axes else n for i, n in enumerate(a.shape)))


def _inverse(order):
    return tuple(sorted(range(len(order)), key=order.__getitem__))


class CumSum(Function):
    """Running sums along ``axis``; the gradient is the reversed running sum of the upstream gradient."""

    def forward(self, a, axis=0):
        self.axis = axis
        return xp_of(a).cumsum(a, axis=axis)

    def backward(self, g):
        xp = xp_of(g)
        return xp.flip(xp.cumsum(xp.flip(g, self.axis), axis=self.axis), self.axis)


class CumProd(Function):
    """Running products ``out_j = prod_{k <= j} x_k`` along ``axis``.

    d/dx_i = sum_{j >= i} g_j prod_{k <= j, k != i} x_k. Before a row's first
    zero z that is ``sum_{j >= i} g_j out_j / x_i`` (x_i is not 0 there); at z
    it is ``out_{z-1} sum_{j >= z} g_j prod_{z < k <= j} x_k``; after z it is 0
    (every product holds x_z). This is PyTorch's treatment, in O(n) per row.
    """

    def forward(self, a, axis=0):
        self.a, self.axis = a, axis
        self.out = xp_of(a).cumprod(a, axis=axis)
        return self.out

    def backward(self, g):
        xp, axis = xp_of(g), self.axis
        x, out, g = (xp.moveaxis(v, axis, -1) for v in (self.a, self.out, g))
        zero = x == 0
        grad = xp.flip(xp.cumsum(xp.flip(g * out, -1), axis=-1), -1) / xp.where(zero, 1, x)
        if zero.any():
            n = x.shape[-1]
            position = xp.arange(n)
            first = xp.where(zero.any(axis=-1), zero.argmax(axis=-1), n)[..., None]  # n: no zero in the row
            after_first = xp.cumprod(xp.where(position <= first, 1, x), axis=-1)  # prod_{z < k <= j} x_k
            at_first = (g * after_first * (position >= first)).sum(axis=-1, keepdims=True)
            before = xp.take_along_axis(out, xp.maximum(first - 1, 0), axis=-1)
            at_first = at_first * xp.where(first == 0, 1, before)
            grad = xp.where(position < first, grad, xp.where(position == first, at_first, 0))
        return xp.moveaxis(grad, -1, axis)


def prod(x, axis=None, keepdims=False, dtype=None):
    """Product of the elements over ``axis`` (int, tuple, or None for all), in ``dtype`` when given."""
    x = as_tensor(x) if dtype is None else _cast(x, dtype)
    return Prod.apply(x, axis=normalize_axis(axis, x.ndim), keepdims=check_bool(keepdims, "prod", "keepdims"))


def _cast(x, dtype):
    return cast(as_tensor(x), dtype)


def var(x, axis=None, keepdims=False):
    """Population variance ``mean((x - mean(x))^2)`` over ``axis`` (integers are taken in floatx)."""
    x = as_float(x)
    return mean(square(sub(x, mean(x, axis=axis, keepdims=True))), axis=axis, keepdims=keepdims)


def std(x, axis=None, keepdims=False):
    """Population standard deviation, ``sqrt(var(x))``."""
    return sqrt(var(x, axis=axis, keepdims=keepdims))


def amax(x, axis=None, keepdims=False):
    """Keras's name for ``max``."""
    return max(x, axis=axis, keepdims=keepdims)


def amin(x, axis=None, keepdims=False):
    """Keras's name for ``min``."""
    return min(x, axis=axis, keepdims=keepdims)


def logsumexp(x, axis=None, keepdims=False):
    """``log(sum(exp(x)))`` over ``axis``, computed stably (the maximum is taken out first); gradient softmax(x)."""
    x = as_float(x)
    axes = normalize_axis(axis, x.ndim)
    xp = xp_of(x.data)
    top = x.data.max(axis=axes, keepdims=True) if x.size else xp.zeros((1,) * x.ndim, dtype=x.dtype)
    top = Tensor._wrap(xp.where(xp.isfinite(top), top, 0), False)  # any constant gives the same value
    out = add(log(sum(exp(sub(x, top)), axis=axes, keepdims=True)), top)
    return out if keepdims else reshape(out, tuple(n for i, n in enumerate(x.shape) if axes is not None
                                                   and i not in axes))


def _scan_axis(x, axis, owner):
    if axis is None:
        return reshape(x, (-1,)), 0
    return x, _axis(axis, x.ndim, f"{owner}: axis", x.shape)


def cumsum(x, axis=None, dtype=None):
    """Running sums along ``axis`` (of the flattened ``x`` when None); booleans count as int32."""
    x = as_tensor(x) if dtype is None else _cast(x, dtype)
    if x.dtype.kind == "b":
        x = Tensor._wrap(x.data.astype("int32"), False)
    x, axis = _scan_axis(x, axis, "cumsum")
    return CumSum.apply(x, axis=axis)


def cumprod(x, axis=None, dtype=None):
    """Running products along ``axis`` (of the flattened ``x`` when None); exact gradients at zeros."""
    x = as_tensor(x) if dtype is None else _cast(x, dtype)
    if x.dtype.kind == "b":
        x = Tensor._wrap(x.data.astype("int32"), False)
    x, axis = _scan_axis(x, axis, "cumprod")
    return CumProd.apply(x, axis=axis)


def _order(x, axis, owner):
    """``(x, axis, indices)``: ``x`` (flattened for axis None) and the int64 indices that sort it along ``axis``."""
    x = as_tensor(x)
    x, axis = _scan_axis(x, axis, owner)
    return x, axis, xp_of(x.data).argsort(x.data, axis=axis, kind="stable")


def sort(x, axis=-1):
    """``x`` sorted ascending along ``axis`` (None: flattened); the gradient goes back to each value's place."""
    x, axis, order = _order(x, axis, "sort")
    return take_along_axis(x, order, axis=axis)


def argsort(x, axis=-1):
    """The int32 indices that sort ``x`` ascending along ``axis`` (stable: ties keep their order)."""
    return Tensor._wrap(_order(x, axis, "argsort")[2].astype("int32"), False)


def top_k(x, k, sorted=True):
    """The ``k`` largest values along the last axis and their int32 indices: ``(values, indices)``.

    The values come largest first (ties: the lower index first) whatever
    ``sorted`` says; the values are differentiable.
    """
    x = as_tensor(x)
    check_bool(sorted, "top_k", "sorted")
    if x.ndim == 0:
        raise ValueError("top_k: expected a tensor of rank >= 1, got a 0-d tensor")
    k = check_int(k, "top_k", "k", low=0, high=x.shape[-1])
    data = x.data if x.dtype.kind in "fi" else x.data.astype("int64")  # -x of unsigned or bool values wraps
    order = xp_of(data).argsort(-data, axis=-1, kind="stable")[..., :k]
    return take_along_axis(x, order, axis=-1), Tensor._wrap(order.astype("int32"), False)


def _arg(x, axis, keepdims, owner, name):
    x = as_tensor(x)
    keepdims = check_bool(keepdims, owner, "keepdims")
    if x.size == 0:
        raise ValueError(f"{owner} of an empty tensor (shape {x.shape})")
    if axis is not None:
        axis = _axis(axis, builtins.max(x.ndim, 1), f"{owner}: axis", x.shape)  # a 0-d tensor takes 0 and -1
        axis = axis if x.ndim else None
    found = getattr(xp_of(x.data), name)(x.data, axis=axis, keepdims=keepdims)
    return Tensor._wrap(xp_of(x.data).asarray(found).astype("int32"), False)


def argmax(x, axis=None, keepdims=False):
    """The int32 index of the largest value along ``axis`` (of the flattened ``x`` when None); first on ties."""
    return _arg(x, axis, keepdims, "argmax", "argmax")


def argmin(x, axis=None, keepdims=False):
    """The int32 index of the smallest value along ``axis`` (of the flattened ``x`` when None); first on ties."""
    return _arg(x, axis, keepdims, "argmin", "argmin")


def _truth(x, axis, keepdims, name):
    x = as_tensor(x)
    axes = normalize_axis(axis, x.ndim)
    out = getattr(xp_of(x.data), name)(x.data, axis=axes, keepdims=check_bool(keepdims, name, "keepdims"))
    return Tensor._wrap(xp_of(x.data).asarray(out), False)


def all(x, axis=None, keepdims=False):
    """Whether every element along ``axis`` is true (nonzero); a boolean tensor."""
    return _truth(x, axis, keepdims, "all")


def any(x, axis=None, keepdims=False):
    """Whether some element along ``axis`` is true (nonzero); a boolean tensor."""
    return _truth(x, axis, keepdims, "any")


def count_nonzero(x, axis=None):
    """The number of nonzero elements along ``axis`` (int, tuple or None for all), int32."""
    x = as_tensor(x)
    axes = normalize_axis(axis, x.ndim)
    xp = xp_of(x.data)
    return Tensor._wrap(xp.asarray((x.data != 0).sum(axis=axes)).astype("int32"), False)
