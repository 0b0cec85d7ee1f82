"""F-scores: ``FBetaScore`` and ``F1Score`` over one-hot (or multi-label) outputs, Keras 3 semantics.

For ``y_true`` and ``y_pred`` of shape ``(batch, C)``, the scores become 0/1
decisions: with ``threshold=None`` the highest score of each row is 1 (every
tied maximum, and never an all-zero row), with a threshold ``y_pred >
threshold`` is 1. Per class ``c``, over everything seen,

    TP_c = sum w y_true y_hat,  FP_c = sum w (1 - y_true) y_hat,  FN_c = sum w y_true (1 - y_hat),
    P_c = TP_c / (TP_c + FP_c + eps),    R_c = TP_c / (TP_c + FN_c + eps),
    F_c = (1 + beta^2) P_c R_c / (beta^2 P_c + R_c + eps)         (eps = 1e-7, as Keras)

(van Rijsbergen, "Information Retrieval", 1979). ``average`` reduces the
per-class scores: None keeps them (an array of shape ``(C,)``), ``"macro"``
is their mean, ``"weighted"`` their mean weighted by each class's support
``sum w y_true``, and ``"micro"`` pools the counts of all classes first
(for single-label data micro-F1 equals accuracy).
"""

import numpy

from .. import backend
from .base import Metric, match_rank, registry, to_array
from .confusion import check_thresholds

EPSILON = 1e-7  # Keras's backend.epsilon(), which its F-score formula uses
AVERAGES = (None, "micro", "macro", "weighted")


@registry.register
class FBetaScore(Metric):
    """The F-beta score, ``(1 + beta^2) P R / (beta^2 P + R)``; ``beta > 1`` favours recall.

    Args:
        average: None (per-class scores), ``"micro"``, ``"macro"`` or ``"weighted"``.
        beta: the weight of recall relative to precision (> 0). Defaults to 1.
        threshold: a number in [0, 1]: scores above it count as predicted; None
            (default) predicts each row's highest score.
        name: the metric's label.
    """

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score"):
        owner = type(self).__name__
        if average not in AVERAGES:
            raise ValueError(f"{owner}: average must be one of {AVERAGES}, got {average!r}")
        if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not beta > 0:
            raise ValueError(f"{owner}: beta must be a number > 0, got {beta!r}")
        if threshold is not None:
            threshold = check_thresholds(owner, threshold, None)[0][0]
        self.average, self.beta, self.threshold = average, float(beta), threshold
        self.num_classes = None
        super().__init__(name=name)

    # summed across processes by neurona.distributed
    _additive_state = ("true_positives", "false_positives", "false_negatives", "support")

    def reset_state(self):
        self.true_positives = self.false_positives = self.false_negatives = self.support = 0.0

    def _decisions(self, y_pred):
        xp = backend.xp_of(y_pred)
        if self.threshold is None:
            top = y_pred.max(axis=-1, keepdims=True)
            return ((y_pred >= top) & (xp.abs(y_pred) > 1e-9)).astype(xp.float64)  # an all-zero row predicts none
        return (y_pred > self.threshold).astype(xp.float64)

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add a batch: ``y_pred`` scores and 0/1 ``y_true`` of shape ``(batch, C)``."""
        owner = type(self).__name__
        y_pred = to_array(y_pred)
        xp = backend.xp_of(y_pred)
        y_true = match_rank(to_array(y_true, like=y_pred), y_pred)
        if y_pred.ndim != 2 or y_true.shape != y_pred.shape:
            raise ValueError(f"{owner}: expected y_true and y_pred of the same shape (batch, num_classes), got "
                             f"{y_true.shape} and {y_pred.shape}; one-hot encode integer labels first")
        if self.num_classes not in (None, y_pred.shape[1]):
            raise ValueError(f"{owner}: y_pred has {y_pred.shape[1]} classes but earlier batches had "
                             f"{self.num_classes}")
        self.num_classes = y_pred.shape[1]
        y_hat, y_true = self._decisions(y_pred.astype(xp.float64)), y_true.astype(xp.float64)
        w = None if sample_weight is None else to_array(sample_weight, like=y_pred).astype(xp.float64)
        if w is not None:
            w = xp.broadcast_to(w.reshape(-1, 1) if w.ndim <= 1 else w, y_pred.shape)
        axis = None if self.average == "micro" else 0

        def total(values):
            return (values if w is None else values * w).sum(axis=axis)

        self.true_positives = self.true_positives + total(y_hat * y_true)
        self.false_positives = self.false_positives + total(y_hat * (1.0 - y_true))
        self.false_negatives = self.false_negatives + total((1.0 - y_hat) * y_true)
        self.support = self.support + total(y_true)

    def result(self):
        """A float for an average, or a NumPy array of per-class scores for ``average=None``."""
        tp, fp, fn, support = (numpy.asarray(backend.asnumpy(v), numpy.float64) for v in
                               (self.true_positives, self.false_positives, self.false_negatives, self.support))
        precision = tp / (tp + fp + EPSILON)
        recall = tp / (tp + fn + EPSILON)
        b2 = self.beta**2
        f = (1.0 + b2) * precision * recall / (b2 * precision + recall + EPSILON)
        if self.average == "weighted":
            return float((f * support / (support.sum() + EPSILON)).sum())
        if self.average is not None:
            return float(numpy.mean(f))
        if self.num_classes is None:  # nothing seen here: per-class sums of other processes, or no class yet
            return f.copy() if f.ndim == 1 else numpy.zeros(0)
        return numpy.broadcast_to(f, (self.num_classes,)).copy()

    def get_config(self):
        return {"average": self.average, "beta": self.beta, "threshold": self.threshold, "name": self.name}


@registry.register
class F1Score(FBetaScore):
    """The F1 score, ``2 P R / (P + R)``: ``FBetaScore`` with ``beta = 1``.

    Args:
        average: None (per-class scores), ``"micro"``, ``"macro"`` or ``"weighted"``.
        threshold: None (predict each row's highest score) or a number in [0, 1].
        name: the metric's label.
    """

    def __init__(self, average=None, threshold=None, name="f1_score"):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name)

    def get_config(self):
        return {"average": self.average, "threshold": self.threshold, "name": self.name}
