"""More streaming metrics of Keras 3: root mean squared error, R^2, a weighted sum, and means of per-sample losses.

Each keeps running sums only (declared in ``_additive_state`` for
data-parallel training), so streaming over batches gives the result on their
concatenation, as ``keras.metrics`` (3.15) gives after the same
``update_state`` calls.
"""

import warnings

import numpy

from .. import backend
from ..arguments import check_int
from ..autograd import no_grad
from ..losses import more_functions
from .base import Mean, MeanMetricWrapper, Metric, match_rank, registry, to_array


def _pair(owner, y_true, y_pred):
    """``(y_true, y_pred)`` as float64 arrays of one shape (up to Keras's trailing axis of size 1)."""
    y_pred = to_array(y_pred)
    xp = backend.xp_of(y_pred)
    y_true = match_rank(to_array(y_true, like=y_pred), y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{owner}: y_true has shape {y_true.shape} but y_pred has shape {y_pred.shape}; expected the "
                         "same shape")
    return y_true.astype(xp.float64), y_pred.astype(xp.float64)


@registry.register
class RootMeanSquaredError(Mean):
    """``sqrt(sum w (y_pred - y_true)^2 / sum w)`` over everything seen (each sample's squared errors averaged
    over its other axes first, as Keras's ``Mean``)."""

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add a batch's squared errors (weights as for ``Mean``)."""
        y_true, y_pred = _pair(self.name, y_true, y_pred)
        super().update_state((y_pred - y_true) ** 2, sample_weight)

    def result(self):
        """The root of the weighted mean squared error so far (0.0 before any update)."""
        return float(numpy.sqrt(super().result()))


@registry.register
class Sum(Metric):
    """The (weighted) sum of every value passed to ``update_state``: ``sum w v``.

    Weights of fewer axes than the values apply to each sample's sum over the remaining axes (Keras 3).
    """

    _additive_state = ("total",)

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        self.total = 0.0

    def update_state(self, values, sample_weight=None):
        """Add the batch's (weighted) values."""
        values = to_array(values)
        xp = backend.xp_of(values)
        values = values.astype(xp.float64)
        if sample_weight is not None:
            weights = to_array(sample_weight, like=values).astype(xp.float64)
            if weights.ndim == values.ndim + 1 and weights.shape[-1] == 1:
                weights = weights.reshape(weights.shape[:-1])
            if values.ndim > weights.ndim:
                values = values.sum(axis=tuple(range(weights.ndim, values.ndim)))
            try:
                values = values * xp.broadcast_to(weights, values.shape)
            except ValueError:
                raise ValueError(f"{self.name}: sample_weight of shape {tuple(weights.shape)} does not broadcast to "
                                 f"the values' leading shape {tuple(values.shape)}") from None
        self.total = self.total + float(values.sum())

    def result(self):
        """The sum so far as a Python float."""
        return float(self.total)


_AGGREGATIONS = (None, "uniform_average", "variance_weighted_average")


