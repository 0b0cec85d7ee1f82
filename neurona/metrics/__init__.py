"""Streaming metrics with Keras names, found by name, and the ``"accuracy"`` resolution of ``compile``.

>>> from neurona import metrics
>>> m = metrics.SparseCategoricalAccuracy()
>>> m.update_state(labels, probs); m.update_state(labels2, probs2)
>>> m.result()                                   # a Python float over both batches
>>> metrics.resolve("accuracy", loss="binary_crossentropy").name
'accuracy'

Names are looked up ignoring case and underscores (``"mse"``,
``"mean_squared_error"``, ``"MeanSquaredError"``); the lowercase functions
(``categorical_accuracy``, ...) return per-sample arrays and are not in the
registry, their names resolve to the streaming classes.
"""

from .. import losses as _losses
from .auc import AUC
from .base import Mean, MeanMetricWrapper, Metric, registry, result_value, weighted_sums
from .classification import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from .confusion import FalseNegatives, FalsePositives, Precision, Recall, TrueNegatives, TruePositives
from .f_score import F1Score, FBetaScore
from .iou import MeanIoU
from .more_metrics import (
    CategoricalHinge,
    CosineSimilarity,
    Hinge,
    KLDivergence,
    LogCoshError,
    MeanSquaredLogarithmicError,
    Poisson,
    R2Score,
    RootMeanSquaredError,
    SquaredHinge,
    Sum,
)
from .probabilistic import BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy
from .regression import (
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
)

mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error

#: Every registered metric class, in the order of the docs.
ALL = [
    Mean, Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, TopKCategoricalAccuracy,
    SparseTopKCategoricalAccuracy, MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, BinaryCrossentropy,
    CategoricalCrossentropy, SparseCategoricalCrossentropy, Precision, Recall, F1Score, FBetaScore, AUC, TruePositives,
    FalsePositives, TrueNegatives, FalseNegatives, Sum, RootMeanSquaredError, R2Score, KLDivergence, CosineSimilarity,
    LogCoshError, MeanIoU, Poisson, MeanSquaredLogarithmicError, Hinge, SquaredHinge, CategoricalHinge,
]


def register(cls=None, *, name=None, aliases=()):
    """Class decorator registering a custom ``Metric`` subclass, so ``get``, ``serialize`` and saved models find it.

    >>> @metrics.register
    ... class CategoricalTruePositives(metrics.Metric): ...
    >>> metrics.get("categorical_true_positives")     # a fresh instance
    """
    return registry.register(cls, name=name, aliases=aliases)


def get(identifier):
    """A metric from a name, a config dict, a class, an instance or a callable (Keras's ``metrics.get``).

    Names and classes give fresh instances (any ``Metric`` subclass, registered
    or not); ``"accuracy"`` gives the exact-match ``Accuracy`` here (use
    ``resolve`` for ``compile``'s loss-dependent meaning).
    """
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    return registry.get(identifier)


def serialize(metric):
    """``{"class_name": ..., "config": ...}`` for a registered metric; a custom function or an instance of
    an unregistered ``Metric`` subclass in Keras's layout (``module``, ``class_name``, ``config``,
    ``registered_name``), which loading finds through ``custom_objects`` (see ``neurona.registry``)."""
    return registry.serialize(metric)


def deserialize(config):
    """Inverse of ``serialize``."""
    return registry.deserialize(config)


_ACCURACY_FOR = {"binary": BinaryAccuracy, "sparse": SparseCategoricalAccuracy, "categorical": CategoricalAccuracy}
_LOSS_KINDS = {
    _losses.binary_crossentropy: "binary",
    _losses.sparse_categorical_crossentropy: "sparse",
    _losses.categorical_crossentropy: "categorical",
}


def _loss_kind(loss):
    """``"binary"``, ``"sparse"``, ``"categorical"`` for the built-in cross-entropies, else None."""
    if loss is None:
        return None
    try:
        loss = _losses.get(loss)
    except (ValueError, TypeError):
        return None
    fn = loss.fn if isinstance(loss, _losses.LossFunctionWrapper) else loss
    try:
        return _LOSS_KINDS.get(fn)
    except TypeError:  # an unhashable callable
        return None


def _accuracy_kind(loss, output_shape, target_shape):
    kind = _loss_kind(loss)
    units = output_shape[-1] if output_shape else None
    if kind == "binary" or units == 1:
        return "binary"
    if kind == "sparse":
        return "sparse"
    if kind is None and target_shape is not None and output_shape is not None:
        if len(target_shape) < len(output_shape) or (len(target_shape) and target_shape[-1] == 1):
            return "sparse"
    return "categorical"


def resolve(identifier, loss=None, output_shape=None, target_shape=None):
    """The metric object ``compile(metrics=[identifier])`` means, as Keras resolves it.

    ``"accuracy"`` / ``"acc"`` (any case) depend on the task:

    - ``BinaryAccuracy`` when the loss is binary cross-entropy or the output has one unit;
    - ``SparseCategoricalAccuracy`` when the loss is sparse categorical cross-entropy
      (or, for another loss, when ``target_shape`` holds labels rather than one-hot rows);
    - ``CategoricalAccuracy`` otherwise.

    A metric named by a string keeps that string as its name, as in Keras: the
    History keys are ``"accuracy"`` / ``"val_accuracy"`` for ``"accuracy"``,
    ``"acc"`` for ``"acc"``, ``"mse"`` for ``"mse"``. Metric objects are
    returned unchanged and plain functions ``fn(y_true, y_pred) -> per-sample
    values`` are wrapped in a ``MeanMetricWrapper``.

    Args:
        identifier: a name, a config dict, a Metric class or instance, or a function.
        loss: the compiled loss (name, class, instance or function), or None.
        output_shape: the model's output shape (the last entry is the unit count).
        target_shape: the shape of ``y_true``, when known.
    """
    if isinstance(identifier, str) and identifier.lower() in ("accuracy", "acc"):
        return _ACCURACY_FOR[_accuracy_kind(loss, output_shape, target_shape)](name=identifier)
    metric = get(identifier)
    if isinstance(metric, Metric):
        if isinstance(identifier, str):
            metric.name = identifier
        return metric
    if callable(metric):
        return MeanMetricWrapper(metric, name=identifier if isinstance(identifier, str) else None)
    raise TypeError(f"could not interpret metric identifier {identifier!r}")


__all__ = [
    "Metric", "Mean", "MeanMetricWrapper", "registry", "register", "result_value", "weighted_sums",
    "Accuracy", "BinaryAccuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy", "TopKCategoricalAccuracy",
    "SparseTopKCategoricalAccuracy", "MeanSquaredError", "MeanAbsoluteError", "MeanAbsolutePercentageError",
    "mean_absolute_percentage_error", "BinaryCrossentropy",
    "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "Precision", "Recall", "F1Score", "FBetaScore", "AUC",
    "TruePositives", "FalsePositives", "TrueNegatives", "FalseNegatives",
    "Sum", "RootMeanSquaredError", "R2Score", "KLDivergence", "CosineSimilarity", "LogCoshError", "MeanIoU",
    "Poisson", "MeanSquaredLogarithmicError", "Hinge", "SquaredHinge", "CategoricalHinge",
    "accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
    "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy", "mean_squared_error", "mean_absolute_error",
    "mse", "mae", "MSE", "MAE", "ALL", "get", "serialize", "deserialize", "resolve",
]
