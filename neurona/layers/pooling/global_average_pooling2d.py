"""``GlobalAveragePooling2D``."""

from .base_pooling import BaseGlobalPooling


class GlobalAveragePooling2D(BaseGlobalPooling):
    """Mean over height and width: ``(batch, h, w, c) -> (batch, c)`` (``keepdims`` keeps the axes).
    """

    rank = 2
    mode = "average"
