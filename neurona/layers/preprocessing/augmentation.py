"""Random image augmentation with Keras 3's names and arguments: ``RandomFlip`` and ``RandomContrast`` here, the
geometric layers (rotation, translation, zoom) in :mod:`.geometric`.

Every augmentation layer is active only when called with ``training=True`` and is the identity at inference
(so ``predict`` and ``evaluate`` see the images as they are). It draws from its own generator, seeded by
``seed`` (else by ``neurona.seed``): the same seed gives the same augmentations, and saved models carry the
generator's state. Inputs are images ``(batch, height, width, channels)``, or one image without the batch
axis; ``data_format="channels_first"`` reads ``(batch, channels, height, width)``.
"""

import numpy

from ... import backend, config, ops
from ...arguments import check_int, check_real, is_real, shown
from ...autograd import Tensor
from ..base import ShapePreservingLayer
from .resampling import gather_pixels

DATA_FORMATS = ("channels_last", "channels_first")
HORIZONTAL, VERTICAL, HORIZONTAL_AND_VERTICAL = "horizontal", "vertical", "horizontal_and_vertical"
FLIP_MODES = (HORIZONTAL, VERTICAL, HORIZONTAL_AND_VERTICAL)


def check_factor_pair(factor, owner, name, low=-1.0, high=1.0):
    """Keras's ``factor``: a number ``f`` in ``[low, high]`` means ``(max(-|f|, low), |f|)``; a pair is sorted.

    Returns:
        ``[lower, upper]`` as Python floats (a list: JSON-safe in the config).
    """
    if is_real(factor) and low <= factor <= high:
        return [max(-abs(float(factor)), low), abs(float(factor))]
    if isinstance(factor, (list, tuple)) and len(factor) == 2 and all(is_real(f) for f in factor) \
            and factor[0] <= high and factor[1] >= low:
        return sorted(float(f) for f in factor)
    raise ValueError(f"{owner}: {name} must be a number or a pair of numbers in [{low:g}, {high:g}], "
                     f"got {shown(factor)}")


class RandomAugmentation(ShapePreservingLayer):
    """Base of the augmentation layers: seed, data format, the training switch and image-batch handling.

    Subclasses implement ``augment(images)`` on a channels-last batch ``(B, H, W, C)`` Tensor.
    """

    def __init__(self, seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.seed = None if seed is None else check_int(seed, owner, "seed", low=0)
        self.data_format = config.image_data_format() if data_format is None else data_format
        if self.data_format not in DATA_FORMATS:
            raise ValueError(f"{owner}: data_format must be 'channels_last', 'channels_first' or None, "
                             f"got {shown(data_format)}")
        self._rng = backend.make_generator(self.seed)

    def call(self, inputs, training=None):
        if not training:
            return inputs
        if inputs.ndim not in (3, 4):
            raise ValueError(f"layer {self.name!r} ({type(self).__name__}): expected images of rank 4 "
                             f"(batch, height, width, channels) or 3 (one image), got shape {inputs.shape}")
        x = inputs if inputs.ndim == 4 else ops.expand_dims(inputs, 0)
        if self.data_format == "channels_first":
            x = ops.transpose(x, (0, 2, 3, 1))
        x = self.augment(x)
        if self.data_format == "channels_first":
            x = ops.transpose(x, (0, 3, 1, 2))
        return x if inputs.ndim == 4 else ops.squeeze(x, 0)

    def augment(self, images):
        raise NotImplementedError(f"{type(self).__name__} must implement augment(images)")

    def get_config(self):
        return {**super().get_config(), "seed": self.seed, "data_format": self.data_format}


class RandomFlip(RandomAugmentation):
    """Flip each image with probability 1/2 (Keras 3's ``RandomFlip``).

    ``"horizontal"`` reverses the columns (left-right), ``"vertical"`` the rows (top-bottom),
    ``"horizontal_and_vertical"`` both at once for the images drawn (a half turn), as in Keras, where one
    draw per image decides both. An image is flipped when its uniform draw is ``<= 0.5``.

    Args:
        mode: ``"horizontal"``, ``"vertical"`` or ``"horizontal_and_vertical"`` (default).
        seed: non-negative int seeding the layer's generator (None: drawn from ``neurona.seed``).
        data_format: ``"channels_last"``, ``"channels_first"`` or None (``config.image_data_format()``).
    """

    def __init__(self, mode=HORIZONTAL_AND_VERTICAL, seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if mode not in FLIP_MODES:
            raise ValueError(f"RandomFlip: mode must be one of {FLIP_MODES}, got {shown(mode)}")
        self.mode = mode

    def augment(self, images):
        batch, height, width, _ = images.shape
        flips = self._rng.random(batch) <= 0.5
        rows = numpy.broadcast_to(numpy.arange(height), (batch, height)).copy()
        cols = numpy.broadcast_to(numpy.arange(width), (batch, width)).copy()
        if self.mode in (HORIZONTAL, HORIZONTAL_AND_VERTICAL):
            cols[flips] = cols[flips, ::-1]
        if self.mode in (VERTICAL, HORIZONTAL_AND_VERTICAL):
            rows[flips] = rows[flips, ::-1]
        return gather_pixels(images, rows[:, :, None], cols[:, None, :])

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


class RandomContrast(RandomAugmentation):
    """Scale each image's deviation from its mean by a random factor (Keras 3's ``RandomContrast``).

    For each image and channel, with ``mean`` its average over height and width and ``c`` one draw per image
    from ``U(1 - lower, 1 + upper)``::

        y = clip((x - mean) * c + mean, value_range[0], value_range[1])

    Args:
        factor: a number ``f`` in [0, 1] or a pair ``(lower, upper)``; as in Keras, a number gives
            ``(lower, upper) = (0, f)`` (Keras's bounds ``(0, 1)`` clamp ``-f`` to 0), so ``c`` lies in
            ``[1, 1 + f]``.
        value_range: the ``(low, high)`` range of the pixel values, which outputs are clipped to.
        seed: non-negative int seeding the layer's generator (None: drawn from ``neurona.seed``).
        data_format: ``"channels_last"``, ``"channels_first"`` or None (``config.image_data_format()``).
    """

    def __init__(self, factor, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = check_factor_pair(factor, "RandomContrast", "factor", low=0.0, high=1.0)
        if not (isinstance(value_range, (list, tuple)) and len(value_range) == 2
                and all(is_real(v) for v in value_range) and value_range[0] < value_range[1]):
            raise ValueError(f"RandomContrast: value_range must be a pair (low, high) with low < high, "
                             f"got {shown(value_range)}")
        self.value_range = [check_real(v, "RandomContrast", "value_range") for v in value_range]

    def augment(self, images):
        lower, upper = self.factor
        draws = self._rng.uniform(1.0 - lower, 1.0 + upper, size=(images.shape[0], 1, 1, 1))
        contrast = Tensor._wrap(backend.to_device(draws.astype(images.dtype), images.device), False)
        mean = ops.mean(images, axis=(1, 2), keepdims=True)
        out = ops.add(ops.mul(ops.sub(images, mean), contrast), mean)
        return ops.clip(out, self.value_range[0], self.value_range[1])

    def get_config(self):
        return {**super().get_config(), "factor": list(self.factor), "value_range": list(self.value_range)}
