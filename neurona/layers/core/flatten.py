"""``Flatten``: one feature axis per sample."""

import math

from ... import ops
from ..base import Layer


class Flatten(Layer):
    """Reshape ``(batch, d1, d2, ...)`` to ``(batch, d1 * d2 * ...)``; the batch axis is kept."""

    def check_input_shape(self, input_shape):
        super().check_input_shape(input_shape)
        if len(input_shape) < 1:
            raise ValueError(f"layer {self.name!r} (Flatten) needs inputs with a batch axis, got a scalar")

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        return (input_shape[0], None if any(s is None for s in rest) else math.prod(rest))

    def call(self, inputs, training=None):
        return ops.reshape(inputs, (inputs.shape[0], -1))
