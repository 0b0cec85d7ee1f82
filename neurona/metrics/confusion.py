"""Confusion-matrix metrics at decision thresholds: Precision, Recall and the four counts (Keras 3 semantics).

Every element of ``y_pred`` (a probability) is one binary decision: it is a
predicted positive at threshold ``t`` when ``y_pred > t``, and its label is
positive when ``y_true != 0``. Over everything seen so far, per threshold,

    TP = sum w [pred > t and label],        FP = sum w [pred > t and not label],
    FN = sum w [pred <= t and label],       TN = sum w [pred <= t and not label],

    precision = TP / (TP + FP),    recall = TP / (TP + FN)    (0 when the denominator is 0).

Only these weighted counts are kept, so streaming over batches gives exactly
the result on their concatenation. ``class_id`` scores one column of a
multi-class output; ``top_k`` first keeps only the ``k`` highest scores of
each row as predicted positives (then the default threshold is ``-inf``, so
"in the top k" is the decision). The counts for all thresholds come from one
sort-free pass: each prediction's position among the sorted thresholds
(``searchsorted``), a weighted histogram of the positions, and a cumulative sum.
"""

import numpy

from .. import backend
from .base import Metric, match_rank, registry, to_array
from .classification import _check_k


def check_thresholds(owner, thresholds, default):
    """``(list of floats, is_scalar)`` from None (-> ``[default]``), a number or a list, each in [0, 1]."""
    if thresholds is None:
        return [float(default)], True
    scalar = numpy.ndim(thresholds) == 0
    values = [float(t) for t in numpy.atleast_1d(numpy.asarray(thresholds, dtype=numpy.float64))]
    if not values or any(not 0.0 <= t <= 1.0 for t in values):
        raise ValueError(f"{owner}: thresholds must be numbers in [0, 1], got {thresholds!r}")
    return values, scalar


def _filter_top_k(scores, k):
    """``scores`` with all but the ``k`` largest of each row (last axis) set to -inf; ties go to the lower index."""
    xp = backend.xp_of(scores)
    rows = scores.reshape(-1, scores.shape[-1])
    order = xp.argsort(-rows, axis=-1, kind="stable") if xp is numpy else xp.argsort(-rows, axis=-1)
    keep = xp.zeros(rows.shape, dtype=bool)
    keep[xp.arange(rows.shape[0])[:, None], order[:, :k]] = True  # fancy-index assignment: NumPy and CuPy alike
    return xp.where(keep, rows, -xp.inf).reshape(scores.shape)


def prepare(owner, y_true, y_pred, sample_weight=None, top_k=None, class_id=None):
    """Flattened ``(labels, predictions, weights or None)``: bool labels, float64 predictions, on y_pred's device."""
    y_pred = to_array(y_pred)
    xp = backend.xp_of(y_pred)
    y_true = match_rank(to_array(y_true, like=y_pred), y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{owner}: y_true has shape {y_true.shape} but y_pred has shape {y_pred.shape}; expected "
                         "the same shape (one 0/1 label per score: one-hot rows for multi-class outputs)")
    y_pred = y_pred.astype(xp.float64)
    weights = None
    if sample_weight is not None:
        weights = to_array(sample_weight, like=y_pred).astype(xp.float64)
        if 0 < weights.ndim < y_pred.ndim:  # one weight per sample (or per leading index) for all its scores
            weights = weights.reshape(weights.shape + (1,) * (y_pred.ndim - weights.ndim))
        try:
            weights = xp.broadcast_to(weights, y_pred.shape)
        except ValueError:
            raise ValueError(f"{owner}: sample_weight of shape {weights.shape} does not broadcast to y_pred's "
                             f"shape {y_pred.shape}") from None
    if top_k is not None:
        y_pred = _filter_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.ndim == 0 or not -y_pred.shape[-1] <= class_id < y_pred.shape[-1]:
            raise ValueError(f"{owner}: class_id={class_id} is out of range for y_pred of shape {y_pred.shape}")
        y_true, y_pred = y_true[..., class_id], y_pred[..., class_id]
        weights = None if weights is None else weights[..., class_id]
    labels = (y_true != 0).reshape(-1)
    return labels, y_pred.reshape(-1), None if weights is None else weights.reshape(-1)


def confusion_counts(labels, preds, weights, thresholds):
    """``(tp, fp, tn, fn)``, each of shape ``(T,)`` for the ascending ``thresholds``, in float64 on the device.

    With ``position`` = the number of thresholds strictly below ``pred``
    (``searchsorted`` on the left), ``pred > thresholds[j]`` exactly when
    ``position > j``; so TP[j] is the weight of positives with a position above
    ``j``, a reversed cumulative sum of their position histogram. NaN
    predictions are never positive (as ``NaN > t`` is false).
    """
    xp = backend.xp_of(preds)
    thresholds = xp.asarray(thresholds, dtype=xp.float64)
    n = thresholds.shape[0]
    position = xp.searchsorted(thresholds, preds, side="left")
    position = xp.where(xp.isnan(preds), 0, position)
    w = xp.ones(preds.shape, dtype=xp.float64) if weights is None else weights
    counts = []
    for mask in (labels, ~labels):
        hist = xp.bincount(position[mask], weights=w[mask], minlength=n + 1).astype(xp.float64)
        above = xp.cumsum(hist[::-1])[::-1]  # above[j] = weight of predictions with position >= j
        counts.append((above[1:], above[0] - above[1:]))  # (pred > t_j, pred <= t_j)
    (tp, fn), (fp, tn) = counts
    return tp, fp, tn, fn


