"""Each process's part of every global batch, for data-parallel ``fit``/``evaluate``/``predict``.

``batch_size`` stays the global batch (Keras's distribution strategies): the
global batches are cut as in one process (the same shuffled order on every
process: the shuffling generator is rank 0's), and process ``r`` of ``N`` takes
rows ``[r b // N, (r + 1) b // N)`` of each batch of ``b`` rows. Every process
therefore takes the same number of steps, even when the last batch has fewer
rows than there are processes (a process may then get no row and contributes a
zero gradient). Arrays are cut by index, so a process copies only its rows;
batches from a generator, an iterable or a PyDataset are read whole by every
process (each must yield the same batches) and then cut.
"""

from ..distributed.errors import collective
from . import data_arrays
from .data_adapter import ArrayAdapter
from .step_logs import batch_size_of


def part(rows, rank, size):
    """``(start, stop)`` of process ``rank``'s rows in a batch of ``rows`` rows."""
    return rows * rank // size, rows * (rank + 1) // size


class ShardedAdapter:
    """The adapter ``inner`` with each batch cut to this process's part; ``global_rows`` is the last batch's size.

    Args:
        inner: an adapter of ``data_adapter`` (its ``rng`` is shared: set it on this object or the inner one).
        communicator: ``neurona.distributed`` communicator (rank, size, allreduce).
    """

    def __init__(self, inner, communicator, caller="fit", metrics=True):
        self.inner, self.comm = inner, communicator
        self.global_rows = 0
        if isinstance(inner, ArrayAdapter):
            counts = communicator.allgather(inner.num_samples)
            if len(set(counts)) != 1:  # every process sees the counts: all raise alike
                raise collective(ValueError(
                    f"{caller}: data-parallel, every process must be given the same data, but the processes hold "
                    f"{counts} samples (rank order); load the whole dataset in every process (each one reads its own "
                    "part of every batch)"))
            size = communicator.size
            # metrics are built from the first samples a process sees: one that sees none cannot report them
            if metrics and min(inner.num_samples, inner.batch_size) < size:
                what = f"batch_size={inner.batch_size}" if inner.batch_size < size else \
                    f"{inner.num_samples} samples"
                raise collective(ValueError(f"{caller}: data-parallel over {size} processes needs a batch size and a "
                                            f"number of samples of at least {size} (a row per process), got {what}"))

    num_batches = property(lambda self: self.inner.num_batches)
    batch_size = property(lambda self: self.inner.batch_size)

    @property
    def rng(self):
        return self.inner.rng

    @rng.setter
    def rng(self, value):
        self.inner.rng = value

    def passes(self):
        if isinstance(self.inner, ArrayAdapter):
            return self._array_passes()
        return self._source_passes()

    def _array_passes(self):
        inner, rank, size = self.inner, self.comm.rank, self.comm.size
        n, batch = inner.num_samples, inner.batch_size
        order = inner.rng.permutation(n) if inner.shuffle else None
        for start in range(0, n, batch):
            self.global_rows = min(start + batch, n) - start
            lo, hi = part(self.global_rows, rank, size)
            index = order[start + lo:start + hi] if order is not None else slice(start + lo, start + hi)
            yield data_arrays.take(inner.data, index)

    def _source_passes(self):
        batches = self.inner.passes()
        while True:
            try:
                batch, have = next(batches), 1
            except StopIteration:
                batch, have = None, 0
            # every process must stop at the same batch: a process left waiting for a gradient would hang
            total = int(self.comm.allreduce(have))
            if total == 0:
                return
            if total != self.comm.size:
                raise collective(RuntimeError(
                    f"data-parallel: the processes' batch sources ran out at different batches ({total} of "
                    f"{self.comm.size} processes still had one); each process must read the same batches (the same "
                    "generator, iterable or PyDataset)"))
            x = batch[0]
            self.global_rows = batch_size_of(x)
            rows = slice(*part(self.global_rows, self.comm.rank, self.comm.size))
            yield data_arrays.take(batch, rows)

    def on_epoch_begin(self):
        self.inner.on_epoch_begin()

    def on_epoch_end(self):
        self.inner.on_epoch_end()

