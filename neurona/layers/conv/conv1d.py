"""``Conv1D``: 1-D convolution over sequences, channels_last."""

from .base_conv import BaseConv


class Conv1D(BaseConv):
    """``output = activation(conv1d(inputs, kernel) + bias)`` on ``(batch, steps, channels)`` inputs.

    Arguments as ``Conv2D`` with single ints; the kernel has shape ``(k, in_channels, filters)``.
    """

    rank = 1
