"""More per-sample losses with Keras 3's names and numerics: robust regression, hinge, divergences, focal, Dice.

Each is composed from differentiable ops (no new primitive), follows
``keras/src/losses/losses.py`` (Keras 3.15) term by term, including its
clipping by ``EPSILON = 1e-7``, and reduces the last axis (``axis`` where Keras
has one), so a ``(N, D)`` prediction gives ``(N,)`` values. ``y_true`` is cast
to ``y_pred``'s dtype and device; shapes must match up to a trailing axis of 1
(``functions._prepare``).
"""

import math

from .. import backend, ops
from ..arguments import check_real
from .base import as_target
from .functions import EPSILON, _check_smoothing, _class_axis, _prediction, _prepare


# ---- regression ---------------------------------------------------------------------------------
def huber(y_true, y_pred, delta=1.0):
    """Huber loss: ``mean(0.5 e^2 if |e| <= delta else delta |e| - 0.5 delta^2)`` with ``e = y_pred - y_true``.

    Quadratic near 0, linear beyond ``delta`` (Huber, "Robust Estimation of a
    Location Parameter", 1964). Returns ``y_pred.shape[:-1]``.
    """
    delta = check_real(delta, "huber", "delta", low=0)
    y_true, y_pred = _prepare("huber", y_true, y_pred)
    error = y_pred - y_true
    magnitude = ops.abs(error)
    quadratic = ops.square(error) * 0.5
    linear = magnitude * delta - 0.5 * delta * delta
    return ops.mean(ops.where(magnitude.data <= delta, quadratic, linear), axis=-1)


def log_cosh(y_true, y_pred):
    """``mean(log(cosh(e)))``, ``e = y_pred - y_true``, computed as ``e + softplus(-2 e) - log 2`` (no overflow).

    About ``e^2 / 2`` for small errors and ``|e| - log 2`` for large ones.
    """
    y_true, y_pred = _prepare("log_cosh", y_true, y_pred)
    error = y_pred - y_true
    return ops.mean(error + ops.softplus(error * -2.0) - math.log(2.0), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """``100 mean(|(y_true - y_pred) / max(|y_true|, 1e-7)|)`` over the last axis."""
    y_true, y_pred = _prepare("mean_absolute_percentage_error", y_true, y_pred)
    ratio = ops.abs((y_true - y_pred) / ops.maximum(ops.abs(y_true), EPSILON))
    return ops.mean(ratio, axis=-1) * 100.0


def mean_squared_logarithmic_error(y_true, y_pred):
    """``mean((log(max(y_pred, 1e-7) + 1) - log(max(y_true, 1e-7) + 1))^2)`` over the last axis."""
    y_true, y_pred = _prepare("mean_squared_logarithmic_error", y_true, y_pred)
    first = ops.log(ops.maximum(y_pred, EPSILON) + 1.0)
    second = ops.log(ops.maximum(y_true, EPSILON) + 1.0)
    return ops.mean(ops.square(first - second), axis=-1)


def cosine_similarity(y_true, y_pred, axis=-1):
    """``-sum(l2_normalize(y_true) * l2_normalize(y_pred))`` over ``axis``: -1 for parallel vectors, 0 if either
    is zero (Keras's normalization ``x / max(||x||, 1e-7)``, ``ops.normalize``)."""
    y_true, y_pred = _prepare("cosine_similarity", y_true, y_pred)
    axis = _class_axis(axis, y_pred, "cosine_similarity")
    return ops.neg(ops.sum(ops.normalize(y_true, axis=axis) * ops.normalize(y_pred, axis=axis), axis=axis))


# ---- probabilistic ------------------------------------------------------------------------------
def kl_divergence(y_true, y_pred):
    """Kullback-Leibler divergence ``sum(t log(t / p))`` over the last axis, ``t`` and ``p`` clipped to
    ``[1e-7, 1]`` (Kullback and Leibler, "On Information and Sufficiency", 1951)."""
    y_true, y_pred = _prepare("kl_divergence", y_true, y_pred)
    t, p = ops.clip(y_true, EPSILON, 1.0), ops.clip(y_pred, EPSILON, 1.0)
    return ops.sum(t * ops.log(t / p), axis=-1)


def poisson(y_true, y_pred):
    """Poisson negative log-likelihood up to a constant: ``mean(y_pred - y_true log(y_pred + 1e-7))``."""
    y_true, y_pred = _prepare("poisson", y_true, y_pred)
    return ops.mean(y_pred - y_true * ops.log(y_pred + EPSILON), axis=-1)


# ---- hinge --------------------------------------------------------------------------------------
def _hinge_labels(y_true):
    """Labels in {-1, 1}: a ``y_true`` whose values are all 0 or 1 becomes ``2 y - 1`` (Keras decides on the
    whole batch), anything else is used as it is."""
    data = y_true.data
    xp = backend.xp_of(data)
    if bool(xp.all((data == 0) | (data == 1))):
        return y_true * 2.0 - 1.0
    return y_true


def hinge(y_true, y_pred):
    """``mean(max(1 - y_true y_pred, 0))`` over the last axis; 0/1 labels become -1/1 (``_hinge_labels``)."""
    y_true, y_pred = _prepare("hinge", y_true, y_pred)
    return ops.mean(ops.maximum(1.0 - _hinge_labels(y_true) * y_pred, 0.0), axis=-1)


def squared_hinge(y_true, y_pred):
    """``mean(max(1 - y_true y_pred, 0)^2)`` over the last axis; labels as for ``hinge``."""
    y_true, y_pred = _prepare("squared_hinge", y_true, y_pred)
    return ops.mean(ops.square(ops.maximum(1.0 - _hinge_labels(y_true) * y_pred, 0.0)), axis=-1)


def categorical_hinge(y_true, y_pred):
    """``max(neg - pos + 1, 0)`` with ``pos = sum(t p)``, ``neg = max((1 - t) p)`` over the last axis
    (Crammer and Singer, "On the Algorithmic Implementation of Multiclass Kernel-based Vector Machines", 2001);
    ``y_true`` one-hot rows."""
    y_true, y_pred = _prepare("categorical_hinge", y_true, y_pred)
    pos = ops.sum(y_true * y_pred, axis=-1)
    neg = ops.max((1.0 - y_true) * y_pred, axis=-1)
    return ops.maximum(neg - pos + 1.0, 0.0)


# ---- focal cross-entropy ------------------------------------------------------------------------
def _check_gamma(gamma, name):
    return check_real(gamma, name, "gamma", low=0)


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
                              label_smoothing=0.0, axis=-1):
    """Binary focal cross-entropy (Lin et al., "Focal Loss for Dense Object Detection", 2017), averaged over ``axis``.

    ``bce = -(y log p + (1 - y) log(1 - p))`` on ``p`` clipped to ``[1e-7, 1 - 1e-7]``,
    ``p_t = y p + (1 - y)(1 - p)``, loss ``(1 - p_t)^gamma bce``, times ``alpha y + (1 - alpha)(1 - y)`` when
    ``apply_class_balancing``. With ``from_logits`` ``p = sigmoid(y_pred)``, then the same probability path as
    Keras (clipped). ``label_smoothing`` ``s``: targets ``y (1 - s) + s / 2``.
    """
    name = "binary_focal_crossentropy"
    _check_smoothing(label_smoothing, name)
    gamma = _check_gamma(gamma, name)
    y_true, y_pred = _prepare(name, y_true, y_pred)
    axis = _class_axis(axis, y_pred, name)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    p = ops.sigmoid(y_pred) if from_logits else y_pred
    clipped = ops.clip(p, EPSILON, 1.0 - EPSILON)
    bce = ops.neg(y_true * ops.log(clipped) + (1.0 - y_true) * ops.log(1.0 - clipped))
    p_t = y_true * p + (1.0 - y_true) * (1.0 - p)
    focal = ops.power(1.0 - p_t, gamma) * bce
    if apply_class_balancing:
        focal = (y_true * alpha + (1.0 - y_true) * (1.0 - alpha)) * focal
    return ops.mean(focal, axis=axis)


