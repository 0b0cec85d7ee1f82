"""Losses with Keras names: per-sample functions and reducing loss objects, found by name.

>>> from neurona import losses
>>> per_sample = losses.categorical_crossentropy(y_true, y_pred)        # shape (N,)
>>> loss = losses.get("categorical_crossentropy")(y_true, y_pred)       # scalar: the batch mean
>>> losses.serialize(losses.BinaryCrossentropy(from_logits=True))["config"]["from_logits"]
True

Names are looked up ignoring case and underscores (``"mse"``,
``"mean_squared_error"``, ``"MeanSquaredError"``). A name always resolves to a
loss *object* (whose call returns the reduced scalar), even the name of a
function: the function and class names differ only in case and underscores.
``get`` returns any other callable unchanged; ``serialize`` turns the built-in
functions into their names.

Cross-entropy on probabilities made by a recorded softmax or sigmoid goes
through the fused logits ops (see ``functions``'s module doc).
"""

from ..registry import custom_object
from .base import REDUCTIONS, Loss, LossFunctionWrapper, reduce_weighted_values, registry
from .classes import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    MeanAbsoluteError,
    MeanSquaredError,
    SparseCategoricalCrossentropy,
)
from .functions import (
    EPSILON,
    MAE,
    MSE,
    binary_crossentropy,
    categorical_crossentropy,
    mae,
    mean_absolute_error,
    mean_squared_error,
    mse,
    sparse_categorical_crossentropy,
)
from .more_classes import (
    BinaryFocalCrossentropy,
    CategoricalFocalCrossentropy,
    CategoricalHinge,
    CosineSimilarity,
    Dice,
    Hinge,
    Huber,
    KLDivergence,
    LogCosh,
    MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError,
    Poisson,
    SquaredHinge,
)
from .more_functions import (
    binary_focal_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
    cosine_similarity,
    dice,
    hinge,
    huber,
    kl_divergence,
    log_cosh,
    mean_absolute_percentage_error,
    mean_squared_logarithmic_error,
    poisson,
    squared_hinge,
)

mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kl_divergence
logcosh = log_cosh

#: Every loss class, in the order of the docs.
ALL = [MeanSquaredError, MeanAbsoluteError, BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy,
       MeanAbsolutePercentageError, MeanSquaredLogarithmicError, CosineSimilarity, Huber, LogCosh, Hinge, SquaredHinge,
       CategoricalHinge, KLDivergence, Poisson, BinaryFocalCrossentropy, CategoricalFocalCrossentropy, Dice]

#: The built-in per-sample functions and the names they serialize to.
FUNCTIONS = {
    mean_squared_error: "mean_squared_error",
    mean_absolute_error: "mean_absolute_error",
    binary_crossentropy: "binary_crossentropy",
    categorical_crossentropy: "categorical_crossentropy",
    sparse_categorical_crossentropy: "sparse_categorical_crossentropy",
    **{fn: fn.__name__ for fn in (
        mean_absolute_percentage_error, mean_squared_logarithmic_error, cosine_similarity, huber, log_cosh, hinge,
        squared_hinge, categorical_hinge, kl_divergence, poisson, binary_focal_crossentropy,
        categorical_focal_crossentropy, dice)},
}


def get(identifier):
    """A loss from a name, a config dict, a class, an instance or a callable (Keras's ``losses.get``).

    ``None`` gives ``None``; names and classes give fresh instances; instances
    and other callables are returned unchanged.
    """
    return registry.get(identifier)


def serialize(loss):
    """A JSON-safe description: a built-in function's name; a registered loss's ``{"class_name", "config"}``;
    a custom function or an instance of an unregistered class in Keras's layout (loading finds them through
    ``custom_objects``); a ``LossFunctionWrapper`` with its function under ``"fn"`` (as in Keras)."""
    if not isinstance(loss, type) and callable(loss) and _builtin_name(loss) is not None:
        return _builtin_name(loss)
    if type(loss) is LossFunctionWrapper:
        return {"module": LossFunctionWrapper.__module__, "class_name": "LossFunctionWrapper",
                "config": {**loss.get_config(), "fn": serialize(loss.fn)}, "registered_name": "LossFunctionWrapper"}
    return registry.serialize(loss)


def _builtin_name(fn):
    try:
        return FUNCTIONS.get(fn)
    except TypeError:  # an unhashable callable
        return None


def _wrapper(config):
    """The ``LossFunctionWrapper`` an entry of ``serialize`` describes (its ``fn`` a built-in name or a
    function entry)."""
    inner = config.get("config")
    if not isinstance(inner, dict) or "fn" not in inner:
        raise ValueError(f"LossFunctionWrapper config must be an object with 'fn', got {str(inner)[:120]!r}")
    inner = dict(inner)
    fn = inner.pop("fn")
    by_name = {name: function for function, name in FUNCTIONS.items()}
    fn = by_name[fn] if isinstance(fn, str) and fn in by_name else deserialize(fn)
    if not callable(fn):
        raise ValueError(f"LossFunctionWrapper config: 'fn' names {fn!r:.80}, which is not callable")
    return LossFunctionWrapper(fn, **inner)


def deserialize(config):
    """Inverse of ``serialize`` (a built-in function's name comes back as the matching loss object, a custom
    function's entry as that function)."""
    if isinstance(config, dict) and config.get("class_name") == "LossFunctionWrapper" and \
            custom_object("LossFunctionWrapper") is None:
        return _wrapper(config)
    return registry.deserialize(config)


__all__ = [
    "Loss", "LossFunctionWrapper", "REDUCTIONS", "EPSILON", "reduce_weighted_values", "registry",
    "MeanSquaredError", "MeanAbsoluteError", "BinaryCrossentropy", "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy", "mean_squared_error", "mean_absolute_error", "mse", "mae", "MSE", "MAE",
    "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy",
    "ALL", "FUNCTIONS", "get", "serialize", "deserialize",
    "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError", "CosineSimilarity", "Huber", "LogCosh", "Hinge",
    "SquaredHinge", "CategoricalHinge", "KLDivergence", "Poisson", "BinaryFocalCrossentropy",
    "CategoricalFocalCrossentropy", "Dice", "mean_absolute_percentage_error", "mean_squared_logarithmic_error",
    "cosine_similarity", "huber", "log_cosh", "hinge", "squared_hinge", "categorical_hinge", "kl_divergence",
    "poisson", "binary_focal_crossentropy", "categorical_focal_crossentropy", "dice", "mape", "MAPE", "msle", "MSLE",
    "kld", "KLD", "logcosh",
]
