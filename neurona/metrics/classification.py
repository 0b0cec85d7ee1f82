"""Accuracy metrics: per-sample functions on arrays and the streaming classes around them.

Every function takes Tensors, arrays or lists, works on the arrays' own device
(NumPy or CuPy), and returns a float array of per-sample scores in {0, 1} of
shape ``y_pred.shape[:-1]`` (for ``accuracy`` and ``binary_accuracy``, the
mean over the last axis when there are two or more axes). Each is a handful of
vectorized array operations: they run after every training batch.
"""

import math
import numbers
import operator

from .. import backend
from ..ops.losses import class_labels
from .base import MeanMetricWrapper, match_rank, registry, to_array


def _pair(y_true, y_pred):
    y_pred = to_array(y_pred)
    return to_array(y_true, like=y_pred), y_pred


def _per_sample(hits):
    hits = hits.astype(backend.floatx())
    return hits.mean(axis=-1) if hits.ndim > 1 else hits


def _check_k(k):
    try:
        k = operator.index(k)
    except TypeError:
        raise TypeError(f"k must be an integer, got {k!r}") from None
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    return k


def _same_shape(name, y_true, y_pred, hint="", given=None):
    if y_true.shape != y_pred.shape:
        given = y_true.shape if given is None else given
        raise ValueError(f"{name}: y_true has shape {given} but y_pred has shape {y_pred.shape}{hint}")


def _labels(name, y_true, y_pred):
    """Class indices of shape ``y_pred.shape[:-1]``, validated as the sparse loss validates them.

    Integers, or floats holding whole numbers, in ``[0, C - 1]`` for ``C`` classes
    (``ops.losses.class_labels``): a label 7 of 4 classes, or 0.5, is a bug in the data, not a miss.
    """
    return class_labels(name, y_true, y_pred.shape, f". y_true looks one-hot: use {name[len('sparse_'):]}")


def _check_threshold(threshold, owner="binary_accuracy"):
    """``threshold`` as a float, after checking it is a real number (Python or NumPy, not a bool) and not NaN."""
    if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real):
        raise TypeError(f"{owner}: threshold must be a number, got {threshold!r} ({type(threshold).__name__})")
    if math.isnan(threshold):
        raise ValueError(f"{owner}: threshold must be a number, got nan")
    return float(threshold)


def _in_top_k(scores, labels, k):
    """Whether each label's score is among the ``k`` largest of its row.

    A label counts as in the top k when fewer than ``k`` classes score strictly
    higher, so ties at the boundary count in (as TensorFlow's ``in_top_k``).
    This is one comparison pass, with no sort. Non-finite scores count as
    misses; so would labels outside ``[0, C - 1]``, which ``_labels`` refuses first.
    """
    xp = backend.xp_of(scores)
    labels = labels.astype("int64", copy=False)
    valid = (labels >= 0) & (labels < scores.shape[-1])
    safe = xp.where(valid, labels, 0)
    true_score = xp.take_along_axis(scores, safe[..., None], axis=-1)
    higher = (scores > true_score).sum(axis=-1)
    return valid & (higher < k) & xp.isfinite(true_score[..., 0])


# ---- functions ----------------------------------------------------------------------------------
def accuracy(y_true, y_pred):
    """Exact-match rate ``mean(y_true == y_pred)`` over the last axis (values compared as they are)."""
    y_true, y_pred = _pair(y_true, y_pred)
    _same_shape("accuracy", match_rank(y_true, y_pred), y_pred, given=y_true.shape)
    return _per_sample(match_rank(y_true, y_pred) == y_pred)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """Rate of ``y_true == (y_pred > threshold)`` over the last axis, for 0/1 targets.

    Use ``threshold=0`` when ``y_pred`` holds logits rather than probabilities.
    """
    threshold = _check_threshold(threshold)
    y_true, y_pred = _pair(y_true, y_pred)
    _same_shape("binary_accuracy", match_rank(y_true, y_pred), y_pred, given=y_true.shape)
    return _per_sample(match_rank(y_true, y_pred) == (y_pred > threshold))


def categorical_accuracy(y_true, y_pred):
    """``argmax(y_true) == argmax(y_pred)`` over the last (class) axis, for one-hot targets."""
    y_true, y_pred = _pair(y_true, y_pred)
    hint = ". y_true looks like integer labels: use sparse_categorical_accuracy"
    sparse_like = y_true.shape in (y_pred.shape[:-1], y_pred.shape[:-1] + (1,))
    _same_shape("categorical_accuracy", y_true, y_pred, hint if sparse_like else "")
    return (y_true.argmax(axis=-1) == y_pred.argmax(axis=-1)).astype(backend.floatx())


def sparse_categorical_accuracy(y_true, y_pred):
    """``y_true == argmax(y_pred)``, with integer labels of shape ``y_pred.shape[:-1]`` (or a trailing 1)."""
    y_true, y_pred = _pair(y_true, y_pred)
    labels = _labels("sparse_categorical_accuracy", y_true, y_pred)
    return (labels == y_pred.argmax(axis=-1)).astype(backend.floatx())


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """Whether the true class (``argmax(y_true)``) is among the ``k`` highest scores of ``y_pred``."""
    k = _check_k(k)
    y_true, y_pred = _pair(y_true, y_pred)
    _same_shape("top_k_categorical_accuracy", y_true, y_pred)
    return _in_top_k(y_pred, y_true.argmax(axis=-1), k).astype(backend.floatx())


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    """Whether the integer label is among the ``k`` highest scores of ``y_pred``."""
    k = _check_k(k)
    y_true, y_pred = _pair(y_true, y_pred)
    labels = _labels("sparse_top_k_categorical_accuracy", y_true, y_pred)
    return _in_top_k(y_pred, labels, k).astype(backend.floatx())


# ---- streaming classes --------------------------------------------------------------------------
@registry.register(aliases=("acc",))
class Accuracy(MeanMetricWrapper):
    """How often ``y_pred`` equals ``y_true`` exactly (for class ids, not probabilities).

    Note: the string ``"accuracy"`` given to ``compile`` means the accuracy
    that fits the loss; ``metrics.resolve`` picks it.
    """

    def __init__(self, name="accuracy"):
        super().__init__(accuracy, name=name)


@registry.register
class BinaryAccuracy(MeanMetricWrapper):
    """How often ``y_pred > threshold`` matches the 0/1 targets."""

    def __init__(self, threshold=0.5, name="binary_accuracy"):
        super().__init__(binary_accuracy, name=name, threshold=_check_threshold(threshold, "BinaryAccuracy"))


@registry.register
class CategoricalAccuracy(MeanMetricWrapper):
    """How often the highest score is the one-hot target's class."""

    def __init__(self, name="categorical_accuracy"):
        super().__init__(categorical_accuracy, name=name)


@registry.register
class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the highest score is the integer label."""

    def __init__(self, name="sparse_categorical_accuracy"):
        super().__init__(sparse_categorical_accuracy, name=name)


@registry.register
class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot target's class is among the ``k`` highest scores."""

    def __init__(self, k=5, name="top_k_categorical_accuracy"):
        super().__init__(top_k_categorical_accuracy, name=name, k=_check_k(k))


@registry.register
class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the ``k`` highest scores."""

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy"):
        super().__init__(sparse_top_k_categorical_accuracy, name=name, k=_check_k(k))
