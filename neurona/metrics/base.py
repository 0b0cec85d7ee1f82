"""Streaming metrics: the ``Metric`` base, ``Mean`` and ``MeanMetricWrapper``.

A metric accumulates over batches (``update_state``), reports one number
(``result``) and starts over (``reset_state``). Every built-in metric is a
weighted mean of per-sample values,

    result = sum_i w_i v_i / sum_i w_i        (w_i = 1 without sample weights),

kept as two running sums in float64. Because only sums are kept, the result
over several batches of any sizes equals the result on their concatenation.
On a GPU the sums stay 0-d device arrays (no host sync per batch); ``result``
is where they become a Python float.
"""


import numpy

from .. import backend
from ..autograd import Tensor, no_grad
from ..registry import Configurable, Registry, construct, snake_case

#: Registry of metric classes.
registry = Registry("metric")


def to_array(value, like=None):
    """The raw array of a Tensor, array or nested list (on ``like``'s device when given)."""
    data = value.data if isinstance(value, Tensor) else value
    if like is not None:
        return backend.to_device(data, backend.device_of(like))
    if hasattr(data, "shape") and hasattr(data, "dtype"):
        return data
    return backend.get_xp().asarray(data)


def match_rank(y_true, y_pred):
    """``y_true`` given ``y_pred``'s rank when they differ by a trailing axis of size 1 (Keras's rule)."""
    if y_true.ndim == y_pred.ndim - 1 and y_pred.shape[-1] == 1:
        return y_true.reshape(y_true.shape + (1,))
    if y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
        return y_true.reshape(y_true.shape[:-1])
    return y_true


def _host_or_device(value):
    """A NumPy scalar becomes a Python float; a CuPy one stays on the device (no sync)."""
    return float(value) if isinstance(value, numpy.ndarray | numpy.generic) else value


def weighted_sums(values, sample_weight=None):
    """``(sum_i w_i v_i, sum_i w_i)`` over the samples (first axis) of ``values``, in float64.

    Values with more than one axis are first averaged per sample over the
    other axes. Weights may be a scalar (the same weight for every sample),
    have shape ``(N,)`` / ``(N, 1)``, or any shape that broadcasts to a leading
    part of ``values.shape`` (e.g. ``(N, T)`` per-timestep weights).
    """
    values = to_array(values)
    _check_numeric(values, "values")
    xp = backend.xp_of(values)
    if values.ndim == 0:
        values = values.reshape(1)
    if sample_weight is None:
        if values.ndim > 1:
            values = values.mean(axis=tuple(range(1, values.ndim)), dtype=xp.float64)
        return values.sum(dtype=xp.float64), values.shape[0]
    weights = to_array(sample_weight, like=values)
    _check_numeric(weights, "sample_weight")
    weights = weights.astype(xp.float64)
    if weights.ndim == values.ndim + 1 and weights.shape[-1] == 1:
        weights = weights.reshape(weights.shape[:-1])
    if weights.ndim == 0:
        weights = weights.reshape(1)
    if weights.ndim > values.ndim:
        raise ValueError(f"sample_weight of shape {weights.shape} has more axes than the values {values.shape}")
    if values.ndim > weights.ndim:
        values = values.mean(axis=tuple(range(weights.ndim, values.ndim)), dtype=xp.float64)
    try:
        weights = xp.broadcast_to(weights, values.shape)
    except ValueError:
        raise ValueError(
            f"sample_weight of shape {tuple(weights.shape)} does not broadcast to the values' leading shape "
            f"{values.shape}; pass one weight per sample"
        ) from None
    weighted = values * weights
    if weighted.ndim > 1:
        trailing = tuple(range(1, weighted.ndim))
        weighted, weights = weighted.mean(axis=trailing), weights.mean(axis=trailing)
    return weighted.sum(dtype=xp.float64), weights.sum(dtype=xp.float64)


def _check_numeric(array, what):
    """Refuse strings and objects, which NumPy would only reject deep inside a reduction."""
    if array.dtype.kind not in "biuf":
        raise TypeError(f"metric {what} must be numeric (bool, int or float), got an array of dtype {array.dtype}"
                        f" and shape {tuple(array.shape)}")


class Metric(Configurable):
    """Base class of streaming metrics.

    Subclasses implement ``update_state``, ``result`` and ``reset_state``;
    calling the metric updates it and returns the new result, as in Keras.

    Args:
        name: label of the metric, the key in ``History`` and progress bars
            (defaults to the registered snake_case name).
    """

    def __init__(self, name=None):
        self.name = name or registry.name_of(self) or snake_case(type(self).__name__)
        self.reset_state()

    def update_state(self, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError

    def result(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def reset_state(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        """JSON-safe constructor arguments."""
        return {"name": self.name}

    @classmethod
    def from_config(cls, config):
        """Rebuild the metric from ``get_config()``'s output, naming what does not fit the constructor."""
        return construct(cls, config, "metric")


@registry.register
class Mean(Metric):
    """The (weighted) mean of the values passed to ``update_state``: ``sum w v / sum w``."""

    def reset_state(self):
        self.total, self.count = 0.0, 0.0

    def update_state(self, values, sample_weight=None):
        """Add a batch of values (one per sample, see ``weighted_sums`` for shapes and weights)."""
        total, count = weighted_sums(values, sample_weight)
        self.total = self.total + _host_or_device(total)
        self.count = self.count + _host_or_device(count)

    def result(self):
        """The mean so far as a Python float (0.0 before any update, as in Keras)."""
        count = float(self.count)
        return float(self.total) / count if count else 0.0


class MeanMetricWrapper(Mean):
    """The mean of a per-sample function ``fn(y_true, y_pred, **kwargs)`` over everything seen.

    ``fn`` may return an array or a Tensor; it runs under ``no_grad`` so
    metrics never extend the training graph.

    Args:
        fn: per-sample function.
        name: label (defaults to ``fn.__name__``).
        **kwargs: keyword arguments of ``fn``, kept in the config.
    """

    def __init__(self, fn, name=None, **kwargs):
        if not callable(fn):
            raise TypeError(f"MeanMetricWrapper needs a callable fn(y_true, y_pred), got {fn!r}")
        self.fn, self.fn_kwargs = fn, kwargs
        super().__init__(name=name or getattr(fn, "__name__", None))

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Evaluate ``fn`` on the batch and add its per-sample values."""
        with no_grad():
            values = self.fn(y_true, y_pred, **self.fn_kwargs)
        super().update_state(values, sample_weight)

    def get_config(self):
        return {"name": self.name, **self.fn_kwargs}