def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0,
                                   axis=-1):
    """Categorical focal cross-entropy: ``sum_c alpha_c (1 - p_c)^gamma (-y_c log p_c)`` over ``axis``.

    ``p`` is ``softmax(y_pred)`` with ``from_logits``, then renormalized over
    ``axis`` and clipped to ``[1e-7, 1 - 1e-7]`` (Keras 3). ``alpha`` is a number
    or one weight per class (along the last axis, as Keras broadcasts it);
    ``label_smoothing`` ``s``: targets ``y (1 - s) + s / C`` (Lin et al., 2017).
    """
    name = "categorical_focal_crossentropy"
    _check_smoothing(label_smoothing, name)
    gamma = _check_gamma(gamma, name)
    y_pred = _prediction(y_pred, name)
    axis = _class_axis(axis, y_pred, name)
    y_true = as_target(y_true, y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{name}: y_true has shape {y_true.shape} but y_pred has shape {y_pred.shape}; they must be "
                         "equal (one-hot rows)")
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[-1]
    if from_logits:
        y_pred = ops.softmax(y_pred, axis=axis)
    p = ops.clip(y_pred / ops.sum(y_pred, axis=axis, keepdims=True), EPSILON, 1.0 - EPSILON)
    weight = as_target(alpha, y_pred) if isinstance(alpha, list | tuple) else alpha
    focal = ops.power(1.0 - p, gamma) * weight * ops.neg(y_true * ops.log(p))
    return ops.sum(focal, axis=axis)


# ---- overlap ------------------------------------------------------------------------------------
def dice(y_true, y_pred, axis=None):
    """Dice loss ``1 - 2 sum(t p) / (sum(t) + sum(p) + 1e-7)`` over ``axis`` (all axes by default, one value for
    the batch; e.g. ``axis=(1, 2, 3)`` for one value per image) (Milletari et al., "V-Net", 2016)."""
    y_true, y_pred = _prepare("dice", y_true, y_pred)
    axis = tuple(axis) if isinstance(axis, list) else axis
    intersection = ops.sum(y_true * y_pred, axis=axis)
    return 1.0 - intersection * 2.0 / (ops.sum(y_true, axis=axis) + ops.sum(y_pred, axis=axis) + EPSILON)
