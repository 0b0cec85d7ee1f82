"""Elementwise arithmetic and math: add, sub, mul, div, neg, pow, exp, log, sqrt, abs, maximum, minimum, clip, where.

Each Function computes on raw arrays; gradients of broadcast operands are
summed back by the engine (``autograd.engine.unbroadcast``), not here.
"""

from .. import backend
from ..arguments import shown
from ..autograd import Function, Tensor
from ..backend import xp_of
from .clip_bounds import ClipBounds
from .convert import as_tensor, as_tensors, broadcast_shape


class Add(Function):
    def forward(self, a, b):
        return a + b

    def backward(self, g):
        return g, g


class Sub(Function):
    def forward(self, a, b):
        return a - b

    def backward(self, g):
        return g, (-g if self.needs_input_grad[1] else None)


class Mul(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, g):
        da = g * self.b if self.needs_input_grad[0] else None
        db = g * self.a if self.needs_input_grad[1] else None
        return da, db


class Div(Function):
    def forward(self, a, b):
        self.b = b
        self.out = a / b
        return self.out

    def backward(self, g):
        da = g / self.b if self.needs_input_grad[0] else None
        db = -g * self.out / self.b if self.needs_input_grad[1] else None
        return da, db


class Neg(Function):
    def forward(self, a):
        return -a

    def backward(self, g):
        return -g


class Pow(Function):
    """a ** b. d/da = b a^(b-1); d/db = a^b log(a).

    At the edges PyTorch's conventions (``pow_backward``): d/da is 0 where
    b = 0 (``a^b`` is the constant 1 there, even at a = 0, where b a^(b-1) would
    be 0 * inf), and d/db is 0 where a = 0 and b >= 0 (``0^b`` is flat in b
    there, where a^b log(a) would be 0 * -inf or 1 * -inf). For a < 0, log(a)
    is NaN, as for real exponents it must be.
    """

    def forward(self, a, b):
        self.a, self.b = a, b
        self.out = a**b
        return self.out

    def backward(self, g):
        xp = xp_of(g)
        a, b = self.a, self.b
        zero = xp.zeros((), dtype=g.dtype)
        da = db = None
        if self.needs_input_grad[0]:
            exponent_zero = b == 0
            safe_b = xp.where(exponent_zero, 1, b)  # keeps 0 ** -1 = inf out of the masked entries
            da = xp.where(exponent_zero, zero, g * b * a ** (safe_b - 1))
        if self.needs_input_grad[1]:
            flat = (a == 0) & (b >= 0)
            db = xp.where(flat, zero, g * self.out * xp.log(xp.where(flat, 1, a)))
        return da, db


class Exp(Function):
    def forward(self, a):
        self.out = xp_of(a).exp(a)
        return self.out

    def backward(self, g):
        return g * self.out


class Log(Function):
    def forward(self, a):
        self.a = a
        return xp_of(a).log(a)

    def backward(self, g):
        return g / self.a


class Sqrt(Function):
    def forward(self, a):
        self.out = xp_of(a).sqrt(a)
        return self.out

    def backward(self, g):
        return g / (2 * self.out)


class Abs(Function):
    """|a|; the subgradient at 0 is taken as 0 (sign(0) = 0), as in PyTorch."""

    def forward(self, a):
        self.a = a
        return xp_of(a).abs(a)

    def backward(self, g):
        return g * xp_of(self.a).sign(self.a)


class Maximum(Function):
    """max(a, b) elementwise; at ties each operand gets half the gradient, as in PyTorch's ``maximum``."""

    def forward(self, a, b):
        xp = xp_of(a, b)
        out = xp.maximum(a, b)
        if backend.is_floating(out.dtype):  # integer operands take no gradient
            self.share_a = xp.where(a > b, 1.0, xp.where(a == b, 0.5, 0.0)).astype(out.dtype)
        return out

    def backward(self, g):
        da = g * self.share_a if self.needs_input_grad[0] else None
        db = g * (1 - self.share_a) if self.needs_input_grad[1] else None
        return da, db


