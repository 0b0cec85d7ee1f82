"""``GlobalMaxPooling1D``."""

from .base_pooling import BaseGlobalPooling


class GlobalMaxPooling1D(BaseGlobalPooling):
    """Maximum over steps: ``(batch, steps, c) -> (batch, c)``.
    """

    rank = 1
    mode = "max"
