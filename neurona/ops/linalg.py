"""Matrix multiplication, the products built on einsum (dot, tensordot, outer) and norms.

``MatMul`` is the BLAS-backed primitive (``kernels.matmul`` shares large products out over the
cores); ``tensordot``, ``dot`` and ``outer`` are composed (einsum or broadcasting). Norms have two primitives
of their own: ``VectorNorm`` (the p-norm, with PyTorch's zero gradient at the zero vector
where the formula divides 0 by 0) and ``SingularValues`` (whose gradient,
``U diag(g) V^T``, gives the nuclear and spectral norms).
"""

import builtins
import string

from .. import backend
from ..arguments import is_int, is_real
from ..autograd import Function, Tensor
from ..backend import kernels, xp_of
from . import reduction
from .convert import as_tensor, as_tensors, normalize_axis
from .einsum import einsum
from .elementwise import abs, mul
from .shape import _axis, reshape, transpose


class MatMul(Function):
    """``a @ b`` for operands of rank >= 2 (leading axes broadcast like NumPy's matmul).

    d/da = g @ b^T and d/db = a^T @ g over the last two axes; the engine sums
    them over broadcast batch axes.
    """

    def forward(self, a, b):
        self.a, self.b = a, b
        return kernels.matmul(a, b)

    def backward(self, g):
        xp = xp_of(g)
        da = kernels.matmul(g, xp.swapaxes(self.b, -1, -2)) if self.needs_input_grad[0] else None
        db = kernels.matmul(xp.swapaxes(self.a, -1, -2), g) if self.needs_input_grad[1] else None
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


class Dense(Function):
    """``y = act(x @ w + b)`` for a 2-D ``x``, with ``act`` the identity or the ReLU: one node, not three.

    With ``d = g * act'(z)`` (``g`` itself for the identity, ``g * [y > 0]`` for the ReLU):
    d/dx = d @ w^T, d/dw = x^T @ d, d/db = sum over rows of d.
    """

    def forward(self, x, w, b=None, activation=None):
        self.x, self.w, self.relu = x, w, activation == "relu"
        self.out = kernels.bias_act(kernels.matmul(x, w), b, activation)
        return self.out

    def backward(self, g):
        d = kernels.relu_grad(g, self.out) if self.relu else g
        need_x, need_w, need_b = (tuple(self.needs_input_grad) + (False,))[:3]
        dx = kernels.matmul(d, self.w.T) if need_x else None
        dw = kernels.matmul(self.x.T, d) if need_w else None
        db = d.sum(axis=0) if need_b else None
        return (dx, dw) if len(self.needs_input_grad) == 2 else (dx, dw, db)


def dense(x, kernel, bias=None, activation=None):
    """``activation(x @ kernel + bias)``, the fully connected layer's computation, as one fused op.

    ``x`` has shape ``(..., in)`` (leading axes are flattened into rows and restored), ``kernel`` ``(in, out)``,
    ``bias`` None or ``(out,)``; ``activation`` is None (or ``"linear"``) or ``"relu"`` (other activations are
    applied to the result by the caller).
    """
    x, kernel = as_tensors(x, kernel)
    if x.ndim < 1 or kernel.ndim != 2 or x.shape[-1] != kernel.shape[0]:
        raise ValueError(f"dense: expected x of shape (..., in) and a kernel of shape (in, out), got {x.shape} "
                         f"and {kernel.shape}")
    if activation not in kernels.EPILOGUE_ACTIVATIONS:
        raise ValueError(f"dense: activation must be one of {kernels.EPILOGUE_ACTIVATIONS} (others are applied "
                         f"after the product), got {activation!r}")
    rows = reshape(x, (-1, x.shape[-1])) if x.ndim != 2 else x
    if bias is None:
        out = Dense.apply(rows, kernel, activation=activation)
    else:
        bias = as_tensor(bias, x)
        if bias.shape != (kernel.shape[1],):
            raise ValueError(f"dense: bias must have shape ({kernel.shape[1]},), got {bias.shape}")
        out = Dense.apply(rows, kernel, bias, activation=activation)
    return out if x.ndim == 2 else reshape(out, x.shape[:-1] + (kernel.shape[1],))


