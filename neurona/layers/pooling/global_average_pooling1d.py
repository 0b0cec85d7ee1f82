"""``GlobalAveragePooling1D``."""

from .base_pooling import BaseGlobalPooling


class GlobalAveragePooling1D(BaseGlobalPooling):
    """Mean over steps: ``(batch, steps, c) -> (batch, c)``.
    """

    rank = 1
    mode = "average"
