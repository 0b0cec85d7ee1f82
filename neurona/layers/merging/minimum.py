"""``Minimum``: the elementwise minimum of a list of tensors."""

from ... import ops
from .base_merge import Merge


class Minimum(Merge):
    """``output = min(inputs[0], ..., inputs[n-1])``, elementwise, with Keras's broadcasting.

    The gradient goes to the input holding the minimum (``ops.minimum``: a tie shares it equally
    between the two operands of each pairwise step).
    """

    def _merge_function(self, inputs):
        output = inputs[0]
        for x in inputs[1:]:
            output = ops.minimum(output, x)
        return output


def minimum(inputs, **kwargs):
    """``Minimum(**kwargs)(inputs)``: the elementwise minimum of the list ``inputs`` (Keras's functional form)."""
    return Minimum(**kwargs)(inputs)
