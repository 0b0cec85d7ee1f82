"""``AUC``: area under the ROC or precision-recall curve, streamed through fixed thresholds (Keras 3 semantics).

The curve is sampled at ``num_thresholds`` thresholds spread evenly over
[0, 1] (the end ones just outside it: ``-eps`` and ``1 + eps``, eps = 1e-7),
from the TP/FP/TN/FN counts of ``confusion.confusion_counts`` accumulated over
batches; so memory is ``O(num_thresholds)`` whatever the data size, and the
result over batches equals the result on their concatenation. With x and y
the curve's coordinates at the thresholds (ROC: x = FP/(FP+TN), y =
TP/(TP+FN); PR: x = recall, y = precision), the area is the Riemann sum

    sum_i (x_i - x_{i+1}) h_i,   h_i = (y_i + y_{i+1}) / 2 ("interpolation", the trapezoid rule),
                                       min(y_i, y_{i+1}) ("minoring") or max(...) ("majoring").

For the PR curve, "interpolation" is Davis & Goadrich's (ICML 2006): between
two thresholds TP grows linearly with the number of predicted positives p,
so precision = TP(p)/p and the segment's exact area is
``slope (dTP + intercept ln(p_i / p_{i+1})) / P``. ROC-AUC is the probability
that a random positive scores above a random negative (Hanley & McNeil, 1982);
the bucketed value equals it exactly when no bucket between two thresholds
holds scores of both classes, and is otherwise within the area of the mixed
buckets. Labels are ``y_true != 0``; every element of ``y_pred`` is one
decision (multi-label outputs are flattened, as Keras does with ``multi_label=False``).
"""

import numpy

from .. import backend
from .base import Metric, registry
from .confusion import confusion_counts, prepare, safe_divide

EPSILON = 1e-7  # Keras's backend.epsilon(): the end thresholds sit this far outside [0, 1]
CURVES = ("ROC", "PR")
SUMMATIONS = ("interpolation", "minoring", "majoring")


def even_thresholds(num_thresholds):
    """``[-eps, 1/(n-1), 2/(n-1), ..., (n-2)/(n-1), 1 + eps]`` for ``n = num_thresholds`` (Keras's grid)."""
    inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
    return [-EPSILON, *inner, 1.0 + EPSILON]


def _stable_sigmoid(x):
    xp = backend.xp_of(x)
    return 0.5 * (1.0 + xp.tanh(0.5 * x))  # tanh never overflows, unlike 1 / (1 + exp(-x))


@registry.register
class AUC(Metric):
    """Streaming area under the ROC (default) or precision-recall curve of binary scores.

    Args:
        num_thresholds: how many thresholds sample the curve (> 1); more is closer
            to the exact area and costs ``O(num_thresholds)`` per batch.
        curve: ``"ROC"`` or ``"PR"``.
        summation_method: ``"interpolation"``, ``"minoring"`` or ``"majoring"``.
        name: the metric's label.
        thresholds: explicit thresholds in [0, 1] instead of the even grid
            (``-eps`` and ``1 + eps`` are added at the ends).
        from_logits: ``y_pred`` holds logits; a sigmoid is applied first.
    """

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation", name=None,
                 thresholds=None, from_logits=False):
        curve = curve.upper() if isinstance(curve, str) else curve
        summation_method = summation_method.lower() if isinstance(summation_method, str) else summation_method
        if curve not in CURVES:
            raise ValueError(f"AUC: curve must be 'ROC' or 'PR', got {curve!r}")
        if summation_method not in SUMMATIONS:
            raise ValueError(f"AUC: summation_method must be one of {SUMMATIONS}, got {summation_method!r}")
        if thresholds is not None:
            inner = sorted(float(t) for t in numpy.atleast_1d(numpy.asarray(thresholds, numpy.float64)))
            if any(not 0.0 <= t <= 1.0 for t in inner):
                raise ValueError(f"AUC: thresholds must be in [0, 1], got {thresholds!r}")
            self.thresholds = [-EPSILON, *inner, 1.0 + EPSILON]
            num_thresholds = len(self.thresholds)
        else:
            if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, int) or num_thresholds <= 1:
                raise ValueError(f"AUC: num_thresholds must be an integer > 1, got {num_thresholds!r}")
            self.thresholds = even_thresholds(num_thresholds)
        self.init_thresholds = None if thresholds is None else self.thresholds[1:-1]
        self.num_thresholds = num_thresholds
        self.curve, self.summation_method, self.from_logits = curve, summation_method, bool(from_logits)
        super().__init__(name=name)

    _additive_state = ("counts",)  # summed across processes by neurona.distributed

    def reset_state(self):
        self.counts = [0.0, 0.0, 0.0, 0.0]  # tp, fp, tn, fn per threshold; device arrays after an update

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add a batch: ``y_pred`` scores (probabilities, or logits with ``from_logits``) and 0/1 ``y_true``."""
        labels, preds, weights = prepare("AUC", y_true, y_pred, sample_weight)
        if self.from_logits:
            preds = _stable_sigmoid(preds)
        batch = confusion_counts(labels, preds, weights, self.thresholds)
        self.counts = [total + new for total, new in zip(self.counts, batch)]

    def _host_counts(self):
        n = len(self.thresholds)
        return [numpy.broadcast_to(numpy.asarray(backend.asnumpy(c), numpy.float64), (n,)) for c in self.counts]

    def _interpolated_pr_area(self, tp, fp, fn):
        """Davis & Goadrich's interpolation between adjacent thresholds (Keras's ``interpolate_pr_auc``)."""
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = safe_divide(dtp, numpy.maximum(dp, 0.0))
        intercept = tp[1:] - slope * p[1:]
        both = (p[:-1] > 0) & (p[1:] > 0)
        ratio = numpy.where(both, safe_divide(p[:-1], numpy.maximum(p[1:], 0.0)), 1.0)
        return float(numpy.sum(safe_divide(slope * (dtp + intercept * numpy.log(ratio)),
                                           numpy.maximum(tp[1:] + fn[1:], 0.0))))

    def result(self):
        """The area as a Python float (0.0 before any data)."""
        tp, fp, tn, fn = self._host_counts()
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolated_pr_area(tp, fp, fn)
        if self.curve == "ROC":
            x, y = safe_divide(fp, fp + tn), safe_divide(tp, tp + fn)
        else:
            x, y = safe_divide(tp, tp + fn), safe_divide(tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = 0.5 * (y[:-1] + y[1:])
        elif self.summation_method == "minoring":
            heights = numpy.minimum(y[:-1], y[1:])
        else:
            heights = numpy.maximum(y[:-1], y[1:])
        return float(numpy.sum((x[:-1] - x[1:]) * heights))

    def get_config(self):
        return {"num_thresholds": self.num_thresholds, "curve": self.curve, "summation_method": self.summation_method,
                "name": self.name, "thresholds": self.init_thresholds, "from_logits": self.from_logits}