def tensordot(x1, x2, axes=2):
    """Sum of products over ``axes``: the last ``axes`` axes of ``x1`` with the first of ``x2`` (an int), or
    the axes listed in a pair ``(axes_of_x1, axes_of_x2)``, as NumPy's ``tensordot`` (composed from einsum)."""
    a, b = as_tensors(x1, x2)
    if is_int(axes):
        if not 0 <= axes <= builtins.min(a.ndim, b.ndim):
            raise ValueError(f"tensordot: axes={axes} for operands of shapes {a.shape} and {b.shape} (expected an "
                             f"int in [0, {builtins.min(a.ndim, b.ndim)}])")
        pairs = (list(range(a.ndim - axes, a.ndim)), list(range(axes)))
    else:
        try:
            pairs = tuple([ax] if is_int(ax) else list(ax) for ax in axes)
        except TypeError:
            pairs = ()
        if len(pairs) != 2 or len(pairs[0]) != len(pairs[1]):
            raise ValueError(f"tensordot: axes must be an int or a pair of equally long axis lists, got {axes!r}")
    left = [_axis(ax, a.ndim, "tensordot: axes of x1", a.shape) for ax in pairs[0]]
    right = [_axis(ax, b.ndim, "tensordot: axes of x2", b.shape) for ax in pairs[1]]
    for i, j in zip(left, right):
        if a.shape[i] != b.shape[j]:
            raise ValueError(f"tensordot: axis {i} of x1 {a.shape} and axis {j} of x2 {b.shape} differ in size")
    letters = iter(string.ascii_letters)
    sa = [next(letters) for _ in range(a.ndim)]
    sb = [next(letters) for _ in range(b.ndim)]
    for i, j in zip(left, right):
        sb[j] = sa[i]
    out = [c for i, c in enumerate(sa) if i not in left] + [c for j, c in enumerate(sb) if j not in right]
    return einsum("".join(sa) + "," + "".join(sb) + "->" + "".join(out), a, b)


def dot(x1, x2):
    """NumPy's ``dot``: a product with a scalar, the inner product of vectors, the matrix product, and in
    general the sum over the last axis of ``x1`` and the second-to-last of ``x2`` (its only one if 1-D)."""
    a, b = as_tensors(x1, x2)
    if a.ndim == 0 or b.ndim == 0:
        return mul(a, b)
    if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
        raise ValueError(f"dot: shapes {a.shape} and {b.shape} are not aligned (the last axis of x1 must match "
                         f"the {'second-to-last' if b.ndim > 1 else 'only'} axis of x2)")
    if b.ndim <= 2:
        return matmul(a, b)
    return tensordot(a, b, axes=([a.ndim - 1], [b.ndim - 2]))


def outer(x1, x2):
    """The outer product ``out[i, j] = x1[i] * x2[j]`` of the flattened operands."""
    a, b = as_tensors(x1, x2)
    return mul(reshape(a, (-1, 1)), reshape(b, (1, -1)))


class VectorNorm(Function):
    """``(sum |x|^p)^(1/p)`` over ``axis`` for a real ``p > 0``.

    d/dx = sign(x) |x|^(p-1) / norm^(p-1), taken as 0 where the norm is 0 (the
    zero vector, where the formula is 0/0), as PyTorch's ``vector_norm``.
    """

    def forward(self, x, p=2.0, axis=None, keepdims=False):
        xp = xp_of(x)
        self.x, self.p = x, p
        total = (x * x).sum(axis=axis, keepdims=True) if p == 2 else (xp.abs(x) ** p).sum(axis=axis, keepdims=True)
        self.norm = xp.sqrt(total) if p == 2 else total ** (1 / p)
        out = self.norm
        return out if keepdims else out.reshape(tuple(n for i, n in enumerate(x.shape) if axis is not None
                                                      and i not in axis))

    def backward(self, g):
        xp, x, p, norm = xp_of(g), self.x, self.p, self.norm
        g = g.reshape(norm.shape)
        safe = xp.where(norm == 0, 1, norm)
        if p == 2:
            scaled = x / safe
        else:
            scaled = xp.sign(x) * xp.abs(x) ** (p - 1) / safe ** (p - 1)
        return xp.where(norm == 0, 0, g * scaled)


