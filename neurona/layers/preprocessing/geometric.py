"""Geometric augmentation with Keras 3's names and arguments: ``RandomRotation``, ``RandomTranslation`` and
``RandomZoom``. Each draws one affine map per image and resamples it (see :mod:`.resampling` for the
transform convention, the fill modes and the interpolation); active only with ``training=True``.
"""

import math

from ...arguments import check_real, shown
from .augmentation import RandomAugmentation, check_factor_pair
from .resampling import (
    FILL_MODES,
    INTERPOLATIONS,
    affine_transform,
    rotation_transforms,
    translation_transforms,
    zoom_transforms,
)


class AffineAugmentation(RandomAugmentation):
    """Base of the geometric layers: ``fill_mode``, ``interpolation`` and ``fill_value``.

    Subclasses implement ``transforms(batch, height, width)``, the ``(B, 6)`` affine maps of one call.
    """

    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        owner = type(self).__name__
        if fill_mode not in FILL_MODES:
            raise ValueError(f"{owner}: fill_mode must be one of {FILL_MODES}, got {shown(fill_mode)}")
        if interpolation not in INTERPOLATIONS:
            raise ValueError(f"{owner}: interpolation must be one of {INTERPOLATIONS}, got {shown(interpolation)}")
        self.fill_mode, self.interpolation = fill_mode, interpolation
        self.fill_value = check_real(fill_value, owner, "fill_value")

    def augment(self, images):
        batch, height, width, _ = images.shape
        return affine_transform(images, self.transforms(batch, height, width), self.interpolation,
                                self.fill_mode, self.fill_value)

    def transforms(self, batch, height, width):
        raise NotImplementedError(f"{type(self).__name__} must implement transforms(batch, height, width)")

    def get_config(self):
        return {**super().get_config(), "fill_mode": self.fill_mode, "interpolation": self.interpolation,
                "fill_value": self.fill_value}


class RandomRotation(AffineAugmentation):
    """Rotate each image about its centre by a random angle (Keras 3's ``RandomRotation``).

    The angle is drawn per image from ``U(lower, upper) * 360`` degrees; a positive angle turns the image
    counter-clockwise as displayed (row 0 on top). Output pixel ``(x, y)`` reads the input at
    ``R(angle) (x - cx, y - cy) + (cx, cy)``, ``(cx, cy) = ((W - 1) / 2, (H - 1) / 2)``.

    Args:
        factor: a fraction of a full turn: a number ``f`` in [-1, 1] means ``(-|f|, |f|)``, or a pair
            ``(lower, upper)``; e.g. ``0.2`` rotates by up to 72 degrees either way.
        fill_mode: ``"reflect"`` (default), ``"wrap"``, ``"constant"`` or ``"nearest"``: how pixels outside
            the image are read.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        seed: non-negative int seeding the layer's generator (None: drawn from ``neurona.seed``).
        fill_value: the value read outside the image with ``fill_mode="constant"``.
        data_format: ``"channels_last"``, ``"channels_first"`` or None (``config.image_data_format()``).
    """

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0,
                 data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.factor = check_factor_pair(factor, "RandomRotation", "factor")

    def transforms(self, batch, height, width):
        degrees = self._rng.uniform(self.factor[0] * 360.0, self.factor[1] * 360.0, size=batch)
        return rotation_transforms(degrees * (math.pi / 180.0), height, width)

    def get_config(self):
        return {**super().get_config(), "factor": list(self.factor)}


class RandomTranslation(AffineAugmentation):
    """Shift each image by a random fraction of its height and width (Keras 3's ``RandomTranslation``).

    Per image, ``dy = U(height_lower, height_upper) * H`` rows down and ``dx = U(width_lower, width_upper) * W``
    columns right: output ``(x, y)`` reads the input at ``(x - dx, y - dy)``.

    Args:
        height_factor: a number ``f`` in [-1, 1] (the range ``(-|f|, |f|)``) or a pair ``(lower, upper)``,
            fractions of the height; negative values shift up.
        width_factor: the same for the width; negative values shift left.
        fill_mode, interpolation, seed, fill_value, data_format: as for :class:`RandomRotation`.
    """

    def __init__(self, height_factor, width_factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor = check_factor_pair(height_factor, "RandomTranslation", "height_factor")
        self.width_factor = check_factor_pair(width_factor, "RandomTranslation", "width_factor")

    def transforms(self, batch, height, width):
        dy = self._rng.uniform(*self.height_factor, size=batch) * height
        dx = self._rng.uniform(*self.width_factor, size=batch) * width
        return translation_transforms(dx, dy)

    def get_config(self):
        return {**super().get_config(), "height_factor": list(self.height_factor),
                "width_factor": list(self.width_factor)}


class RandomZoom(AffineAugmentation):
    """Zoom each image in or out about its centre by a random factor (Keras 3's ``RandomZoom``).

    Per image, ``zy = 1 + U(height_lower, height_upper)`` and ``zx = 1 + U(width_lower, width_upper)``
    (``zx = zy`` when ``width_factor`` is None, keeping the aspect ratio): output ``x`` reads the input at
    ``cx + zx (x - cx)``, so a positive factor zooms out and a negative one zooms in.

    Args:
        height_factor: a number ``f`` in [-1, 1] (the range ``(-|f|, |f|)``) or a pair ``(lower, upper)``.
        width_factor: the same for the width, or None (default) for the height's zoom.
        fill_mode, interpolation, seed, fill_value, data_format: as for :class:`RandomRotation`.
    """

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor = check_factor_pair(height_factor, "RandomZoom", "height_factor")
        self.width_factor = None if width_factor is None else check_factor_pair(width_factor, "RandomZoom",
                                                                                "width_factor")

    def transforms(self, batch, height, width):
        zoom_y = 1.0 + self._rng.uniform(*self.height_factor, size=batch)
        zoom_x = zoom_y if self.width_factor is None else 1.0 + self._rng.uniform(*self.width_factor, size=batch)
        return zoom_transforms(zoom_x, zoom_y, height, width)

    def get_config(self):
        return {**super().get_config(), "height_factor": list(self.height_factor),
                "width_factor": None if self.width_factor is None else list(self.width_factor)}
