"""``Input`` / ``InputLayer``: declares the shape of one sample at the start of a model."""

from ...arguments import is_int
from ..base import Layer, normalize_shape


class InputLayer(Layer):
    """The identity, fixing the input shape (without the batch axis) of the model it starts.

    Args:
        shape: shape of one sample, e.g. ``(784,)`` or ``(28, 28, 1)``.
        batch_size: optional fixed batch size (a positive int; informational).
    """

    def __init__(self, shape=None, batch_size=None, name=None, dtype=None, input_shape=None, **kwargs):
        shape = shape if shape is not None else input_shape
        if shape is None:
            raise ValueError("InputLayer needs a shape, e.g. Input((784,))")
        if batch_size is not None and (not is_int(batch_size) or batch_size <= 0):
            raise ValueError(f"InputLayer batch_size must be None or a positive int, got {batch_size!r}")
        super().__init__(name=name, dtype=dtype, input_shape=normalize_shape(shape, "Input shape"), **kwargs)
        self.batch_size = None if batch_size is None else int(batch_size)  # a plain int: JSON-safe

    def call(self, inputs, training=None):
        return inputs

    def get_config(self):
        config = super().get_config()
        config["shape"] = config.pop("input_shape")
        config["batch_size"] = self.batch_size
        del config["trainable"]
        return config


def Input(shape, batch_size=None, name=None, dtype=None):  # noqa: N802 - Keras's name
    """Declare a model input of ``shape`` (one sample, no batch axis); used as a Sequential's first entry."""
    return InputLayer(shape=shape, batch_size=batch_size, name=name, dtype=dtype)
