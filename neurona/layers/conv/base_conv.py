"""``BaseConv``: what Conv1D and Conv2D share (config, kernel and bias, shape checks, groups, data_format)."""

from ... import ops
from ...arguments import is_int
from ...ops.convolution import conv_output_size, resolve_padding
from ..kernel_layer import KernelLayer
from .data_format import check_data_format, from_last, shape_from_last, shape_to_last, to_last


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


def set_window(layer, rank, kernel_size, strides, dilation_rate, padding, paddings=("valid", "same"),
               strided_dilation=False):
    """Check and store a window's ``kernel_size``, ``strides``, ``dilation_rate`` (``rank`` positive ints each) and
    ``padding`` (one of ``paddings``, any case) on ``layer``: what the convolution layers share. A strided and
    dilated window is refused unless ``strided_dilation`` (Keras refuses it for Conv and DepthwiseConv)."""
    owner = type(layer).__name__
    if not isinstance(padding, str) or padding.lower() not in paddings:
        named = " or ".join(repr(p) for p in paddings) if len(paddings) == 2 else "'valid', 'same' or 'causal'"
        raise ValueError(f"{owner} padding must be {named}, got {padding!r}")
    layer.kernel_size = _tuple(kernel_size, rank, "kernel_size")
    layer.strides = _tuple(strides, rank, "strides")
    layer.dilation_rate = _tuple(dilation_rate, rank, "dilation_rate")
    if not strided_dilation and max(layer.strides) > 1 and max(layer.dilation_rate) > 1:
        raise ValueError(f"{owner}: strides > 1 cannot be combined with dilation_rate > 1 (as in Keras)")
    layer.padding = padding.lower()


