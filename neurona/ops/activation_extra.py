"""Activations of Keras 3 composed from the primitives: ``relu`` with Keras's options, celu, glu, log_sigmoid.

Each is written as the formula of ``keras.src.activations.activations`` (Keras
3.15) over differentiable primitives, so its gradient is the chain rule of that
formula; no new ``Function`` is needed (they are neither fused nor unstable:
``elu`` and ``softplus`` already guard against overflow).
"""

from ..arguments import check_int, check_real
from .activation import elu, leaky_relu, sigmoid, softplus
from .activation import relu as _relu
from .convert import as_tensor
from .elementwise import clip, mul, neg, sub, where
from .shape_extra import split


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Rectified linear unit with Keras 3's options (``keras.activations.relu``)::

        f(x) = max_value                            if x >= max_value
        f(x) = x                                    if threshold < x < max_value
        f(x) = negative_slope * (x - threshold)     otherwise

    computed as Keras computes it: ``where(x > threshold, x, 0)`` (``max(x, 0)`` when
    ``threshold == 0``), clipped to ``[0, max_value]``, minus
    ``negative_slope * max(threshold - x, 0)``. With the defaults it is ``max(x, 0)``
    (``keras.ops.relu``), one primitive; with only a slope, ``leaky_relu``.

    Args:
        x: the input.
        negative_slope: slope below the threshold (a real number).
        max_value: saturation value, or None (no upper bound).
        threshold: the values at or below it are zeroed (before the slope term).
    """
    x = as_tensor(x)
    negative_slope = check_real(negative_slope, "relu", "negative_slope")
    max_value = check_real(max_value, "relu", "max_value", optional=True)
    threshold = check_real(threshold, "relu", "threshold")
    if max_value is None and threshold == 0:
        return _relu(x) if negative_slope == 0 else leaky_relu(x, negative_slope)
    out = where(x.data > threshold, x, 0.0) if threshold != 0 else _relu(x)
    if max_value is not None:
        out = clip(out, 0.0, max_value)
    if negative_slope != 0:
        out = sub(out, mul(_relu(sub(threshold, x)), negative_slope))
    return out


def celu(x, alpha=1.0):
    """Continuously differentiable ELU (Barron, 2017, "Continuously Differentiable Exponential Linear Units")::

        celu(x) = max(0, x) + min(0, alpha * (exp(x / alpha) - 1)) = alpha * elu(x / alpha)

    Args:
        x: the input.
        alpha: a real number > 0 (Keras's default 1.0, where celu is elu).
    """
    x = as_tensor(x)
    alpha = check_real(alpha, "celu", "alpha", low=0, low_open=True)
    return mul(elu(mul(x, 1.0 / alpha)), alpha)


def glu(x, axis=-1):
    """Gated linear unit (Dauphin et al., 2017, "Language Modeling with Gated Convolutional Networks")::

        glu(x) = a * sigmoid(b),  where [a, b] = split(x, 2, axis)

    The output has half of ``x``'s size along ``axis``.

    Raises:
        ValueError: the size along ``axis`` is odd.
    """
    x = as_tensor(x)
    axis = check_int(axis, "glu", "axis")
    if x.ndim == 0 or not -x.ndim <= axis < x.ndim:
        raise ValueError(f"glu: axis {axis} is out of range for an input of shape {x.shape}")
    if x.shape[axis] % 2:
        raise ValueError(f"glu: the size along axis {axis} must be even (split into two halves), got shape "
                         f"{x.shape}")
    a, b = split(x, 2, axis=axis)
    return mul(a, sigmoid(b))


def log_sigmoid(x):
    """``log(sigmoid(x)) = -softplus(-x)``, overflow-free for large ``|x|``."""
    return neg(softplus(neg(as_tensor(x))))
