"""``keras.ops.conv``, ``max_pool`` and ``average_pool``: Keras's rank-generic forms of the NHWC primitives.

Keras 3 names one function per operation and reads the number of spatial axes
from the input's rank (3-D input: one spatial axis, 4-D: two), and the layout from
``data_format`` (``None`` is ``config.image_data_format()``). These dispatch to
``conv1d``/``conv2d`` and the pooling primitives; ``"channels_first"`` input is moved
to channels_last and the result moved back (transposes, so the gradients are those
of the primitives). Three spatial axes (5-D input) are not implemented: a ValueError says so.
"""

from .. import backend
from .convert import as_tensor
from .convolution import conv1d, conv2d
from .pooling import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d
from .shape import transpose

DATA_FORMATS = ("channels_last", "channels_first")


def _layout(x, data_format, owner):
    """The channels_last input, the number of spatial axes, and the permutation that undoes the move."""
    x = as_tensor(x)
    data_format = backend.image_data_format() if data_format is None else data_format
    if data_format not in DATA_FORMATS:
        raise ValueError(f"{owner}: data_format must be one of {DATA_FORMATS} or None, got {data_format!r}")
    if x.ndim not in (3, 4):
        raise ValueError(f"{owner}: expected a 3-D (batch, length, channels) or 4-D (batch, height, width, "
                         f"channels) input, got shape {x.shape}" + (" (3-D convolutions and pooling are not "
                                                                    "implemented)" if x.ndim == 5 else ""))
    if data_format == "channels_last":
        return x, x.ndim - 2, None
    to_last = (0,) + tuple(range(2, x.ndim)) + (1,)
    back = (0, x.ndim - 1) + tuple(range(1, x.ndim - 1))
    return transpose(x, to_last), x.ndim - 2, back


def _restore(y, back):
    return y if back is None else transpose(y, back)


def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """N-D convolution as ``keras.ops.conv``: ``kernel`` is ``(*spatial, C_in, C_out)``; ``padding`` "valid"/"same".

    1 or 2 spatial axes (3-D or 4-D ``inputs``); see ``conv1d``/``conv2d`` for the arithmetic.
    """
    x, rank, back = _layout(inputs, data_format, "conv")
    fn = conv1d if rank == 1 else conv2d
    return _restore(fn(x, kernel, strides=strides, padding=padding, dilation_rate=dilation_rate), back)


def _pool(fns, name, inputs, pool_size, strides, padding, data_format):
    x, rank, back = _layout(inputs, data_format, name)
    return _restore(fns[rank - 1](x, pool_size=pool_size, strides=strides, padding=padding), back)


def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Max pooling as ``keras.ops.max_pool`` over 1 or 2 spatial axes (``strides`` default: ``pool_size``)."""
    return _pool((max_pool1d, max_pool2d), "max_pool", inputs, pool_size, strides, padding, data_format)


def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Average pooling as ``keras.ops.average_pool`` (windows over padding average only the inputs they hold)."""
    return _pool((avg_pool1d, avg_pool2d), "average_pool", inputs, pool_size, strides, padding, data_format)
