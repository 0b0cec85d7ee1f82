"""``Dot``: the batched dot product of two tensors along one axis of each (Keras's ``batch_dot``)."""

import string

from ... import ops
from ...arguments import check_bool, is_int, shown
from .base_merge import Merge, shapes_text


class Dot(Merge):
    """Per sample ``b``, the sum over the paired axes: ``out[b, i..., j...] = sum_k x[b, i..., k] * y[b, j..., k]``.

    With ``axes=(p, q)``, ``x``'s axis ``p`` and ``y``'s axis ``q`` (same size) are summed over; the
    output has ``x``'s other axes, then ``y``'s other non-batch axes, in order. When that leaves only
    the batch axis (two ``(batch, n)`` inputs), the output is ``(batch, 1)``. Keras 3's semantics.

    With ``normalize=True`` both inputs are first L2-normalized along their paired axis
    (``x / max(||x||, epsilon)``), so the output is the cosine similarity.

    Args:
        axes: one axis for both inputs (an int), or a pair ``(axis of x, axis of y)``; negative axes
            count from the end. The batch axis 0 cannot be one of them.
        normalize: L2-normalize along the axes first.
        **kwargs: base Layer arguments.
    """

    min_inputs = max_inputs = 2

    def __init__(self, axes, normalize=False, **kwargs):
        if is_int(axes):
            axes = int(axes)
        elif isinstance(axes, (list, tuple)):
            if len(axes) != 2 or not all(is_int(a) for a in axes):
                raise ValueError(f"Dot axes must be an int or a pair of ints (axis of the first input, axis of "
                                 f"the second), got {axes!r}")
            axes = [int(a) for a in axes]
        else:
            raise TypeError(f"Dot axes must be an int or a pair of ints, got {shown(axes)}")
        normalize = check_bool(normalize, "Dot", "normalize")
        super().__init__(**kwargs)
        self.axes = axes
        self.normalize = normalize

    def _resolved_axes(self, shapes):
        """The two summed axes, non-negative, after checking ranks and ranges."""
        if any(len(s) < 2 for s in shapes):
            raise ValueError(f"{self._describe()} needs inputs of rank >= 2 (batch, ...), got shapes "
                             f"{shapes_text(shapes)}")
        pair = [self.axes, self.axes] if isinstance(self.axes, int) else self.axes
        resolved = []
        for axis, shape in zip(pair, shapes):
            rank = len(shape)
            if not -rank <= axis < rank:
                raise ValueError(f"{self._describe()}: axes={self.axes} is out of range for inputs of shapes "
                                 f"{shapes_text(shapes)}")
            if axis % rank == 0:
                raise ValueError(f"{self._describe()}: axes={self.axes} includes the batch axis 0 of the inputs "
                                 f"of shapes {shapes_text(shapes)}; the dot product is taken per sample")
            resolved.append(axis % rank)
        return resolved

    def compute_output_shape(self, input_shape):
        shapes = self._input_shapes(input_shape)
        batch = self._batch_size(shapes)
        p, q = self._resolved_axes(shapes)
        x, y = shapes
        if x[p] is not None and y[q] is not None and x[p] != y[q]:
            raise ValueError(f"{self._describe()} cannot take the dot product of inputs of shapes "
                             f"{shapes_text(shapes)} along axes ({p}, {q}): sizes {x[p]} and {y[q]} differ")
        rest = tuple(s for i, s in enumerate(x) if i not in (0, p)) + tuple(
            s for i, s in enumerate(y) if i not in (0, q))
        return (batch,) + (rest or (1,))

    def _aligned(self, inputs):
        return inputs  # the two inputs keep their own ranks

    def _merge_function(self, inputs):
        x, y = inputs
        p, q = self._resolved_axes([x.shape, y.shape])
        if self.normalize:
            x, y = ops.normalize(x, axis=p), ops.normalize(y, axis=q)
        letters = iter(string.ascii_letters[1:])  # "a" is the batch axis
        sx = ["a"] + [next(letters) for _ in range(x.ndim - 1)]
        sy = ["a"] + [next(letters) for _ in range(y.ndim - 1)]
        sy[q] = sx[p]
        out = [c for i, c in enumerate(sx) if i != p] + [c for i, c in enumerate(sy) if i not in (0, q)]
        result = ops.einsum(f"{''.join(sx)},{''.join(sy)}->{''.join(out)}", x, y)
        return ops.reshape(result, (result.shape[0], 1)) if result.ndim == 1 else result

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def dot(inputs, axes=-1, normalize=False, **kwargs):
    """``Dot(axes=axes, normalize=normalize, **kwargs)(inputs)``: the batched dot product (Keras's form)."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
