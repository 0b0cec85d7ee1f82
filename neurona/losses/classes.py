"""Loss classes with Keras names: a per-sample function plus a reduction and sample weights.

>>> from neurona import losses
>>> loss = losses.CategoricalCrossentropy(label_smoothing=0.1)
>>> value = loss(y_true, y_pred)                      # a scalar Tensor: mean over the batch
>>> losses.get("sparse_categorical_crossentropy")     # SparseCategoricalCrossentropy()
"""

from .base import LossFunctionWrapper, registry
from .functions import (
    binary_crossentropy,
    categorical_crossentropy,
    mean_absolute_error,
    mean_squared_error,
    sparse_categorical_crossentropy,
)

DEFAULT = "sum_over_batch_size"


@registry.register(aliases=("mse",))
class MeanSquaredError(LossFunctionWrapper):
    """Mean of ``(y_true - y_pred)^2`` over the last axis, then ``reduction`` over samples."""

    def __init__(self, reduction=DEFAULT, name="mean_squared_error"):
        super().__init__(mean_squared_error, name=name, reduction=reduction)


@registry.register(aliases=("mae",))
class MeanAbsoluteError(LossFunctionWrapper):
    """Mean of ``|y_true - y_pred|`` over the last axis, then ``reduction`` over samples."""

    def __init__(self, reduction=DEFAULT, name="mean_absolute_error"):
        super().__init__(mean_absolute_error, name=name, reduction=reduction)


@registry.register
class BinaryCrossentropy(LossFunctionWrapper):
    """Binary cross-entropy (see ``functions.binary_crossentropy`` for the math and the fused path).

    Args:
        from_logits: whether ``y_pred`` holds logits rather than probabilities.
        label_smoothing: targets become ``y (1 - s) + s / 2``.
        axis: the axis averaged over per sample.
        reduction: how per-sample losses are reduced (``base.REDUCTIONS``).
        name: label of the loss.
    """

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction=DEFAULT, name="binary_crossentropy"):
        super().__init__(
            binary_crossentropy, name=name, reduction=reduction,
            from_logits=from_logits, label_smoothing=label_smoothing, axis=axis,
        )


@registry.register
class CategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy for one-hot targets (see ``functions.categorical_crossentropy``).

    Args:
        from_logits: whether ``y_pred`` holds logits rather than probabilities.
        label_smoothing: targets become ``y (1 - s) + s / C``.
        axis: the class axis.
        reduction: how per-sample losses are reduced (``base.REDUCTIONS``).
        name: label of the loss.
    """

    def __init__(
        self, from_logits=False, label_smoothing=0.0, axis=-1, reduction=DEFAULT, name="categorical_crossentropy"
    ):
        super().__init__(
            categorical_crossentropy, name=name, reduction=reduction,
            from_logits=from_logits, label_smoothing=label_smoothing, axis=axis,
        )


@registry.register
class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy for integer labels (see ``functions.sparse_categorical_crossentropy``).

    Args:
        from_logits: whether ``y_pred`` holds logits rather than probabilities.
        ignore_class: a label whose samples are left out of the loss (the mean runs over the others).
        reduction: how per-sample losses are reduced (``base.REDUCTIONS``).
        axis: the class axis of ``y_pred``.
        name: label of the loss.
    """

    def __init__(self, from_logits=False, ignore_class=None, reduction=DEFAULT, axis=-1,
                 name="sparse_categorical_crossentropy"):
        super().__init__(
            sparse_categorical_crossentropy, name=name, reduction=reduction, from_logits=from_logits,
            ignore_class=ignore_class, axis=axis,
        )
