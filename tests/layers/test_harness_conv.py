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
]


@harness.parametrize(CASES)
def test_layer_harness(device, case, check):
    check(case)
