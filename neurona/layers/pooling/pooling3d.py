"""The 3-D pooling layers: ``MaxPooling3D``, ``AveragePooling3D``, ``GlobalAveragePooling3D``,
``GlobalMaxPooling3D`` (``(batch, depth, height, width, channels)``, or channels first)."""

from .base_pooling import BaseGlobalPooling, BasePooling


class MaxPooling3D(BasePooling):
    """Max over ``pool_size`` volumes (default 2 x 2 x 2), moved by ``strides`` (default: the pool size)."""

    rank = 3
    mode = "max"


class AveragePooling3D(BasePooling):
    """Mean over ``pool_size`` volumes ("same" padding is left out of the count, as in Keras)."""

    rank = 3
    mode = "average"


class GlobalAveragePooling3D(BaseGlobalPooling):
    """Mean over depth, height and width: ``(batch, d, h, w, c) -> (batch, c)``."""

    rank = 3
    mode = "average"


class GlobalMaxPooling3D(BaseGlobalPooling):
    """Max over depth, height and width: ``(batch, d, h, w, c) -> (batch, c)``."""

    rank = 3
    mode = "max"
