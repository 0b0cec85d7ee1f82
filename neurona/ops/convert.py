"""Turning op arguments into Tensors without surprising dtype promotion, axis arguments into tuples, and the
checks of scalar arguments (``alpha``, ``epsilon``, flags) that every wrapper shares.

``check_bool`` is ``neurona.arguments.check_bool``; ``check_real`` is its
``check_real`` with the ops' one rule of their own (see there)."""

from .. import arguments, backend
from ..arguments import check_bool, is_int, is_real
from ..autograd import Tensor

__all__ = ["as_tensor", "as_tensors", "broadcast_shape", "check_bool", "check_real", "normalize_axis"]


def as_tensor(value, like=None):
    """``value`` as a Tensor; Python numbers take ``like``'s float dtype.

    Wrapping the 2.0 of ``x * 2.0`` as float64 would silently promote a float32
    network to float64, so a plain number gets the dtype of the tensor it meets.
    """
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (int, float, bool)) and like is not None and backend.is_floating(like.data.dtype):
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
    axes = (axis,) if is_int(axis) else tuple(axis) if isinstance(axis, (tuple, list)) else None
    if axes is None or not all(is_int(ax) for ax in axes):
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


def broadcast_shape(*shapes):
    """The NumPy broadcast of ``shapes`` (aligned at the right, sizes equal or 1), or None if they do not broadcast."""
    out = []
    for sizes in zip(*(((1,) * (max(map(len, shapes)) - len(s)) + tuple(s)) for s in shapes)):
        wide = {n for n in sizes if n != 1}
        if len(wide) > 1:
            return None
        out.append(wide.pop() if wide else 1)
    return tuple(out)


def check_real(value, owner, name, low=None, high=None):
    """``value`` as a Python float: a Python or NumPy real number, never a bool, string or None.

    Without a range any real passes (NaN and infinities too, as NumPy computes
    with them); with ``low`` and/or ``high`` it is ``arguments.check_real``: the
    value must be finite and lie in ``[low, high]`` (both ends included).

    Raises:
        TypeError: ``value`` is not a real number.
        ValueError: it lies outside the range.
    """
    if low is None and high is None and is_real(value):
        return float(value)
    return arguments.check_real(value, owner, name, low, high)
