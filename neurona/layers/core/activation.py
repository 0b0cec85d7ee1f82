"""``Activation``: applies an activation function as a layer of its own."""

from ... import activations
from ..base import ShapePreservingLayer


class Activation(ShapePreservingLayer):
    """``output = activation(inputs)``, shape unchanged.

    Args:
        activation: name (``"relu"``, ``"softmax"`` ...) or callable.
    """

    supports_masking = True  # the output keeps the input's time steps: its mask passes on

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, inputs, training=None):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return activations.output_shape(self.activation, input_shape)

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}
