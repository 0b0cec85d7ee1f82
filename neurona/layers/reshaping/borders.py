"""``ZeroPadding1D``/``ZeroPadding2D`` and ``Cropping1D``/``Cropping2D``: zeros added around, or rows cut off, the
spatial axes (composed from ``ops.pad`` and ``ops.getitem``, whose gradients crop and zero-pad back)."""

from ... import ops
from ..base import Layer
from .spatial import check_data_format, check_rank, int_pair, int_pairs, spatial_axes


class _Border(Layer):
    """A layer that widens (``sign = 1``) or narrows (``sign = -1``) each spatial axis by ``(before, after)``."""

    rank = 1
    sign = 1
    argument = "padding"

    def __init__(self, widths, data_format="channels_last", **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.data_format = check_data_format(data_format, owner)
        pairs = (int_pair(widths, owner, self.argument),) if self.rank == 1 else int_pairs(widths, owner,
                                                                                        self.argument)
        setattr(self, self.argument, pairs[0] if self.rank == 1 else pairs)
        self._pairs = pairs
        self._axes = spatial_axes(self.rank, self.data_format)

    def check_input_shape(self, input_shape):
        super().check_input_shape(input_shape)
        check_rank(self, input_shape, self.rank + 2)
        for axis, (before, after) in zip(self._axes, self._pairs):
            if self.sign < 0 and input_shape[axis] is not None and before + after >= input_shape[axis]:
                raise ValueError(f"layer {self.name!r} ({type(self).__name__}) crops {before + after} of the "
                                 f"{input_shape[axis]} entries of axis {axis} (inputs of shape "
                                 f"{tuple(input_shape)}); cropping must leave at least one")

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        for axis, (before, after) in zip(self._axes, self._pairs):
            if shape[axis] is not None:
                shape[axis] += self.sign * (before + after)
        return tuple(shape)

    def _config(self):
        value = getattr(self, self.argument)
        return {self.argument: list(value) if self.rank == 1 else [list(p) for p in value]}


class _Padding(_Border):
    def call(self, inputs, training=None):
        widths = [(0, 0)] * inputs.ndim
        for axis, pair in zip(self._axes, self._pairs):
            widths[axis] = pair
        return ops.pad(inputs, widths)

    def get_config(self):
        return {**super().get_config(), **self._config(), "data_format": self.data_format}


class _Cropping(_Border):
    sign = -1
    argument = "cropping"

    def call(self, inputs, training=None):
        self.check_input_shape(inputs.shape)
        index = [slice(None)] * inputs.ndim
        for axis, (before, after) in zip(self._axes, self._pairs):
            index[axis] = slice(before, inputs.shape[axis] - after)
        return ops.getitem(inputs, tuple(index))


class ZeroPadding1D(_Padding):
    """Zeros before and after the steps of ``(batch, steps, features)`` inputs.

    Args:
        padding: an int (both sides) or a pair ``(before, after)``, ints >= 0.
        data_format: ``"channels_last"`` (default; ``(batch, steps, features)``) or ``"channels_first"``.
    """

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding2D(_Padding):
    """Rows of zeros above and below, and columns left and right, of ``(batch, rows, cols, channels)`` images.

    Args:
        padding: an int (all sides), a pair ``(rows, cols)`` (symmetric), or ``((top, bottom), (left, right))``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"`` (``(batch, channels, rows, cols)``).
    """

    rank = 2

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class Cropping1D(_Cropping):
    """Steps cut off the start and end of ``(batch, steps, features)`` inputs.

    Args:
        cropping: an int (both ends) or a pair ``(start, end)``, ints >= 0 that leave at least one step.
    """

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(cropping, **kwargs)

    def get_config(self):
        return {**super().get_config(), **self._config()}


class Cropping2D(_Cropping):
    """Rows cut off the top and bottom, and columns off the sides, of ``(batch, rows, cols, channels)`` images.

    Args:
        cropping: an int (all sides), a pair ``(rows, cols)`` (symmetric), or ``((top, bottom), (left, right))``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
    """

    rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)

    def get_config(self):
        return {**super().get_config(), **self._config(), "data_format": self.data_format}
