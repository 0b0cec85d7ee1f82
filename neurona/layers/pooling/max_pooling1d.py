"""``MaxPooling1D``."""

from .base_pooling import BasePooling


class MaxPooling1D(BasePooling):
    """Maximum over windows of ``(batch, steps, channels)`` inputs (arguments as MaxPooling2D, single ints).
    """

    rank = 1
    mode = "max"
