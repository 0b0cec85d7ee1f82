"""``DepthwiseConv2D`` and ``SeparableConv2D`` (Keras 3's names, arguments, weights and defaults).

A depthwise convolution filters every input channel on its own: with ``depth_multiplier`` M, input channel c
gives output channels ``c M .. c M + M - 1``,

    y[n, i, j, c M + m] = sum_{a, b} x[n, i s + a d, j s + b d, c] k[a, b, c, m]   (+ bias),

a grouped convolution with one group per channel (Sifre, 2014; Howard et al., 2017, MobileNets). It is computed
as ``k_h * k_w`` products of strided slices of the (padded) input with the kernel's taps, each a broadcast
multiply over all channels at once, which differentiate through the ordinary ops. A separable convolution is a
depthwise one followed by a 1x1 convolution mixing the channels (Chollet, 2017, Xception).
"""

from ... import activations, initializers, ops, regularizers
from ...ops.convolution import resolve_padding
from ..base import Layer, check_bool
from .base_conv import _tuple, check_window_fits, set_window
from .data_format import check_data_format, from_last, shape_from_last, shape_to_last, to_last


def depthwise_conv2d(x, kernel, strides, padding, dilation):
    """The depthwise convolution of NHWC ``x`` with a ``(k_h, k_w, C, M)`` kernel: ``(N, H_out, W_out, C M)``."""
    kh, kw, channels, multiplier = kernel.shape
    pad = resolve_padding(padding, x.shape[1:3], (kh, kw), strides, dilation)
    if any(p for pair in pad for p in pair):
        x = ops.pad(x, ((0, 0), pad[0], pad[1], (0, 0)))
    (sh, sw), (dh, dw) = strides, dilation
    out_h = (x.shape[1] - (kh - 1) * dh - 1) // sh + 1
    out_w = (x.shape[2] - (kw - 1) * dw - 1) // sw + 1
    total = None
    for a in range(kh):
        for b in range(kw):
            window = x[:, a * dh:a * dh + sh * (out_h - 1) + 1:sh, b * dw:b * dw + sw * (out_w - 1) + 1:sw, :]
            term = ops.expand_dims(window, -1) * kernel[a, b]  # (N, H, W, C, 1) x (C, M)
            total = term if total is None else total + term
    return ops.reshape(total, (total.shape[0], out_h, out_w, channels * multiplier))