class Clip(Function):
    """Clamp to [lo, hi]; the gradient passes where lo <= a <= hi, as in PyTorch's clamp."""

    def forward(self, a, lo=None, hi=None):
        xp = xp_of(a)
        self.mask = xp.ones(a.shape, dtype=bool)
        if lo is not None:
            self.mask &= a >= lo
        if hi is not None:
            self.mask &= a <= hi
        return xp.clip(a, lo, hi)

    def backward(self, g):
        return g * self.mask


class Where(Function):
    """cond ? a : b, with ``cond`` a (non-differentiable) boolean array."""

    def forward(self, a, b, cond=None):
        self.cond = cond
        return xp_of(a, b).where(cond, a, b)

    def backward(self, g):
        xp = xp_of(g)
        zero = xp.zeros((), dtype=g.dtype)
        da = xp.where(self.cond, g, zero) if self.needs_input_grad[0] else None
        db = xp.where(self.cond, zero, g) if self.needs_input_grad[1] else None
        return da, db


def add(a, b):
    """Elementwise ``a + b`` with NumPy broadcasting."""
    return Add.apply(*as_tensors(a, b))


def sub(a, b):
    """Elementwise ``a - b`` with broadcasting."""
    return Sub.apply(*as_tensors(a, b))


def mul(a, b):
    """Elementwise ``a * b`` with broadcasting."""
    return Mul.apply(*as_tensors(a, b))


def div(a, b):
    """Elementwise ``a / b`` with broadcasting."""
    return Div.apply(*as_tensors(a, b))


def neg(a):
    """``-a``."""
    return Neg.apply(as_tensor(a))


def pow(a, b):
    """Elementwise ``a ** b``; the gradient w.r.t. ``b`` needs ``a > 0``."""
    return Pow.apply(*as_tensors(a, b))


def exp(a):
    """Elementwise ``e ** a``."""
    return Exp.apply(as_tensor(a))


def log(a):
    """Elementwise natural logarithm."""
    return Log.apply(as_tensor(a))


def sqrt(a):
    """Elementwise square root."""
    return Sqrt.apply(as_tensor(a))


def abs(a):
    """Elementwise absolute value."""
    return Abs.apply(as_tensor(a))


def maximum(x1, x2):
    """Elementwise ``max(x1, x2)`` with broadcasting; ties share the gradient equally."""
    return Maximum.apply(*as_tensors(x1, x2))


def minimum(x1, x2):
    """Elementwise ``min(x1, x2)`` (composed: ``-maximum(-x1, -x2)``); ties share the gradient equally."""
    a, b = as_tensors(x1, x2)
    return neg(maximum(neg(a), neg(b)))


def clip(x, min=None, max=None, *, x_min=None, x_max=None):
    """Clamp ``x`` to ``[min, max]`` (either bound may be None), as NumPy's ``clip`` and PyTorch's ``clamp``.

    Keras's ``ops.clip(x, x_min, x_max)`` is the same call: ``x_min``/``x_max`` are
    keyword aliases of ``min``/``max`` (give one name per bound, not both).

    Each bound is a real number (Python or NumPy, not a bool) or an array-like or
    Tensor of numbers that broadcasts to ``a``'s shape. A bound that is a Tensor
    with ``requires_grad`` receives the gradient of the elements clipped to it
    (``ops/clip_bounds.py``, PyTorch's ``clamp`` with tensor bounds); other
    bounds are constants. A float ``a`` keeps its dtype: the bounds are taken
    in it. With ``min > max`` every value becomes ``max``, as in NumPy and PyTorch.

    Raises:
        ValueError: both bounds are None, or a bound does not broadcast to ``a``.
        TypeError: a bound is neither a real number nor numeric array-like.
    """
    if x_min is not None or x_max is not None:
        if (x_min is not None and min is not None) or (x_max is not None and max is not None):
            raise TypeError("clip: give each bound once, as min/max or as Keras's x_min/x_max, not both")
        min, max = (min if x_min is None else x_min), (max if x_max is None else x_max)
    if min is None and max is None:
        raise ValueError("clip needs at least one of min and max")
    a = as_tensor(x)
    lo, hi = _bound(min, a, "min"), _bound(max, a, "max")
    if any(isinstance(b, Tensor) and b.requires_grad for b in (min, max)):  # the bounds are in the graph too
        xp = xp_of(a.data)
        lo_t = min if isinstance(min, Tensor) else as_tensor(xp.asarray(-xp.inf if lo is None else lo, a.dtype))
        hi_t = max if isinstance(max, Tensor) else as_tensor(xp.asarray(xp.inf if hi is None else hi, a.dtype))
        return ClipBounds.apply(a, lo_t, hi_t)
    return Clip.apply(a, lo=lo, hi=hi)


