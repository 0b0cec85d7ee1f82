"""``BaseConv``: what Conv1D and Conv2D share (config, kernel and bias, shape checks)."""

from ... import ops
from ...arguments import is_int
from ...ops.convolution import conv_output_size, resolve_padding
from ..kernel_layer import KernelLayer


def _tuple(value, rank, name):
    """``value`` (an int or ``rank`` ints, Python or NumPy) as a tuple of ``rank`` positive Python ints."""
    if is_int(value):
        values = (value,) * rank
    else:
        try:
            values = tuple(value)
        except TypeError:
            values = None
    if values is None or len(values) != rank or not all(is_int(v) and v >= 1 for v in values):
        raise ValueError(f"{name} must be a positive int or a tuple of {rank} positive ints, got {value!r}")
    return tuple(int(v) for v in values)


def check_window_fits(layer, input_shape, window_name, window, strides, dilation, padding):
    """Raise at build time if a ``window`` (kernel or pool) leaves no output along some known spatial axis.

    With ``padding="valid"`` an axis of size ``n`` gives ``(n - (k - 1) * d - 1) // s + 1`` outputs, which is
    below 1 when the dilated window ``(k - 1) * d + 1`` is longer than ``n``; ``"same"`` pads every non-empty
    axis to ``ceil(n / s) >= 1`` outputs. Unknown (None) sizes pass; ``call`` checks the real ones.
    """
    spatial = tuple(input_shape[1:-1])
    if any(n is None for n in spatial):
        return
    if any(n < 1 for n in spatial):
        raise ValueError(f"layer {layer.name!r} ({type(layer).__name__}) got inputs of shape {tuple(input_shape)} "
                         "with an empty spatial axis; expected every spatial size >= 1")
    pad = resolve_padding(padding, spatial, window, strides, dilation)
    out = tuple(conv_output_size(n, k, s, d, p) for n, k, s, d, p in zip(spatial, window, strides, dilation, pad))
    if all(o >= 1 for o in out):
        return
    extent = tuple((k - 1) * d + 1 for k, d in zip(window, dilation))
    dilated = f", dilation_rate {dilation} (a window spanning {extent})" if any(d > 1 for d in dilation) else ""
    raise ValueError(f"layer {layer.name!r} ({type(layer).__name__}): {window_name} {window} with strides {strides}"
                     f"{dilated} and padding {padding!r} does not fit inputs of shape {tuple(input_shape)}: the "
                     f"output would have spatial size {out}. Expected every spatial size >= {extent}; use a "
                     "smaller window, padding='same', or larger inputs")


class BaseConv(KernelLayer):
    """A ``rank``-D convolution layer, channels_last, with Keras's arguments and defaults.

    The kernel has shape ``kernel_size + (input_channels, filters)``: Keras's
    layout, whose fan_in is ``prod(kernel_size) * input_channels`` (see
    ``initializers.compute_fans``).
    """

    rank = None

    def __init__(self, filters, kernel_size, strides=1, padding="valid", dilation_rate=1, activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, data_format="channels_last", **kwargs):
        super().__init__(activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                         bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                         bias_regularizer=bias_regularizer, **kwargs)
        if not is_int(filters) or filters <= 0:
            raise ValueError(f"{type(self).__name__} filters must be a positive integer, got {filters!r}")
        if data_format != "channels_last":
            raise ValueError(f"{type(self).__name__} supports data_format='channels_last' (NHWC) only, "
                             f"got {data_format!r}")
        if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
            raise ValueError(f"{type(self).__name__} padding must be 'valid' or 'same', got {padding!r}")
        self.filters = int(filters)
        self.kernel_size = _tuple(kernel_size, self.rank, "kernel_size")
        self.strides = _tuple(strides, self.rank, "strides")
        self.dilation_rate = _tuple(dilation_rate, self.rank, "dilation_rate")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"{type(self).__name__}: strides > 1 cannot be combined with dilation_rate > 1 "
                             "(as in Keras)")
        self.padding = padding.lower()

    def _expected(self, channels="C"):
        return "(batch, " + ", ".join(["size"] * self.rank) + f", {channels})"

    def check_input_shape(self, input_shape):
        super().check_input_shape(input_shape)
        if len(input_shape) != self.rank + 2:
            raise ValueError(f"layer {self.name!r} ({type(self).__name__}) expects inputs of rank {self.rank + 2}, "
                             f"shape {self._expected()}, got shape {tuple(input_shape)}")
        if input_shape[-1] is None:
            raise ValueError(f"layer {self.name!r} ({type(self).__name__}) needs a known number of input channels, "
                             f"got shape {tuple(input_shape)}")
        check_window_fits(self, input_shape, "kernel_size", self.kernel_size, self.strides, self.dilation_rate,
                          self.padding)

    def build(self, input_shape):
        self.build_kernel(self.kernel_size + (input_shape[-1], self.filters), self.filters)

    def compute_output_shape(self, input_shape):
        spatial = input_shape[1:-1]
        if any(s is None for s in spatial):
            out = (None,) * self.rank
        else:
            pad = resolve_padding(self.padding, spatial, self.kernel_size, self.strides, self.dilation_rate)
            out = tuple(conv_output_size(n, k, s, d, p) for n, k, s, d, p in
                        zip(spatial, self.kernel_size, self.strides, self.dilation_rate, pad))
        return (input_shape[0],) + out + (self.filters,)

    def call(self, inputs, training=None):
        channels = self.kernel.shape[-2]
        if inputs.ndim != self.rank + 2 or inputs.shape[-1] != channels:
            raise ValueError(f"layer {self.name!r} ({type(self).__name__}) expects inputs of shape "
                             f"{self._expected(channels)}, got {inputs.shape}")
        # built for unknown (None) spatial sizes, the layer meets the real ones only now
        check_window_fits(self, inputs.shape, "kernel_size", self.kernel_size, self.strides, self.dilation_rate,
                          self.padding)
        if type(self).convolution_op is not BaseConv.convolution_op:
            # a subclass's own convolution (Keras's hook, e.g. a standardized kernel): then bias and activation
            out = self.convolution_op(inputs, self.kernel)
            out = out if self.bias is None else out + self.bias
            return self.activation(out)
        conv = ops.conv2d if self.rank == 2 else ops.conv1d
        fused = self.activation is ops.relu  # the op applies a ReLU piece by piece, in cache
        out = conv(inputs, self.kernel, strides=self.strides, padding=self.padding,
                   dilation_rate=self.dilation_rate, bias=self.bias, activation="relu" if fused else None)
        return out if fused else self.activation(out)

    def convolution_op(self, inputs, kernel):
        """The convolution of ``inputs`` with ``kernel`` under this layer's strides, padding and dilation, without
        bias or activation (Keras's hook: override it to transform the kernel; ``call`` then adds the bias and
        applies the activation). The built-in path fuses all three into one op instead."""
        return ops.conv(inputs, kernel, strides=self.strides, padding=self.padding,
                        dilation_rate=self.dilation_rate)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "dilation_rate": list(self.dilation_rate),
            "data_format": "channels_last",  # the only layout; kept so that Keras configs read back the same
        }
