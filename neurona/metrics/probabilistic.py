"""Cross-entropy metrics: the mean of a cross-entropy loss over batches, as Keras reports them.

They call ``neurona.losses``'s functions (so a softmax/sigmoid output is
scored from its logits, exactly like the loss) under ``no_grad``.
"""

from ..losses import functions
from .base import MeanMetricWrapper, registry


@registry.register
class BinaryCrossentropy(MeanMetricWrapper):
    """Mean binary cross-entropy (arguments as ``losses.binary_crossentropy``)."""

    def __init__(self, from_logits=False, label_smoothing=0.0, name="binary_crossentropy"):
        super().__init__(
            functions.binary_crossentropy, name=name, from_logits=from_logits, label_smoothing=label_smoothing
        )


@registry.register
class CategoricalCrossentropy(MeanMetricWrapper):
    """Mean categorical cross-entropy (arguments as ``losses.categorical_crossentropy``)."""

    def __init__(self, from_logits=False, label_smoothing=0.0, name="categorical_crossentropy"):
        super().__init__(
            functions.categorical_crossentropy, name=name, from_logits=from_logits, label_smoothing=label_smoothing
        )


@registry.register
class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """Mean sparse categorical cross-entropy (arguments as ``losses.sparse_categorical_crossentropy``)."""

    def __init__(self, from_logits=False, name="sparse_categorical_crossentropy"):
        super().__init__(functions.sparse_categorical_crossentropy, name=name, from_logits=from_logits)
