"""``BasePooling`` and ``BaseGlobalPooling``: what the pooling layers share."""

from ... import ops
from ...ops.convolution import conv_output_size, resolve_padding
from ..base import Layer, check_bool
from ..conv.base_conv import _tuple, check_window_fits

_POOLS = {(1, "max"): ops.max_pool1d, (2, "max"): ops.max_pool2d,
          (1, "average"): ops.avg_pool1d, (2, "average"): ops.avg_pool2d}


class BasePooling(Layer):
    """Max or average pooling of ``rank``-D inputs, channels_last (Keras arguments and defaults)."""

    rank = None
    mode = None

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format="channels_last", **kwargs):
        super().__init__(**kwargs)
        if data_format != "channels_last":
            raise ValueError(f"{type(self).__name__} supports data_format='channels_last' only, got {data_format!r}")
        if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
            raise ValueError(f"{type(self).__name__} padding must be 'valid' or 'same', got {padding!r}")
        self.pool_size = _tuple(pool_size, self.rank, "pool_size")
        self.strides = self.pool_size if strides is None else _tuple(strides, self.rank, "strides")
        self.padding = padding.lower()

    def check_input_shape(self, input_shape):
        super().check_input_shape(input_shape)
        if len(input_shape) != self.rank + 2:
            dims = ", ".join(["size"] * self.rank)
            raise ValueError(f"layer {self.name!r} ({type(self).__name__}) expects inputs of rank {self.rank + 2}, "
                             f"shape (batch, {dims}, channels), got shape {tuple(input_shape)}")
        check_window_fits(self, input_shape, "pool_size", self.pool_size, self.strides, (1,) * self.rank, self.padding)

    def compute_output_shape(self, input_shape):
        spatial = input_shape[1:-1]
        if any(s is None for s in spatial):
            return (input_shape[0],) + (None,) * self.rank + (input_shape[-1],)
        pad = resolve_padding(self.padding, spatial, self.pool_size, self.strides, (1,) * self.rank)
        out = tuple(conv_output_size(n, k, s, 1, p) for n, k, s, p in zip(spatial, self.pool_size, self.strides, pad))
        return (input_shape[0],) + out + (input_shape[-1],)

    def call(self, inputs, training=None):
        if inputs.ndim != self.rank + 2:
            raise ValueError(f"layer {self.name!r} ({type(self).__name__}) expects inputs of rank {self.rank + 2}, "
                             f"got shape {inputs.shape}")
        # built for unknown (None) spatial sizes, the layer meets the real ones only now
        check_window_fits(self, inputs.shape, "pool_size", self.pool_size, self.strides, (1,) * self.rank, self.padding)
        return _POOLS[self.rank, self.mode](inputs, self.pool_size, self.strides, self.padding)

    def get_config(self):
        return {**super().get_config(), "pool_size": list(self.pool_size), "strides": list(self.strides),
                "padding": self.padding, "data_format": "channels_last"}


class BaseGlobalPooling(Layer):
    """Mean or max over all spatial axes: ``(batch, *spatial, channels) -> (batch, channels)``."""

    rank = None
    mode = None

    def __init__(self, keepdims=False, data_format="channels_last", **kwargs):
        super().__init__(**kwargs)
        if data_format != "channels_last":
            raise ValueError(f"{type(self).__name__} supports data_format='channels_last' only, got {data_format!r}")
        self.keepdims = check_bool(keepdims, f"{type(self).__name__} keepdims")

    def check_input_shape(self, input_shape):
        super().check_input_shape(input_shape)
        if len(input_shape) != self.rank + 2:
            raise ValueError(f"layer {self.name!r} ({type(self).__name__}) expects inputs of rank {self.rank + 2}, "
                             f"got shape {tuple(input_shape)}")
        if any(n is not None and n < 1 for n in input_shape[1:-1]):  # a mean over nothing is NaN, a max an error
            raise ValueError(f"layer {self.name!r} ({type(self).__name__}) got inputs of shape {tuple(input_shape)} "
                             "with an empty spatial axis; expected every spatial size >= 1")

    def compute_output_shape(self, input_shape):
        if self.keepdims:
            return (input_shape[0],) + (1,) * self.rank + (input_shape[-1],)
        return (input_shape[0], input_shape[-1])

    def call(self, inputs, training=None):
        if inputs.ndim != self.rank + 2:
            raise ValueError(f"layer {self.name!r} ({type(self).__name__}) expects inputs of rank {self.rank + 2}, "
                             f"got shape {inputs.shape}")
        reduce = ops.mean if self.mode == "average" else ops.max
        return reduce(inputs, axis=tuple(range(1, self.rank + 1)), keepdims=self.keepdims)

    def get_config(self):
        return {**super().get_config(), "keepdims": self.keepdims, "data_format": "channels_last"}
