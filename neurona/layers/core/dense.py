"""``Dense``: the fully connected layer."""

from ... import activations, ops
from ...arguments import is_int
from ..kernel_layer import KernelLayer


class Dense(KernelLayer):
    """``output = activation(inputs @ kernel + bias)``.

    ``kernel`` has shape ``(input_dim, units)`` (Keras layout: fan_in first), so
    for inputs of shape ``(batch, ..., input_dim)`` the output has shape
    ``(batch, ..., units)``.

    Args:
        units: output size (positive int).
        activation: name, function or None (linear).
        use_bias: add a bias vector.
        kernel_initializer: initializer of the kernel (Keras default ``"glorot_uniform"``).
        bias_initializer: initializer of the bias (default ``"zeros"``).
        kernel_regularizer, bias_regularizer: penalties added to the training loss.
        **kwargs: base Layer arguments (``name``, ``input_shape``, ``input_dim``,
            ``activity_regularizer`` ...).
    """

    supports_masking = True  # the output keeps the input's time steps: its mask passes on

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, **kwargs):
        if not is_int(units) or units <= 0:
            raise ValueError(f"Dense units must be a positive integer, got {units!r}")
        super().__init__(activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                         bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                         bias_regularizer=bias_regularizer, **kwargs)
        self.units = int(units)  # a plain int: NumPy integers are not JSON-safe

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(f"layer {self.name!r} (Dense) needs a known last input dimension, got {input_shape}")
        self.build_kernel((input_dim, self.units), self.units)

    def check_input_shape(self, input_shape):
        super().check_input_shape(input_shape)
        if len(input_shape) < 2:
            raise ValueError(f"layer {self.name!r} (Dense) expects inputs of rank >= 2 (batch, ..., features), "
                             f"got shape {tuple(input_shape)}")

    def compute_output_shape(self, input_shape):
        return activations.output_shape(self.activation, tuple(input_shape[:-1]) + (self.units,))

    def call(self, inputs, training=None):
        if inputs.shape[-1] != self.kernel.shape[0]:
            raise ValueError(f"layer {self.name!r} (Dense) expects inputs with last dimension "
                             f"{self.kernel.shape[0]} (shape (None, {self.kernel.shape[0]})), "
                             f"got inputs of shape {inputs.shape}")
        # the ReLU and the identity are fused into the product (one node); a pre-activation hook replaces
        # self.activation with its tap, and then sees z = x @ kernel + bias through the unfused path
        fused = "relu" if self.activation is activations.relu else "linear" if self.activation is activations.linear \
            else None
        out = ops.dense(inputs, self.kernel, bias=self.bias, activation=fused)
        return out if fused else self.activation(out)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
        }
