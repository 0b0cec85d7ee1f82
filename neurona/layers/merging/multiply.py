"""``Multiply``: the elementwise product of a list of tensors."""

from ... import ops
from .base_merge import Merge


class Multiply(Merge):
    """``output = inputs[0] * inputs[1] * ... * inputs[n-1]``, elementwise, with Keras's broadcasting.

    The gradient of input ``k`` is ``g`` times the product of the other inputs.
    """

    def _merge_function(self, inputs):
        output = inputs[0]
        for x in inputs[1:]:
            output = ops.mul(output, x)
        return output


def multiply(inputs, **kwargs):
    """``Multiply(**kwargs)(inputs)``: the elementwise product of the list ``inputs`` (Keras's functional form)."""
    return Multiply(**kwargs)(inputs)
