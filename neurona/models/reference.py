"""Reference statistics: a summary of the inputs a model was checked on and of its outputs there, kept with it.

``Model.compute_reference_statistics(x)`` draws a bounded sample of ``x`` (at most ``2 * max_samples`` rows,
chosen by a private generator), splits it as ``ReferenceStatistics.from_arrays`` would, predicts the rows whose
uncertainty is summarized and passes the rest to ``neurona.serving.drift.ReferenceStatistics.from_split``: a PCA
of the inputs fitted on one half of the rows, the other half projected on it, and the entropy of the model's
probabilities (Rabanser, Günnemann and Lipton, "Failing Loudly", NeurIPS 2019). ``fit`` calls it at its end
(``reference_statistics=True``, the default) on the validation arrays when it has some, else on the training
arrays; ``model.save`` stores the result and the server compares a sliding window of requests with it
(``DriftDetector``).

What qualifies: a model with one input and one output whose outputs are rows of probabilities ``(n, classes)``,
``classes >= 2`` (a softmax): non-negative, summing to 1 within 1e-3. Asked for explicitly, anything else is a
ValueError saying what was expected; inside ``fit`` such a model (several inputs or outputs, a regression, logits,
a generator or PyDataset as data, NaN in the sampled rows or the predictions) is skipped without a word and
``model.reference_statistics`` is left as it was.

The cost inside ``fit`` is a few milliseconds whatever the data size (MNIST MLP, 60000 training rows: 8-10 ms,
against 0.4 s before issue 16 and an epoch's 0.65 s). Only what depends on the weights is computed there: one
``predict`` of the at most ``max_samples`` rows whose entropies are kept (the other rows' outputs were never
used), and copies of the sampled rows. The PCA, the bulk of the cost (2000 x 784: 95 ms by eigh, 0.33 s by the SVD
before), waits for the first read of the statistics' arrays (``save``, a checkpoint, ``neurona serve``,
``project`` ...) and is never done when a later ``fit`` replaces them unread: computed at once, even by eigh, it
would charge 15% of an epoch to every ``fit(epochs=1)`` of a program that calls fit once per epoch, as Keras
programs often do, and only the last one is ever read. Waiting changes
nothing that can be observed. The PCA reads its own copy of the rows (later writes to ``x`` do not reach it),
draws no random numbers and runs on single-threaded BLAS as an immediate one does: the values are bit for bit
the same. It waits only when it cannot fail (``ReferenceStatistics.from_split``: finite values within +-1e30, rows
not all equal); anything else is computed at once, so errors still surface in ``fit`` (which skips) or in this
call, and the model never holds statistics that cannot be read. Save, checkpoints and ``neurona serve`` read the
attribute and see ordinary statistics (what they load is computed); ``clone_model`` and ``get_config`` carry
none, as before. The copy kept meanwhile is bounded: a sample
above ``LAZY_MAX_BYTES`` (64 MiB: 4000 rows of 4096 float32 values) is summarized at once.
"""

import numpy

from .. import backend, nest
from ..arguments import check_int, shown
from ..layers import hooks
from . import data_adapter, data_arrays

#: Rows of each half (PCA, reference) ``fit`` and ``compute_reference_statistics`` use at most.
MAX_SAMPLES = 2000
#: Principal components kept (fewer when the inputs span fewer directions).
COMPONENTS = 32
#: Rows per ``predict`` step when no batch size is given: the rows are predicted once, and larger batches than
#: ``predict``'s default of 32 cost less per row (4000 rows through the MNIST MLP: 16 ms against 40 ms). Not more:
#: 2000 rows through the MNIST CNN of benchmarks/mnist_cnn.py take 196 ms at 256, 209 ms at 512 and 213 at 1024.
PREDICT_BATCH_SIZE = 256
#: The largest sample (bytes) kept for a deferred PCA; a larger one is summarized at once.
LAZY_MAX_BYTES = 64 * 2**20
_SUM_TOLERANCE = 1e-3  # as drift.py's check of probabilities: float32 softmax rows sum to 1 within ~1e-6


def _drift():
    # serving sits above models in the package layers (DESIGN.md: the core never imports serving). drift.py is the
    # exception that is safe to import at call time: NumPy and neurona.backend only (no cycle), and
    # neurona/serving/__init__.py imports nothing heavy with it (Flask only when create_app is called).
    from ..serving import drift

    return drift


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
            caller="compute_reference_statistics", check_all_rows=True):
    """The ``ReferenceStatistics`` of ``model`` on inputs ``x`` (see ``Model.compute_reference_statistics``).

    The rows and probabilities are those ``from_arrays`` would use on ``x[sample_rows(...)]`` and the model's
    predictions there, except that only the predictions it reads are made (``split_rows``'s ``scored`` rows);
    with at most ``max_samples`` rows that is all of them, and the result is bit for bit
    ``from_arrays(x, model.predict(x, batch_size=256))``.

    Args:
        check_all_rows: refuse NaN and inf anywhere in ``x``. ``fit`` passes False: only the sampled rows enter the
            statistics, and they are checked (by ``predict`` and ``from_split``); a pass over the whole training set
            would cost more than everything else here (60000 x 784: 17 ms).

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
    x = _single(data_arrays.prepare(x, "x", caller, "x", counts[0], finite=check_all_rows), "input", caller)
    n = len(x)
    if n < 4:
        raise ValueError(f"{caller}: x must hold at least 4 examples (two for the PCA, two for the reference), "
                         f"got {n}")
    drift, xp = _drift(), backend.xp_of(x)
    rows = sample_rows(n, max_samples, seed)
    pca, held, scored = drift.split_rows(n if rows is None else len(rows), max_samples, seed)
    if rows is not None:  # positions in the sample -> rows of x (both ascending)
        pca, held, scored = rows[pca], rows[held], rows[scored]
    pca_rows, reference_rows = x[xp.asarray(pca)], x[xp.asarray(held)]  # copies: the statistics no longer read x
    # the inputs whose outputs are summarized. All of x is predicted in predict(x)'s very batches (a row's output
    # can change in its last bit with the rows batched with it); from 2 * max_samples rows on they are the PCA rows
    if len(scored) == n:
        inputs = x
    elif numpy.array_equal(scored, pca):
        inputs = pca_rows
    else:
        inputs = x[xp.asarray(scored)]
    probabilities = _probabilities(model.predict(inputs, batch_size=batch_size, verbose=0), caller)
    if len(probabilities) != len(scored):
        raise ValueError(f"{caller}: the model gave {len(probabilities)} output rows for {len(scored)} inputs; "
                         "expected one per input")
    pca_rows, reference_rows = backend.asnumpy(pca_rows), backend.asnumpy(reference_rows)
    try:
        return drift.ReferenceStatistics.from_split(
            pca_rows, reference_rows, probabilities, components=components,
            lazy=pca_rows.nbytes + reference_rows.nbytes <= LAZY_MAX_BYTES)
    except ValueError as error:  # constant rows, or statistics that overflow float32
        raise ValueError(f"{caller}: {error}") from None


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
            stats = compute(model, source.data[0], caller="fit", check_all_rows=False)
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
           "PREDICT_BATCH_SIZE", "LAZY_MAX_BYTES"]
