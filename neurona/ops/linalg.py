"""Matrix multiplication."""

from ..autograd import Function
from ..backend import xp_of
from .convert import as_tensors
from .shape import reshape


class MatMul(Function):
    """``a @ b`` for operands of rank >= 2 (leading axes broadcast like NumPy's matmul).

    d/da = g @ b^T and d/db = a^T @ g over the last two axes; the engine sums
    them over broadcast batch axes.
    """

    def forward(self, a, b):
        self.a, self.b = a, b
        return a @ b

    def backward(self, g):
        xp = xp_of(g)
        da = g @ xp.swapaxes(self.b, -1, -2) if self.needs_input_grad[0] else None
        db = xp.swapaxes(self.a, -1, -2) @ g if self.needs_input_grad[1] else None
        return da, db


def matmul(a, b):
    """Matrix product with NumPy's ``@`` semantics, including 1-D operands."""
    a, b = as_tensors(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul needs operands of rank >= 1, got shapes {a.shape} and {b.shape}")
    if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
        raise ValueError(f"matmul shape mismatch: {a.shape} @ {b.shape} (inner dimensions differ)")
    if a.ndim == 1 and b.ndim == 1:
        return reshape(MatMul.apply(reshape(a, (1, -1)), reshape(b, (-1, 1))), ())
    if a.ndim == 1:
        out = MatMul.apply(reshape(a, (1, -1)), b)
        return reshape(out, out.shape[:-2] + out.shape[-1:])
    if b.ndim == 1:
        return reshape(MatMul.apply(a, reshape(b, (-1, 1))), a.shape[:-1])
    return MatMul.apply(a, b)
