"""``UnitNormalization``: every sample scaled to unit L2 norm over ``axis``."""

from ... import ops
from ...arguments import is_int, shown
from ..base import ShapePreservingLayer

EPSILON = 1e-12  # Keras's: norms below it are taken as it (so a zero vector stays zero)


class UnitNormalization(ShapePreservingLayer):
    """``x / max(sqrt(sum(x^2 over axis)), 1e-12)``, Keras's ``x * min(rsqrt(sum), 1e12)``.

    Args:
        axis: an int or a list of ints: the axes normalized together (default -1, the features).
    """

    supports_masking = True

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)) and axis and all(is_int(a) for a in axis):
            self.axis = [int(a) for a in axis]
        elif is_int(axis):
            self.axis = int(axis)
        else:
            raise TypeError(f"UnitNormalization: axis must be an int or a non-empty list of ints, got {shown(axis)}")

    def check_input_shape(self, input_shape):
        super().check_input_shape(input_shape)
        rank = len(input_shape)
        for a in (self.axis if isinstance(self.axis, list) else [self.axis]):
            if not -rank <= a < rank or a % rank == 0:
                raise ValueError(f"layer {self.name!r} (UnitNormalization): axis {a} is not a feature axis of "
                                 f"inputs of shape {tuple(input_shape)} (expected one in [1, {rank - 1}] or "
                                 f"[{-rank + 1}, -1])")

    def call(self, inputs, training=None):
        axis = tuple(self.axis) if isinstance(self.axis, list) else self.axis
        squares = ops.sum(ops.square(inputs), axis=axis, keepdims=True)
        return ops.div(inputs, ops.sqrt(ops.maximum(squares, EPSILON ** 2)))

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
