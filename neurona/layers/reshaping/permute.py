"""``Permute`` (the axes of each sample reordered) and ``RepeatVector`` (a vector repeated along a new axis)."""

from ... import ops
from ...arguments import check_int, is_int, shown
from ..base import Layer
from .spatial import check_rank


class Permute(Layer):
    """The axes of each sample reordered: ``dims`` is a permutation of ``1 .. rank`` (the batch axis stays first).

    ``Permute((2, 1))`` swaps the two axes of ``(batch, steps, features)`` inputs.

    Args:
        dims: a permutation of the ints ``1`` to ``len(dims)``.
    """

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        if isinstance(dims, (str, bytes)) or not hasattr(dims, "__len__") or not all(is_int(d) for d in dims) or \
                sorted(int(d) for d in dims) != list(range(1, len(dims) + 1)):
            raise ValueError(f"Permute: dims must be a permutation of the ints 1 to len(dims) (the batch axis 0 "
                             f"stays in place), got {shown(dims)}")
        self.dims = tuple(int(d) for d in dims)

    def check_input_shape(self, input_shape):
        super().check_input_shape(input_shape)
        check_rank(self, input_shape, len(self.dims) + 1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def call(self, inputs, training=None):
        return ops.transpose(inputs, (0,) + self.dims)

    def get_config(self):
        return {**super().get_config(), "dims": list(self.dims)}


class RepeatVector(Layer):
    """Each input vector repeated ``n`` times: ``(batch, features) -> (batch, n, features)``.

    Args:
        n: the number of repetitions, an int >= 1.
    """

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.n = check_int(n, "RepeatVector", "n", low=1)

    def check_input_shape(self, input_shape):
        super().check_input_shape(input_shape)
        check_rank(self, input_shape, 2)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def call(self, inputs, training=None):
        return ops.broadcast_to(ops.expand_dims(inputs, 1), (inputs.shape[0], self.n, inputs.shape[1]))

    def get_config(self):
        return {**super().get_config(), "n": self.n}
