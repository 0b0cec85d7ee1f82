"""``KernelWrapper``: a layer that runs a Dense or convolution layer on transformed weights.

Compression changes what a layer computes without a branch in the layer's class (DESIGN.md): the wrapped
layer is called as it is, with its ``kernel`` (and ``bias``) attributes pointing, for the duration of the
call, at tensors computed from its own weights (the fake-quantized kernel, the kernel times its pruning
mask). This is PyTorch's parametrization (``torch.nn.utils.parametrize``) and the wrappers of the TensorFlow
Model Optimization toolkit. The computed tensors are functions of the weights in the autograd graph, so the
gradient reaches the real weights through the transform's backward (the straight-through estimator of
quantization, the mask of pruning).
"""

import contextlib

from ..layers import Conv1D, Conv2D, Dense, Layer
from ..layers.kernel_layer import KernelLayer
from ..layers.wrapping import layer_from, prefix_weights

WRAPPABLE = (Dense, Conv1D, Conv2D)


@contextlib.contextmanager
def substituted(layer, **tensors):
    """Within the block, ``layer.<name>`` reads ``tensors[name]``; the variables are put back afterwards.

    ``object.__setattr__`` bypasses the layer's tracking, so the layer keeps owning its variables and nothing
    outside the call sees the substitute (also when the call raises).
    """
    saved = {name: layer.__dict__[name] for name in tensors}
    try:
        for name, value in tensors.items():
            object.__setattr__(layer, name, value)
        yield
    finally:
        for name, value in saved.items():
            object.__setattr__(layer, name, value)


class KernelWrapper(Layer):
    """Base class: holds one kernel layer (``self.layer``) and calls it with ``transform(...)``'s weights.

    Subclasses create their own variables in ``build_wrapper(input_shape)`` and compute the substitutes in
    ``call``; the weights of the inner layer are named under the wrapper (``quantize_dense/dense/kernel``).
    """

    prefix = "wrapped"

    def __init__(self, layer, **kwargs):
        layer = layer_from(layer, f"{type(self).__name__} layer", kwargs.get("dtype"))
        if not isinstance(layer, KernelLayer):
            raise TypeError(f"{type(self).__name__} wraps a layer with a kernel ("
                            f"{', '.join(c.__name__ for c in WRAPPABLE)}), got {type(layer).__name__} "
                            f"({layer.name!r})")
        kwargs.setdefault("name", f"{self.prefix}_{layer.name}")
        kwargs.setdefault("dtype", layer.dtype_policy.name)  # a mixed layer's wrapper computes as the layer
        super().__init__(**kwargs)
        self.layer = layer

    @property
    def supports_masking(self):
        return self.layer.supports_masking

    def build(self, input_shape):
        self.layer.build_for(input_shape)
        self.build_wrapper(input_shape)
        prefix_weights(self, self.layer)

    def build_wrapper(self, input_shape):
        """Create the wrapper's own variables (none by default)."""

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def compute_mask(self, inputs, mask=None):
        return self.layer.compute_mask(inputs, mask)

    def call_inner(self, inputs, training, **weights):
        """``self.layer(inputs)`` with its attributes replaced by ``weights`` (e.g. ``kernel=...``)."""
        with substituted(self.layer, **weights):
            return self.layer(inputs, training=training)

    def get_config(self):
        from ..layers import serialize

        return {**super().get_config(), "layer": serialize(self.layer)}
