"""``data_format`` of the convolution and pooling layers: ``"channels_last"`` (NHWC) or ``"channels_first"`` (NCHW).

The kernels compute channels_last; a channels_first layer moves the channel axis last on the way in and back
on the way out (two transposes, differentiable), and reads and writes shapes the same way. ``None`` means
``neurona.config.image_data_format()``, as in Keras.
"""

from ... import config, ops

DATA_FORMATS = ("channels_last", "channels_first")


def check_data_format(value, owner):
    """``value`` as ``"channels_last"`` or ``"channels_first"`` (None: the configured default)."""
    value = config.image_data_format() if value is None else value
    if value not in DATA_FORMATS:
        raise ValueError(f"{owner} data_format must be 'channels_last' or 'channels_first' (or None for "
                         f"config.image_data_format()), got {value!r}")
    return value


def shape_to_last(shape, data_format):
    """A channels_first shape ``(batch, C, *spatial)`` as ``(batch, *spatial, C)``; channels_last as it is."""
    shape = tuple(shape)
    return shape if data_format == "channels_last" else (shape[0], *shape[2:], shape[1])


def shape_from_last(shape, data_format):
    """A channels_last shape back in ``data_format``."""
    shape = tuple(shape)
    return shape if data_format == "channels_last" else (shape[0], shape[-1], *shape[1:-1])


def to_last(x, data_format):
    """The Tensor ``x`` with its channel axis last."""
    if data_format == "channels_last":
        return x
    return ops.transpose(x, (0, *range(2, x.ndim), 1))


def from_last(x, data_format):
    """A channels_last Tensor back in ``data_format``."""
    if data_format == "channels_last":
        return x
    return ops.transpose(x, (0, x.ndim - 1, *range(1, x.ndim - 1)))
