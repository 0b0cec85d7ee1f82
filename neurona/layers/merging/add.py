"""``Add``: the elementwise sum of a list of tensors."""

from ... import ops
from .base_merge import Merge


class Add(Merge):
    """``output = inputs[0] + inputs[1] + ... + inputs[n-1]``, elementwise, with Keras's broadcasting.

    Called on a list of at least 2 tensors of the same shape (or shapes that broadcast,
    see ``Merge``); the gradient of each input is the upstream gradient (summed over the
    axes it was broadcast along).
    """

    def _merge_function(self, inputs):
        output = inputs[0]
        for x in inputs[1:]:
            output = ops.add(output, x)
        return output


def add(inputs, **kwargs):
    """``Add(**kwargs)(inputs)``: the elementwise sum of the list ``inputs`` (Keras's functional form)."""
    return Add(**kwargs)(inputs)
