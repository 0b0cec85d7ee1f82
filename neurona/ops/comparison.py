"""Comparisons, logic and value tests: equal, not_equal, greater, greater_equal, less, less_equal, logical_and,
logical_or, logical_not, isnan, isinf, isfinite.

Every result is a boolean Tensor outside the graph (``requires_grad=False``):
a truth value has no derivative. Operands broadcast as in NumPy; a Python
number takes the other operand's dtype, as in arithmetic.
"""

from ..autograd import Tensor
from ..backend import xp_of
from .convert import as_tensor, as_tensors, broadcast_shape


def _binary(name, x1, x2):
    a, b = as_tensors(x1, x2)
    if broadcast_shape(a.shape, b.shape) is None:
        raise ValueError(f"{name}: operands of shapes {a.shape} and {b.shape} do not broadcast together")
    return Tensor._wrap(getattr(xp_of(a.data, b.data), name)(a.data, b.data), False)


def _unary(name, x):
    x = as_tensor(x)
    return Tensor._wrap(getattr(xp_of(x.data), name)(x.data), False)


def equal(x1, x2):
    """``x1 == x2`` elementwise (NaN equals nothing, itself included)."""
    return _binary("equal", x1, x2)


def not_equal(x1, x2):
    """``x1 != x2`` elementwise."""
    return _binary("not_equal", x1, x2)


def greater(x1, x2):
    """``x1 > x2`` elementwise."""
    return _binary("greater", x1, x2)


def greater_equal(x1, x2):
    """``x1 >= x2`` elementwise."""
    return _binary("greater_equal", x1, x2)


def less(x1, x2):
    """``x1 < x2`` elementwise."""
    return _binary("less", x1, x2)


def less_equal(x1, x2):
    """``x1 <= x2`` elementwise."""
    return _binary("less_equal", x1, x2)


def logical_and(x1, x2):
    """Elementwise AND of the truth values (nonzero is true)."""
    return _binary("logical_and", x1, x2)


def logical_or(x1, x2):
    """Elementwise OR of the truth values (nonzero is true)."""
    return _binary("logical_or", x1, x2)


def logical_not(x):
    """Elementwise NOT of the truth values (nonzero is true)."""
    return _unary("logical_not", x)


def isnan(x):
    """Whether each element is NaN."""
    return _unary("isnan", x)


def isinf(x):
    """Whether each element is +inf or -inf."""
    return _unary("isinf", x)


def isfinite(x):
    """Whether each element is neither NaN nor infinite."""
    return _unary("isfinite", x)
