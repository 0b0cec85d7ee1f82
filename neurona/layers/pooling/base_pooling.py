"""``BasePooling`` and ``BaseGlobalPooling``: what the pooling layers share."""

from ... import ops
from ...ops.convolution import conv_output_size, resolve_padding
from ..base import Layer, check_bool
from ..conv.base_conv import _tuple, check_window_fits
from ..conv.data_format import check_data_format, from_last, shape_from_last, shape_to_last, to_last

_POOLS = {(1, "max"): ops.max_pool1d, (2, "max"): ops.max_pool2d, (3, "max"): ops.max_pool3d,
          (1, "average"): ops.avg_pool1d, (2, "average"): ops.avg_pool2d, (3, "average"): ops.avg_pool3d}


class BasePooling(Layer):
    """Max or average pooling of ``rank``-D inputs (Keras arguments and defaults; channels last or first)."""

    rank = None
    mode = None

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = check_data_format(data_format, type(self).__name__)
        if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
            raise ValueError(f"{type(self).__name__} padding must be 'valid' or 'same', got {padding!r}")
        self.pool_size = _tuple(pool_size, self.rank, "pool_size")
        self.strides = self.pool_size if strides is None else _tuple(strides, self.rank, "strides")
        self.padding = padding.lower()

    def check_input_shape(self, input_shape):
        super().check_input_shape(input_shape)
        if len(input_shape) != self.rank + 2:
            dims = ", ".join(["size"] * self.rank)
            layout = f"(batch, {dims}, channels)" if self.data_format == "channels_last" else \
                f"(batch, channels, {dims})"
            raise ValueError(f"layer {self.name!r} ({type(self).__name__}) expects inputs of rank {self.rank + 2}, "
                             f"shape {layout}, got shape {tuple(input_shape)}")
        check_window_fits(self, shape_to_last(input_shape, self.data_format), "pool_size", self.pool_size,
                          self.strides, (1,) * self.rank, self.padding)

    def compute_output_shape(self, input_shape):
        shape = shape_to_last(input_shape, self.data_format)
        spatial = shape[1:-1]
        if any(s is None for s in spatial):
            return shape_from_last((shape[0],) + (None,) * self.rank + (shape[-1],), self.data_format)
        pad = resolve_padding(self.padding, spatial, self.pool_size, self.strides, (1,) * self.rank)
        out = tuple(conv_output_size(n, k, s, 1, p) for n, k, s, p in zip(spatial, self.pool_size, self.strides, pad))
        return shape_from_last((shape[0],) + out + (shape[-1],), self.data_format)

    def call(self, inputs, training=None):
        if inputs.ndim != self.rank + 2:
            raise ValueError(f"layer {self.name!r} ({type(self).__name__}) expects inputs of rank {self.rank + 2}, "
                             f"got shape {inputs.shape}")
        x = to_last(inputs, self.data_format)
        # built for unknown (None) spatial sizes, the layer meets the real ones only now
        check_window_fits(self, x.shape, "pool_size", self.pool_size, self.strides, (1,) * self.rank, self.padding)
        return from_last(_POOLS[self.rank, self.mode](x, self.pool_size, self.strides, self.padding),
                         self.data_format)

    def get_config(self):
        return {**super().get_config(), "pool_size": list(self.pool_size), "strides": list(self.strides),
                "padding": self.padding, "data_format": self.data_format}


class BaseGlobalPooling(Layer):
    """Mean or max over all spatial axes: ``(batch, *spatial, channels) -> (batch, channels)``."""

    rank = None
    mode = None

    def __init__(self, keepdims=False, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = check_data_format(data_format, type(self).__name__)
        self.keepdims = check_bool(keepdims, f"{type(self).__name__} keepdims")

    def check_input_shape(self, input_shape):
        super().check_input_shape(input_shape)
        if len(input_shape) != self.rank + 2:
            raise ValueError(f"layer {self.name!r} ({type(self).__name__}) expects inputs of rank {self.rank + 2}, "
                             f"got shape {tuple(input_shape)}")
        spatial = shape_to_last(input_shape, self.data_format)[1:-1]
        if any(n is not None and n < 1 for n in spatial):  # a mean over nothing is NaN, a max an error
            raise ValueError(f"layer {self.name!r} ({type(self).__name__}) got inputs of shape {tuple(input_shape)} "
                             "with an empty spatial axis; expected every spatial size >= 1")

    def compute_output_shape(self, input_shape):
        shape = shape_to_last(input_shape, self.data_format)
        if self.keepdims:
            return shape_from_last((shape[0],) + (1,) * self.rank + (shape[-1],), self.data_format)
        return (shape[0], shape[-1])

    def call(self, inputs, training=None):
        if inputs.ndim != self.rank + 2:
            raise ValueError(f"layer {self.name!r} ({type(self).__name__}) expects inputs of rank {self.rank + 2}, "
                             f"got shape {inputs.shape}")
        reduce = ops.mean if self.mode == "average" else ops.max
        first = self.data_format == "channels_first"
        axes = tuple(range(2, self.rank + 2)) if first else tuple(range(1, self.rank + 1))
        return reduce(inputs, axis=axes, keepdims=self.keepdims)

    def get_config(self):
        return {**super().get_config(), "keepdims": self.keepdims, "data_format": self.data_format}
