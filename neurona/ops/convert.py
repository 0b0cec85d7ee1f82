"""Turning op arguments into Tensors without surprising dtype promotion."""

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
