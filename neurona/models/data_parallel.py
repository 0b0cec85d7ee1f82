"""The loops' side of ``distribute=DataParallel()``: what ``fit``, ``evaluate`` and ``predict`` do differently.

Each process wraps its adapters in ``ShardedAdapter`` (its part of every global batch), runs the callbacks
that are its to run, takes rank 0's state at the first batch, and hands every step to the strategy
(``neurona/distributed/strategy.py``), which sums the gradients and reduces the logs. ``guarded`` turns an
error that leaves a loop on one process into the end of the whole run (``DataParallel.fail``), so that no
process is left waiting in a collective call for one that is gone.
"""

import contextlib

import numpy

from .. import nest
from ..distributed import DataParallel
from ..distributed.errors import collective  # noqa: F401 - also the loops' name for it
from .data_adapter import unpack_x_y_sample_weight
from .sharding import ShardedAdapter, part
from .step_logs import batch_size_of


def check(distribute, caller):
    """``distribute`` (None or a ``DataParallel``), or a ValueError naming what was expected."""
    if distribute is None or isinstance(distribute, DataParallel):
        return distribute
    from ..arguments import shown

    raise ValueError(f"{caller}: distribute must be None or a neurona.distributed.DataParallel(), got "
                     f"{shown(distribute)}")


@contextlib.contextmanager
def guarded(strategy):
    """Inside: an exception stops every process of a data-parallel run (unless all of them raise it alike)."""
    try:
        yield
    except BaseException as error:
        if strategy is not None:
            strategy.fail(error)
        raise


# loss reductions that divide by the rows of the batch: a process's share of the rows weighs its gradient exactly
ROW_MEAN_REDUCTIONS = ("sum_over_batch_size", "mean")


def warn_about_reductions(model):
    """A warning when a compiled loss divides by something else than the batch's rows: the processes' gradients
    are weighted by their rows, which is then only close to one process's gradient."""
    import warnings

    entries = getattr(getattr(model, "_compile_loss", None), "entries", None) or ()
    odd = sorted({getattr(loss, "reduction", None) for _, _, loss, _ in entries} - {None, *ROW_MEAN_REDUCTIONS})
    if odd:
        warnings.warn(f"fit: data-parallel weighs each process's gradient by its share of the batch's rows, which "
                      f"gives one process's gradient for losses averaged over the rows (reduction "
                      f"'sum_over_batch_size', the default); with reduction {odd} it does not (with 'sum', the "
                      f"gradient is about 1/N of one process's over N processes, and masked or weighted means "
                      f"divide by each process's own count): use reduction='sum_over_batch_size'", RuntimeWarning,
                      stacklevel=8)  # the user's fit call


def fit_setup(strategy, model, train, val, rng, callbacks, verbose):
    """``(train, val, callbacks, verbose)`` of this process: rank 0's shuffled order, its part of each batch."""
    strategy.share_generator(rng)
    train = ShardedAdapter(train, strategy.comm)
    val = None if val is None else ShardedAdapter(val, strategy.comm, caller="fit (validation)")
    return train, val, strategy.callbacks(callbacks), strategy.verbose(verbose)


def loop_setup(strategy, adapter, callbacks, verbose, caller):
    """``(adapter, callbacks, verbose)`` of ``evaluate``/``predict`` on this process."""
    sharded = ShardedAdapter(adapter, strategy.comm, caller=caller, metrics=caller == "evaluate")
    return sharded, strategy.callbacks(callbacks), strategy.verbose(verbose)


def train_step(strategy, model, data, adapter, run_step):
    """One data-parallel training step on this process's part ``data`` of the batch; the global logs."""
    from .model import Model  # model.py imports the loops, so its class exists only at call time

    x = unpack_x_y_sample_weight(data)[0]
    default = type(model).train_step is Model.train_step
    logs = strategy.train_batch(model, data, batch_size_of(x), adapter.global_rows, run_step, default_step=default)
    if not getattr(strategy, "_reductions_checked", False):  # the compiled loss is built by the first step
        strategy._reductions_checked = True
        if strategy.size > 1 and strategy.rank == 0:
            warn_about_reductions(model)
    return logs


def no_batch(caller, source):
    """The error of a loop whose data yielded no batch (raised by every process alike)."""
    return collective(ValueError(f"{caller}: the {source} x yielded no batch; expected at least one"))


def gathered_predictions(communicator, parts, global_rows):
    """``(columns, structure)`` of ``predict``: every process's predictions, in the order of the batches' rows.

    ``parts[b]`` is this process's outputs for batch ``b`` (None when it had no row of it), ``global_rows[b]``
    that batch's size. Each output travels once (``Allgatherv`` of this process's rows, in rank order), and is
    put back in row order.
    """
    local = [[o for o in nest.flatten(p)] for p in parts if p is not None]
    mine = None if not local else ([(a.shape[1:], a.dtype.str) for a in local[0]], _skeleton(parts))
    described = next((d for d in communicator.allgather(mine) if d is not None), None)
    if described is None:
        return None, None
    layout, structure = described
    rank_order = _rank_order(global_rows, communicator.size)
    columns = []
    for i, (shape, dtype) in enumerate(layout):
        rows = [arrays[i] for arrays in local]
        mine_rows = numpy.concatenate(rows) if rows else numpy.empty((0, *shape), dtype=numpy.dtype(dtype))
        gathered = communicator.allgather_rows(mine_rows)
        ordered = numpy.empty_like(gathered)
        ordered[rank_order] = gathered
        columns.append([ordered])
    return columns, structure


def _skeleton(parts):
    return next(nest.map_structure(lambda _: 0, p) for p in parts if p is not None)


def _rank_order(global_rows, size):
    """The row index (in batch order) of each row of the gathered outputs (in rank order, then batch order)."""
    offsets = numpy.concatenate([[0], numpy.cumsum(global_rows)[:-1]]).astype(numpy.int64)
    pieces = []
    for rank in range(size):
        for offset, rows in zip(offsets, global_rows):
            lo, hi = part(int(rows), rank, size)
            pieces.append(numpy.arange(offset + lo, offset + hi))
    return numpy.concatenate(pieces) if pieces else numpy.zeros(0, numpy.int64)
