"""Image preprocessing layers with Keras's numerics: ``Rescaling``, ``Resizing`` and ``CenterCrop`` (differentiable,
the same in training and at inference)."""

from ... import ops
from ...arguments import check_bool, check_int, check_real, is_real, shown
from ...ops.image import INTERPOLATIONS, check_data_format, resize
from .. import symbolic
from ..base import Layer, ShapePreservingLayer
from ..reshaping.spatial import check_rank, spatial_axes


def _number_or_list(value, owner, name):
    """A real number as a float, or a list of them (one per channel)."""
    if is_real(value):
        return check_real(value, owner, name)
    if isinstance(value, (list, tuple)) and value and all(is_real(v) for v in value):
        return [check_real(v, owner, name) for v in value]
    raise TypeError(f"{owner}: {name} must be a real number or a list of them (one per channel), got {shown(value)}")


class _FloatOutput:
    """Integer images (``Input(dtype="uint8")``) come out in the layer's float dtype, symbolically too."""

    def compute_output_spec(self, *args, **kwargs):
        spec = super().compute_output_spec(*args, **kwargs)
        return symbolic.SymbolicTensor(spec.shape, self.compute_dtype, name=self.name)


class Rescaling(_FloatOutput, ShapePreservingLayer):
    """``x * scale + offset``, cast to the layer's dtype first (``Rescaling(1 / 255)`` maps pixels to [0, 1]).

    Args:
        scale: a number, or a list of numbers broadcast against the last axis.
        offset: a number (or list) added after scaling (default 0).
    """

    supports_masking = True

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = _number_or_list(scale, "Rescaling", "scale")
        self.offset = _number_or_list(offset, "Rescaling", "offset")

    def call(self, inputs, training=None):
        dtype = self.compute_dtype
        x = ops.cast(inputs, dtype)
        scale, offset = (ops.cast(ops.convert_to_tensor(v), dtype) for v in (self.scale, self.offset))
        return ops.add(ops.mul(x, scale), offset)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


class _ImageLayer(_FloatOutput, Layer):
    """A layer that maps batches of images to ``(height, width)`` images."""

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.height = check_int(height, owner, "height", low=1)
        self.width = check_int(width, owner, "width", low=1)
        self.data_format = check_data_format(data_format, owner)
        self._axes = spatial_axes(2, self.data_format)

    def check_input_shape(self, input_shape):
        super().check_input_shape(input_shape)
        check_rank(self, input_shape, 4)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        shape[self._axes[0]], shape[self._axes[1]] = self.height, self.width
        return tuple(shape)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width, "data_format": self.data_format}


class Resizing(_ImageLayer):
    """Images resized to ``(height, width)``, as ``keras.ops.image.resize``.

    Args:
        height, width: the output size.
        interpolation: ``"bilinear"`` (default; half-pixel centres) or ``"nearest"``.
        crop_to_aspect_ratio: first crop the centred largest box of the output's aspect ratio.
        pad_to_aspect_ratio: first pad the image to that aspect ratio with ``fill_value``, centred.
        fill_mode: ``"constant"`` (the only mode Keras has).
        fill_value: the value of ``pad_to_aspect_ratio``'s border.
        antialias: widen the bilinear kernel when downsampling.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
    """

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
                 pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0, antialias=False, data_format=None,
                 **kwargs):
        super().__init__(height, width, data_format, **kwargs)
        if interpolation not in INTERPOLATIONS:
            raise ValueError(f"Resizing: interpolation must be one of {INTERPOLATIONS}, got {shown(interpolation)}")
        if fill_mode != "constant":
            raise ValueError(f"Resizing: fill_mode must be 'constant' (the only mode Keras has), got "
                             f"{shown(fill_mode)}")
        self.interpolation, self.fill_mode = interpolation, fill_mode
        self.crop_to_aspect_ratio = check_bool(crop_to_aspect_ratio, "Resizing", "crop_to_aspect_ratio")
        self.pad_to_aspect_ratio = check_bool(pad_to_aspect_ratio, "Resizing", "pad_to_aspect_ratio")
        if self.crop_to_aspect_ratio and self.pad_to_aspect_ratio:
            raise ValueError("Resizing: only one of crop_to_aspect_ratio and pad_to_aspect_ratio can be True")
        self.fill_value = check_real(fill_value, "Resizing", "fill_value")
        self.antialias = check_bool(antialias, "Resizing", "antialias")

    def call(self, inputs, training=None):
        return resize(ops.cast(inputs, self.compute_dtype), (self.height, self.width),
                      interpolation=self.interpolation, antialias=self.antialias,
                      crop_to_aspect_ratio=self.crop_to_aspect_ratio, pad_to_aspect_ratio=self.pad_to_aspect_ratio,
                      fill_value=self.fill_value, data_format=self.data_format)

    def get_config(self):
        return {**super().get_config(), "interpolation": self.interpolation,
                "crop_to_aspect_ratio": self.crop_to_aspect_ratio, "pad_to_aspect_ratio": self.pad_to_aspect_ratio,
                "fill_mode": self.fill_mode, "fill_value": self.fill_value, "antialias": self.antialias}


class CenterCrop(_ImageLayer):
    """The centred ``(height, width)`` box of each image; an image smaller than that along either axis is cropped
    to the output's aspect ratio and resized bilinearly instead (Keras's ``smart_resize``).

    Args:
        height, width: the output size.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
    """

    def call(self, inputs, training=None):
        inputs = ops.cast(inputs, self.compute_dtype)
        rows, cols = (inputs.shape[a] for a in self._axes)
        if rows < self.height or cols < self.width:
            return resize(inputs, (self.height, self.width), crop_to_aspect_ratio=True, data_format=self.data_format)
        top, left = (rows - self.height) // 2, (cols - self.width) // 2
        index = [slice(None)] * 4
        index[self._axes[0]], index[self._axes[1]] = slice(top, top + self.height), slice(left, left + self.width)
        return ops.getitem(inputs, tuple(index))
