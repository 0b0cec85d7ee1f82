"""``AveragePooling2D``."""

from .base_pooling import BasePooling


class AveragePooling2D(BasePooling):
    """Mean over ``pool_size`` windows of ``(batch, height, width, channels)`` inputs.

    Args:
        pool_size: int or pair (default 2). strides: int, pair or None (= pool_size).
        padding: ``"valid"`` or ``"same"`` (the mean counts only real cells, as in Keras).
    """

    rank = 2
    mode = "average"
