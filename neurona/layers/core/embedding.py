"""``Embedding``: integer ids to learned vectors, the input layer of text and sequence models."""

from ... import backend, initializers, ops, regularizers
from ...arguments import is_int
from ...autograd import Tensor
from ..base import Layer, check_bool


class Embedding(Layer):
    """``output[..., :] = embeddings[inputs[...]]``: each id picks one row of an ``(input_dim, output_dim)`` table.

    The gradient adds up, row by row, the gradients of every position that picked that row (a sparse update
    of the table; repeated ids add). Keras's default initializer draws the table from U(-0.05, 0.05).

    Args:
        input_dim: the number of ids (the vocabulary size): ids must lie in [0, input_dim).
        output_dim: the size of each vector.
        embeddings_initializer: initializer of the table (default ``"uniform"``: U(-0.05, 0.05)).
        embeddings_regularizer: penalty of the table added to the loss.
        mask_zero: id 0 is padding: the output carries a mask (``ids != 0``) that the next layers use
            (``layers/masking.py``); then id 0 must not stand for a real token (``input_dim`` counts it).
        input_length: Keras 2's argument, accepted and checked against the inputs' length when given.
        **kwargs: base Layer arguments.
    """

    creates_masks = True

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform", embeddings_regularizer=None,
                 embeddings_constraint=None, mask_zero=False, input_length=None, **kwargs):
        for what, value in (("input_dim", input_dim), ("output_dim", output_dim)):
            if not is_int(value) or value <= 0:
                raise ValueError(f"Embedding {what} must be a positive integer, got {value!r}")
        if embeddings_constraint is not None:
            raise NotImplementedError("Embedding: weight constraints are not supported yet (embeddings_constraint)")
        if input_length is not None and (not is_int(input_length) or input_length <= 0):
            raise ValueError(f"Embedding input_length must be None or a positive integer, got {input_length!r}")
        super().__init__(**kwargs)
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.mask_zero = check_bool(mask_zero, "Embedding mask_zero")
        self.input_length = None if input_length is None else int(input_length)
        self.embeddings = None

    def build(self, input_shape):
        if self.input_length is not None and len(input_shape) > 1 and input_shape[1] not in (None,
                                                                                           self.input_length):
            raise ValueError(f"layer {self.name!r} (Embedding) has input_length={self.input_length}, got inputs "
                             f"of shape {tuple(input_shape)}")
        self.embeddings = self.add_weight(name="embeddings", shape=(self.input_dim, self.output_dim),
                                          initializer=self.embeddings_initializer,
                                          regularizer=self.embeddings_regularizer)

    def _cast_inputs(self, inputs):
        """Ids stay integers (float ids, as Keras accepts them, become integers); never the layer's float dtype."""
        if isinstance(inputs, Tensor) and backend.is_floating(inputs.dtype):
            return ops.cast(inputs, "int64")
        return inputs

    def call(self, inputs):
        if inputs.dtype.kind not in "iu":
            raise TypeError(f"layer {self.name!r} (Embedding) expects integer ids, got dtype {inputs.dtype}")
        if inputs.size:
            low, high = int(inputs.data.min()), int(inputs.data.max())
            if low < 0 or high >= self.input_dim:
                raise ValueError(f"layer {self.name!r} (Embedding) has input_dim={self.input_dim}: ids must lie in "
                                 f"[0, {self.input_dim}), got {low if low < 0 else high}")
        return ops.take(self.embeddings, inputs, axis=0)

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return ops.not_equal(inputs, 0)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def compute_output_spec(self, *args, **kwargs):
        from ..symbolic import SymbolicTensor

        return SymbolicTensor(self.compute_output_shape(args[0].shape), self.compute_dtype, name=self.name)

    def get_config(self):
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
            "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
            "embeddings_constraint": None,
            "mask_zero": self.mask_zero,
            "input_length": self.input_length,
        }