def _bound(value, a, name):
    """A clip bound as a scalar or an array in ``a``'s float dtype, checked to broadcast to ``a``."""
    if value is None:
        return None
    xp = xp_of(a.data)
    if isinstance(value, (bool, str, bytes)):  # NumPy would make a number or a text array of them
        raise TypeError(f"clip: {name} must be a real number or an array of numbers, got {shown(value)}")
    try:
        array = value.data if isinstance(value, Tensor) else xp.asarray(value)
    except (TypeError, ValueError):  # ragged lists, objects NumPy cannot make an array of
        array = None
    if array is None or array.dtype.kind not in "iuf":
        raise TypeError(f"clip: {name} must be a real number or an array of numbers, got {shown(value)}")
    if broadcast_shape(array.shape, a.shape) != a.shape:  # the output, and the gradient mask, have a's shape
        raise ValueError(f"clip: {name} of shape {array.shape} does not broadcast to the input's shape {a.shape}")
    if backend.is_floating(a.dtype):  # no float64 result from a float32 input and a float64 bound
        array = array.astype(a.dtype, copy=False)
    return array[()] if array.ndim == 0 else array


def where(condition, x1=None, x2=None):
    """``x1`` where ``condition`` is true, else ``x2`` (differentiable in ``x1`` and ``x2``).

    ``condition`` is a boolean or numeric array-like or Tensor (nonzero is true);
    the three broadcast together, as in NumPy. With neither ``x1`` nor ``x2``
    (Keras's and NumPy's one-argument form) the result is the indices of the true
    elements: a tuple of one int64 Tensor per axis, as ``numpy.nonzero``.

    Raises:
        TypeError: ``condition`` holds text, objects or other non-numbers.
        ValueError: the shapes do not broadcast together, or only one of ``x1``, ``x2`` is given.
    """
    if x1 is None and x2 is None:
        cond = _condition(condition, condition.data if isinstance(condition, Tensor) else None)
        return tuple(Tensor._wrap(i, False) for i in xp_of(cond).nonzero(cond))
    if x1 is None or x2 is None:
        raise ValueError("where: give both x1 and x2 (values where condition is true and where it is false), or "
                         "neither (for the indices of the true elements)")
    a, b = as_tensors(x1, x2)
    cond = _condition(condition, a.data)
    if broadcast_shape(cond.shape, a.shape, b.shape) is None:
        raise ValueError(f"where: condition of shape {cond.shape} and values of shapes {a.shape} and {b.shape} do "
                         "not broadcast together")
    return Where.apply(a, b, cond=cond.astype(bool, copy=False))


def _condition(condition, like):
    """``condition`` as an array of booleans or numbers (on ``like``'s device), else a TypeError."""
    xp = backend.get_xp() if like is None else xp_of(like)
    try:
        cond = condition.data if isinstance(condition, Tensor) else xp.asarray(condition)
    except (TypeError, ValueError):  # ragged lists, objects NumPy cannot make an array of
        cond = None
    if cond is None or cond.dtype.kind not in "biuf":
        raise TypeError(f"where: condition must be booleans or numbers, got "
                        f"{shown(condition) if cond is None else f'an array of dtype {cond.dtype}'}")
    return cond


def square(a):
    """``a * a`` (composed)."""
    a = as_tensor(a)
    return mul(a, a)
