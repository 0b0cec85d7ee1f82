"""Reference statistics: a summary of the inputs a model was checked on and of its outputs there, kept with it.

``Model.compute_reference_statistics(x)`` predicts a bounded sample of ``x`` (at most ``2 * max_samples`` rows,
chosen by a private generator) and summarizes the rows and the predicted probabilities with
``neurona.serving.drift.ReferenceStatistics.from_arrays``: a PCA of the inputs fitted on one half of the rows, the
other half projected on it, and the entropy of the model's probabilities (Rabanser, Günnemann and Lipton, "Failing
Loudly", NeurIPS 2019). ``fit`` calls it at its end (``reference_statistics=True``, the default) on the validation
arrays when it has some, else on the training arrays; ``model.save`` stores the result and the server compares a
sliding window of requests with it (``DriftDetector``).

What qualifies: a model with one input and one output whose outputs are rows of probabilities ``(n, classes)``,
``classes >= 2`` (a softmax): non-negative, summing to 1 within 1e-3. Asked for explicitly, anything else is a
ValueError saying what was expected; inside ``fit`` such a model (several inputs or outputs, a regression, logits,
a generator or PyDataset as data, a run stopped on NaN) is skipped without a word and ``model.reference_statistics``
is left as it was.

The cost inside ``fit`` is bounded whatever the data size: one ``predict`` of at most 4000 rows and the SVD of at
most 2000 rows (for 784 features on two cores, about 0.4 s for the SVD and 0.02 s for the MNIST MLP's predict).
"""

import numpy

from .. import backend, nest
from ..arguments import check_int, shown
from ..backend import blas
from ..layers import hooks
from . import data_adapter, data_arrays

#: Rows of each half (PCA, reference) ``fit`` and ``compute_reference_statistics`` use at most.
MAX_SAMPLES = 2000
#: Principal components kept (fewer when the inputs span fewer directions).
COMPONENTS = 32
#: Rows per ``predict`` step when no batch size is given: the rows are predicted once, and larger batches than
#: ``predict``'s default of 32 cost less per row (4000 rows through the MNIST MLP: 16 ms against 40 ms).
PREDICT_BATCH_SIZE = 256
_SUM_TOLERANCE = 1e-3  # as drift.py's check of probabilities: float32 softmax rows sum to 1 within ~1e-6


def _reference_statistics_class():
    # serving sits above models in the package layers (DESIGN.md: the core never imports serving). drift.py is the
    # exception that is safe to import at call time: it is pure NumPy and imports nothing of Neurona (no cycle), and
    # neurona/serving/__init__.py imports only it (never Flask).
    from ..serving.drift import ReferenceStatistics

    return ReferenceStatistics


def _single(structure, what, caller):
    """The one array of ``structure`` (an array, or a list/tuple/dict holding one), or a ValueError."""
    leaves = nest.flatten(structure)
    if len(leaves) != 1:
        raise ValueError(f"{caller}: reference statistics summarize a model with one {what}, got {len(leaves)} "
                         f"{what}s; expected one array (for several {what}s, summarize each with "
                         "neurona.serving.drift.ReferenceStatistics.from_arrays)")
    return leaves[0]


def _probabilities(outputs, caller):
    """The model's outputs as a float64 ``(n, classes)`` array of probabilities, or a ValueError saying why not."""
    p = numpy.asarray(backend.asnumpy(_single(outputs, "output", caller)), dtype=numpy.float64)
    expected = ("expected a classifier whose output is one probability vector per example, shape (n, classes) "
                "with classes >= 2, non-negative and summing to 1 (a softmax output, not logits)")
    if p.ndim != 2 or p.shape[1] < 2:
        raise ValueError(f"{caller}: the model's output has shape {p.shape}; {expected}")
    if not numpy.all(numpy.isfinite(p)):
        raise ValueError(f"{caller}: the model's outputs hold NaN or inf; {expected}")
    sums = p.sum(axis=1)
    if numpy.any(p < 0) or not numpy.allclose(sums, 1.0, atol=_SUM_TOLERANCE):
        raise ValueError(f"{caller}: the model's outputs are not probabilities: row sums range over "
                         f"[{sums.min():.4g}, {sums.max():.4g}], smallest value {p.min():.4g}; {expected}")
    return p


def sample_rows(n, max_samples, seed):
    """The rows of ``n`` that are summarized: all when ``n <= 2 * max_samples``, else ``2 * max_samples`` of them
    drawn without replacement by ``numpy.random.default_rng(seed)`` (a private generator: the library-wide one is
    not consumed, so seeded fits stay reproducible) and sorted. Returns None for all rows, else the indices."""
    if n <= 2 * max_samples:
        return None
    return numpy.sort(numpy.random.default_rng(seed).choice(n, size=2 * max_samples, replace=False))


