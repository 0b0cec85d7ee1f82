"""``Maximum``: the elementwise maximum of a list of tensors."""

from ... import ops
from .base_merge import Merge


class Maximum(Merge):
    """``output = max(inputs[0], ..., inputs[n-1])``, elementwise, with Keras's broadcasting.

    The gradient goes to the input holding the maximum (``ops.maximum``: a tie shares it equally
    between the two operands of each pairwise step).
    """

    def _merge_function(self, inputs):
        output = inputs[0]
        for x in inputs[1:]:
            output = ops.maximum(output, x)
        return output


def maximum(inputs, **kwargs):
    """``Maximum(**kwargs)(inputs)``: the elementwise maximum of the list ``inputs`` (Keras's functional form)."""
    return Maximum(**kwargs)(inputs)
