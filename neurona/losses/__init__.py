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

#: Every loss class, in the order of the docs.
ALL = [MeanSquaredError, MeanAbsoluteError, BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy]

#: The built-in per-sample functions and the names they serialize to.
FUNCTIONS = {
    mean_squared_error: "mean_squared_error",
    mean_absolute_error: "mean_absolute_error",
    binary_crossentropy: "binary_crossentropy",
    categorical_crossentropy: "categorical_crossentropy",
    sparse_categorical_crossentropy: "sparse_categorical_crossentropy",
}


def get(identifier):
    """A loss from a name, a config dict, a class, an instance or a callable (Keras's ``losses.get``).

    ``None`` gives ``None``; names and classes give fresh instances; instances
    and other callables are returned unchanged.
    """
    return registry.get(identifier)


def serialize(loss):
    """A JSON-safe description: a built-in function's name, else ``{"class_name", "config"}``."""
    if not isinstance(loss, type) and callable(loss) and loss in FUNCTIONS:
        return FUNCTIONS[loss]
    return registry.serialize(loss)


def deserialize(config):
    """Inverse of ``serialize`` (a function's name comes back as the matching loss object)."""
    return registry.deserialize(config)


__all__ = [
    "Loss", "LossFunctionWrapper", "REDUCTIONS", "EPSILON", "reduce_weighted_values", "registry",
    "MeanSquaredError", "MeanAbsoluteError", "BinaryCrossentropy", "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy", "mean_squared_error", "mean_absolute_error", "mse", "mae", "MSE", "MAE",
    "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy",
    "ALL", "FUNCTIONS", "get", "serialize", "deserialize",
]
