"""``GlobalAveragePooling1D``."""

from ... import ops
from ..masking import as_mask
from .base_pooling import BaseGlobalPooling


class GlobalAveragePooling1D(BaseGlobalPooling):
    """Mean over steps: ``(batch, steps, c) -> (batch, c)``.

    With a mask (``(batch, steps)``, e.g. from ``Embedding(mask_zero=True)``) the mean of the real steps only,
    as Keras: ``sum_t m_t x_t / sum_t m_t`` (a sequence with no real step gives NaN there, as in Keras). The
    masked steps are left out, not multiplied by 0, so an inf or NaN there (padding a layer never computed)
    does not reach the mean, where Keras's ``x * m`` would pass it on.
    """

    rank = 1
    mode = "average"

    def call(self, inputs, training=None, mask=None):
        if mask is None:
            return super().call(inputs, training=training)
        if inputs.ndim != 3:
            raise ValueError(f"layer {self.name!r} (GlobalAveragePooling1D) expects inputs of rank 3, got shape "
                             f"{inputs.shape}")
        if self.data_format == "channels_first":  # (batch, c, steps): the masked mean of the steps, channels last
            inputs = ops.transpose(inputs, (0, 2, 1))
        keep = ops.expand_dims(as_mask(mask), -1)
        if tuple(keep.shape[:2]) != tuple(inputs.shape[:2]):
            raise ValueError(f"layer {self.name!r} (GlobalAveragePooling1D): mask of shape {tuple(mask.shape)} does "
                             f"not fit inputs of shape {tuple(inputs.shape)} (expected (batch, steps))")
        weights = ops.cast(keep, inputs.dtype)
        total = ops.sum(ops.where(keep, inputs, 0.0), axis=1, keepdims=self.keepdims)
        out = ops.div(total, ops.sum(weights, axis=1, keepdims=self.keepdims))
        return ops.transpose(out, (0, 2, 1)) if self.keepdims and self.data_format == "channels_first" else out
