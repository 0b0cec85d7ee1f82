"""``BatchNormalization``: normalize each feature by batch statistics in training, moving averages at inference."""

import numbers

from ... import initializers, ops
from ..masking import as_mask
from .base import AffineNormalization, normalize_axes


class BatchNormalization(AffineNormalization):
    """Batch normalization (Ioffe & Szegedy, 2015), with Keras 3 semantics.

    In training (``layer(x, training=True)``, as ``fit`` calls it) every feature
    along ``axis`` is normalized by the mean and the biased variance of the
    batch over all the other axes,
    ``y = gamma * (x - mean) / sqrt(var + epsilon) + beta``,
    and the non-trainable moving averages are updated in place:
    ``moving = moving * momentum + batch_stat * (1 - momentum)`` (Keras uses the
    biased batch variance here; PyTorch the unbiased one). At inference
    (``training`` False or None) the moving averages replace the batch
    statistics. A frozen layer (``trainable=False``) always runs in inference
    mode and leaves its moving averages alone, as Keras 3 does for fine-tuning.

    Weights, in order: ``gamma`` (if ``scale``), ``beta`` (if ``center``),
    ``moving_mean``, ``moving_variance``; each of shape ``(input_shape[axis],)``.

    Args:
        axis: the features axis (-1 for ``(N, C)`` and channels-last ``(N, H, W, C)``;
            1 for channels-first inputs).
        momentum: decay of the moving averages, in [0, 1].
        epsilon: added to the variance.
        center, scale: learn ``beta`` / ``gamma``.
        beta_initializer, gamma_initializer, moving_mean_initializer,
            moving_variance_initializer: initializers (Keras defaults).
        beta_regularizer, gamma_regularizer: optional weight penalties.
        **kwargs: base Layer arguments (``name``, ``trainable``, ``input_shape`` ...).

    Example:
        >>> import numpy as np
        >>> from neurona import layers
        >>> bn = layers.BatchNormalization()
        >>> y = bn(np.random.default_rng(0).normal(5.0, 3.0, (256, 4)), training=True)
        >>> bool(abs(y.numpy().mean()) < 1e-5)
        True
    """

    supports_masking = True  # the output keeps the input's time steps: its mask passes on

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, **kwargs):
        super().__init__(epsilon=epsilon, center=center, scale=scale, beta_initializer=beta_initializer,
                         gamma_initializer=gamma_initializer, beta_regularizer=beta_regularizer,
                         gamma_regularizer=gamma_regularizer, **kwargs)
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
            raise TypeError(f"BatchNormalization: axis must be an int, got {axis!r}")
        if isinstance(momentum, bool) or not isinstance(momentum, numbers.Real) or not 0 <= momentum <= 1:
            raise ValueError(f"BatchNormalization: momentum must be a number in [0, 1], got {momentum!r}")
        self.axis = int(axis)
        self.momentum = float(momentum)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.moving_mean = self.moving_variance = None

    def build(self, input_shape):
        rank = len(input_shape)
        (axis,) = normalize_axes(self.axis, rank, self)
        (dim,) = self.known_sizes(input_shape, (axis,))
        self.add_affine_weights((dim,))
        self.moving_mean = self.add_weight(name="moving_mean", shape=(dim,),
                                           initializer=self.moving_mean_initializer, trainable=False)
        self.moving_variance = self.add_weight(name="moving_variance", shape=(dim,),
                                               initializer=self.moving_variance_initializer,
                                               trainable=False)
        self._reduction_axes = tuple(i for i in range(rank) if i != axis)
        self._broadcast = tuple(dim if i == axis else 1 for i in range(rank))

    def call(self, inputs, training=None, mask=None):
        self.check_inputs(inputs)
        if training and self.trainable and mask is not None:
            return self._masked_training(inputs, as_mask(mask))
        if training and self.trainable:
            y, mean, var = ops.batch_normalization(inputs, self.gamma, self.beta, axes=self._reduction_axes,
                                                   epsilon=self.epsilon, return_statistics=True)
            self._update_moving(self.moving_mean, mean)
            self._update_moving(self.moving_variance, var)
            return y
        return self._normalize_with_moving_statistics(inputs)

    def _masked_training(self, inputs, mask):
        """Batch statistics over the real steps only (Keras's weighted moments): with weights m broadcast over
        the features, mean = sum(m x) / sum(m) and var = sum(m (x - mean)^2) / sum(m)."""
        if mask.ndim >= inputs.ndim or tuple(mask.shape) != tuple(inputs.shape[:mask.ndim]):
            raise ValueError(f"layer {self.name!r} (BatchNormalization): a mask of shape {tuple(mask.shape)} does "
                             f"not cover the leading axes of inputs of shape {tuple(inputs.shape)}")
        weights = ops.cast(ops.reshape(mask, tuple(mask.shape) + (1,) * (inputs.ndim - mask.ndim)), inputs.dtype)
        weights = ops.mul(weights, ops.ones_like(inputs))  # one weight per element
        count = ops.maximum(ops.sum(weights, axis=self._reduction_axes, keepdims=True), 1e-12)
        mean = ops.div(ops.sum(ops.mul(inputs, weights), axis=self._reduction_axes, keepdims=True), count)
        centred = ops.sub(inputs, mean)
        var = ops.div(ops.sum(ops.mul(weights, ops.square(centred)), axis=self._reduction_axes, keepdims=True),
                      count)
        y = ops.div(centred, ops.sqrt(ops.add(var, self.epsilon)))
        if self.gamma is not None:
            y = ops.mul(y, ops.reshape(self.gamma, self._broadcast))
        if self.beta is not None:
            y = ops.add(y, ops.reshape(self.beta, self._broadcast))
        self._update_moving(self.moving_mean, ops.reshape(mean, (-1,)))
        self._update_moving(self.moving_variance, ops.reshape(var, (-1,)))
        return y

    def _update_moving(self, moving, stat):
        """``moving = moving * momentum + stat * (1 - momentum)``, in the moving weight's dtype (Keras 3)."""
        moving.assign(moving.data * self.momentum + stat.data.astype(moving.dtype, copy=False) * (1.0 - self.momentum))

    def _normalize_with_moving_statistics(self, inputs):
        # y = x * a + b with per-feature a = gamma / sqrt(moving_var + eps), b = beta - moving_mean * a:
        # two full-size operations; gamma and beta still receive gradients
        a = 1.0 / ops.sqrt(self.moving_variance + self.epsilon)
        if self.gamma is not None:
            a = a * self.gamma
        b = -(self.moving_mean * a)
        if self.beta is not None:
            b = b + self.beta
        return inputs * ops.reshape(a, self._broadcast) + ops.reshape(b, self._broadcast)

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": initializers.serialize(self.moving_variance_initializer),
        }