def _io_counts(model):
    try:
        return len(model.inputs), len(model.outputs)
    except (AttributeError, TypeError):  # a subclassed model, or a Sequential not built yet
        return None, None


def compute(model, x, batch_size=None, components=COMPONENTS, max_samples=MAX_SAMPLES, seed=0,
            caller="compute_reference_statistics"):
    """The ``ReferenceStatistics`` of ``model`` on inputs ``x`` (see ``Model.compute_reference_statistics``).

    Raises:
        ValueError: bad arguments; ``x`` empty, not numbers, non-finite, several arrays, fewer than 4 rows or
            constant; a model with several inputs or outputs, or outputs that are not probabilities.
    """
    batch_size = PREDICT_BATCH_SIZE if batch_size is None else check_int(batch_size, caller, "batch_size", low=1)
    components = check_int(components, caller, "components", low=1)
    max_samples = check_int(max_samples, caller, "max_samples", low=2)
    seed = check_int(seed, caller, "seed", low=0)
    counts = _io_counts(model)
    for count, what in zip(counts, ("input", "output")):
        if count is not None and count != 1:
            raise ValueError(f"{caller}: reference statistics summarize a model with one input and one output; "
                             f"model {model.name!r} has {count} {what}s (expected a classifier with one input "
                             "and one probability output)")
    if data_adapter.is_batch_source(x):
        raise ValueError(f"{caller}: x must be an array of inputs, got a {data_adapter.source_kind(x)}; expected "
                         "an array (n, ...) of preprocessed inputs, as fit receives them")
    x = _single(data_arrays.prepare(x, "x", caller, "x", counts[0], finite=True), "input", caller)
    n = len(x)
    if n < 4:
        raise ValueError(f"{caller}: x must hold at least 4 examples (two for the PCA, two for the reference), "
                         f"got {n}")
    rows = sample_rows(n, max_samples, seed)
    if rows is not None:
        x = x[backend.xp_of(x).asarray(rows)]
    probabilities = _probabilities(model.predict(x, batch_size=batch_size, verbose=0), caller)
    if len(probabilities) != len(x):
        raise ValueError(f"{caller}: the model gave {len(probabilities)} output rows for {len(x)} inputs; "
                         "expected one per input")
    # BLAS on one thread: the SVD of 2000 x 784 takes 0.4 s so, 0.3 s on two threads of an idle machine, but 2-13 s
    # on two threads when other processes hold the cores (OpenBLAS's threads spin, waiting for each other).
    # Inputs huge enough to overflow in the PCA are refused below, without warnings.
    with numpy.errstate(all="ignore"), blas.single_threaded():
        stats = _reference_statistics_class().from_arrays(backend.asnumpy(x), probabilities, components=components,
                                                          max_samples=max_samples, seed=seed)
    for name, array in stats.to_arrays().items():
        if not numpy.all(numpy.isfinite(array)):
            raise ValueError(f"{caller}: the reference {name} came out non-finite (NaN or inf): the inputs are too "
                             "large for float32 statistics; expected inputs scaled as the model sees them")
    return stats


def record_after_fit(model, train, validation, enabled):
    """End of ``fit``: set ``model.reference_statistics`` from the validation arrays (else the training arrays)
    when ``enabled`` and the model qualifies; otherwise leave it as it was, silently (``fit`` never fails or warns
    because of it).

    Args:
        train, validation: ``fit``'s data adapters (``validation`` may be None); only array adapters are read.
    """
    if not enabled:
        return None
    source = next((a for a in (validation, train) if isinstance(a, data_adapter.ArrayAdapter)), None)
    if source is None:
        return None
    try:
        with hooks.silenced():  # a pass of fit's own, not a call of the user's: hooks do not see it
            stats = compute(model, source.data[0], caller="fit")
    except (ValueError, TypeError, FloatingPointError):  # the model or data does not qualify: nothing recorded
        return None
    model.reference_statistics = stats
    return stats


def check_fit_flag(value):
    """``fit``'s ``reference_statistics`` as a bool; anything else (a string such as ``"no"`` is truthy) is refused."""
    if not isinstance(value, (bool, numpy.bool_)):
        raise TypeError(f"fit: reference_statistics must be True (record them at the end of fit) or False, got "
                        f"{shown(value)}; to summarize other data call model.compute_reference_statistics(x)")
    return bool(value)


__all__ = ["compute", "record_after_fit", "check_fit_flag", "sample_rows", "MAX_SAMPLES", "COMPONENTS",
           "PREDICT_BATCH_SIZE"]
