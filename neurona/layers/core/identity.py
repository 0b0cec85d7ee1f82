"""``Identity``: returns its inputs unchanged (a placeholder layer)."""

from ... import backend, nest
from ..base import ShapePreservingLayer
from ..symbolic import SymbolicTensor


class Identity(ShapePreservingLayer):
    """``output = inputs``: a tensor, or a list/tuple/dict of tensors, passed through.

    As every layer, it casts float inputs to its ``dtype`` (Keras's autocast); other
    dtypes (integer ids) pass as they are. The gradient is the upstream gradient.
    """

    supports_masking = True  # the output keeps the input's time steps: its mask passes on

    def call(self, inputs):
        return inputs

    def compute_output_spec(self, *args, **kwargs):
        def spec(t):
            dtype = self.compute_dtype if backend.is_floating(t.dtype) else t.dtype
            return SymbolicTensor(t.shape, dtype, name=self.name)

        return nest.map_structure(spec, args[0])
