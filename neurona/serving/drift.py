"""Drift detection: are recent requests still drawn from the distribution the model was checked on?

The recipe is the one Rabanser, Günnemann and Lipton found to work best in "Failing Loudly: An Empirical Study of
Methods for Detecting Dataset Shift" (NeurIPS 2019): reduce the inputs to a few dimensions (PCA here, which they
found competitive with their best learned reductions), run a univariate two-sample Kolmogorov-Smirnov test on each
dimension and combine them with a Bonferroni correction; alongside, test the model's own uncertainty (KS on the
entropy of its predicted probabilities), which catches shifts the input test misses.

>>> reference = ReferenceStatistics.from_arrays(x_val, model.predict(x_val))   # held-out data, not training data
>>> detector = DriftDetector(reference, window=200)
>>> detector.update(x_batch, model.predict(x_batch))                            # from every request
>>> result = detector.check()                                                   # DriftResult: p-values, score, flag

NumPy only; usable without the server. The reference statistics are in ``serving.reference_statistics``.
``check`` logs a WARNING on the logger ``neurona.serving.drift`` when drift begins and when it ends.
"""

import collections
import logging
import math
import threading
from dataclasses import asdict, dataclass, field

import numpy as np

# re-exported: the reference statistics live in their own module
from .reference_statistics import (  # noqa: F401
    ReferenceStatistics,
    _as_batch,
    _as_probabilities,
    _positive_int,
    entropy,
    split_rows,
)

logger = logging.getLogger(__name__)

_MIN_P = np.finfo(np.float64).tiny  # the floor under p before -log10, so the score stays finite (<= 307.65)


def kolmogorov_q(lam):
    """The Kolmogorov survival function Q(lambda) = P(K > lambda) = 2 sum_{k>=1} (-1)^(k-1) exp(-2 k^2 lambda^2).

    For lambda >= 1.18 the alternating series above converges in a few terms (Numerical Recipes, 2nd ed., §14.3,
    ``probks``). For smaller lambda it converges slowly, so the equivalent Jacobi-theta form is used instead:
    Q = 1 - sqrt(2 pi) / lambda * sum_{k>=1} exp(-(2k-1)^2 pi^2 / (8 lambda^2)) (Numerical Recipes, 3rd ed., §6.14).

    Args:
        lam: a non-negative float.

    Returns:
        Q(lambda) clipped to [0, 1] (Q(0) = 1).
    """
    lam = float(lam)
    if not math.isfinite(lam) or lam < 0:
        raise ValueError(f"kolmogorov_q: lam must be a finite number >= 0, got {lam!r}")
    if lam < 0.1:  # Q(0.1) = 1 - 1e-40 already
        return 1.0
    if lam < 1.18:
        total = sum(math.exp(-((2 * k - 1) ** 2) * math.pi**2 / (8 * lam * lam)) for k in range(1, 6))
        q = 1.0 - math.sqrt(2 * math.pi) / lam * total
    else:
        q = 2.0 * sum((-1) ** (k - 1) * math.exp(-2.0 * k * k * lam * lam) for k in range(1, 101))
    return min(1.0, max(0.0, q))


def _sample(values, name):
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"ks_2samp: {name} must be a non-empty 1-D sample, got shape {values.shape}")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"ks_2samp: {name} must hold finite values only (no NaN or inf)")
    return np.sort(values)


def ks_2samp(a, b):
    """Two-sided two-sample Kolmogorov-Smirnov test.

    The statistic D = max_x |F_a(x) - F_b(x)| is computed exactly: both empirical CDFs are evaluated (right-
    continuous, ``searchsorted(side="right")``) at every point of the merged samples, which is where the supremum is
    reached, so tied values (within or across samples) are counted together. The p-value is the asymptotic
    Kolmogorov distribution with Stephens' (1970) small-sample correction, as in Numerical Recipes' ``kstwo``:

        n_e = n m / (n + m),   lambda = (sqrt(n_e) + 0.12 + 0.11 / sqrt(n_e)) D,   p = Q(lambda)

    with Q from :func:`kolmogorov_q`. Stephens, "Use of the Kolmogorov-Smirnov, Cramér-von Mises and related
    statistics without extensive tables", JRSS B 32 (1970); Press et al., Numerical Recipes, §14.3. D takes
    lattice values, so with two small samples of equal size the p-value is slightly liberal (n = m = 200: about 6%
    of null pairs fall under p = 0.05); with a large reference (m = 5000) the rate is at or below nominal, and
    ties within the samples make the test conservative.

    Args:
        a, b: 1-D samples of finite numbers (sizes n and m, any lengths >= 1).

    Returns:
        ``(D, p_value)`` as floats.
    """
    return _ks_sorted(_sample(a, "a"), _sample(b, "b"))


def _ks_sorted(a, b):
    """:func:`ks_2samp` of two samples already sorted and checked (the detector sorts its reference once)."""
    n, m = a.size, b.size
    points = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, points, side="right") / n
    cdf_b = np.searchsorted(b, points, side="right") / m
    d = float(np.max(np.abs(cdf_a - cdf_b)))
    ne = n * m / (n + m)
    lam = (math.sqrt(ne) + 0.12 + 0.11 / math.sqrt(ne)) * d
    return d, kolmogorov_q(lam)


