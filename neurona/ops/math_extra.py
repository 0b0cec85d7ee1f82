"""More elementwise math, with Keras's names: expm1, log1p, log2, log10, rsqrt, reciprocal, trigonometric and
hyperbolic functions, erf, the piecewise-constant sign, floor, ceil, round and floor_divide, mod, and Keras's
names of the arithmetic (subtract, multiply, divide, true_divide, negative, power, absolute).

Each new smooth function is one primitive with its closed-form derivative;
log2, log10 and reciprocal are composed. The piecewise-constant functions share
one primitive, ``Step``, whose gradient is zero (their derivative wherever it
exists), as in PyTorch: a graph through ``round`` stays connected and passes
nothing back. Integer and boolean inputs of the functions that return fractions
are taken in ``backend.floatx()`` first, as Keras does (``sin(int32) -> float32``).
"""

import functools
import math

from .. import backend
from ..arguments import check_int
from ..autograd import Function, Tensor
from ..backend import special, xp_of
from .convert import as_tensor, as_tensors
from .elementwise import abs, div, log, mul, neg, pow, sub


def as_float(x):
    """``x`` as a Tensor of a float dtype: floats keep theirs, integers and booleans become ``floatx``."""
    x = as_tensor(x)
    if backend.is_floating(x.dtype):
        return x
    return Tensor._wrap(x.data.astype(backend.floatx()), False)


class Expm1(Function):
    """e^x - 1, exact near 0; derivative e^x = out + 1."""

    def forward(self, a):
        self.out = xp_of(a).expm1(a)
        return self.out

    def backward(self, g):
        return g * (self.out + 1)


class Log1p(Function):
    """log(1 + x), exact near 0; derivative 1 / (1 + x)."""

    def forward(self, a):
        self.a = a
        return xp_of(a).log1p(a)

    def backward(self, g):
        return g / (1 + self.a)


class Rsqrt(Function):
    """x^(-1/2); derivative -x^(-3/2) / 2 = -out^3 / 2."""

    def forward(self, a):
        self.out = 1 / xp_of(a).sqrt(a)
        return self.out

    def backward(self, g):
        return g * (-0.5 * self.out**3)


class Sin(Function):
    def forward(self, a):
        self.a = a
        return xp_of(a).sin(a)

    def backward(self, g):
        return g * xp_of(g).cos(self.a)


class Cos(Function):
    def forward(self, a):
        self.a = a
        return xp_of(a).cos(a)

    def backward(self, g):
        return -g * xp_of(g).sin(self.a)


class Tan(Function):
    """tan(x); derivative 1 + tan^2(x)."""

    def forward(self, a):
        self.out = xp_of(a).tan(a)
        return self.out

    def backward(self, g):
        return g * (1 + self.out * self.out)


class Sinh(Function):
    def forward(self, a):
        self.a = a
        return xp_of(a).sinh(a)

    def backward(self, g):
        return g * xp_of(g).cosh(self.a)


class Cosh(Function):
    def forward(self, a):
        self.a = a
        return xp_of(a).cosh(a)

    def backward(self, g):
        return g * xp_of(g).sinh(self.a)


class Arctan(Function):
    """atan(x); derivative 1 / (1 + x^2)."""

    def forward(self, a):
        self.a = a
        return xp_of(a).arctan(a)

    def backward(self, g):
        return g / (1 + self.a * self.a)


class Erf(Function):
    """erf(x) = 2/sqrt(pi) int_0^x e^(-t^2) dt; derivative 2/sqrt(pi) e^(-x^2)."""

    def forward(self, a):
        self.a = a
        return special.erf(a)

    def backward(self, g):
        return g * (2 / math.sqrt(math.pi)) * xp_of(g).exp(-self.a * self.a)


class Step(Function):
    """A piecewise-constant function ``fn`` of its inputs (sign, floor, ceil, round, floor_divide).

    Its derivative is 0 wherever it exists (and undefined on the jumps), so the
    gradient of every input is 0, as PyTorch takes it.
    """

    def forward(self, *arrays, fn=None):
        self.shapes = [(a.shape, a.dtype) for a in arrays]
        return fn(*arrays)

    def backward(self, g):
        xp = xp_of(g)
        return tuple(xp.zeros(shape, dtype=dtype) if needed else None
                     for (shape, dtype), needed in zip(self.shapes, self.needs_input_grad))


