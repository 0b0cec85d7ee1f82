"""Reductions: sum, mean, max (and min, composed)."""

from ..autograd import Function, Tensor
from ..backend import xp_of
from .convert import as_tensor, check_real, normalize_axis
from .elementwise import maximum, neg


def _kept_shape(shape, axis):
    """The reduced shape with the reduced axes kept as size 1."""
    if axis is None:
        return (1,) * len(shape)
    return tuple(1 if i in axis else s for i, s in enumerate(shape))


class Sum(Function):
    def forward(self, a, axis=None, keepdims=False):
        self.shape, self.axis = a.shape, axis
        return a.sum(axis=axis, keepdims=keepdims)

    def backward(self, g):
        g = g.reshape(_kept_shape(self.shape, self.axis))
        return xp_of(g).broadcast_to(g, self.shape)


class Mean(Function):
    def forward(self, a, axis=None, keepdims=False):
        self.shape, self.axis = a.shape, axis
        self.count = a.size if axis is None else int(_prod(a.shape[i] for i in axis))
        return a.mean(axis=axis, keepdims=keepdims)

    def backward(self, g):
        g = g.reshape(_kept_shape(self.shape, self.axis)) / self.count
        return xp_of(g).broadcast_to(g, self.shape)


class Max(Function):
    """Maximum over axes; the gradient is shared equally among tied maxima (as in TensorFlow)."""

    def forward(self, a, axis=None, keepdims=False):
        self.a, self.axis = a, axis
        self.out = a.max(axis=axis, keepdims=True)
        if keepdims:
            return self.out
        return self.out.reshape(() if axis is None else tuple(s for i, s in enumerate(a.shape) if i not in axis))

    def backward(self, g):
        mask = self.a == self.out
        count = mask.sum(axis=self.axis, keepdims=True)
        return mask * (g.reshape(self.out.shape) / count)


def _prod(values):
    result = 1
    for v in values:
        result *= v
    return result


def sum(a, axis=None, keepdims=False):
    """Sum over ``axis`` (int, tuple, or None for all)."""
    a = as_tensor(a)
    return Sum.apply(a, axis=normalize_axis(axis, a.ndim), keepdims=keepdims)


def mean(a, axis=None, keepdims=False):
    """Arithmetic mean over ``axis``."""
    a = as_tensor(a)
    return Mean.apply(a, axis=normalize_axis(axis, a.ndim), keepdims=keepdims)


def max(a, axis=None, keepdims=False, initial=None):
    """Maximum over ``axis``; ties share the gradient equally.

    ``initial`` (a real number, Keras's and NumPy's argument) takes part in every
    maximum: the result is ``maximum(max(a), initial)``, and an empty ``a`` gives
    ``initial`` instead of an error.
    """
    a = as_tensor(a)
    if initial is not None:
        initial = check_real(initial, "max", "initial")
        if a.size == 0:
            return Tensor._wrap(xp_of(a.data).max(a.data, axis=normalize_axis(axis, a.ndim), keepdims=keepdims,
                                                  initial=initial), False)
        return maximum(max(a, axis=axis, keepdims=keepdims), initial)
    if a.size == 0:
        raise ValueError("max of an empty tensor (give initial= for a value to return)")
    return Max.apply(a, axis=normalize_axis(axis, a.ndim), keepdims=keepdims)


def min(a, axis=None, keepdims=False, initial=None):
    """Minimum over ``axis`` (composed: ``-max(-a)``); ``initial`` as for ``max``."""
    if initial is not None:
        initial = -check_real(initial, "min", "initial")
    return neg(max(neg(a), axis=axis, keepdims=keepdims, initial=initial))
