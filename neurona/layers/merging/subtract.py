"""``Subtract``: the elementwise difference of two tensors."""

from ... import ops
from .base_merge import Merge


class Subtract(Merge):
    """``output = inputs[0] - inputs[1]``, elementwise, with Keras's broadcasting.

    Called on a list of exactly 2 tensors; the gradients are ``+g`` and ``-g``.
    """

    max_inputs = 2

    def _merge_function(self, inputs):
        return ops.sub(inputs[0], inputs[1])


def subtract(inputs, **kwargs):
    """``Subtract(**kwargs)(inputs)``: ``inputs[0] - inputs[1]`` (Keras's functional form)."""
    return Subtract(**kwargs)(inputs)
