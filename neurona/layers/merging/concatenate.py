"""``Concatenate``: a list of tensors joined along one axis."""

from ... import backend, ops
from ...arguments import is_int, shown
from ..masking import as_mask
from .base_merge import Merge, shapes_text


class Concatenate(Merge):
    """Join the inputs along ``axis``: ``output.shape[axis] = sum(x.shape[axis] for x in inputs)``.

    The inputs must have the same rank and the same sizes on every other axis (the batch axis
    included); no broadcasting. The gradient of each input is its slice of the upstream gradient.

    Args:
        axis: the axis to join along (default -1, the features; counted from the end when negative).
        **kwargs: base Layer arguments.
    """

    def __init__(self, axis=-1, **kwargs):
        if not is_int(axis):
            raise TypeError(f"Concatenate axis must be an integer, got {shown(axis)}")
        super().__init__(**kwargs)
        self.axis = int(axis)

    def _join_axis(self, shapes):
        ranks = {len(s) for s in shapes}
        if len(ranks) > 1:
            raise ValueError(f"{self._describe()} needs inputs of one rank, got shapes {shapes_text(shapes)}")
        rank = ranks.pop()
        if not -rank <= self.axis < rank:
            raise ValueError(f"{self._describe()}: axis {self.axis} is out of range for inputs of rank {rank} "
                             f"(shapes {shapes_text(shapes)}); expected an axis in [{-rank}, {rank - 1}]")
        return self.axis % rank

    def compute_mask(self, inputs, mask=None):
        """Keras's rule: the inputs' masks (all True for an input without one) joined along ``axis``, then any
        over the last axis (so a concatenation of features keeps the steps' mask)."""
        if not isinstance(mask, (list, tuple)) or all(m is None for m in mask):
            return None
        parts = []
        for tensor, m in zip(inputs, mask):
            xp = backend.xp_of(tensor.data)
            if m is None:
                parts.append(xp.ones(tensor.shape, dtype=bool))
                continue
            m = as_mask(m).data
            parts.append(xp.broadcast_to(m[..., None], tensor.shape) if m.ndim < tensor.ndim else m)
        return xp.concatenate(parts, axis=self.axis).any(axis=-1)

    def compute_output_shape(self, input_shape):
        shapes = self._input_shapes(input_shape)
        axis = self._join_axis(shapes)
        output = []
        for i, sizes in enumerate(zip(*shapes)):
            if i == axis:
                output.append(None if None in sizes else sum(sizes))
                continue
            known = set(sizes) - {None}
            if len(known) > 1:
                raise ValueError(f"{self._describe()} cannot concatenate inputs of shapes {shapes_text(shapes)} "
                                 f"along axis {self.axis}: their sizes at axis {i} differ ({sorted(known)}); "
                                 "expected equal sizes on every axis but the joined one")
            output.append(known.pop() if known else None)
        return tuple(output)

    def _aligned(self, inputs):
        return inputs  # no broadcasting: the ranks are equal (checked)

    def _merge_function(self, inputs):
        return ops.concatenate(inputs, axis=self.axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


def concatenate(inputs, axis=-1, **kwargs):
    """``Concatenate(axis=axis, **kwargs)(inputs)``: the list ``inputs`` joined along ``axis`` (Keras's form)."""
    return Concatenate(axis=axis, **kwargs)(inputs)
