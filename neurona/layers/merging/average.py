"""``Average``: the elementwise mean of a list of tensors."""

from ... import ops
from .base_merge import Merge


class Average(Merge):
    """``output = (inputs[0] + ... + inputs[n-1]) / n``, elementwise, with Keras's broadcasting.

    Each input's gradient is ``g / n``.
    """

    def _merge_function(self, inputs):
        output = inputs[0]
        for x in inputs[1:]:
            output = ops.add(output, x)
        return ops.div(output, float(len(inputs)))


def average(inputs, **kwargs):
    """``Average(**kwargs)(inputs)``: the elementwise mean of the list ``inputs`` (Keras's functional form)."""
    return Average(**kwargs)(inputs)
