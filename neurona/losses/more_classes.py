"""Loss classes of Keras 3 beyond the cross-entropies: each a ``more_functions`` function plus a reduction.

>>> from neurona import losses
>>> losses.Huber(delta=0.5)(y_true, y_pred)              # a scalar Tensor: mean over the batch
>>> losses.get("binary_focal_crossentropy")               # BinaryFocalCrossentropy()

Constructor arguments, their order and defaults, and the default names are
Keras 3.15's (``keras.losses.Huber`` is named ``"huber_loss"``); the configs
also keep the function arguments (``delta``, ``axis``) that Keras's leave out,
so a saved model gets them back.
"""

from .base import LossFunctionWrapper, registry
from .more_functions import (
    binary_focal_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
    cosine_similarity,
    dice,
    hinge,
    huber,
    kl_divergence,
    log_cosh,
    mean_absolute_percentage_error,
    mean_squared_logarithmic_error,
    poisson,
    squared_hinge,
)

DEFAULT = "sum_over_batch_size"


class _Plain(LossFunctionWrapper):
    """A loss of one per-sample function ``_fn`` with no arguments of its own: Keras's ``(reduction, name)``."""

    _fn = _default_name = None

    def __init__(self, reduction=DEFAULT, name=None):
        super().__init__(type(self)._fn, name=name or self._default_name, reduction=reduction)


@registry.register(aliases=("mape",))
class MeanAbsolutePercentageError(_Plain):
    """``100 mean(|y_true - y_pred| / max(|y_true|, 1e-7))`` per sample, then ``reduction``."""

    _fn, _default_name = staticmethod(mean_absolute_percentage_error), "mean_absolute_percentage_error"


@registry.register(aliases=("msle",))
class MeanSquaredLogarithmicError(_Plain):
    """``mean((log(1 + y_pred) - log(1 + y_true))^2)`` per sample (inputs floored at 1e-7), then ``reduction``."""

    _fn, _default_name = staticmethod(mean_squared_logarithmic_error), "mean_squared_logarithmic_error"


@registry.register
class CosineSimilarity(LossFunctionWrapper):
    """Negative cosine similarity along ``axis`` (see ``more_functions.cosine_similarity``)."""

    def __init__(self, axis=-1, reduction=DEFAULT, name="cosine_similarity"):
        super().__init__(cosine_similarity, name=name, reduction=reduction, axis=axis)


@registry.register(aliases=("huber_loss",))
class Huber(LossFunctionWrapper):
    """Huber loss, quadratic for errors up to ``delta`` and linear beyond (see ``more_functions.huber``)."""

    def __init__(self, delta=1.0, reduction=DEFAULT, name="huber_loss"):
        super().__init__(huber, name=name, reduction=reduction, delta=delta)


@registry.register(aliases=("logcosh",))
class LogCosh(_Plain):
    """``mean(log(cosh(y_pred - y_true)))`` per sample, then ``reduction``."""

    _fn, _default_name = staticmethod(log_cosh), "log_cosh"


@registry.register
class Hinge(_Plain):
    """``mean(max(1 - y_true y_pred, 0))`` per sample; 0/1 labels become -1/1."""

    _fn, _default_name = staticmethod(hinge), "hinge"


@registry.register
class SquaredHinge(_Plain):
    """``mean(max(1 - y_true y_pred, 0)^2)`` per sample; 0/1 labels become -1/1."""

    _fn, _default_name = staticmethod(squared_hinge), "squared_hinge"


@registry.register
class CategoricalHinge(_Plain):
    """``max(max((1 - y_true) y_pred) - sum(y_true y_pred) + 1, 0)`` per sample, for one-hot ``y_true``."""

    _fn, _default_name = staticmethod(categorical_hinge), "categorical_hinge"


@registry.register(aliases=("kld", "kullback_leibler_divergence"))
class KLDivergence(_Plain):
    """``sum(y_true log(y_true / y_pred))`` per sample, both clipped to ``[1e-7, 1]``."""

    _fn, _default_name = staticmethod(kl_divergence), "kl_divergence"


@registry.register
class Poisson(_Plain):
    """``mean(y_pred - y_true log(y_pred + 1e-7))`` per sample, then ``reduction``."""

    _fn, _default_name = staticmethod(poisson), "poisson"


@registry.register
class BinaryFocalCrossentropy(LossFunctionWrapper):
    """Binary focal cross-entropy (see ``more_functions.binary_focal_crossentropy``).

    Args:
        apply_class_balancing: weigh class 1 by ``alpha`` and class 0 by ``1 - alpha``.
        alpha: the class-1 weight of the balancing.
        gamma: the focusing exponent (0: plain binary cross-entropy).
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: targets become ``y (1 - s) + s / 2``.
        axis: the axis averaged over per sample.
        reduction: how per-sample losses are reduced (``base.REDUCTIONS``).
        name: label of the loss.
    """

    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0,
                 axis=-1, reduction=DEFAULT, name="binary_focal_crossentropy"):
        super().__init__(
            binary_focal_crossentropy, name=name, reduction=reduction, apply_class_balancing=apply_class_balancing,
            alpha=alpha, gamma=gamma, from_logits=from_logits, label_smoothing=label_smoothing, axis=axis,
        )


@registry.register
class CategoricalFocalCrossentropy(LossFunctionWrapper):
    """Categorical focal cross-entropy (see ``more_functions.categorical_focal_crossentropy``).

    Args:
        alpha: a weight for every class, or one per class (a list).
        gamma: the focusing exponent (0: categorical cross-entropy times ``alpha``).
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: targets become ``y (1 - s) + s / C``.
        axis: the class axis.
        reduction: how per-sample losses are reduced (``base.REDUCTIONS``).
        name: label of the loss.
    """

    def __init__(self, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1, reduction=DEFAULT,
                 name="categorical_focal_crossentropy"):
        alpha = list(alpha) if isinstance(alpha, tuple) else alpha  # JSON keeps lists
        super().__init__(
            categorical_focal_crossentropy, name=name, reduction=reduction, alpha=alpha, gamma=gamma,
            from_logits=from_logits, label_smoothing=label_smoothing, axis=axis,
        )


@registry.register
class Dice(LossFunctionWrapper):
    """Dice loss over ``axis`` (all axes by default: one value for the batch; see ``more_functions.dice``)."""

    def __init__(self, reduction=DEFAULT, name="dice", axis=None):
        axis = list(axis) if isinstance(axis, tuple) else axis  # JSON keeps lists
        super().__init__(dice, name=name, reduction=reduction, axis=axis)
