"""``Input`` / ``InputLayer``: declares the shape of one sample at the start of a model."""

from ... import backend
from ...arguments import is_int
from ..base import ShapePreservingLayer, normalize_shape
from ..symbolic import Node, SymbolicTensor


class InputLayer(ShapePreservingLayer):
    """The identity, fixing the input shape (without the batch axis) of the model it starts.

    Creating one also creates its symbolic output (``layer.output``), the start of a functional graph.

    Args:
        shape: shape of one sample, e.g. ``(784,)`` or ``(28, 28, 1)``; ``None`` for a size known at run time.
        batch_size: optional fixed batch size (a positive int; informational).
        dtype: the input's dtype (default ``floatx()``, whatever the dtype policy; ``"int32"`` for token ids).
        batch_shape: the shape with the batch axis first, instead of ``shape`` and ``batch_size``.
    """

    def __init__(self, shape=None, batch_size=None, name=None, dtype=None, input_shape=None, batch_shape=None,
                 sparse=None, **kwargs):
        if batch_shape is not None:
            if shape is not None or input_shape is not None:
                raise ValueError("InputLayer: give shape= or batch_shape=, not both")
            batch_shape = tuple(batch_shape) if isinstance(batch_shape, (list, tuple)) else batch_shape
            if not isinstance(batch_shape, tuple) or not batch_shape:
                raise ValueError(f"InputLayer batch_shape must be a tuple (batch, ...), got {batch_shape!r}")
            batch_size, shape = batch_shape[0], batch_shape[1:]
        shape = shape if shape is not None else input_shape
        if shape is None:
            raise ValueError("InputLayer needs a shape, e.g. Input((784,))")
        if batch_size is not None and (not is_int(batch_size) or batch_size <= 0):
            raise ValueError(f"InputLayer batch_size must be None or a positive int, got {batch_size!r}")
        if sparse:
            raise NotImplementedError("InputLayer: sparse inputs are not supported; pass dense arrays")
        # floatx, not the global policy: a model's inputs are float32 under mixed_float16, as in Keras
        dtype = backend.floatx() if dtype is None else dtype
        super().__init__(name=name, dtype=dtype, input_shape=normalize_shape(shape, "Input shape"), **kwargs)
        self.batch_size = None if batch_size is None else int(batch_size)  # a plain int: JSON-safe
        self.built = True
        # the layer's shapes keep the batch axis unknown, as every layer's; the tensor has Keras's batch_shape
        self._built_input_shape = self._built_output_shape = (None,) + self.input_shape_arg
        tensor = SymbolicTensor((self.batch_size,) + self.input_shape_arg, self.dtype, name=self.name)
        Node(self, (), {}, tensor)

    def call(self, inputs, training=None):
        return inputs

    @property
    def output(self):
        return self._inbound_nodes[0].outputs

    def get_config(self):
        config = super().get_config()
        config["shape"] = config.pop("input_shape")
        config["batch_size"] = self.batch_size
        del config["trainable"]
        return config


def Input(shape=None, batch_size=None, name=None, dtype=None, batch_shape=None, sparse=None):  # noqa: N802
    """A symbolic model input of ``shape`` (one sample, no batch axis): the start of a functional model.

    ``x = nr.Input((784,))`` has ``x.shape == (None, 784)``; call layers on it and close the graph with
    ``nr.Model(inputs, outputs)``. It can also be a Sequential model's first entry.
    """
    layer = InputLayer(shape=shape, batch_size=batch_size, name=name, dtype=dtype, batch_shape=batch_shape,
                       sparse=sparse)
    return layer.output
