"""Convolution layers."""

from .conv1d import Conv1D
from .conv2d import Conv2D
from .conv3d import Conv3D
from .depthwise import DepthwiseConv2D, SeparableConv2D
from .transpose import Conv1DTranspose, Conv2DTranspose

__all__ = ["Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "DepthwiseConv2D", "SeparableConv2D"]
