"""Matrix multiplication."""

from ..autograd import Function
from ..backend import xp_of
from ..backend.parallel import map_chunks
from .convert import as_tensors
from .shape import reshape


class MatMul(Function):
    """``a @ b`` for operands of rank >= 2 (leading axes broadcast like NumPy's matmul).

    d/da = g @ b^T and d/db = a^T @ g over the last two axes; the engine sums
    them over broadcast batch axes.
    """

    def forward(self, a, b):
        self.a, self.b = a, b
        return _product(a, b)

    def backward(self, g):
        xp = xp_of(g)
        da = _product(g, xp.swapaxes(self.b, -1, -2)) if self.needs_input_grad[0] else None
        db = _product(xp.swapaxes(self.a, -1, -2), g) if self.needs_input_grad[1] else None
        return da, db


def _product(a, b):
    """``a @ b``; a large 2-D NumPy product is split into row blocks, one per core (single-threaded BLAS each).

    Row blocks of the output are independent products, so the result is the
    same however many blocks there are; see ``backend.blas`` for why the
    framework's own threads, not BLAS's, share out the cores.
    """
    if a.ndim != 2 or b.ndim != 2:
        return a @ b
    xp = xp_of(a, b)
    out = xp.empty((a.shape[0], b.shape[1]), dtype=xp.result_type(a, b))
    largest = max((a, b, out), key=lambda array: array.size)  # decides whether splitting pays
    map_chunks(a.shape[0], lambda rows: xp.matmul(a[rows], b, out=out[rows]), largest, blas_work=True)
    return out


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
