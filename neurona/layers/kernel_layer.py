"""``KernelLayer``: the arguments every layer with a kernel and a bias shares (Dense, Conv1D, Conv2D)."""

from .. import activations, initializers, ops, regularizers
from ..autograd import Tensor
from .base import Layer, check_bool


class KernelLayer(Layer):
    """A layer computing ``activation(f(inputs, kernel) + bias)``: resolves and serializes those arguments once.

    Args:
        activation: name, function or None (linear).
        use_bias: add a bias vector.
        kernel_initializer, bias_initializer: initializers (names, objects or callables).
        kernel_regularizer, bias_regularizer: penalties added to the training loss.
        **kwargs: base Layer arguments.
    """

    def __init__(self, activation=None, use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self.use_bias = check_bool(use_bias, f"{type(self).__name__} use_bias")
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel = self.bias = None

    def _cast_inputs(self, inputs):
        """Integer and bool inputs too become the layer's float dtype (a product with float weights)."""
        if isinstance(inputs, Tensor) and inputs.dtype.kind in "biu":
            return ops.cast(inputs, self.dtype)
        return super()._cast_inputs(inputs)

    def build_kernel(self, kernel_shape, bias_units):
        """Create ``kernel`` (and ``bias`` of ``bias_units`` when used) with the layer's initializers."""
        self.kernel = self.add_weight(name="kernel", shape=kernel_shape, initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer)
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(bias_units,), initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer)

    def get_config(self):
        return {
            **super().get_config(),
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
        }