def safe_divide(numerator, denominator):
    """``numerator / denominator`` elementwise, 0 where the denominator is 0 (Keras's ``divide_no_nan``)."""
    numerator, denominator = numpy.asarray(numerator, numpy.float64), numpy.asarray(denominator, numpy.float64)
    out = numpy.zeros(numpy.broadcast(numerator, denominator).shape)
    numpy.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


class ConfusionMetric(Metric):
    """Base of metrics computed from the streaming TP/FP/TN/FN counts at one or more thresholds.

    Subclasses implement ``from_counts(tp, fp, tn, fn)`` on NumPy float64 arrays
    of shape ``(T,)``; ``result`` gives a float for a single threshold given as a
    number (or by default) and a NumPy array for a list of thresholds.

    Args:
        thresholds: a number or a list of numbers in [0, 1] (default 0.5, or -inf with ``top_k``).
        top_k: count only the ``k`` highest scores of each row as predicted positives.
        class_id: score only this column of ``y_pred``.
        name: the metric's label.
    """

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None):
        owner = type(self).__name__
        self.init_thresholds = thresholds
        self.top_k = None if top_k is None else _check_k(top_k)
        if class_id is not None and (isinstance(class_id, bool) or not isinstance(class_id, (int, numpy.integer))):
            raise TypeError(f"{owner}: class_id must be an integer column index, got {class_id!r}")
        self.class_id = None if class_id is None else int(class_id)
        default = 0.5 if self.top_k is None else -numpy.inf
        self.thresholds, self._scalar = check_thresholds(owner, thresholds, default)
        self._sorted = numpy.argsort(self.thresholds, kind="stable")  # searchsorted needs them ascending
        super().__init__(name=name)

    _additive_state = ("counts",)  # summed across processes by neurona.distributed

    def reset_state(self):
        self.counts = [0.0, 0.0, 0.0, 0.0]  # tp, fp, tn, fn; become device arrays at the first update

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add a batch: ``y_pred`` scores in [0, 1], ``y_true`` 0/1 labels of the same shape."""
        labels, preds, weights = prepare(type(self).__name__, y_true, y_pred, sample_weight, self.top_k,
                                         self.class_id)
        ordered = [self.thresholds[i] for i in self._sorted]
        batch = confusion_counts(labels, preds, weights, ordered)
        self.counts = [total + new for total, new in zip(self.counts, batch)]

    def _host_counts(self):
        """The counts as NumPy arrays in the order the thresholds were given."""
        n = len(self.thresholds)
        unsorted = numpy.empty(n, dtype=numpy.int64)
        unsorted[self._sorted] = numpy.arange(n)
        return [numpy.broadcast_to(numpy.asarray(backend.asnumpy(c), numpy.float64), (n,))[unsorted]
                for c in self.counts]

    def from_counts(self, tp, fp, tn, fn):  # pragma: no cover - abstract
        raise NotImplementedError

    def result(self):
        values = self.from_counts(*self._host_counts())
        return float(values[0]) if self._scalar else values

    def get_config(self):
        return {"thresholds": self.init_thresholds, "top_k": self.top_k, "class_id": self.class_id,
                "name": self.name}


@registry.register
class Precision(ConfusionMetric):
    """``TP / (TP + FP)``: of the predicted positives, the fraction that are positive (0 before any)."""

    def from_counts(self, tp, fp, tn, fn):
        return safe_divide(tp, tp + fp)


@registry.register
class Recall(ConfusionMetric):
    """``TP / (TP + FN)``: of the positives, the fraction predicted positive (0 before any)."""

    def from_counts(self, tp, fp, tn, fn):
        return safe_divide(tp, tp + fn)


class _Count(ConfusionMetric):
    """One of the four (weighted) counts; ``thresholds`` as for ``Precision`` (no ``top_k``/``class_id``)."""

    index = 0

    def __init__(self, thresholds=None, name=None):
        super().__init__(thresholds=thresholds, name=name)

    def from_counts(self, *counts):
        return counts[self.index].copy()

    def get_config(self):
        return {"thresholds": self.init_thresholds, "name": self.name}


@registry.register
class TruePositives(_Count):
    """Weighted count of positives scored above the threshold."""

    index = 0


@registry.register
class FalsePositives(_Count):
    """Weighted count of negatives scored above the threshold."""

    index = 1


@registry.register
class TrueNegatives(_Count):
    """Weighted count of negatives scored at or below the threshold."""

    index = 2


@registry.register
class FalseNegatives(_Count):
    """Weighted count of positives scored at or below the threshold."""

    index = 3