@dataclass
class DriftResult:
    """The verdict of :meth:`DriftDetector.check`.

    ``p_values`` holds one KS p-value per principal component; ``feature_p_value`` = min(1, k min_i p_i)
    (Bonferroni over the k components); ``entropy_p_value`` is the KS p-value of the entropies; ``p_value`` =
    min(1, 2 min(feature, entropy)) (Bonferroni over the two tests), so under no drift P(drift) <= alpha.
    ``score`` = -log10(p_value) (p floored at the smallest normal float): 0 when nothing differs, above
    -log10(alpha) (3 for the default alpha = 0.001) exactly when ``drift`` is set, and still growing where 1 - p would
    saturate. Before ``min_samples`` requests the p-values and score are None, ``drift`` is False and ``reason``
    says why.
    """

    drift: bool
    p_value: float | None
    score: float | None
    feature_p_value: float | None
    entropy_p_value: float | None
    p_values: list = field(default_factory=list)
    window_size: int = 0
    alpha: float = 0.001
    reason: str = ""

    def to_dict(self):
        return asdict(self)


class DriftDetector:
    """Compares a sliding window of recent requests with :class:`ReferenceStatistics`.

    Args:
        reference: a ReferenceStatistics.
        window: how many of the most recent examples are compared (older ones fall out).
        alpha: significance level of the combined test. Default 0.001, not the textbook 0.05: the false-alarm rate
            is at most alpha only when the reference and the requests come from one population, and real held-out
            data differs a little (MNIST's test digits from its training file's last 10 %: at alpha = 0.05, 10-39 %
            of clean windows of 100-500 were flagged; at 0.001, 0.5-2.4 %; docs/drift.md). On one population the
            rate is at most alpha (Bonferroni is conservative, and so is the KS p-value with ties).
        min_samples: no verdict before this many examples are in the window (default: ``window``).

    Thread-safe: ``update`` and ``check`` may be called from several threads.
    """

    def __init__(self, reference, window=200, alpha=0.001, min_samples=None):
        if not isinstance(reference, ReferenceStatistics):
            raise TypeError(f"reference must be a ReferenceStatistics, got {type(reference).__name__}")
        self.reference = reference
        self.window = _positive_int(window, "window")
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
            raise ValueError(f"alpha must be a number in (0, 1), got {alpha!r}")
        self.alpha = float(alpha)
        self.min_samples = self.window if min_samples is None else _positive_int(min_samples, "min_samples")
        if self.min_samples > self.window:
            raise ValueError(f"min_samples ({self.min_samples}) cannot exceed window ({self.window})")
        self._projections = collections.deque(maxlen=self.window)
        self._entropies = collections.deque(maxlen=self.window)
        self._lock = threading.Lock()
        self._drifting = False
        self._sorted_reference = None

    def __len__(self):
        with self._lock:
            return len(self._entropies)

    @property
    def drifting(self):
        """The flag of the last verdict (False before the first one)."""
        with self._lock:
            return self._drifting

    def update(self, x, probabilities):
        """Append a batch of inputs (n, ...) and the model's probabilities (n, classes) on them to the window."""
        projections = self.reference.project(x)
        entropies = self.reference.entropy(probabilities, projections.shape[0])
        with self._lock:
            self._projections.extend(projections)
            self._entropies.extend(entropies.tolist())

    def reset(self):
        """Empty the window (after a model update, say); the drift state goes back to False without a log line."""
        with self._lock:
            self._projections.clear()
            self._entropies.clear()
            self._drifting = False

    def check(self):
        """Test the current window against the reference; returns a :class:`DriftResult`."""
        with self._lock:
            size = len(self._entropies)
            if size < self.min_samples:
                return DriftResult(False, None, None, None, None, [], size, self.alpha,
                                   f"{size} of the {self.min_samples} examples needed for a verdict")
            window = np.array(self._projections, dtype=np.float32)
            entropies = np.array(self._entropies, dtype=np.float32)
            result = self._test(window, entropies)
            if result.drift != self._drifting:
                self._drifting = result.drift
                self._log(result)
            return result

    def _test(self, window, entropies):
        reference = self.reference
        if self._sorted_reference is None:  # sorted once: the reference never changes, the window always does
            self._sorted_reference = (np.sort(reference.projections.astype(np.float64), axis=0).T.copy(),
                                      np.sort(reference.entropies.astype(np.float64)))
        columns, sorted_entropies = self._sorted_reference
        window = np.sort(window.astype(np.float64), axis=0).T  # finite: projections of checked inputs
        p_values = [_ks_sorted(columns[i], window[i])[1] for i in range(reference.n_components)]
        feature_p = min(1.0, min(p_values) * len(p_values))
        entropy_p = _ks_sorted(sorted_entropies, np.sort(entropies.astype(np.float64)))[1]
        p_value = min(1.0, 2.0 * min(feature_p, entropy_p))
        drift = p_value < self.alpha
        if drift:
            reason = ("the inputs differ from the reference" if feature_p <= entropy_p
                      else "the model's uncertainty (entropy of its outputs) differs from the reference")
        else:
            reason = "no significant difference from the reference"
        return DriftResult(drift, p_value, -math.log10(max(p_value, _MIN_P)), feature_p, entropy_p, p_values,
                           window.shape[1], self.alpha, reason)

    @staticmethod
    def _log(result):
        figures = (f"p = {result.p_value:.3g} (inputs {result.feature_p_value:.3g}, "
                   f"entropy {result.entropy_p_value:.3g}), window of {result.window_size}")
        if result.drift:
            logger.warning("Drift detected: %s; %s", result.reason, figures)
        else:
            logger.warning("Drift ended: recent requests match the reference again; %s", figures)
