"""``ActivityRegularization``: the identity, adding an L1/L2 penalty of its output to the layer's losses."""

from ... import regularizers
from ...arguments import check_real
from ..base import ShapePreservingLayer


class ActivityRegularization(ShapePreservingLayer):
    """Pass inputs through unchanged and add ``l1 * sum(|x|) + l2 * sum(x^2)`` to ``layer.losses`` at every call
    (the same penalty as ``activity_regularizer=L1L2(l1, l2)`` on any layer).

    Args:
        l1: the L1 factor, a number >= 0.
        l2: the L2 factor, a number >= 0.
    """

    supports_masking = True

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        if "activity_regularizer" in kwargs:
            raise TypeError("ActivityRegularization sets its own activity_regularizer from l1 and l2; pass those")
        l1 = check_real(l1, "ActivityRegularization", "l1", low=0)
        l2 = check_real(l2, "ActivityRegularization", "l2", low=0)
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.l1, self.l2 = l1, l2

    def call(self, inputs, training=None):
        return inputs

    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer", None)
        return {**config, "l1": self.l1, "l2": self.l2}
