"""``UpSampling1D`` and ``UpSampling2D``: every step (pixel) repeated, or the image resized bilinearly."""

from ... import ops
from ...arguments import check_int, shown
from ...ops.image import resize
from ..base import Layer
from .spatial import check_data_format, check_rank, int_pair, spatial_axes


class _UpSampling(Layer):
    rank = 1

    def check_input_shape(self, input_shape):
        super().check_input_shape(input_shape)
        check_rank(self, input_shape, self.rank + 2)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis, factor in zip(self._axes, self._factors):
            shape[axis] = None if shape[axis] is None else shape[axis] * factor
        return tuple(shape)

    def _repeat(self, inputs):
        """Each entry along the spatial axes repeated (``ops.repeat``'s values) as a broadcast, whose gradient is a
        sum over the copies rather than a scatter."""
        for axis, factor in zip(self._axes, self._factors):
            if factor > 1:
                shape = inputs.shape
                wide = ops.broadcast_to(ops.expand_dims(inputs, axis + 1),
                                        shape[:axis + 1] + (factor,) + shape[axis + 1:])
                inputs = ops.reshape(wide, shape[:axis] + (shape[axis] * factor,) + shape[axis + 1:])
        return inputs


class UpSampling1D(_UpSampling):
    """Each step of ``(batch, steps, features)`` inputs repeated ``size`` times: ``(batch, steps * size, features)``.

    Args:
        size: the repetition factor, an int >= 1.
    """

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        self.size = check_int(size, "UpSampling1D", "size", low=1)
        self._axes, self._factors = (1,), (self.size,)

    def call(self, inputs, training=None):
        return self._repeat(inputs)

    def get_config(self):
        return {**super().get_config(), "size": self.size}


class UpSampling2D(_UpSampling):
    """Images ``(batch, rows, cols, channels)`` enlarged by ``size = (row factor, col factor)``.

    ``"nearest"`` repeats every pixel; ``"bilinear"`` interpolates with half-pixel centres,
    as ``keras.ops.image.resize`` (the borders repeat the edge pixel).

    Args:
        size: an int (both axes) or a pair of ints >= 1.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        interpolation: ``"nearest"`` (default) or ``"bilinear"``.
    """

    rank = 2

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        self.size = int_pair(size, "UpSampling2D", "size", low=1)
        self.data_format = check_data_format(data_format, "UpSampling2D")
        if not isinstance(interpolation, str) or interpolation.lower() not in ("nearest", "bilinear"):
            raise ValueError(f"UpSampling2D: interpolation must be 'nearest' or 'bilinear', got {shown(interpolation)}")
        self.interpolation = interpolation.lower()
        self._axes, self._factors = spatial_axes(2, self.data_format), self.size

    def call(self, inputs, training=None):
        if self.interpolation == "nearest":
            return self._repeat(inputs)
        size = [inputs.shape[axis] * factor for axis, factor in zip(self._axes, self._factors)]
        return resize(inputs, size, interpolation="bilinear", data_format=self.data_format)

    def get_config(self):
        return {**super().get_config(), "size": list(self.size), "data_format": self.data_format,
                "interpolation": self.interpolation}
