"""Reshaping layers: padding, cropping, up-sampling, permuting and repeating (Keras's ``layers/reshaping``)."""

from .borders import Cropping1D, Cropping2D, ZeroPadding1D, ZeroPadding2D
from .permute import Permute, RepeatVector
from .sampling import UpSampling1D, UpSampling2D

__all__ = ["Cropping1D", "Cropping2D", "ZeroPadding1D", "ZeroPadding2D", "Permute", "RepeatVector", "UpSampling1D",
           "UpSampling2D"]
