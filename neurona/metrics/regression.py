"""Regression metrics: mean squared, mean absolute and mean absolute percentage error, streamed over batches."""

from .base import MeanMetricWrapper, match_rank, registry, to_array


def _difference(name, y_true, y_pred):
    y_pred = to_array(y_pred)
    y_true = to_array(y_true, like=y_pred)
    matched = match_rank(y_true, y_pred)
    if matched.shape != y_pred.shape:
        raise ValueError(f"{name}: y_true has shape {y_true.shape} but y_pred has shape {y_pred.shape}")
    return y_pred - matched


def mean_squared_error(y_true, y_pred):
    """Per-sample ``mean((y_true - y_pred)^2)`` over the last axis, as an array (no graph)."""
    d = _difference("mean_squared_error", y_true, y_pred)
    return (d * d).mean(axis=-1) if d.ndim > 1 else d * d


def mean_absolute_error(y_true, y_pred):
    """Per-sample ``mean(|y_true - y_pred|)`` over the last axis, as an array (no graph)."""
    d = abs(_difference("mean_absolute_error", y_true, y_pred))
    return d.mean(axis=-1) if d.ndim > 1 else d


EPSILON = 1e-7  # Keras's epsilon: the smallest |y_true| a percentage error divides by


def mean_absolute_percentage_error(y_true, y_pred):
    """Per sample: ``100 * mean(|y_true - y_pred| / max(|y_true|, 1e-7))`` over the last axis (Keras's)."""
    d = abs(_difference("mean_absolute_percentage_error", y_true, y_pred))
    truth = abs(match_rank(to_array(y_true, like=to_array(y_pred)), to_array(y_pred)))
    ratio = 100.0 * d / truth.clip(EPSILON, None)
    return ratio.mean(axis=-1) if ratio.ndim > 1 else ratio


@registry.register(aliases=("mape",))
class MeanAbsolutePercentageError(MeanMetricWrapper):
    """Mean of ``100 |y_true - y_pred| / max(|y_true|, 1e-7)`` over every value seen (weighted per sample)."""

    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(mean_absolute_percentage_error, name=name, dtype=dtype)


@registry.register(aliases=("mse",))
class MeanSquaredError(MeanMetricWrapper):
    """Mean of ``(y_true - y_pred)^2`` over every value seen (weighted per sample)."""

    def __init__(self, name="mean_squared_error"):
        super().__init__(mean_squared_error, name=name)


@registry.register(aliases=("mae",))
class MeanAbsoluteError(MeanMetricWrapper):
    """Mean of ``|y_true - y_pred|`` over every value seen (weighted per sample)."""

    def __init__(self, name="mean_absolute_error"):
        super().__init__(mean_absolute_error, name=name)
