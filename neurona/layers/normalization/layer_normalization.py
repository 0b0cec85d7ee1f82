"""``LayerNormalization``: normalize each sample over its feature axes."""

from ... import ops
from .base import AffineNormalization, check_axis_argument, normalize_axes


class LayerNormalization(AffineNormalization):
    """Layer normalization (Ba, Kiros & Hinton, 2016), with Keras 3 semantics.

    Each sample is normalized by its own mean and biased variance over ``axis``,
    ``y = gamma * (x - mean) / sqrt(var + epsilon) + beta``; the same in training
    and at inference (no batch statistics, no moving averages). ``gamma`` and
    ``beta`` span the normalized axes: shape ``tuple(input_shape[a] for a in axis)``,
    e.g. ``(C,)`` for ``axis=-1``.

    Args:
        axis: an int or a list of ints, the axes to normalize over (not the batch axis 0).
        epsilon: added to the variance.
        center, scale: learn ``beta`` / ``gamma``.
        beta_initializer, gamma_initializer: initializers (Keras defaults: zeros, ones).
        beta_regularizer, gamma_regularizer: optional weight penalties.
        **kwargs: base Layer arguments.
    """

    supports_masking = True  # the output keeps the input's time steps: its mask passes on

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None, **kwargs):
        super().__init__(epsilon=epsilon, center=center, scale=scale, beta_initializer=beta_initializer,
                         gamma_initializer=gamma_initializer, beta_regularizer=beta_regularizer,
                         gamma_regularizer=gamma_regularizer, **kwargs)
        self.axis = check_axis_argument(axis, "LayerNormalization")

    def build(self, input_shape):
        rank = len(input_shape)
        self._axes = normalize_axes(self.axis, rank, self)
        sizes = self.known_sizes(input_shape, self._axes)
        self.add_affine_weights(sizes)
        self._broadcast = tuple(input_shape[i] if i in self._axes else 1 for i in range(rank))

    def call(self, inputs, training=None):
        self.check_inputs(inputs)
        gamma = None if self.gamma is None else ops.reshape(self.gamma, self._broadcast)
        beta = None if self.beta is None else ops.reshape(self.beta, self._broadcast)
        return ops.standardize(inputs, self._axes, gamma, beta, epsilon=self.epsilon)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
