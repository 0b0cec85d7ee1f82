"""``Softmax``: the softmax as a layer, over one or several axes, with Keras's mask."""

from ... import backend, ops
from ...arguments import is_int
from ...autograd import Tensor
from ..base import ShapePreservingLayer


def large_negative(dtype):
    """What Keras 3 puts at masked positions before the softmax: -3e4 in float16 (its range ends at 65504),
    -1e9 otherwise (``keras.src.layers.activations.softmax._large_negative_number``)."""
    return -3e4 if str(dtype) == "float16" else -1e9


class Softmax(ShapePreservingLayer):
    """``exp(x) / sum(exp(x))`` along ``axis`` (``keras.layers.Softmax``).

    With a ``mask`` (``layer(x, mask=m)``; booleans, or numbers read as ``m > 0.5``), broadcastable to the
    inputs: masked positions get a large negative number (-1e9; -3e4 in float16) before the softmax, so they
    take no probability, and 0 after it, as Keras 3 does. A row that is masked everywhere is all zeros.

    Args:
        axis: an int, or a list/tuple of ints (normalized over all of them together); default -1.
        **kwargs: base Layer arguments.
    """

    supports_masking = True

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        several = isinstance(axis, (list, tuple))
        if not (is_int(axis) or several and axis and all(is_int(a) for a in axis)):
            raise ValueError(f"Softmax: axis must be an int or a non-empty list of ints, got {axis!r:.80}")
        self.axis = [int(a) for a in axis] if several else int(axis)

    def call(self, inputs, mask=None):
        axis = tuple(self.axis) if isinstance(self.axis, list) else self.axis
        if mask is None:
            return ops.softmax(inputs, axis=axis)
        keep = self._keep(inputs, mask)
        outputs = ops.softmax(ops.where(keep, inputs, large_negative(inputs.dtype)), axis=axis)
        return ops.where(keep, outputs, 0.0)

    def _keep(self, inputs, mask):
        """The mask as booleans (Keras's ``mask > 0.5`` for numbers), checked to broadcast to the inputs."""
        data = mask.data if isinstance(mask, Tensor) else backend.xp_of(inputs.data).asarray(mask)
        shape = tuple(data.shape)
        if len(shape) > inputs.ndim or any(m not in (1, i) for m, i in zip(shape[::-1], inputs.shape[::-1])):
            raise ValueError(f"layer {self.name!r} (Softmax): the mask must be broadcastable to the inputs, got a "
                             f"mask of shape {shape} for inputs of shape {tuple(inputs.shape)}")
        return data if data.dtype == bool else data > 0.5

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
