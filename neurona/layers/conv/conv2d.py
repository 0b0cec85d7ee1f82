"""``Conv2D``: 2-D convolution over images, channels_last."""

from .base_conv import BaseConv


class Conv2D(BaseConv):
    """``output = activation(conv2d(inputs, kernel) + bias)`` on ``(batch, height, width, channels)`` inputs.

    Args:
        filters: number of output channels.
        kernel_size: int or (height, width) of the window.
        strides: int or pair. padding: ``"valid"`` (no padding) or ``"same"``
            (output size ``ceil(input / stride)``, TensorFlow's split of the padding).
        dilation_rate: int or pair; spacing of kernel taps (a strided layer cannot dilate).
        activation, use_bias, kernel_initializer (default ``"glorot_uniform"``),
        bias_initializer, kernel_regularizer, bias_regularizer: as in ``Dense``.

    The kernel has shape ``(k_h, k_w, in_channels, filters)``.
    Reference: LeCun et al., "Gradient-based learning applied to document recognition", 1998.
    """

    rank = 2
