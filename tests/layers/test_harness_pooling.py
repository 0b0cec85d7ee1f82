"""The pooling layers through the shared layer harness (no weights; shapes as for convolutions).

Inputs are standard normal draws: distinct almost surely, and their gaps are far wider than the
finite-difference step, so every window's maximum is unique and gradcheck is exact.
"""

from _harness import layer_harness as harness
from _harness.layer_harness import LayerCase

from neurona import layers

CASES = [
    LayerCase(layers.MaxPooling2D, dict(), (2, 4, 4, 2), (2, 2, 2, 2)),
    LayerCase(layers.MaxPooling3D, dict(), (1, 4, 4, 2, 2), (1, 2, 2, 1, 2)),
    LayerCase(layers.MaxPooling3D, dict(pool_size=(2, 1, 2), strides=1, padding="same"), (1, 2, 3, 2, 1),
              (1, 2, 3, 2, 1)),
    LayerCase(layers.AveragePooling3D, dict(pool_size=2, padding="same"), (1, 3, 2, 3, 2), (1, 2, 1, 2, 2)),
    LayerCase(layers.AveragePooling3D, dict(pool_size=2, data_format="channels_first"), (1, 2, 2, 4, 2),
              (1, 2, 1, 2, 1)),
    LayerCase(layers.GlobalAveragePooling3D, dict(), (2, 2, 3, 2, 3), (2, 3)),
    LayerCase(layers.GlobalAveragePooling3D, dict(keepdims=True, data_format="channels_first"), (2, 3, 2, 3, 2),
              (2, 3, 1, 1, 1)),
    LayerCase(layers.GlobalMaxPooling3D, dict(), (2, 2, 3, 2, 3), (2, 3)),
    LayerCase(layers.GlobalMaxPooling3D, dict(keepdims=True), (1, 2, 2, 2, 2), (1, 1, 1, 1, 2)),
    LayerCase(layers.AveragePooling2D, dict(pool_size=2, data_format="channels_first"), (2, 3, 4, 2), (2, 3, 2, 1)),
    LayerCase(layers.GlobalMaxPooling2D, dict(data_format="channels_first"), (2, 3, 4, 2), (2, 3)),
    # ceil(5 / 2) = 3, ceil(4 / 1) = 4
    LayerCase(layers.MaxPooling2D, dict(pool_size=(3, 2), strides=(2, 1), padding="same"), (1, 5, 4, 2),
              (1, 3, 4, 2)),
    LayerCase(layers.AveragePooling2D, dict(pool_size=3, strides=2, padding="same"), (1, 5, 4, 2), (1, 3, 2, 2)),
    LayerCase(layers.AveragePooling2D, dict(pool_size=2, strides=1), (2, 3, 3, 1), (2, 2, 2, 1)),
    # floor((7 - 3) / 3) + 1 = 2
    LayerCase(layers.MaxPooling1D, dict(pool_size=3), (2, 7, 2), (2, 2, 2)),
    LayerCase(layers.MaxPooling1D, dict(pool_size=2, strides=1, padding="same"), (2, 5, 2), (2, 5, 2)),
    LayerCase(layers.AveragePooling1D, dict(name="avg"), (2, 6, 2), (2, 3, 2)),
    LayerCase(layers.AveragePooling1D, dict(pool_size=3, strides=2, padding="same"), (2, 5, 3), (2, 3, 3)),
    LayerCase(layers.GlobalAveragePooling2D, dict(name="gap"), (2, 3, 3, 2), (2, 2)),
    LayerCase(layers.GlobalAveragePooling2D, dict(keepdims=True), (2, 3, 3, 2), (2, 1, 1, 2)),
    LayerCase(layers.GlobalMaxPooling2D, dict(name="gmp"), (2, 3, 3, 2), (2, 2)),
    LayerCase(layers.GlobalMaxPooling2D, dict(keepdims=True), (2, 3, 2, 2), (2, 1, 1, 2)),
    LayerCase(layers.GlobalAveragePooling1D, dict(name="gap1"), (2, 5, 3), (2, 3)),
    LayerCase(layers.GlobalAveragePooling1D, dict(keepdims=True), (2, 5, 3), (2, 1, 3)),
    LayerCase(layers.GlobalMaxPooling1D, dict(name="gmp1"), (2, 5, 3), (2, 3)),
    LayerCase(layers.GlobalMaxPooling1D, dict(keepdims=True), (2, 5, 3), (2, 1, 3)),
]


@harness.parametrize(CASES)
def test_layer_harness(device, case, check):
    check(case)