class Mod(Function):
    """a mod b, with the sign of b (NumPy's and Python's ``%``); d/da = 1, d/db = -floor(a / b)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return xp_of(a, b).mod(a, b)

    def backward(self, g):
        da = g if self.needs_input_grad[0] else None
        db = -g * xp_of(g).floor_divide(self.a, self.b) if self.needs_input_grad[1] else None
        return da, db


def expm1(x):
    """``exp(x) - 1``, accurate for small ``x``."""
    return Expm1.apply(as_float(x))


def log1p(x):
    """``log(1 + x)``, accurate for small ``x``."""
    return Log1p.apply(as_float(x))


def log2(x):
    """Base-2 logarithm, ``log(x) / log(2)`` (composed)."""
    x = as_float(x)
    return div(log(x), math.log(2.0))


def log10(x):
    """Base-10 logarithm, ``log(x) / log(10)`` (composed)."""
    x = as_float(x)
    return div(log(x), math.log(10.0))


def rsqrt(x):
    """``1 / sqrt(x)``."""
    return Rsqrt.apply(as_float(x))


def reciprocal(x):
    """``1 / x`` (composed)."""
    return div(1.0, as_float(x))


def sin(x):
    """Sine, elementwise (radians)."""
    return Sin.apply(as_float(x))


def cos(x):
    """Cosine, elementwise (radians)."""
    return Cos.apply(as_float(x))


def tan(x):
    """Tangent, elementwise (radians)."""
    return Tan.apply(as_float(x))


def sinh(x):
    """Hyperbolic sine."""
    return Sinh.apply(as_float(x))


def cosh(x):
    """Hyperbolic cosine."""
    return Cosh.apply(as_float(x))


def arctan(x):
    """Inverse tangent, in ``(-pi/2, pi/2)``."""
    return Arctan.apply(as_float(x))


def erf(x):
    """The error function ``2/sqrt(pi) int_0^x exp(-t^2) dt``."""
    return Erf.apply(as_float(x))


def _step(fn, *tensors):
    return Step.apply(*tensors, fn=fn)


def sign(x):
    """-1, 0 or 1 by the sign of each element (in ``x``'s dtype); gradient 0."""
    x = as_tensor(x)
    return _step(xp_of(x.data).sign, x)


def floor(x):
    """The largest integer ``<= x``, elementwise (as floats); gradient 0."""
    x = as_float(x)
    return _step(xp_of(x.data).floor, x)


def ceil(x):
    """The smallest integer ``>= x``, elementwise (as floats); gradient 0."""
    x = as_float(x)
    return _step(xp_of(x.data).ceil, x)


def round(x, decimals=0):
    """Round to ``decimals`` decimals (an int, negative for tens, hundreds...), halves to even as NumPy; gradient 0."""
    decimals = check_int(decimals, "round", "decimals")
    x = as_tensor(x)
    return _step(functools.partial(xp_of(x.data).round, decimals=decimals), x)


def floor_divide(x1, x2):
    """``floor(x1 / x2)`` elementwise, as NumPy's ``//`` (integers stay integers); gradient 0."""
    a, b = as_tensors(x1, x2)
    return _step(xp_of(a.data, b.data).floor_divide, a, b)


def mod(x1, x2):
    """The remainder of ``x1 / x2`` with the sign of ``x2`` (NumPy's ``mod``, Python's ``%``)."""
    return Mod.apply(*as_tensors(x1, x2))


# ---- Keras's names of the arithmetic of ``elementwise`` ----------------------------------------------
def subtract(x1, x2):
    """Keras's name for ``sub``: ``x1 - x2``."""
    return sub(x1, x2)


def multiply(x1, x2):
    """Keras's name for ``mul``: ``x1 * x2``."""
    return mul(x1, x2)


def divide(x1, x2):
    """Keras's name for ``div``: ``x1 / x2``."""
    return div(x1, x2)


def true_divide(x1, x2):
    """Keras's other name for ``div``: ``x1 / x2``."""
    return div(x1, x2)


def negative(x):
    """Keras's name for ``neg``: ``-x``."""
    return neg(x)


def power(x1, x2):
    """Keras's name for ``pow``: ``x1 ** x2``."""
    return pow(x1, x2)


def absolute(x):
    """Keras's name for ``abs``: ``|x|``."""
    return abs(x)
