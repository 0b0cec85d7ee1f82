"""Neural-network functions of ``keras.ops`` that Neurona composes: relu6, hard_sigmoid, softsign, silu (swish),
hard_silu, mish,
normalize, moments, and the per-element or per-sample cross-entropies binary_crossentropy,
categorical_crossentropy and sparse_categorical_crossentropy.

Everything here is composed from differentiable primitives. The cross-entropies
on logits (``from_logits=True``) go through the fused, overflow-free primitives
of ``ops.losses``; on probabilities they follow Keras: the probabilities are
rescaled to sum to 1 along ``axis`` (categorical ones) and clipped to
``[eps, 1 - eps]`` with ``eps = backend.epsilon()`` (1e-7) before the log.
"""

from .. import backend
from ..arguments import check_bool, check_int, check_real
from ..autograd import Tensor
from ..backend import xp_of
from .activation import relu, sigmoid, softplus, tanh
from .cast import cast
from .convert import as_tensor, normalize_axis
from .elementwise import abs, add, clip, div, log, maximum, mul, neg, square, sub, where
from .indexing import take_along_axis
from .linalg import norm
from .losses import SigmoidCrossEntropy, class_labels, softmax_cross_entropy
from .reduction import mean, sum
from .shape import _axis, reshape
from .shape_extra import moveaxis


def relu6(x):
    """``min(max(x, 0), 6)``; the gradient is 1 strictly inside (0, 6) and 0 at and beyond both ends (PyTorch's)."""
    x = as_tensor(x)
    return where(x.data >= 6, 6, relu(x))  # NaN stays NaN


def hard_sigmoid(x):
    """``relu6(x + 3) / 6``: 0 below -3, 1 above 3, linear between (Keras's and PyTorch's hard sigmoid)."""
    x = as_tensor(x)
    return div(relu6(add(x, 3.0)), 6.0)


def softsign(x):
    """``x / (1 + |x|)``."""
    x = as_tensor(x)
    return div(x, add(abs(x), 1.0))


def silu(x):
    """``x * sigmoid(x)``, the sigmoid-weighted linear unit (Elfwing et al., 2017; "swish")."""
    x = as_tensor(x)
    return mul(x, sigmoid(x))


def swish(x):
    """Keras's other name for ``silu``."""
    return silu(x)


def hard_silu(x):
    """``x * hard_sigmoid(x)``, the hard swish of MobileNetV3 (Howard et al., 2019); Keras's ``hard_silu``."""
    x = as_tensor(x)
    return mul(x, hard_sigmoid(x))


def mish(x):
    """``x * tanh(softplus(x))`` (Misra, 2019, "Mish: a self regularized non-monotonic activation function")."""
    x = as_tensor(x)
    return mul(x, tanh(softplus(x)))


def normalize(x, axis=-1, order=2, epsilon=None):
    """``x / max(norm(x), epsilon)`` along ``axis`` with the ``order``-norm (an int >= 1), as Keras's.

    ``epsilon`` defaults to ``backend.epsilon()``; a zero vector stays zero, with
    a zero gradient where Keras's rsqrt form would give NaN.
    """
    x = as_tensor(x)
    order = check_int(order, "normalize", "order", low=1)
    epsilon = backend.epsilon() if epsilon is None else check_real(epsilon, "normalize", "epsilon", low=0)
    if x.ndim == 0:
        x = reshape(x, (1,))
    return div(x, maximum(norm(x, ord=order, axis=axis, keepdims=True), epsilon))


def moments(x, axes, keepdims=False, synchronized=False):
    """``(mean, variance)`` of ``x`` over ``axes`` (an int or a sequence of ints); the population variance.

    ``synchronized`` concerns several devices; on one it changes nothing.
    """
    x = as_tensor(x)
    check_bool(synchronized, "moments", "synchronized")
    keepdims = check_bool(keepdims, "moments", "keepdims")
    axes = normalize_axis(axes, x.ndim)
    centre = mean(x, axis=axes, keepdims=True)
    variance = mean(square(sub(x, centre)), axis=axes, keepdims=keepdims)
    return (centre if keepdims else reshape(centre, variance.shape)), variance


def _epsilon():
    return backend.epsilon()


def _targets(target, output):
    """``target`` as a Tensor in ``output``'s float dtype (integer 0/1 targets too), differentiably for floats."""
    target = as_tensor(target, output)
    return cast(target, output.dtype) if backend.is_floating(output.dtype) and target.dtype != output.dtype else target


def binary_crossentropy(target, output, from_logits=False):
    """Elementwise ``-(t log p + (1 - t) log(1 - p))`` for probabilities (or logits) ``output``.

    Returns a tensor of ``output``'s shape (no reduction, as ``keras.ops``).

    Raises:
        ValueError: ``target`` and ``output`` have different shapes.
    """
    output = as_tensor(output)
    target = _targets(target, output)
    if target.shape != output.shape:
        raise ValueError(f"binary_crossentropy: target of shape {target.shape} and output of shape {output.shape} "
                         "must have the same shape")
    if check_bool(from_logits, "binary_crossentropy", "from_logits"):
        return SigmoidCrossEntropy.apply(output, target)
    eps = _epsilon()
    p = clip(output, eps, 1.0 - eps)
    return neg(add(mul(target, log(p)), mul(sub(1.0, target), log(sub(1.0, p)))))


def _class_axis(output, axis, owner):
    if output.ndim == 0:
        raise ValueError(f"{owner}: output must have rank >= 1 (a class axis), got a 0-d tensor")
    return _axis(axis, output.ndim, f"{owner}: axis", output.shape)


def _log_probabilities(output, axis):
    """Keras's log of probabilities: rescaled to sum to 1 along ``axis``, clipped to [eps, 1 - eps]."""
    eps = _epsilon()
    return log(clip(div(output, sum(output, axis=axis, keepdims=True)), eps, 1.0 - eps))


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Per-sample ``-sum_c t_c log p_c`` along the class ``axis``; ``output`` holds probabilities or logits.

    Returns a tensor of ``output``'s shape without ``axis``.

    Raises:
        ValueError: the shapes differ, or ``output`` is 0-d.
    """
    output = as_tensor(output)
    target = _targets(target, output)
    if target.shape != output.shape:
        raise ValueError(f"categorical_crossentropy: target of shape {target.shape} and output of shape "
                         f"{output.shape} must have the same shape")
    axis = _class_axis(output, axis, "categorical_crossentropy")
    if check_bool(from_logits, "categorical_crossentropy", "from_logits"):
        return softmax_cross_entropy(moveaxis(output, axis, -1), moveaxis(target, axis, -1))
    return neg(sum(mul(target, _log_probabilities(output, axis)), axis=axis))


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Per-sample ``-log p[label]`` with integer labels ``target`` of ``output``'s shape without ``axis``.

    A trailing size-1 axis of ``target`` is dropped first, as in Keras.

    Raises:
        ValueError: the shapes do not fit, or a label lies outside ``[0, C - 1]``.
    """
    output = as_tensor(output)
    axis = _class_axis(output, axis, "sparse_categorical_crossentropy")
    labels = target.data if isinstance(target, Tensor) else xp_of(output.data).asarray(target)
    scores = moveaxis(output, axis, -1)
    labels = class_labels("sparse_categorical_crossentropy", labels, scores.shape, scores="output")
    if check_bool(from_logits, "sparse_categorical_crossentropy", "from_logits"):
        return softmax_cross_entropy(scores, labels, sparse=True)
    picked = take_along_axis(_log_probabilities(scores, -1), labels[..., None], axis=-1)
    return neg(reshape(picked, labels.shape))

