"""``clip`` with bounds that are themselves differentiable Tensors (PyTorch's ``clamp(x, min, max)`` with tensors).

The result is ``x`` where ``min <= x <= max``, ``min`` where ``x < min <= max``, and ``max`` elsewhere (above
``max``, or wherever ``min > max``, as NumPy's and PyTorch's clip give ``max`` there). Each element's gradient
goes to the one operand it came from (PyTorch 2's convention: ``x`` keeps it at ``x == min`` and ``x == max``);
the engine sums it back over a bound's broadcast axes.
"""

from ..autograd import Function
from ..backend import xp_of


class ClipBounds(Function):
    """Clamp ``a`` to ``[lo, hi]`` with ``lo`` and ``hi`` as inputs of the graph (either may be a constant)."""

    def forward(self, a, lo, hi):
        xp = xp_of(a, lo, hi)
        self.keep = (a >= lo) & (a <= hi)
        self.low = (a < lo) & (lo <= hi)
        return xp.where(self.keep, a, xp.where(self.low, lo, hi)).astype(a.dtype, copy=False)

    def backward(self, g):
        xp = xp_of(g)
        zero = xp.zeros((), dtype=g.dtype)
        da = xp.where(self.keep, g, zero) if self.needs_input_grad[0] else None
        dlo = xp.where(self.low, g, zero) if self.needs_input_grad[1] else None
        dhi = xp.where(self.keep | self.low, zero, g) if self.needs_input_grad[2] else None
        return da, dlo, dhi
