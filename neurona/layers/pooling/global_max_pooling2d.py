"""``GlobalMaxPooling2D``."""

from .base_pooling import BaseGlobalPooling


class GlobalMaxPooling2D(BaseGlobalPooling):
    """Maximum over height and width: ``(batch, h, w, c) -> (batch, c)``.
    """

    rank = 2
    mode = "max"
