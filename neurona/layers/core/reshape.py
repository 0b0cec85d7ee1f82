"""``Reshape``: a new shape for each sample."""

import math

from ... import ops
from ...arguments import is_int
from ..base import Layer


class Reshape(Layer):
    """Reshape each sample to ``target_shape`` (the batch axis is kept); one entry may be -1.

    Args:
        target_shape: shape of one output sample, e.g. ``(28, 28, 1)``.
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        # ints only: int() would truncate 2.5 to 2 and turn "ab" into an unhelpful parsing error
        entries = _entries(target_shape)
        if entries is None or not all(is_int(s) for s in entries):
            raise ValueError(f"Reshape target_shape must be a sequence of ints (positive sizes, at most one -1), "
                             f"got {target_shape!r}")
        target_shape = tuple(int(s) for s in entries)
        if sum(s == -1 for s in target_shape) > 1 or any(s == 0 or s < -1 for s in target_shape):
            raise ValueError(f"Reshape target_shape must have positive sizes and at most one -1, got {target_shape}")
        self.target_shape = target_shape

    def _resolve(self, input_shape):
        size = math.prod(input_shape[1:])
        known = math.prod(s for s in self.target_shape if s != -1)
        shape = tuple(size // known if s == -1 else s for s in self.target_shape)
        if math.prod(shape) != size or (-1 in self.target_shape and size % known):
            raise ValueError(f"layer {self.name!r} (Reshape) cannot reshape samples of shape {tuple(input_shape[1:])} "
                             f"({size} values) to {self.target_shape}")
        return shape

    def check_input_shape(self, input_shape):
        super().check_input_shape(input_shape)
        if all(s is not None for s in input_shape[1:]):
            self._resolve(input_shape)

    def compute_output_shape(self, input_shape):
        if any(s is None for s in input_shape[1:]):
            return (input_shape[0],) + tuple(None if s == -1 else s for s in self.target_shape)
        return (input_shape[0],) + self._resolve(input_shape)

    def call(self, inputs, training=None):
        return ops.reshape(inputs, (inputs.shape[0],) + self._resolve(inputs.shape))

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}


def _entries(sequence):
    """``tuple(sequence)`` for a list, tuple or array; None for a string or a scalar."""
    if isinstance(sequence, (str, bytes)):
        return None
    try:
        return tuple(sequence)
    except TypeError:
        return None
