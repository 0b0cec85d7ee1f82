"""Reference statistics: what drift detection compares requests with, summarized from held-out data.

A ``ReferenceStatistics`` holds the PCA of held-out inputs (mean and top principal directions, fitted on one
half of the rows), the other half projected on it, and the entropies of the model's probabilities there
(Rabanser, Günnemann and Lipton, "Failing Loudly", NeurIPS 2019; ``serving.drift`` runs the tests). The PCA comes
from ``eigh`` of the smaller Gram matrix when that is exact enough, else from the SVD, on one BLAS thread; inside
``fit`` it is deferred to the first read of the arrays (``_LazyReferenceStatistics``), so a fit pays only for the
sample and its predictions.

NumPy only (and ``neurona.backend.blas``); ``serving.drift`` re-exports ``ReferenceStatistics``, ``split_rows``
and ``entropy``.
"""

import threading

import numpy as np

from ..backend import blas

_FORMAT = "neurona.drift.reference"
_VERSION = 1
_LAZY_MAX_ABS = 1e30  # inputs within +-1e30: a lazy PCA's float32 mean and projections cannot overflow

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


def split_rows(n, max_samples, seed=0):
    """Which of ``n`` rows :meth:`ReferenceStatistics.from_arrays` uses for what: ``(pca, reference, scored)``,
    three ascending index arrays.

    ``order = numpy.random.default_rng(seed).permutation(n)`` and ``half = min(n // 2, max_samples)``: the PCA is
    fitted on rows ``order[:half]``, rows ``order[half:half + max_samples]`` are projected (the reference sample),
    and the entropies are taken on rows ``order[:max_samples]`` (the first ``max_samples`` PCA and reference rows).
    Every statistic is a function of a set of rows, so each set is taken in ascending order, which reads memory
    forwards, and when ``n >= 2 * max_samples`` makes ``scored`` the very ``pca`` rows.
    """
    order = np.random.default_rng(seed).permutation(n)
    half = min(n // 2, max_samples)
    return np.sort(order[:half]), np.sort(order[half:half + max_samples]), np.sort(order[:max_samples])


def _principal_axes(centered, components):
    """The top ``components`` right singular vectors of ``centered`` (h, d) as rows, fewer where the singular
    values s_i are numerically zero (s_i <= s_0 max(h, d) eps), none for a zero matrix.

    Computed from the eigenvectors of the smaller Gram matrix, A^T A (d, d), or A A^T (h, h) with
    v = A^T u / |A^T u|, whose eigenvalues are the s_i^2: exact to rounding and 3.8 times faster than
    ``numpy.linalg.svd`` (2000 x 784 on one thread: 85 ms against 326 ms). Squaring halves the relative precision
    of small directions (eigh resolves s_i down to about s_0 sqrt(d eps), the SVD to s_0 max(h, d) eps), so the
    eigenvectors are used only when the kept directions are far above that floor (s_k / s_0 > eps^(1/4), 1.2e-4);
    otherwise (inputs spanning fewer directions than ``components``, e.g. constant pixels), the SVD decides, with
    its own tolerance. ``A`` is first scaled by a power of two (exact) so that its largest entry lies in [0.5, 1):
    the Gram matrix cannot overflow. Each axis's sign makes its entry of largest magnitude positive.
    """
    h, d = centered.shape
    peak = float(np.max(np.abs(centered)))
    if peak == 0.0:
        return np.zeros((0, d))
    scaled = np.ldexp(centered, -int(np.frexp(peak)[1]))
    wide = d > h
    values, vectors = np.linalg.eigh(scaled @ scaled.T if wide else scaled.T @ scaled)
    keep = min(components, values.size)
    if values[-keep] > values[-1] * np.sqrt(np.finfo(np.float64).eps):
        axes = vectors[:, ::-1][:, :keep]
        if wide:
            axes = scaled.T @ axes
            axes /= np.linalg.norm(axes, axis=0)
        axes = axes.T
    else:
        _, singular, vt = np.linalg.svd(scaled, full_matrices=False)
        axes = vt[:min(components, int(np.sum(singular > singular[0] * max(h, d) * np.finfo(np.float64).eps)))]
    signs = np.sign(axes[np.arange(axes.shape[0]), np.argmax(np.abs(axes), axis=1)])
    return axes * signs[:, None]


def _pca_summary(fit, held, components):
    """``(mean, components, projections)``, float32: the PCA of rows ``fit`` (h, d) and rows ``held`` (r, d)
    projected on it. Raises ValueError for constant rows and for values that overflow float32.

    BLAS runs on one thread here: the result does not depend on the thread count, and OpenBLAS's threads, which
    spin waiting for each other, made the 2000 x 784 SVD take 2-13 s instead of 0.3 s on a machine whose cores
    other processes held.
    """
    fit, held = np.asarray(fit, dtype=np.float64), np.asarray(held, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"), blas.single_threaded():
        mean = fit.mean(axis=0)
        axes = _principal_axes(fit - mean, components)
        if axes.shape[0] == 0:
            raise ValueError("x is constant: there is no direction to compare inputs along")
        summary = {"mean": mean.astype(np.float32), "components": axes.astype(np.float32)}
        summary["projections"] = ((held - summary["mean"]) @ summary["components"].T.astype(np.float64)).astype(
            np.float32)
    for name, array in summary.items():
        if not np.all(np.isfinite(array)):
            raise ValueError(f"the reference {name} came out non-finite (NaN or inf): the inputs are too large for "
                             "float32 statistics; expected inputs scaled as the model sees them")
    return summary["mean"], summary["components"], summary["projections"]


def _flat_rows(rows, name):
    rows = np.asarray(rows)
    if rows.ndim < 2 or rows.shape[0] < 2 or rows.dtype.kind not in "fiub":
        raise ValueError(f"{name} must be a numeric batch of at least 2 rows, shape (n, features...), got "
                         f"{rows.dtype} of shape {rows.shape}")
    return rows.reshape(rows.shape[0], -1)


def _can_defer(fit, held):
    """Whether the PCA of these rows is sure to succeed, so that it may wait: every value finite and within
    +-_LAZY_MAX_ABS (then the float32 mean and projections, |p| <= |x - mean|_2, cannot overflow), and two PCA
    rows that differ (then the centred rows are not all zero, and at least one direction is kept)."""
    bounds = [float(f(rows)) for rows in (fit, held) for f in (np.min, np.max)]  # NaN propagates: fails below
    if not all(-_LAZY_MAX_ABS <= b <= _LAZY_MAX_ABS for b in bounds):
        return False
    return not np.array_equal(fit[0], fit[1]) or bool(np.any(fit != fit[0]))


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

        The rows are shuffled (``seed``) and split in two disjoint halves (at most ``max_samples`` rows each,
        :func:`split_rows`): the PCA (mean and top principal directions) is fitted on the first, and the second is
        projected to form the reference sample. Projecting the very rows the PCA was fitted on would inflate their
        variance along the top directions (the Marchenko-Pastur bias of sample eigenvalues, nearly x2 for noise
        directions at d/n = 0.16), and fresh data would then look shifted. Directions with a numerically zero
        variance (constant pixels) are dropped. Entropies are taken on up to ``max_samples`` rows.

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
        pca, held, scored = split_rows(flat.shape[0], max_samples, seed)
        return cls(*_pca_summary(flat[pca], flat[held], components), entropy(p[scored]), np.shape(x)[1:], p.shape[1])

    @classmethod
    def from_split(cls, pca_rows, reference_rows, probabilities, components=32, lazy=False):
        """Summarize rows already drawn and split (as :func:`split_rows` does): the PCA fitted on ``pca_rows``
        (h, ...), ``reference_rows`` (r, ...) projected on it, and the entropies of ``probabilities`` (m, classes),
        the model's outputs on the rows whose uncertainty is summarized.

        With ``lazy`` the PCA waits for the first read of ``mean``, ``components`` or ``projections`` (and so of
        ``n_components``, ``project``, ``to_arrays``, ``to_dict``, ``metadata``), where it runs once, thread-safely,
        on the rows given here (kept, not copied: pass rows nothing else writes to). It waits only when it cannot
        fail (every value finite and within +-1e30, two PCA rows differing; short of memory running out, which
        raises at that read and leaves the object pending, nothing half-set); otherwise, and without ``lazy``, it
        runs now. Entropies and shapes are computed now either way. Waiting or not, the values are the same.
        """
        components = _positive_int(components, "components")
        fit, held = _flat_rows(pca_rows, "pca_rows"), _flat_rows(reference_rows, "reference_rows")
        input_shape = np.shape(pca_rows)[1:]
        if held.shape[1] != fit.shape[1]:
            raise ValueError(f"reference_rows must have {fit.shape[1]} values per example (as pca_rows), got "
                             f"{held.shape[1]} (shape {np.shape(reference_rows)})")
        p = _as_probabilities(probabilities, len(probabilities))
        if lazy and _can_defer(fit, held):
            return _LazyReferenceStatistics(fit, held, entropy(p), input_shape, p.shape[1], components)
        return cls(*_pca_summary(_as_batch(fit, "pca_rows"), _as_batch(held, "reference_rows"), components),
                   entropy(p), input_shape, p.shape[1])

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


class _Pending:
    """An attribute of a lazy ReferenceStatistics: its first read runs the PCA, which stores the real values in the
    instance's ``__dict__``; a non-data descriptor, so later reads find them there and never come back here."""

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        instance._resolve()
        return instance.__dict__[self.name]


_RESOLVE_LOCK = threading.Lock()  # one PCA at a time; resolution is rare and short


class _LazyReferenceStatistics(ReferenceStatistics):
    """A :class:`ReferenceStatistics` whose PCA runs on the first read of ``mean``, ``components`` or
    ``projections`` (``ReferenceStatistics.from_split(..., lazy=True)``); then it is one like any other."""

    mean = _Pending()
    components = _Pending()
    projections = _Pending()

    def __init__(self, fit, held, entropies, input_shape, n_classes, components):
        # not super().__init__(): the mean, components and projections are not known yet
        self.entropies = np.asarray(entropies, dtype=np.float32).reshape(-1)
        self.input_shape = tuple(int(s) for s in input_shape)
        self.n_classes = int(n_classes)
        self._pending = (fit, held, int(components))

    def _resolve(self):
        with _RESOLVE_LOCK:
            pending = self.__dict__.get("_pending")
            if pending is None:  # another thread resolved it meanwhile
                return
            fit, held, components = pending
            done = ReferenceStatistics(*_pca_summary(fit, held, components), self.entropies, self.input_shape,
                                       self.n_classes)
            self.__dict__.update(vars(done))  # all values at once, or (on an error) none
            del self.__dict__["_pending"]  # the rows are freed
