"""``Masking``: mark the time steps whose features all equal ``mask_value`` as padding."""

from ... import ops
from ...arguments import is_real
from ..base import ShapePreservingLayer


class Masking(ShapePreservingLayer):
    """A step is padding when every feature equals ``mask_value``: the output carries the mask
    ``any(x[:, t] != mask_value)`` for the next layers (``layers/masking.py``), and padding steps are zeroed.

    Args:
        mask_value: the value that marks padding (default 0.0).
        **kwargs: base Layer arguments.
    """

    creates_masks = True
    supports_masking = True

    def __init__(self, mask_value=0.0, **kwargs):
        if not is_real(mask_value):
            raise ValueError(f"Masking mask_value must be a number, got {mask_value!r}")
        super().__init__(**kwargs)
        self.mask_value = float(mask_value)

    def compute_mask(self, inputs, mask=None):
        return ops.any(ops.not_equal(inputs, self.mask_value), axis=-1)

    def call(self, inputs):
        keep = ops.any(ops.not_equal(inputs, self.mask_value), axis=-1, keepdims=True)
        return ops.mul(inputs, ops.cast(keep, inputs.dtype))

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}