@registry.register
class R2Score(Metric):
    """The coefficient of determination ``R^2 = 1 - SS_res / SS_tot`` per output column, over everything seen.

    For inputs ``(N, D)`` and weights ``w`` (per sample), per column:
    ``SS_res = sum w (y - p)^2`` and ``SS_tot = sum w y^2 - (sum w y)^2 / sum w``; a column with
    ``SS_tot = 0`` and ``SS_res > 0`` scores 0 (Keras's rule for an infinite score).

    Args:
        class_aggregation: ``"uniform_average"`` (the mean over columns), ``"variance_weighted_average"``
            (weighted by ``SS_tot``), or None (one score per column).
        num_regressors: ``k`` > 0 gives the adjusted ``1 - (1 - R^2)(n - 1) / (n - k - 1)`` with ``n`` the number
            of values seen (``N D``, as Keras counts); it falls back to ``R^2`` with a warning when ``n - 1 <= k``.
        name: the metric's name.
        dtype: the metric's dtype.
    """

    _additive_state = ("squared_sum", "sum", "total_mse", "count", "num_samples")

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name="r2_score", dtype=None):
        if class_aggregation not in _AGGREGATIONS:
            raise ValueError(f"R2Score: class_aggregation must be one of {_AGGREGATIONS}, got {class_aggregation!r}")
        self.class_aggregation = class_aggregation
        self.num_regressors = check_int(num_regressors, "R2Score", "num_regressors", low=0)
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        # scalar zeros, arrays of one entry per column after the first update (zeros broadcast when summed)
        self.squared_sum = self.sum = self.total_mse = self.count = 0.0
        self.num_samples = 0.0

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add a batch of ``(N, D)`` targets and predictions (weights ``(N,)``, ``(N, 1)`` or ``(N, D)``)."""
        y_true, y_pred = _pair(self.name, y_true, y_pred)
        if y_pred.ndim != 2:
            raise ValueError(f"R2Score expects 2-d inputs (batch_size, output_dim), got y_pred of shape "
                             f"{y_pred.shape}")
        seen = numpy.shape(self.sum)
        if seen and seen[0] != y_pred.shape[1]:
            raise ValueError(f"R2Score: this batch has {y_pred.shape[1]} output columns, the earlier ones had "
                             f"{seen[0]}")
        xp = backend.xp_of(y_pred)
        weights = xp.ones(y_pred.shape[:1], dtype=xp.float64) if sample_weight is None else \
            to_array(sample_weight, like=y_pred).astype(xp.float64)
        if weights.ndim == 1:
            weights = weights[:, None]
        weights = xp.broadcast_to(weights, y_true.shape)
        weighted = y_true * weights
        self.sum = self.sum + weighted.sum(axis=0)
        self.squared_sum = self.squared_sum + (y_true * weighted).sum(axis=0)
        self.total_mse = self.total_mse + ((y_true - y_pred) ** 2 * weights).sum(axis=0)
        self.count = self.count + weights.sum(axis=0)
        self.num_samples = self.num_samples + y_true.size

    def result(self):
        """The score (a float, or a NumPy array per column for ``class_aggregation=None``); 0.0 before any update."""
        if not numpy.shape(self.sum):
            return 0.0
        total_sum, squared, residual, count = (backend.asnumpy(numpy.asarray(v) if isinstance(v, float) else v)
                                               for v in (self.sum, self.squared_sum, self.total_mse, self.count))
        with numpy.errstate(divide="ignore", invalid="ignore"):
            total = squared - total_sum * (total_sum / count)
            raw = 1.0 - residual / total
        raw = numpy.where(numpy.isinf(raw), 0.0, raw)
        if self.class_aggregation == "uniform_average":
            score = raw.mean()
        elif self.class_aggregation == "variance_weighted_average":
            score = (total * raw).sum() / total.sum()
        else:
            score = raw
        return self._adjusted(score)

    def _adjusted(self, score):
        n, k = float(self.num_samples), self.num_regressors
        if k == 0:
            return float(score) if numpy.ndim(score) == 0 else score
        if k >= n - 1:
            warnings.warn("R2Score: more independent predictors than data points (or as many as n - 1) for the "
                          "adjusted R2 score; falling back to the standard R2 score", stacklevel=3)
        else:
            score = 1.0 - (1.0 - score) * (n - 1.0) / (n - k - 1.0)
        return float(score) if numpy.ndim(score) == 0 else score

    def get_config(self):
        return {**super().get_config(), "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}


# ---- means of per-sample losses -----------------------------------------------------------------
def _cosine_similarity(y_true, y_pred, axis=-1):
    """Per-sample cosine similarity (the negative of the loss of the same name)."""
    with no_grad():
        return -more_functions.cosine_similarity(y_true, y_pred, axis=axis).data


class _MeanOf(MeanMetricWrapper):
    """The mean of one per-sample loss ``_fn`` with no arguments of its own: Keras's ``(name, dtype)``."""

    _fn = _default_name = None

    def __init__(self, name=None, dtype=None):
        super().__init__(type(self)._fn, name=name or self._default_name, dtype=dtype)


@registry.register
class CosineSimilarity(MeanMetricWrapper):
    """Mean cosine similarity along ``axis`` (1 for parallel vectors, 0 when either is zero)."""

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(_cosine_similarity, name, dtype, axis=axis)


@registry.register(aliases=("logcosh",))
class LogCoshError(_MeanOf):
    """Mean of ``mean(log(cosh(y_pred - y_true)))`` per sample (Keras's name for it is ``"logcosh"``)."""

    _fn, _default_name = staticmethod(more_functions.log_cosh), "logcosh"


@registry.register(aliases=("kld", "kullback_leibler_divergence"))
class KLDivergence(_MeanOf):
    """Mean of ``sum(y_true log(y_true / y_pred))`` per sample (both clipped to ``[1e-7, 1]``)."""

    _fn, _default_name = staticmethod(more_functions.kl_divergence), "kl_divergence"


@registry.register
class Poisson(_MeanOf):
    """Mean of ``mean(y_pred - y_true log(y_pred + 1e-7))`` per sample."""

    _fn, _default_name = staticmethod(more_functions.poisson), "poisson"


@registry.register(aliases=("msle",))
class MeanSquaredLogarithmicError(_MeanOf):
    """Mean of ``mean((log(1 + y_pred) - log(1 + y_true))^2)`` per sample (inputs floored at 1e-7)."""

    _fn, _default_name = staticmethod(more_functions.mean_squared_logarithmic_error), "mean_squared_logarithmic_error"


@registry.register
class Hinge(_MeanOf):
    """Mean of ``mean(max(1 - y_true y_pred, 0))`` per sample (0/1 labels become -1/1)."""

    _fn, _default_name = staticmethod(more_functions.hinge), "hinge"


@registry.register
class SquaredHinge(_MeanOf):
    """Mean of ``mean(max(1 - y_true y_pred, 0)^2)`` per sample (0/1 labels become -1/1)."""

    _fn, _default_name = staticmethod(more_functions.squared_hinge), "squared_hinge"


@registry.register
class CategoricalHinge(_MeanOf):
    """Mean of ``max(max((1 - y_true) y_pred) - sum(y_true y_pred) + 1, 0)`` per sample."""

    _fn, _default_name = staticmethod(more_functions.categorical_hinge), "categorical_hinge"
