"""Conv1D and Conv2D through the shared layer harness.

Counts by hand: a kernel of ``prod(kernel_size) * in_channels * filters`` values plus ``filters``
bias values; "same" padding gives ``ceil(n / stride)`` outputs, "valid" gives
``floor((n - dilation * (k - 1) - 1) / stride) + 1``.
"""

from _harness import layer_harness as harness
from _harness.layer_harness import LayerCase

from neurona import layers

CASES = [
    # relu goes into the convolution op (the fused path); 3 * 3 * 2 * 3 + 3 = 57
    LayerCase(layers.Conv2D, dict(filters=3, kernel_size=3, activation="relu"), (2, 4, 4, 2), (2, 2, 2, 3),
              trainable=2, params=57),
    # ceil(5 / 2) = 3, ceil(4 / 2) = 2; 3 * 2 * 2 * 2 = 24, no bias
    LayerCase(layers.Conv2D, dict(filters=2, kernel_size=(3, 2), strides=2, padding="same", use_bias=False,
                                  kernel_regularizer="l2"), (1, 5, 4, 2), (1, 3, 2, 2), trainable=1, params=24,
              losses=1),
    # dilation 2 widens the 2-tap kernel to 3: 5 - 3 + 1 = 3; 2 * 2 * 1 * 2 + 2 = 10
    LayerCase(layers.Conv2D, dict(filters=2, kernel_size=2, dilation_rate=2, activation="tanh",
                                  bias_initializer="ones", bias_regularizer="l1"), (1, 5, 5, 1), (1, 3, 3, 2),
              trainable=2, params=10, losses=1),
    # ceil(7 / 2) = 4; 3 * 2 * 3 + 3 = 21
    LayerCase(layers.Conv1D, dict(filters=3, kernel_size=3, strides=2, padding="same"), (2, 7, 2), (2, 4, 3),
              trainable=2, params=21),
    # dilation 3 widens the 2-tap kernel to 4: 8 - 4 + 1 = 5; 2 * 1 * 2 = 4
    LayerCase(layers.Conv1D, dict(filters=2, kernel_size=2, dilation_rate=3, use_bias=False, activation="relu"),
              (2, 8, 1), (2, 5, 2), trainable=1, params=4),
    # causal: (3 - 1) * 2 = 4 steps of left padding keep all 6 steps; 3 * 2 * 2 + 2 = 14
    LayerCase(layers.Conv1D, dict(filters=2, kernel_size=3, padding="causal", dilation_rate=2), (2, 6, 2),
              (2, 6, 2), trainable=2, params=14),
    # 2 groups of 2 channels, 2 filters each: a (2, 2, 2, 4) kernel, 32 + 4 = 36
    LayerCase(layers.Conv2D, dict(filters=4, kernel_size=2, groups=2, activation="tanh"), (1, 4, 3, 4),
              (1, 3, 2, 4), trainable=2, params=36),
    # depthwise, multiplier 2: a (2, 2, 3, 2) kernel and 6 biases, 24 + 6 = 30; "same" at stride 2: ceil(5/2) = 3
    LayerCase(layers.DepthwiseConv2D, dict(kernel_size=2, depth_multiplier=2, strides=2, padding="same",
                                           activation="tanh"), (1, 5, 4, 3), (1, 3, 2, 6), trainable=2, params=30),
    # channels_first, dilation 2 (a 3-tap extent), no bias: (2, 2, 2, 1) = 8 weights; 5 - 3 + 1 = 3
    LayerCase(layers.DepthwiseConv2D, dict(kernel_size=2, dilation_rate=2, use_bias=False,
                                           data_format="channels_first"), (1, 2, 5, 4), (1, 2, 3, 2), trainable=1,
              params=8),
    # separable: depthwise (3, 3, 2, 1) = 18, pointwise (1, 1, 2, 3) = 6, bias 3: 27; valid 5 - 2 = 3
    LayerCase(layers.SeparableConv2D, dict(filters=3, kernel_size=3, depthwise_regularizer="l2"), (2, 5, 5, 2),
              (2, 3, 3, 3), trainable=3, params=27, losses=1),
    # multiplier 2, "same", stride 2: depthwise (2, 2, 1, 2) = 8, pointwise (1, 1, 2, 2) = 4, bias 2: 14
    LayerCase(layers.SeparableConv2D, dict(filters=2, kernel_size=2, depth_multiplier=2, strides=2, padding="same",
                                           activation="relu"), (1, 5, 4, 1), (1, 3, 2, 2), trainable=3, params=14),
    # transposed, valid: (4 - 1) * 2 + 3 = 9 and (3 - 1) * 2 + 3 = 7; kernel (3, 3, 2, 1) = 18 + 2 bias
    LayerCase(layers.Conv2DTranspose, dict(filters=2, kernel_size=3, strides=2), (1, 4, 3, 1), (1, 9, 7, 2),
              trainable=2, params=20),
    # same: 3 * 2 = 6 steps; kernel (2, 2, 3) = 12 + 2 bias
    LayerCase(layers.Conv1DTranspose, dict(filters=2, kernel_size=2, strides=2, padding="same", activation="tanh"),
              (2, 3, 3), (2, 6, 2), trainable=2, params=14),
    # output_padding 1 on valid: (3 - 1) * 2 + 2 + 1 = 7; channels_first, no bias: (2, 2, 1, 2) = 8
    LayerCase(layers.Conv2DTranspose, dict(filters=1, kernel_size=2, strides=2, output_padding=1, use_bias=False,
                                           data_format="channels_first"), (1, 2, 3, 2), (1, 1, 7, 5),
              trainable=1, params=8),
    # dilation 2: (4 - 1) + (3 - 1) * 2 + 1 = 8; (3, 1, 2) = 6 + 1
    LayerCase(layers.Conv1DTranspose, dict(filters=1, kernel_size=3, dilation_rate=2), (1, 4, 2), (1, 8, 1),
              trainable=2, params=7),
    # 3-D: 4 - 2 + 1 = 3, 3 - 1 = 2, 3 - 1 = 2; kernel (2, 2, 2, 2, 2) = 32 + 2 bias
    LayerCase(layers.Conv3D, dict(filters=2, kernel_size=2, activation="tanh"), (1, 4, 3, 3, 2), (1, 3, 2, 2, 2),
              trainable=2, params=34),
    # 3-D "same", strides (2, 1, 1), groups 2: kernel (2, 1, 2, 1, 2) = 8, no bias; ceil(3 / 2) = 2
    LayerCase(layers.Conv3D, dict(filters=2, kernel_size=(2, 1, 2), strides=(2, 1, 1), padding="same", groups=2,
                                  use_bias=False), (1, 3, 2, 3, 2), (1, 2, 2, 3, 2), trainable=1, params=8),
    # channels_first (batch, C, H, W): 2 * 2 * 3 * 2 + 2 = 26; out (1, 2, 3, 2)
    LayerCase(layers.Conv2D, dict(filters=2, kernel_size=2, data_format="channels_first"), (1, 3, 4, 3),
              (1, 2, 3, 2), trainable=2, params=26),
]


@harness.parametrize(CASES)
def test_layer_harness(device, case, check):
    check(case)
