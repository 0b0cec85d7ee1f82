"""``Merge``: the base of the layers that combine a list of tensors into one (Add, Concatenate, Dot ...).

A merge layer is called on a list (or tuple) of at least two tensors, each with
the batch axis first. The elementwise ones (Add, Subtract, Multiply, Average,
Maximum, Minimum) follow Keras's broadcasting rule: the batch sizes must agree,
and the per-sample shapes are aligned from the right and broadcast as NumPy's
are (equal sizes, or one of them 1; an unknown size ``None`` gives ``None``).
An input of lower rank gets size-1 axes inserted right after its batch axis,
so ``(batch, 3)`` merges with ``(batch, 4, 3)`` into ``(batch, 4, 3)``.

The shapes are checked when the layer is built (on ``nr.Input`` tensors, that
is while the model is being defined) and at every call, and a mismatch is a
ValueError naming the layer and every shape received.
"""

from ... import backend, ops
from ...arguments import is_int
from ..base import Layer
from ..masking import as_mask


def shapes_text(shapes):
    """``[(None, 3), (None, 4)]``: the shapes as an error message shows them."""
    return "[" + ", ".join(str(tuple(s)) for s in shapes) + "]"


class Merge(Layer):
    """Base class of the merge layers: checks the list of inputs, then applies ``_merge_function``.

    Subclasses define ``_merge_function(inputs)`` (a list of Tensors of equal rank) and may set
    ``max_inputs`` (2 for Subtract and Dot) or override ``_output_shape(shapes)`` for other shape rules.

    Args:
        **kwargs: base Layer arguments (``name``, ``dtype``, ``trainable`` ...).
    """

    min_inputs = 2
    max_inputs = None

    def _describe(self):
        return f"layer {self.name!r} ({type(self).__name__})"

    def _input_shapes(self, input_shape):
        """The shapes of the inputs as a list of tuples, after checking that there is a list of enough of them."""
        if not isinstance(input_shape, (list, tuple)) or not input_shape or not all(
                isinstance(s, (list, tuple)) and all(d is None or is_int(d) for d in s) for s in input_shape):
            raise ValueError(f"{self._describe()} must be called on a list of at least {self.min_inputs} tensors, "
                             f"got {_received(input_shape)}")
        shapes = [tuple(None if d is None else int(d) for d in s) for s in input_shape]
        count = len(shapes)
        if count < self.min_inputs or (self.max_inputs is not None and count > self.max_inputs):
            expected = (f"exactly {self.min_inputs}" if self.max_inputs == self.min_inputs
                        else f"at least {self.min_inputs}")
            raise ValueError(f"{self._describe()} must be called on a list of {expected} tensors, got {count} "
                             f"of shapes {shapes_text(shapes)}")
        if any(len(s) == 0 for s in shapes):
            raise ValueError(f"{self._describe()} merges tensors with a batch axis first, got a scalar among the "
                             f"inputs of shapes {shapes_text(shapes)}")
        return shapes

    def _batch_size(self, shapes):
        """The batch size the inputs share (None when none is known), or a ValueError when they differ."""
        sizes = {s[0] for s in shapes} - {None}
        if len(sizes) > 1:
            raise ValueError(f"{self._describe()} cannot merge tensors with different batch sizes: got shapes "
                             f"{shapes_text(shapes)}")
        return sizes.pop() if sizes else None

    def _output_shape(self, shapes):
        """The merged per-sample shape (batch axis excluded) by Keras's elementwise broadcasting rule."""
        out = shapes[0][1:]
        for shape in shapes[1:]:
            out = self._broadcast(out, shape[1:], shapes)
        return out

    def _broadcast(self, a, b, shapes):
        if len(a) < len(b):
            a, b = b, a
        merged = list(a[:len(a) - len(b)])
        for axis, (i, j) in enumerate(zip(a[len(a) - len(b):], b), start=len(a) - len(b) + 1):
            if i is None or j is None:
                merged.append(None)
            elif i == 1 or j == 1 or i == j:
                merged.append(max(i, j))
            else:
                raise ValueError(f"{self._describe()} cannot merge inputs of shapes {shapes_text(shapes)}: sizes "
                                 f"{i} and {j} at axis {axis} of the merged shape (batch axis 0) differ; "
                                 "expected equal sizes, or one of them 1")
        return tuple(merged)

    def build(self, input_shape):
        """Check the inputs' shapes (merge layers have no weights)."""
        self.compute_output_shape(input_shape)

    supports_masking = True

    def compute_mask(self, inputs, mask=None):
        """Keras's rule for the elementwise merges: a step is real where any input's is (logical or), and there
        is no mask unless every input has one."""
        if not isinstance(mask, (list, tuple)) or any(m is None for m in mask):
            return None
        xp = backend.xp_of(as_mask(mask[0]).data)
        out = as_mask(mask[0]).data
        for m in mask[1:]:
            out = xp.logical_or(out, as_mask(m).data)
        return out

    def compute_output_shape(self, input_shape):
        shapes = self._input_shapes(input_shape)
        return (self._batch_size(shapes),) + self._output_shape(shapes)

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"{self._describe()} must be called on a list of at least {self.min_inputs} tensors, "
                             f"got {_received(inputs)}")
        inputs = list(inputs)
        self.compute_output_shape([tuple(x.shape) for x in inputs])  # the shapes may differ from the build's
        return self._merge_function(self._aligned(inputs))

    def _aligned(self, inputs):
        """The inputs with size-1 axes inserted after the batch axis, up to the largest rank (Keras's rule)."""
        rank = max(x.ndim for x in inputs)
        aligned = []
        for x in inputs:
            if x.ndim < rank:
                x = ops.reshape(x, (x.shape[0],) + (1,) * (rank - x.ndim) + tuple(x.shape[1:]))
            aligned.append(x)
        return aligned

    def _merge_function(self, inputs):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must implement _merge_function()")


def _received(value):
    """What a merge layer received instead of a list of tensors, for the error message."""
    shape = getattr(value, "shape", None)
    if isinstance(value, (list, tuple)) and not value:
        return "an empty list"
    if shape is not None:
        return f"a single tensor of shape {tuple(shape)}"
    if isinstance(value, (list, tuple)) and all(is_int(d) or d is None for d in value):
        return f"a single input of shape {tuple(value)}"
    if isinstance(value, dict):
        return f"a dict with keys {sorted(value)}"
    return repr(value)
