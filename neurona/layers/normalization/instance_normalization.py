"""``InstanceNormalization``: group normalization with one group per channel."""

from .group_normalization import GroupNormalization


class InstanceNormalization(GroupNormalization):
    """Instance normalization (Ulyanov, Vedaldi & Lempitsky, 2016).

    Each channel of each sample is normalized by its own mean and biased variance
    over the other non-batch axes (the spatial axes of ``(N, H, W, C)``), then
    scaled and shifted per channel. It is ``GroupNormalization(groups=-1)``: Keras 3
    has no such layer in its core, so this thin class names the common case.

    Args:
        axis: the channels axis (-1 for channels-last inputs).
        epsilon, center, scale, beta_initializer, gamma_initializer, beta_regularizer,
            gamma_regularizer: as in ``GroupNormalization``.
        **kwargs: base Layer arguments.
    """

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None, **kwargs):
        super().__init__(groups=-1, axis=axis, epsilon=epsilon, center=center, scale=scale,
                         beta_initializer=beta_initializer, gamma_initializer=gamma_initializer,
                         beta_regularizer=beta_regularizer, gamma_regularizer=gamma_regularizer, **kwargs)

    def get_config(self):
        config = super().get_config()
        del config["groups"]
        return config
