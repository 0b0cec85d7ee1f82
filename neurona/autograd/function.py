"""The ``Function`` base class: one differentiable primitive = one subclass.

A subclass writes ``forward(*arrays, **params) -> array`` and
``backward(grad) -> grad or tuple of grads`` side by side, on raw arrays (NumPy
or CuPy). ``apply`` wraps the result in a Tensor and, when gradients are being
recorded, links it into the graph.

Conventions for subclasses:
- Keep what backward needs on ``self`` (or with ``save_for_backward``), and read
  ``self.needs_input_grad`` to skip gradients nobody asked for.
- Return one gradient per tensor input, in input order; ``None`` where an input
  needs none. A gradient may have the input's shape or a shape that broadcasts
  to it: the engine sums it back over broadcast axes, not the op.
- Never return an array the op keeps using (the engine may accumulate into it).
"""

import numpy

from . import engine
from .tensor import Tensor


class Function:
    """Base class of differentiable primitives."""

    inputs = ()
    needs_input_grad = ()

    def forward(self, *arrays, **params):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, grad):  # pragma: no cover - abstract
        raise NotImplementedError

    def save_for_backward(self, *arrays):
        """Keep arrays for the backward pass (read them back as ``self.saved``)."""
        self.saved = arrays

    @classmethod
    def apply(cls, *inputs, **params):
        """Run ``forward`` on the inputs' data and return the output Tensor.

        Args:
            *inputs: Tensors (the differentiable inputs).
            **params: non-differentiable parameters passed to ``forward``.
        """
        fn = cls()
        record = engine.grad_enabled() and any(t.requires_grad for t in inputs)
        fn.needs_input_grad = tuple(t.requires_grad for t in inputs) if record else (False,) * len(inputs)
        data = fn.forward(*[t.data for t in inputs], **params)
        if isinstance(data, numpy.generic):  # NumPy reduces to scalars; a Tensor always holds an array (as CuPy's)
            data = numpy.asarray(data)
        out = Tensor._wrap(data, record)
        if record:
            fn.inputs = inputs
            out._ctx = fn
        return out

    def __repr__(self):
        return f"<{type(self).__name__}>"