class BaseConv(KernelLayer):
    """A ``rank``-D convolution layer with Keras's arguments and defaults.

    The kernel has shape ``kernel_size + (input_channels // groups, filters)``: Keras's
    layout, whose fan_in is ``prod(kernel_size) * input_channels / groups`` (see
    ``initializers.compute_fans``). With ``groups=G`` the input channels and the filters are cut into G
    groups, and group ``g`` of filters sees only group ``g`` of the channels (Krizhevsky et al., 2012;
    ``groups == input channels`` is a depthwise convolution). ``padding="causal"`` (Conv1D) pads
    ``(kernel_size - 1) * dilation_rate`` steps on the left only, so that output ``t`` depends on inputs up to
    ``t`` (van den Oord et al., 2016, WaveNet). ``data_format="channels_first"`` takes ``(batch, channels,
    *spatial)`` inputs.
    """

    rank = None

    def __init__(self, filters, kernel_size, strides=1, padding="valid", dilation_rate=1, activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, data_format=None, groups=1, **kwargs):
        super().__init__(activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                         bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                         bias_regularizer=bias_regularizer, **kwargs)
        owner = type(self).__name__
        if not is_int(filters) or filters <= 0:
            raise ValueError(f"{owner} filters must be a positive integer, got {filters!r}")
        self.data_format = check_data_format(data_format, owner)
        if not is_int(groups) or groups < 1 or filters % groups:
            raise ValueError(f"{owner} groups must be a positive integer that divides filters ({filters}), got "
                             f"{groups!r}")
        self.groups = int(groups)
        self.filters = int(filters)
        paddings = ("valid", "same", "causal") if self.rank == 1 else ("valid", "same")
        set_window(self, self.rank, kernel_size, strides, dilation_rate, padding, paddings)

    def _expected(self, channels="C"):
        sizes = ", ".join(["size"] * self.rank)
        return f"(batch, {sizes}, {channels})" if self.data_format == "channels_last" else \
            f"(batch, {channels}, {sizes})"

    def _op_padding(self):
        """The padding the ops take: ``"valid"``/``"same"``, or causal's explicit ``(left, 0)``."""
        if self.padding != "causal":
            return self.padding
        return ((self.kernel_size[0] - 1) * self.dilation_rate[0], 0)

    def _check_fits(self, shape):
        if self.padding != "causal":  # a causal convolution keeps every step: it always fits
            check_window_fits(self, shape, "kernel_size", self.kernel_size, self.strides, self.dilation_rate,
                              self.padding)

    def check_input_shape(self, input_shape):
        super().check_input_shape(input_shape)
        if len(input_shape) != self.rank + 2:
            raise ValueError(f"layer {self.name!r} ({type(self).__name__}) expects inputs of rank {self.rank + 2}, "
                             f"shape {self._expected()}, got shape {tuple(input_shape)}")
        shape = shape_to_last(input_shape, self.data_format)
        if shape[-1] is None:
            raise ValueError(f"layer {self.name!r} ({type(self).__name__}) needs a known number of input channels, "
                             f"got shape {tuple(input_shape)}")
        if shape[-1] % self.groups:
            raise ValueError(f"layer {self.name!r} ({type(self).__name__}): groups={self.groups} must divide the "
                             f"{shape[-1]} input channels (shape {tuple(input_shape)})")
        self._check_fits(shape)

    def build(self, input_shape):
        channels = shape_to_last(input_shape, self.data_format)[-1]
        self.build_kernel(self.kernel_size + (channels // self.groups, self.filters), self.filters)

    def compute_output_shape(self, input_shape):
        shape = shape_to_last(input_shape, self.data_format)
        spatial = shape[1:-1]
        if any(s is None for s in spatial):
            out = (None,) * self.rank
        elif self.padding == "causal":
            out = tuple((n - 1) // s + 1 for n, s in zip(spatial, self.strides))
        else:
            pad = resolve_padding(self.padding, spatial, self.kernel_size, self.strides, self.dilation_rate)
            out = tuple(conv_output_size(n, k, s, d, p) for n, k, s, d, p in
                        zip(spatial, self.kernel_size, self.strides, self.dilation_rate, pad))
        return shape_from_last((shape[0],) + out + (self.filters,), self.data_format)

    def call(self, inputs, training=None):
        x = to_last(inputs, self.data_format)
        channels = self.kernel.shape[-2] * self.groups
        if inputs.ndim != self.rank + 2 or x.shape[-1] != channels:
            raise ValueError(f"layer {self.name!r} ({type(self).__name__}) expects inputs of shape "
                             f"{self._expected(channels)}, got {inputs.shape}")
        # built for unknown (None) spatial sizes, the layer meets the real ones only now
        self._check_fits(x.shape)
        if type(self).convolution_op is not BaseConv.convolution_op or self.groups > 1:
            # a subclass's own convolution (Keras's hook, e.g. a standardized kernel), or groups: then bias and
            # activation
            out = self.convolution_op(x, self.kernel)
            out = out if self.bias is None else out + self.bias
            return from_last(self.activation(out), self.data_format)
        if self.rank == 3:
            out = ops.conv3d(x, self.kernel, strides=self.strides, padding=self.padding,
                             dilation_rate=self.dilation_rate, bias=self.bias)
            return from_last(self.activation(out), self.data_format)
        conv = ops.conv2d if self.rank == 2 else ops.conv1d
        fused = self.activation is ops.relu  # the op applies a ReLU piece by piece, in cache
        out = conv(x, self.kernel, strides=self.strides, padding=self._op_padding(),
                   dilation_rate=self.dilation_rate, bias=self.bias, activation="relu" if fused else None)
        return from_last(out if fused else self.activation(out), self.data_format)

    def convolution_op(self, inputs, kernel):
        """The convolution of channels_last ``inputs`` with ``kernel`` under this layer's strides, padding,
        dilation and groups, without bias or activation (Keras's hook: override it to transform the kernel;
        ``call`` then adds the bias and applies the activation). The built-in path fuses all three into one op
        instead (one group)."""
        conv = {1: ops.conv1d, 2: ops.conv2d, 3: ops.conv3d}[self.rank]
        options = dict(strides=self.strides, padding=self._op_padding(), dilation_rate=self.dilation_rate)
        if self.groups == 1:
            return conv(inputs, kernel, **options)
        per_group, filters = kernel.shape[-2], self.filters // self.groups
        outputs = [conv(inputs[..., g * per_group:(g + 1) * per_group],
                        kernel[..., g * filters:(g + 1) * filters], **options) for g in range(self.groups)]
        return ops.concatenate(outputs, axis=-1)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "dilation_rate": list(self.dilation_rate),
            "groups": self.groups,
            "data_format": self.data_format,
        }
