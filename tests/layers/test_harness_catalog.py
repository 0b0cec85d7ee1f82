"""Issue 21's catalog through the shared layer harness: reshaping (padding, cropping, up-sampling, Permute,
RepeatVector), noise and regularization layers, UnitNormalization and the image preprocessing layers.

None of them has weights. Output shapes are worked out by hand: ZeroPadding2D(((1, 0), (2, 1))) on 3 x 3 images
gives 3 + 1 + 0 = 4 rows and 3 + 2 + 1 = 6 columns.
"""

from _harness import layer_harness as harness
from _harness.layer_harness import LayerCase

from neurona import layers

CASES = [
    LayerCase(layers.UpSampling1D, dict(size=3), (2, 4, 3), (2, 12, 3)),
    LayerCase(layers.UpSampling1D, dict(), (2, 3, 2), (2, 6, 2)),
    LayerCase(layers.UpSampling2D, dict(size=(2, 3)), (2, 3, 2, 2), (2, 6, 6, 2)),
    LayerCase(layers.UpSampling2D, dict(size=2, interpolation="bilinear"), (2, 3, 4, 2), (2, 6, 8, 2)),
    LayerCase(layers.UpSampling2D, dict(size=(3, 2), data_format="channels_first", interpolation="bilinear"),
              (2, 2, 3, 3), (2, 2, 9, 6)),
    LayerCase(layers.ZeroPadding1D, dict(padding=(1, 2)), (2, 3, 2), (2, 6, 2)),
    LayerCase(layers.ZeroPadding1D, dict(), (2, 3, 2), (2, 5, 2)),
    LayerCase(layers.ZeroPadding1D, dict(padding=2, data_format="channels_first"), (2, 3, 4), (2, 3, 8)),
    LayerCase(layers.ZeroPadding2D, dict(padding=((1, 0), (2, 1))), (2, 3, 3, 2), (2, 4, 6, 2)),
    LayerCase(layers.ZeroPadding2D, dict(padding=(1, 2), data_format="channels_first"), (2, 2, 3, 3), (2, 2, 5, 7)),
    LayerCase(layers.ZeroPadding2D, dict(), (2, 2, 2, 1), (2, 4, 4, 1)),
    LayerCase(layers.Cropping1D, dict(cropping=(0, 2)), (2, 5, 3), (2, 3, 3)),
    LayerCase(layers.Cropping1D, dict(), (2, 4, 2), (2, 2, 2)),
    LayerCase(layers.Cropping2D, dict(cropping=((1, 0), (0, 2))), (2, 4, 5, 2), (2, 3, 3, 2)),
    LayerCase(layers.Cropping2D, dict(cropping=1, data_format="channels_first"), (2, 2, 4, 4), (2, 2, 2, 2)),
    LayerCase(layers.Cropping2D, dict(), (2, 2, 3, 1), (2, 2, 3, 1)),
    LayerCase(layers.Permute, dict(dims=(2, 1)), (2, 3, 4), (2, 4, 3)),
    LayerCase(layers.Permute, dict(dims=(3, 1, 2)), (2, 3, 4, 2), (2, 2, 3, 4)),
    LayerCase(layers.RepeatVector, dict(n=3), (2, 4), (2, 3, 4)),
    LayerCase(layers.RepeatVector, dict(n=1, name="once"), (3, 2), (3, 1, 2)),
    # one decision per sample and channel: 4 x 6 (and 3 x 5) of them
    LayerCase(layers.SpatialDropout1D, dict(rate=0.5, seed=1), (4, 5, 6), (4, 5, 6), stochastic=True),
    LayerCase(layers.SpatialDropout1D, dict(rate=0.0, seed=2), (2, 3, 2), (2, 3, 2)),
    LayerCase(layers.SpatialDropout2D, dict(rate=0.4, seed=3), (3, 4, 4, 5), (3, 4, 4, 5), stochastic=True),
    LayerCase(layers.SpatialDropout2D, dict(rate=0.3, data_format="channels_first", seed=4), (3, 5, 4, 4),
              (3, 5, 4, 4), stochastic=True),
    LayerCase(layers.GaussianNoise, dict(stddev=0.5, seed=1), (2, 6), (2, 6), stochastic=True),
    LayerCase(layers.GaussianNoise, dict(stddev=1.0, seed=2), (2, 3, 4), (2, 3, 4), stochastic=True),
    LayerCase(layers.GaussianNoise, dict(stddev=0.0), (2, 3), (2, 3)),
    LayerCase(layers.GaussianDropout, dict(rate=0.3, seed=1), (2, 6), (2, 6), stochastic=True),
    LayerCase(layers.GaussianDropout, dict(rate=0.0, seed=3), (2, 3), (2, 3)),
    LayerCase(layers.AlphaDropout, dict(rate=0.2, seed=1), (4, 6), (4, 6), stochastic=True),
    LayerCase(layers.AlphaDropout, dict(rate=0.5, noise_shape=(None, 1, 3), seed=2), (2, 4, 3), (2, 4, 3),
              stochastic=True),
    LayerCase(layers.ActivityRegularization, dict(l1=0.01), (2, 5), (2, 5), losses=1),
    LayerCase(layers.ActivityRegularization, dict(l1=0.1, l2=0.2), (2, 3, 2), (2, 3, 2), losses=1),
    LayerCase(layers.UnitNormalization, dict(), (2, 5), (2, 5)),
    LayerCase(layers.UnitNormalization, dict(axis=[1, 2]), (2, 3, 4), (2, 3, 4)),
    LayerCase(layers.UnitNormalization, dict(axis=1), (2, 3, 4), (2, 3, 4)),
    LayerCase(layers.Rescaling, dict(scale=1 / 255), (2, 4, 4, 3), (2, 4, 4, 3)),
    LayerCase(layers.Rescaling, dict(scale=2.0, offset=-1.0), (2, 5), (2, 5)),
    LayerCase(layers.Rescaling, dict(scale=[1.0, 2.0, 3.0], offset=0.5), (2, 2, 2, 3), (2, 2, 2, 3)),
    LayerCase(layers.Resizing, dict(height=3, width=5), (2, 4, 4, 2), (2, 3, 5, 2)),
    LayerCase(layers.Resizing, dict(height=4, width=2, interpolation="nearest"), (2, 3, 5, 1), (2, 4, 2, 1)),
    LayerCase(layers.Resizing, dict(height=3, width=3, crop_to_aspect_ratio=True), (2, 4, 6, 2), (2, 3, 3, 2)),
    LayerCase(layers.Resizing, dict(height=4, width=4, pad_to_aspect_ratio=True, fill_value=0.5), (2, 2, 4, 1),
              (2, 4, 4, 1)),
    LayerCase(layers.Resizing, dict(height=3, width=2, antialias=True, data_format="channels_first"), (2, 2, 6, 5),
              (2, 2, 3, 2)),
    LayerCase(layers.CenterCrop, dict(height=2, width=3), (2, 4, 5, 2), (2, 2, 3, 2)),
    LayerCase(layers.CenterCrop, dict(height=4, width=4), (2, 3, 5, 1), (2, 4, 4, 1)),  # smaller: resized
    LayerCase(layers.CenterCrop, dict(height=2, width=2, data_format="channels_first"), (2, 3, 4, 3), (2, 3, 2, 2)),
]


@harness.parametrize(CASES)
def test_layer_harness(device, case, check):
    check(case)