class SingularValues(Function):
    """The singular values of the matrices in the last two axes, largest first; d/dA = U diag(g) V^T."""

    def forward(self, a):
        u, s, vh = xp_of(a).linalg.svd(a, full_matrices=False)
        self.u, self.vh = u, vh
        return s

    def backward(self, g):
        return (self.u * g[..., None, :]) @ self.vh


def _vector_norm(x, ord, axes, keepdims):
    if ord is None or ord == 2:
        return VectorNorm.apply(x, p=2.0, axis=axes, keepdims=keepdims)
    if ord == float("inf"):
        return reduction.max(abs(x), axis=axes, keepdims=keepdims)
    if ord == float("-inf"):
        return reduction.min(abs(x), axis=axes, keepdims=keepdims)
    if ord == 0:  # the number of nonzero elements: a count, no gradient
        return Tensor._wrap((x.data != 0).sum(axis=axes, keepdims=keepdims).astype(x.dtype), False)
    if not is_real(ord) or ord < 0:
        raise ValueError(f"norm: ord={ord!r} is no vector norm (expected None, a real number >= 0, inf or -inf)")
    return VectorNorm.apply(x, p=float(ord), axis=axes, keepdims=keepdims)


def _matrix_norm(x, ord, axes, keepdims):
    rows, cols = axes
    if ord in (None, "fro"):
        return VectorNorm.apply(x, p=2.0, axis=tuple(sorted(axes)), keepdims=keepdims)
    if ord in ("nuc", 2, -2):
        others = [i for i in range(x.ndim) if i not in axes]
        values = SingularValues.apply(transpose(x, tuple(others) + (rows, cols)))
        reduce = {"nuc": reduction.sum, 2: reduction.max, -2: reduction.min}[ord]
        out = reduce(values, axis=-1)
        return reshape(out, tuple(1 if i in axes else n for i, n in enumerate(x.shape))) if keepdims else out
    if ord in (1, -1, float("inf"), float("-inf")):
        summed, kept = (rows, cols) if ord in (1, -1) else (cols, rows)  # 1: column sums, inf: row sums
        reduce = reduction.max if ord in (1, float("inf")) else reduction.min
        out = reduce(reduction.sum(abs(x), axis=summed, keepdims=True), axis=kept, keepdims=True)
        return out if keepdims else reshape(out, tuple(n for i, n in enumerate(x.shape) if i not in axes))
    raise ValueError(f"norm: ord={ord!r} is no matrix norm (expected None, 'fro', 'nuc', 1, -1, 2, -2, inf or -inf)")


def norm(x, ord=None, axis=None, keepdims=False):
    """Vector or matrix norm, as NumPy's ``linalg.norm``.

    ``axis`` an int: a vector norm along it (``ord``: None or 2, any real p > 0,
    inf, -inf, 0 for the count of nonzeros). ``axis`` a pair: a matrix norm
    (``ord``: None or ``"fro"``, ``"nuc"``, 1, -1, 2, -2, inf, -inf). ``axis=None``:
    the 2-norm of all elements when ``ord`` is None, otherwise the vector or
    matrix norm of a 1-D or 2-D ``x``.

    Raises:
        ValueError: an ``ord`` that the kind of norm does not have, or bad axes.
    """
    x = as_tensor(x)
    if not backend.is_floating(x.dtype):
        x = Tensor._wrap(x.data.astype(backend.floatx()), False)
    if axis is None:
        if ord is None:
            return VectorNorm.apply(x, p=2.0, axis=None, keepdims=keepdims)
        if x.ndim not in (1, 2):
            raise ValueError(f"norm: ord={ord!r} with axis=None needs a 1-D or 2-D tensor, got shape {x.shape}")
        axis = 0 if x.ndim == 1 else (0, 1)
    if isinstance(axis, (tuple, list)) and len(axis) == 2:
        axes = tuple(_axis(ax, x.ndim, "norm: axis", x.shape) for ax in axis)
        if axes[0] == axes[1]:
            raise ValueError(f"norm: axis {tuple(axis)} names one axis twice")
        return _matrix_norm(x, ord, axes, keepdims)
    axes = normalize_axis(axis, x.ndim)
    if isinstance(axis, (tuple, list)) and len(axes) != 1:
        raise ValueError(f"norm: axis must be an int or a pair of ints, got {axis!r}")
    return _vector_norm(x, ord, axes, keepdims)
