"""``MaxPooling2D``."""

from .base_pooling import BasePooling


class MaxPooling2D(BasePooling):
    """Maximum over ``pool_size`` windows of ``(batch, height, width, channels)`` inputs.

    Args:
        pool_size: int or pair (default 2). strides: int, pair or None (= pool_size).
        padding: ``"valid"`` or ``"same"`` (padded cells never win the max).
    The gradient flows to the first maximum of each window (ties pass it once).
    """

    rank = 2
    mode = "max"
