"""``Multiply``: the elementwise product of a list of tensors."""

from ... import ops
from .base_merge import Merge


class Multiply(Merge):
    """``output = inputs[0] * inputs[1] * ... * inputs[n-1]``, elementwise, with Keras's broadcasting.

    The gradient of input ``k`` is ``g`` times the product of the other inputs.

    Masks, as Keras 3 applies them: a masked step of an input counts as 1 in the product (it leaves the others'
    values alone), and when every input has a mask the output is 0 at the steps no input holds (its mask is
    then the logical or of theirs, ``Merge.compute_mask``).
    """

    def call(self, inputs, mask=None):
        masks = list(mask) if isinstance(mask, (list, tuple)) else []
        if not any(m is not None for m in masks) or len(masks) != len(inputs):
            return super().call(inputs)
        masks = [None if m is None else _spread(m, x) for m, x in zip(masks, inputs)]
        filled = [x if m is None else ops.where(m, x, ops.ones_like(x)) for x, m in zip(inputs, masks)]
        output = super().call(filled)
        if all(m is not None for m in masks):
            real = masks[0]
            for m in masks[1:]:
                real = ops.logical_or(real, m)
            output = ops.where(real, output, ops.zeros_like(output))
        return output

    def _merge_function(self, inputs):
        output = inputs[0]
        for x in inputs[1:]:
            output = ops.mul(output, x)
        return output


def _spread(mask, x):
    """A ``(batch, time)`` mask over ``x``'s feature axes, as Keras expands it (a trailing axis of size 1)."""
    mask = ops.cast(ops.convert_to_tensor(mask), "bool")
    return ops.expand_dims(mask, -1) if mask.ndim < x.ndim else mask


def multiply(inputs, **kwargs):
    """``Multiply(**kwargs)(inputs)``: the elementwise product of the list ``inputs`` (Keras's functional form)."""
    return Multiply(**kwargs)(inputs)
