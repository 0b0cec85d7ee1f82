"""Turning op arguments into Tensors without surprising dtype promotion, and axis arguments into tuples."""

import numbers

from .. import backend
from ..autograd import Tensor


def as_tensor(value, like=None):
    """``value`` as a Tensor; Python numbers take ``like``'s float dtype.

    Wrapping the 2.0 of ``x * 2.0`` as float64 would silently promote a float32
    network to float64, so a plain number gets the dtype of the tensor it meets.
    """
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (int, float, bool)) and like is not None and like.data.dtype.kind == "f":
        return Tensor._wrap(backend.xp_of(like.data).asarray(value, dtype=like.data.dtype), False)
    if like is not None and not hasattr(value, "dtype"):
        return Tensor(value, dtype=like.data.dtype if like.data.dtype.kind == "f" else None)
    return Tensor(value)


def as_tensors(a, b):
    """Both operands of a binary op as Tensors, numbers taking the other operand's dtype."""
    if isinstance(a, Tensor):
        return a, as_tensor(b, a)
    b = as_tensor(b)
    return as_tensor(a, b), b


def normalize_axis(axis, ndim):
    """``axis`` (None, an int or a sequence of ints) as a sorted tuple of non-negative axes, or None for all.

    A 0-d tensor accepts ``axis`` 0 and -1, as PyTorch does, and reduces over
    nothing (its one value is the result).
    """
    if axis is None:
        return None
    axes = (axis,) if _is_int(axis) else tuple(axis) if isinstance(axis, (tuple, list)) else None
    if axes is None or not all(_is_int(ax) for ax in axes):
        raise TypeError(f"axis must be None, an int or a tuple of ints, got {axis!r}")
    rank = max(ndim, 1)  # a 0-d tensor takes the axes of a 1-d one
    out = set()
    for ax in axes:
        if not -rank <= ax < rank:
            raise ValueError(f"axis {ax} is out of range for a tensor of rank {ndim} "
                             f"(expected an axis in [{-rank}, {rank - 1}])")
        if ax % rank in out:
            raise ValueError(f"axis {axis!r} names axis {ax % rank} twice")
        out.add(ax % rank)
    return () if ndim == 0 else tuple(sorted(out))


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)  # NumPy integers too
