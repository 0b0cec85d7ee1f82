"""``Conv1DTranspose`` and ``Conv2DTranspose``: the transposed ("fractionally strided") convolutions of Keras 3.

A transposed convolution maps each input position to a window of outputs: the gradient of a convolution with
respect to its input, used to upsample (Zeiler et al., 2010; Dumoulin & Visin, 2016). As Keras computes it
(JAX's ``conv_transpose`` with ``transpose_kernel=True``): the input is dilated by the strides (``stride - 1``
zeros between neighbours), padded by ``(left, right)`` from Keras's ``padding`` and ``output_padding`` rules,
and correlated with the spatially flipped kernel whose in/out axes are swapped, so that an axis of ``n``
elements gives

    valid: (n - 1) s + k_d + output_padding,      same: n s (without output_padding),

with ``k_d = (k - 1) d + 1``. The kernel has Keras's shape ``kernel_size + (filters, input_channels)``.
"""

from ... import ops
from ...arguments import is_int
from ...ops.dilation import dilate
from ..kernel_layer import KernelLayer
from .base_conv import set_window
from .data_format import check_data_format, from_last, shape_from_last, shape_to_last, to_last


def transpose_padding(kernel, stride, dilation, padding, output_padding):
    """Keras's ``(left, right)`` padding of the dilated input along one axis."""
    extent = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(extent, stride) - extent if output_padding is None else output_padding
        return extent - 1, extent - 1 + extra
    total = stride + extent - 2 if output_padding is None else extent + extent % 2 - 2 + output_padding
    left = min(total // 2 + total % 2, extent - 1)
    return left, total - left


class BaseConvTranspose(KernelLayer):
    """A ``rank``-D transposed convolution with Keras 3's arguments and defaults."""

    rank = None

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None, data_format=None,
                 dilation_rate=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, **kwargs):
        super().__init__(activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                         bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                         bias_regularizer=bias_regularizer, **kwargs)
        owner = type(self).__name__
        if not is_int(filters) or filters <= 0:
            raise ValueError(f"{owner} filters must be a positive integer, got {filters!r}")
        self.filters = int(filters)
        set_window(self, self.rank, kernel_size, strides, dilation_rate, padding, strided_dilation=True)
        self.data_format = check_data_format(data_format, owner)
        if output_padding is None:
            self.output_padding = None
        else:
            values = (output_padding,) * self.rank if is_int(output_padding) else tuple(output_padding)
            if len(values) != self.rank or not all(is_int(v) and 0 <= v for v in values) or \
                    any(v >= s for v, s in zip(values, self.strides)):
                raise ValueError(f"{owner} output_padding must be None or {self.rank} non-negative ints, each "
                                 f"smaller than its stride {self.strides}, got {output_padding!r}")
            self.output_padding = tuple(int(v) for v in values)

    def _paddings(self):
        extra = self.output_padding or (None,) * self.rank
        return tuple(transpose_padding(k, s, d, self.padding, o) for k, s, d, o in
                     zip(self.kernel_size, self.strides, self.dilation_rate, extra))

    def check_input_shape(self, input_shape):
        super().check_input_shape(input_shape)
        shape = shape_to_last(input_shape, self.data_format)
        if len(input_shape) != self.rank + 2 or shape[-1] is None:
            raise ValueError(f"layer {self.name!r} ({type(self).__name__}) expects inputs of rank {self.rank + 2} "
                             f"with a known number of channels ({self.data_format}), got shape {tuple(input_shape)}")

    def build(self, input_shape):
        channels = shape_to_last(input_shape, self.data_format)[-1]
        self.build_kernel(self.kernel_size + (self.filters, channels), self.filters)

    def compute_output_shape(self, input_shape):
        shape = shape_to_last(input_shape, self.data_format)
        out = tuple(None if n is None else (n - 1) * s + 1 + left + right - (k - 1) * d
                    for n, s, k, d, (left, right) in
                    zip(shape[1:-1], self.strides, self.kernel_size, self.dilation_rate, self._paddings()))
        return shape_from_last((shape[0], *out, self.filters), self.data_format)

    def call(self, inputs, training=None):
        x = to_last(inputs, self.data_format)
        if x.ndim != self.rank + 2 or x.shape[-1] != self.kernel.shape[-1]:
            raise ValueError(f"layer {self.name!r} ({type(self).__name__}) expects inputs of rank {self.rank + 2} "
                             f"with {self.kernel.shape[-1]} channels ({self.data_format}), got {inputs.shape}")
        if self.rank == 1:  # as a height-1 image, as conv1d does
            x = ops.expand_dims(x, 1)
        kernel = self.kernel if self.rank == 2 else ops.expand_dims(self.kernel, 0)
        strides = self.strides if self.rank == 2 else (1,) + self.strides
        dilation = self.dilation_rate if self.rank == 2 else (1,) + self.dilation_rate
        pads = self._paddings() if self.rank == 2 else ((0, 0),) + self._paddings()
        x = dilate(x, {1: strides[0], 2: strides[1]})
        flipped = ops.swapaxes(ops.flip(kernel, axis=(0, 1)), 2, 3)  # (k_h, k_w, in, filters)
        out = ops.conv2d(x, flipped, padding=pads, dilation_rate=dilation, bias=self.bias)
        if self.rank == 1:
            out = ops.squeeze(out, 1)
        return from_last(self.activation(out), self.data_format)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": list(self.kernel_size),
                "strides": list(self.strides), "padding": self.padding,
                "output_padding": None if self.output_padding is None else list(self.output_padding),
                "data_format": self.data_format, "dilation_rate": list(self.dilation_rate)}


class Conv1DTranspose(BaseConvTranspose):
    """Transposed 1-D convolution on ``(batch, steps, channels)``: kernel ``(k, filters, channels)``."""

    rank = 1


class Conv2DTranspose(BaseConvTranspose):
    """Transposed 2-D convolution on ``(batch, height, width, channels)``: kernel ``(k_h, k_w, filters,
    channels)``."""

    rank = 2
