"""RandomFlip, RandomRotation, RandomTranslation, RandomZoom and RandomContrast through the shared layer harness.

None has weights; each draws its augmentation in training only (``stochastic``) and is the identity at
inference. The images are small, ``(batch, height, width, channels)``, so that gradcheck stays quick; the
batch of 6 makes it all but certain that a training call changes some image (a flip has probability 1/2 each).
"""

from _harness import layer_harness as harness
from _harness.layer_harness import LayerCase

from neurona import layers

IMAGES = (6, 4, 5, 2)

CASES = [
    LayerCase(layers.RandomFlip, dict(mode="horizontal", seed=3), IMAGES, IMAGES, stochastic=True),
    LayerCase(layers.RandomFlip, dict(mode="vertical", seed=5), IMAGES, IMAGES, stochastic=True),
    LayerCase(layers.RandomFlip, dict(seed=7, data_format="channels_first"), (6, 2, 4, 3), (6, 2, 4, 3),
              stochastic=True),
    LayerCase(layers.RandomRotation, dict(factor=0.2, seed=1), IMAGES, IMAGES, stochastic=True),
    LayerCase(layers.RandomRotation, dict(factor=(-0.1, 0.3), fill_mode="constant", fill_value=0.5, seed=2),
              IMAGES, IMAGES, stochastic=True),
    LayerCase(layers.RandomRotation, dict(factor=0.5, fill_mode="wrap", interpolation="nearest", seed=4),
              (6, 5, 5, 1), (6, 5, 5, 1), stochastic=True),
    LayerCase(layers.RandomTranslation, dict(height_factor=0.3, width_factor=(-0.2, 0.4), seed=1), IMAGES, IMAGES,
              stochastic=True),
    LayerCase(layers.RandomTranslation, dict(height_factor=0.5, width_factor=0.5, fill_mode="nearest", seed=2),
              IMAGES, IMAGES, stochastic=True),
    LayerCase(layers.RandomZoom, dict(height_factor=0.3, seed=1), IMAGES, IMAGES, stochastic=True),
    LayerCase(layers.RandomZoom, dict(height_factor=(-0.4, -0.1), width_factor=0.2, fill_mode="constant", seed=2),
              IMAGES, IMAGES, stochastic=True),
    # value_range wide enough for the normal draws: clipping would zero gradients where it cuts
    LayerCase(layers.RandomContrast, dict(factor=0.5, value_range=(-50, 50), seed=1), IMAGES, IMAGES,
              stochastic=True),
    LayerCase(layers.RandomContrast, dict(factor=(0.2, 0.8), value_range=[-40.0, 40.0], seed=2,
                                          data_format="channels_first"), (6, 2, 3, 3), (6, 2, 3, 3),
              stochastic=True),
]


@harness.parametrize(CASES)
def test_layer_harness(device, case, check):
    check(case)
