"""``Conv3D``: 3-D convolution over volumes (video frames, scans), channels_last or channels_first."""

from .base_conv import BaseConv


class Conv3D(BaseConv):
    """``output = activation(conv3d(inputs, kernel) + bias)`` on ``(batch, depth, height, width, channels)``.

    Arguments as ``Conv2D`` with triples; the kernel has shape ``(k_d, k_h, k_w, in_channels // groups,
    filters)``. Computed by ``ops.conv3d`` (a 2-D convolution per depth tap).
    """

    rank = 3
