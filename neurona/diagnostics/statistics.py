"""What one forward and backward pass says about a layer: moments, saturation, dead units, histograms.

Every statistic is a plain float (JSON-safe) computed on the host from one
batch. A *unit* is one entry of the last axis (a Dense unit, a Conv filter's
channel); the statistics over a unit pool the batch and every spatial position.

Saturation and dead units are defined by the activation's shape:

- saturating regions, where the derivative is almost zero so almost no
  gradient passes (Glorot & Bengio 2010 watched sigmoid layers saturate):
  tanh and softsign ``|a| > 0.99``; sigmoid and hard_sigmoid ``a < 0.01`` or
  ``a > 0.99``; elu ``a < -0.99`` and selu ``a < -0.99 * 1.7581`` (their
  negative tails flatten out at ``-1`` and ``-lambda * alpha``).
- dead units, for the ReLU family (relu, relu6): a unit whose output is 0 on
  every example of the batch gets no gradient and stops learning (the "dying
  ReLU", Lu et al. 2019).
"""

import math

import numpy

from .. import activations, backend

SATURATING = ("tanh", "softsign", "sigmoid", "hard_sigmoid", "elu", "selu")
RELU_FAMILY = ("relu", "relu6")
_SELU_FLOOR = -1.0507009873554805 * 1.6732632423543772  # selu's limit as z -> -inf
HISTOGRAM_BINS = 40


def activation_name(fn):
    """The registered name of an activation function (``"relu"``), or its Python name for a custom one."""
    if fn is None:
        return "linear"
    try:
        name = activations.serialize(fn)
    except (TypeError, ValueError):
        name = None
    if isinstance(name, str):
        return name
    return getattr(fn, "__name__", type(fn).__name__)


def saturated_fraction(name, a):
    """Fraction of entries of ``a`` (activations) in a saturating region of activation ``name``; None if it has none."""
    if name in ("tanh", "softsign"):
        return float(numpy.mean(numpy.abs(a) > 0.99))
    if name in ("sigmoid", "hard_sigmoid"):
        return float(numpy.mean((a < 0.01) | (a > 0.99)))
    if name == "elu":
        return float(numpy.mean(a < -0.99))
    if name == "selu":
        return float(numpy.mean(a < 0.99 * _SELU_FLOOR))
    return None


def dead_fraction(name, a):
    """Fraction of units (last axis) whose activation is 0 on the whole batch, for the ReLU family; else None."""
    if name not in RELU_FAMILY or a.ndim < 2 or a.size == 0:
        return None
    alive = (a.reshape(-1, a.shape[-1]) > 0).any(axis=0)
    return float(1.0 - alive.mean())


def moments(a):
    """``(mean, std)`` of every entry of ``a`` as floats (float64 sums, so float16 batches do not overflow)."""
    a = numpy.asarray(a, dtype=numpy.float64)
    if a.size == 0:
        return math.nan, math.nan
    return float(a.mean()), float(a.std())


def rms(a):
    """Root mean square of ``a`` (the scale of a gradient, whatever its mean)."""
    a = numpy.asarray(a, dtype=numpy.float64)
    return float(numpy.sqrt(numpy.mean(a * a))) if a.size else math.nan


def example_norm(a):
    """RMS over examples (first axis) of each example's gradient norm: ``sqrt(mean_n sum_features a_n^2)``.

    The quantity an isometric layer preserves whatever its width (Pennington et al. 2017), so layers of
    different sizes (a 26x26x32 feature map, 10 logits) compare fairly, unlike per-entry scales.
    """
    a = numpy.asarray(a, dtype=numpy.float64)
    if a.size == 0 or a.ndim == 0:
        return math.nan
    return float(numpy.sqrt(numpy.mean(numpy.sum(a.reshape(a.shape[0], -1) ** 2, axis=1))))


def histogram(a, bins=HISTOGRAM_BINS):
    """``{"counts": [...], "edges": [...]}`` of the finite entries of ``a`` (for plots)."""
    a = numpy.asarray(a, dtype=numpy.float64).ravel()
    a = a[numpy.isfinite(a)]
    if a.size == 0:
        return {"counts": [], "edges": []}
    low, high = float(a.min()), float(a.max())
    if low == high:  # a constant (zeros init): one bin around it
        low, high = low - 0.5, high + 0.5
    counts, edges = numpy.histogram(a, bins=bins, range=(low, high))
    return {"counts": counts.tolist(), "edges": edges.tolist()}


def host(t):
    """The values of a Tensor or array as a NumPy array."""
    return backend.asnumpy(getattr(t, "data", t))