class DepthwiseConv2D(Layer):
    """``activation(depthwise_conv2d(inputs, kernel) + bias)``; the kernel is ``(k_h, k_w, C, depth_multiplier)``.

    Args:
        kernel_size, strides, padding ("valid" or "same"), dilation_rate, data_format: as ``Conv2D``.
        depth_multiplier: output channels per input channel.
        activation, use_bias, depthwise_initializer, bias_initializer, depthwise_regularizer,
        bias_regularizer: as ``Conv2D``'s kernel and bias options.
    """

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1, data_format=None,
                 dilation_rate=(1, 1), activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, bias_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        set_window(self, 2, kernel_size, strides, dilation_rate, padding)
        self.depth_multiplier = _tuple(depth_multiplier, 1, "depth_multiplier")[0]
        self.data_format = check_data_format(data_format, owner)
        self.activation = activations.get(activation)
        self.use_bias = check_bool(use_bias, f"{owner} use_bias")
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.bias = None

    def _channels(self, input_shape):
        shape = shape_to_last(input_shape, self.data_format)
        if len(shape) != 4 or shape[-1] is None:
            raise ValueError(f"layer {self.name!r} ({type(self).__name__}) expects rank-4 inputs with a known number "
                             f"of channels ({self.data_format}), got shape {tuple(input_shape)}")
        check_window_fits(self, shape, "kernel_size", self.kernel_size, self.strides, self.dilation_rate,
                          self.padding)
        return shape[-1]

    def check_input_shape(self, input_shape):
        super().check_input_shape(input_shape)
        self._channels(input_shape)

    def _build_depthwise(self, input_shape, name):
        channels = self._channels(input_shape)
        kernel = self.add_weight(name=name, shape=self.kernel_size + (channels, self.depth_multiplier),
                                 initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer)
        return kernel, channels

    def _build_bias(self, units):
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(units,), initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer)

    def build(self, input_shape):
        self.kernel, channels = self._build_depthwise(input_shape, "kernel")
        self._build_bias(channels * self.depth_multiplier)

    def _output_channels(self, channels):
        return channels * self.depth_multiplier

    def compute_output_shape(self, input_shape):
        shape = shape_to_last(input_shape, self.data_format)
        spatial = shape[1:3]
        if any(n is None for n in spatial):
            out = (None, None)
        else:
            pad = resolve_padding(self.padding, spatial, self.kernel_size, self.strides, self.dilation_rate)
            out = tuple((n + p[0] + p[1] - (k - 1) * d - 1) // s + 1 for n, k, s, d, p in
                        zip(spatial, self.kernel_size, self.strides, self.dilation_rate, pad))
        return shape_from_last((shape[0], *out, self._output_channels(shape[-1])), self.data_format)

    def _depthwise(self, x, kernel):
        self._channels(shape_from_last(x.shape, self.data_format))  # the real spatial sizes
        return depthwise_conv2d(x, kernel, self.strides, self.padding, self.dilation_rate)

    def _finish(self, out):
        out = out if self.bias is None else out + self.bias
        return from_last(self.activation(out), self.data_format)

    def call(self, inputs, training=None):
        return self._finish(self._depthwise(to_last(inputs, self.data_format), self.kernel))

    def _options(self):
        return {
            "kernel_size": list(self.kernel_size), "strides": list(self.strides), "padding": self.padding,
            "depth_multiplier": self.depth_multiplier, "data_format": self.data_format,
            "dilation_rate": list(self.dilation_rate), "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias, "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "depthwise_regularizer": regularizers.serialize(self.depthwise_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
        }

    def get_config(self):
        return {**super().get_config(), **self._options()}


class SeparableConv2D(DepthwiseConv2D):
    """A depthwise convolution, then a 1x1 convolution to ``filters`` channels (Keras's ``SeparableConv2D``).

    Weights: ``depthwise_kernel`` ``(k_h, k_w, C, depth_multiplier)``, ``pointwise_kernel``
    ``(1, 1, C depth_multiplier, filters)``, ``bias`` ``(filters,)``.
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, pointwise_regularizer=None,
                 bias_regularizer=None, **kwargs):
        super().__init__(kernel_size, strides=strides, padding=padding, depth_multiplier=depth_multiplier,
                         data_format=data_format, dilation_rate=dilation_rate, activation=activation,
                         use_bias=use_bias, depthwise_initializer=depthwise_initializer,
                         bias_initializer=bias_initializer, depthwise_regularizer=depthwise_regularizer,
                         bias_regularizer=bias_regularizer, **kwargs)
        self.filters = _tuple(filters, 1, "filters")[0]
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)

    def build(self, input_shape):
        self.depthwise_kernel, channels = self._build_depthwise(input_shape, "depthwise_kernel")
        self.pointwise_kernel = self.add_weight(
            name="pointwise_kernel", shape=(1, 1, channels * self.depth_multiplier, self.filters),
            initializer=self.pointwise_initializer, regularizer=self.pointwise_regularizer)
        self._build_bias(self.filters)

    def _output_channels(self, channels):
        return self.filters

    def call(self, inputs, training=None):
        x = self._depthwise(to_last(inputs, self.data_format), self.depthwise_kernel)
        return self._finish(ops.conv2d(x, self.pointwise_kernel))

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "pointwise_initializer": initializers.serialize(self.pointwise_initializer),
                "pointwise_regularizer": regularizers.serialize(self.pointwise_regularizer)}
