"""Activation functions, each a primitive with its closed-form derivative.

relu, leaky_relu, elu, selu, gelu, sigmoid, tanh, softplus, softmax, log_softmax.
Softmax and log-softmax subtract the row maximum first (the log-sum-exp trick),
so large logits never overflow.
"""

import math

from ..autograd import Function
from ..backend import kernels, special, xp_of
from .convert import as_tensor, check_bool, check_real, normalize_axis

# SELU constants from Klambauer et al., "Self-Normalizing Neural Networks" (2017), eq. 14.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


class ReLU(Function):
    """max(x, 0); derivative 1 for x > 0, else 0."""

    def forward(self, x):
        self.out = kernels.relu(x)
        return self.out

    def backward(self, g):
        return kernels.relu_grad(g, self.out)


class LeakyReLU(Function):
    """x for x > 0, alpha * x otherwise (Maas et al., 2013)."""

    def forward(self, x, alpha=0.2):
        self.positive, self.alpha = x > 0, alpha
        return xp_of(x).where(self.positive, x, x * alpha)

    def backward(self, g):
        return xp_of(g).where(self.positive, g, g * self.alpha)


class ELU(Function):
    """x for x > 0, alpha (e^x - 1) otherwise (Clevert et al., 2015); derivative alpha e^x there (not
    out + alpha, which cancels to 0 where e^x is below float resolution: x < -37 in float64)."""

    def forward(self, x, alpha=1.0, scale=1.0):
        xp = xp_of(x)
        self.positive, self.alpha, self.scale = x > 0, alpha, scale
        self.negative_part = xp.minimum(x, 0)
        return scale * xp.where(self.positive, x, alpha * xp.expm1(self.negative_part))

    def backward(self, g):
        xp = xp_of(g)
        return xp.where(self.positive, g * self.scale, g * (self.scale * self.alpha) * xp.exp(self.negative_part))


class GELU(Function):
    """x * Phi(x) (Hendrycks & Gimpel, 2016), exact (erf) or with the tanh approximation."""

    def forward(self, x, approximate=False):
        xp = xp_of(x)
        self.x, self.approximate = x, approximate
        if approximate:
            c = math.sqrt(2 / math.pi)
            self.t = xp.tanh(c * (x + 0.044715 * x**3))
            return 0.5 * x * (1 + self.t)
        self.cdf = 0.5 * (1 + special.erf(x / math.sqrt(2)))
        return x * self.cdf

    def backward(self, g):
        xp, x = xp_of(g), self.x
        if self.approximate:
            c = math.sqrt(2 / math.pi)
            dt = (1 - self.t**2) * c * (1 + 3 * 0.044715 * x**2)
            return g * (0.5 * (1 + self.t) + 0.5 * x * dt)
        pdf = xp.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        return g * (self.cdf + x * pdf)


class Sigmoid(Function):
    """1 / (1 + e^-x), computed without overflow; derivative out (1 - out)."""

    def forward(self, x):
        xp = xp_of(x)
        z = xp.exp(-xp.abs(x))  # in (0, 1]: never overflows
        self.out = xp.where(x >= 0, 1 / (1 + z), z / (1 + z))
        return self.out

    def backward(self, g):
        return g * self.out * (1 - self.out)


class Tanh(Function):
    def forward(self, x):
        self.out = xp_of(x).tanh(x)
        return self.out

    def backward(self, g):
        return g * (1 - self.out * self.out)


class Softplus(Function):
    """log(1 + e^x) computed as logaddexp(0, x); derivative sigmoid(x)."""

    def forward(self, x):
        self.x = x
        return xp_of(x).logaddexp(0, x)

    def backward(self, g):
        xp = xp_of(g)
        z = xp.exp(-xp.abs(self.x))
        return g * xp.where(self.x >= 0, 1 / (1 + z), z / (1 + z))


class Softmax(Function):
    """e^x_i / sum_j e^x_j along ``axis`` (a tuple of axes); backward s * (g - sum(g s))."""

    def forward(self, x, axis=-1):
        xp = xp_of(x)
        e = xp.exp(x - x.max(axis=axis, keepdims=True))
        self.out, self.axis = e / e.sum(axis=axis, keepdims=True), axis
        return self.out

    def backward(self, g):
        s = self.out
        return s * (g - (g * s).sum(axis=self.axis, keepdims=True))


class LogSoftmax(Function):
    """x_i - logsumexp(x) along ``axis`` (a tuple of axes); backward g - softmax * sum(g)."""

    def forward(self, x, axis=-1):
        xp = xp_of(x)
        shifted = x - x.max(axis=axis, keepdims=True)
        self.out = shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))
        self.axis = axis
        return self.out

    def backward(self, g):
        return g - xp_of(g).exp(self.out) * g.sum(axis=self.axis, keepdims=True)


def relu(x):
    """Rectified linear unit, ``max(x, 0)`` (Nair & Hinton, 2010)."""
    return ReLU.apply(as_tensor(x))


def leaky_relu(x, alpha=0.2, *, negative_slope=None):
    """``x`` if ``x > 0`` else ``alpha * x``; Keras's default slope is 0.2 (PyTorch's 0.01).

    ``alpha`` is a real number (Python or NumPy; a bool or string raises TypeError);
    ``negative_slope=`` is ``keras.ops.leaky_relu``'s name for it.
    """
    if negative_slope is not None:
        if alpha != 0.2:
            raise TypeError("leaky_relu: give the slope once, as alpha or as Keras's negative_slope, not both")
        alpha = negative_slope
    return LeakyReLU.apply(as_tensor(x), alpha=check_real(alpha, "leaky_relu", "alpha"))


def elu(x, alpha=1.0):
    """Exponential linear unit: ``x`` if ``x > 0`` else ``alpha * (exp(x) - 1)``; ``alpha`` a real number."""
    return ELU.apply(as_tensor(x), alpha=check_real(alpha, "elu", "alpha"))


def selu(x):
    """Scaled ELU with the self-normalizing constants of Klambauer et al. (2017)."""
    return ELU.apply(as_tensor(x), alpha=SELU_ALPHA, scale=SELU_SCALE)


def gelu(x, approximate=False):
    """Gaussian error linear unit ``x * Phi(x)``; ``approximate=True`` uses the tanh form (a bool)."""
    return GELU.apply(as_tensor(x), approximate=check_bool(approximate, "gelu", "approximate"))


def sigmoid(x):
    """Logistic function ``1 / (1 + exp(-x))``, overflow-free."""
    return Sigmoid.apply(as_tensor(x))


def tanh(x):
    """Hyperbolic tangent."""
    return Tanh.apply(as_tensor(x))


def softplus(x):
    """``log(1 + exp(x))``, overflow-free."""
    return Softplus.apply(as_tensor(x))


def softmax(x, axis=-1):
    """Normalized exponentials along ``axis`` (max-shifted, so it never overflows).

    ``axis`` is an int, a tuple of ints, or None for all axes (as in Keras 3):
    the values along those axes sum to 1.
    """
    x = as_tensor(x)
    return Softmax.apply(x, axis=_softmax_axes(axis, x.ndim))


def log_softmax(x, axis=-1):
    """``x - logsumexp(x)`` along ``axis`` (int, tuple or None for all axes), computed stably."""
    x = as_tensor(x)
    return LogSoftmax.apply(x, axis=_softmax_axes(axis, x.ndim))


def _softmax_axes(axis, ndim):
    axes = normalize_axis(axis, ndim)
    return tuple(range(ndim)) if axes is None else axes
