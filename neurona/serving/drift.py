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

Pure NumPy; usable without the server. ``check`` logs a WARNING on the logger ``neurona.serving.drift`` when drift
begins and when it ends.
"""

import collections
import logging
import math
import threading
from dataclasses import asdict, dataclass, field

import numpy as np

logger = logging.getLogger(__name__)

_FORMAT = "neurona.drift.reference"
_VERSION = 1
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


def entropy(probabilities):
    """Shannon entropy H(p) = -sum_k p_k log p_k (nats) of each row, with 0 log 0 = 0."""
    p = np.asarray(probabilities, dtype=np.float64)
    logs = np.log(np.where(p > 0, p, 1.0))
    return -np.sum(p * logs, axis=1)


def _as_batch(x, name, n_features=None):
    try:
        x = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be a numeric array, got {type(x).__name__}") from error
    if x.ndim < 2:
        raise ValueError(f"{name} must be a batch of shape (n, features...), got shape {x.shape}")
    x = x.reshape(x.shape[0], -1)
    if n_features is not None and x.shape[1] != n_features:
        raise ValueError(f"{name} must have {n_features} values per example (as the reference), "
                         f"got {x.shape[1]} (shape {x.shape})")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} must hold finite values only (no NaN or inf)")
    return x


def _as_probabilities(probabilities, n_rows, n_classes=None):
    p = _as_batch(probabilities, "probabilities")
    if p.shape[0] != n_rows:
        raise ValueError(f"probabilities must have one row per input: {n_rows} inputs, {p.shape[0]} rows")
    if p.shape[1] < 2 or (n_classes is not None and p.shape[1] != n_classes):
        expected = "at least 2" if n_classes is None else str(n_classes)
        raise ValueError(f"probabilities must have {expected} classes per row, got {p.shape[1]}")
    sums = p.sum(axis=1)
    if np.any(p < 0) or not np.allclose(sums, 1.0, atol=1e-3):
        raise ValueError("probabilities must be non-negative rows summing to 1 (softmax outputs, not logits); "
                         f"row sums range over [{sums.min():.4g}, {sums.max():.4g}], min value {p.min():.4g}")
    return p


def _positive_int(value, name, minimum=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


class ReferenceStatistics:
    """A compact summary of the inputs and outputs a model was validated on: a PCA and two reference samples.

    Attributes:
        mean: (d,) float32, the PCA centre.
        components: (k, d) float32, the top-k principal directions (rows, orthonormal).
        projections: (n_ref, k) float32, reference inputs projected on them.
        entropies: (n_ent,) float32, entropy of the model's probabilities on reference inputs.
        input_shape: the shape of one input (informative; inputs are compared flattened).
        n_classes: the number of output probabilities per example.
    """

    def __init__(self, mean, components, projections, entropies, input_shape, n_classes):
        self.mean = np.asarray(mean, dtype=np.float32).reshape(-1)
        self.components = np.asarray(components, dtype=np.float32).reshape(-1, self.mean.size)
        self.projections = np.asarray(projections, dtype=np.float32).reshape(-1, self.components.shape[0])
        self.entropies = np.asarray(entropies, dtype=np.float32).reshape(-1)
        self.input_shape = tuple(int(s) for s in input_shape)
        self.n_classes = int(n_classes)
        if self.components.shape[0] == 0 or self.projections.shape[0] == 0 or self.entropies.size == 0:
            raise ValueError("ReferenceStatistics needs at least one component, one projection and one entropy")
        if int(np.prod(self.input_shape)) != self.mean.size:
            raise ValueError(f"input_shape {self.input_shape} does not match the {self.mean.size} features")

    @classmethod
    def from_arrays(cls, x, probabilities, components=32, max_samples=5000, seed=0):
        """Summarize held-out inputs ``x`` (n, ...) and the model's ``probabilities`` (n, classes) on them.

        The rows are shuffled (``seed``) and split in two disjoint halves (at most ``max_samples`` rows each): the
        PCA (mean and top right singular vectors, ``numpy.linalg.svd``) is fitted on the first, and the second is
        projected to form the reference sample. Projecting the very rows the PCA was fitted on would inflate their
        variance along the top directions (the Marchenko-Pastur bias of sample eigenvalues, nearly x2 for noise
        directions at d/n = 0.16), and fresh data would then look shifted. Directions with a numerically zero
        singular value (constant pixels) are dropped. Entropies are taken on up to ``max_samples`` rows.

        Pass held-out data (a validation split), not the training data: a model is more confident on the examples
        it was trained on, so its entropy there is not what it shows on new inputs.
        """
        components = _positive_int(components, "components")
        max_samples = _positive_int(max_samples, "max_samples", minimum=2)
        flat = _as_batch(x, "x")
        if flat.shape[0] < 4:
            raise ValueError(f"x must hold at least 4 examples (two for the PCA, two for the reference), "
                             f"got {flat.shape[0]}")
        p = _as_probabilities(probabilities, flat.shape[0])
        order = np.random.default_rng(seed).permutation(flat.shape[0])
        half = min(flat.shape[0] // 2, max_samples)
        fit, held = flat[order[:half]], flat[order[half:half + max_samples]]
        mean = fit.mean(axis=0)
        _, singular, vt = np.linalg.svd(fit - mean, full_matrices=False)
        tolerance = singular[0] * max(fit.shape) * np.finfo(np.float64).eps if singular.size else 0.0
        keep = min(components, int(np.sum(singular > tolerance)))
        if keep == 0:
            raise ValueError("x is constant: there is no direction to compare inputs along")
        mean32, components32 = mean.astype(np.float32), vt[:keep].astype(np.float32)
        projections = (held - mean32) @ components32.T.astype(np.float64)
        entropies = entropy(p[order[:max_samples]])
        return cls(mean32, components32, projections, entropies, np.shape(x)[1:], p.shape[1])

    @property
    def n_components(self):
        return self.components.shape[0]

    def project(self, x):
        """(n, ...) inputs -> (n, k) float32 coordinates on the reference's principal directions."""
        flat = _as_batch(x, "x", self.mean.size)
        return ((flat - self.mean) @ self.components.T.astype(np.float64)).astype(np.float32)

    def entropy(self, probabilities, n_rows):
        """(n, classes) probabilities -> (n,) float32 entropies, validated against the reference's classes."""
        return entropy(_as_probabilities(probabilities, n_rows, self.n_classes)).astype(np.float32)

    def to_dict(self):
        """JSON-safe dict (lists of floats): float32 values round-trip exactly through ``json``."""
        return {"format": _FORMAT, "version": _VERSION, "input_shape": list(self.input_shape),
                "n_classes": self.n_classes, "mean": self.mean.tolist(), "components": self.components.tolist(),
                "projections": self.projections.tolist(), "entropies": self.entropies.tolist()}

    def to_arrays(self):
        """The four arrays by name (``mean``, ``components``, ``projections``, ``entropies``; float32, not copies),
        for binary storage (``neurona.saving`` writes them to ``model.h5``); :meth:`metadata` holds the rest."""
        return {"mean": self.mean, "components": self.components, "projections": self.projections,
                "entropies": self.entropies}

    def metadata(self):
        """The JSON-safe small fields: format, version, input_shape, n_classes and n_components.

        ``from_dict({**metadata(), **to_arrays()})`` rebuilds an equal object (the arrays bit for bit).
        """
        return {"format": _FORMAT, "version": _VERSION, "input_shape": list(self.input_shape),
                "n_classes": self.n_classes, "n_components": self.n_components}

    @classmethod
    def from_dict(cls, config):
        """Rebuild from :meth:`to_dict`'s output."""
        if not isinstance(config, dict) or config.get("format") != _FORMAT:
            raise ValueError(f"from_dict expects a dict written by ReferenceStatistics.to_dict (format {_FORMAT!r})")
        if config.get("version") != _VERSION:
            raise ValueError(f"unsupported reference statistics version {config.get('version')!r}, "
                             f"expected {_VERSION}")
        missing = {"input_shape", "n_classes", "mean", "components", "projections", "entropies"} - set(config)
        if missing:
            raise ValueError(f"reference statistics dict lacks {sorted(missing)}")
        return cls(config["mean"], config["components"], config["projections"], config["entropies"],
                   config["input_shape"], config["n_classes"])


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
