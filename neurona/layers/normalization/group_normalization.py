"""``GroupNormalization``: normalize each sample over groups of channels and all other feature axes."""

import numbers

from ... import ops
from .base import AffineNormalization, normalize_axes


class GroupNormalization(AffineNormalization):
    """Group normalization (Wu & He, 2018), with Keras 3 semantics.

    The ``C`` channels along ``axis`` are split into ``groups`` groups of ``C /
    groups`` consecutive channels; each sample is normalized per group, by the
    mean and biased variance over that group's channels and every other non-batch
    axis (for ``(N, H, W, C)``: over ``H``, ``W`` and the group's channels). Then
    ``gamma`` and ``beta``, one value per channel (shape ``(C,)``), scale and shift.
    ``groups=1`` normalizes over all features of a sample (layer normalization
    with per-channel ``gamma``); ``groups=-1`` means one group per channel
    (instance normalization). Same computation in training and at inference.

    Args:
        groups: number of groups (a divisor of ``C``), or -1 for ``C``. Keras default 32.
        axis: the channels axis (-1 for channels-last inputs).
        epsilon: added to the variance.
        center, scale: learn ``beta`` / ``gamma``.
        beta_initializer, gamma_initializer: initializers (Keras defaults: zeros, ones).
        beta_regularizer, gamma_regularizer: optional weight penalties.
        **kwargs: base Layer arguments.
    """

    def __init__(self, groups=32, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None, **kwargs):
        super().__init__(epsilon=epsilon, center=center, scale=scale, beta_initializer=beta_initializer,
                         gamma_initializer=gamma_initializer, beta_regularizer=beta_regularizer,
                         gamma_regularizer=gamma_regularizer, **kwargs)
        if isinstance(groups, bool) or not isinstance(groups, numbers.Integral) or not (groups == -1 or groups > 0):
            raise ValueError(f"{type(self).__name__}: groups must be a positive int or -1, got {groups!r}")
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
            raise TypeError(f"{type(self).__name__}: axis must be an int, got {axis!r}")
        self.groups, self.axis = int(groups), int(axis)

    def build(self, input_shape):
        rank = len(input_shape)
        (axis,) = normalize_axes(self.axis, rank, self)
        (dim,) = self.known_sizes(input_shape, (axis,))
        groups = dim if self.groups == -1 else self.groups
        if dim % groups:
            raise ValueError(f"layer {self.name!r} ({type(self).__name__}): {dim} channels along axis {self.axis} "
                             f"cannot be split into {groups} groups (groups must divide the number of channels)")
        self.add_affine_weights((dim,))
        self._axis, self._groups = axis, groups
        # the channels axis becomes (groups, channels per group); reduce over every axis but batch and group
        self._axes = tuple(i for i in range(1, rank + 1) if i != axis)
        self._broadcast = tuple(groups if i == axis else dim // groups if i == axis + 1 else 1
                                for i in range(rank + 1))

    def call(self, inputs, training=None):
        self.check_inputs(inputs)
        shape, axis = inputs.shape, self._axis
        grouped = shape[:axis] + (self._groups, shape[axis] // self._groups) + shape[axis + 1:]
        gamma = None if self.gamma is None else ops.reshape(self.gamma, self._broadcast)
        beta = None if self.beta is None else ops.reshape(self.beta, self._broadcast)
        out = ops.standardize(ops.reshape(inputs, grouped), self._axes, gamma, beta, epsilon=self.epsilon)
        return ops.reshape(out, shape)

    def get_config(self):
        return {**super().get_config(), "groups": self.groups, "axis": self.axis}
