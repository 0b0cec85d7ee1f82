"""``AveragePooling1D``."""

from .base_pooling import BasePooling


class AveragePooling1D(BasePooling):
    """Mean over windows of ``(batch, steps, channels)`` inputs (arguments as AveragePooling2D, single ints).
    """

    rank = 1
    mode = "average"
