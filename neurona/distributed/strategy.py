"""``DataParallel``: one model trained by several processes, each on its part of every global batch.

Run a script under MPI (``mpirun -n 4 python train.py``) and pass
``distribute=DataParallel()`` to ``fit``, ``evaluate`` and ``predict``. Every
process builds the same model; then, as in PyTorch's DistributedDataParallel
(Li et al., 2020, "PyTorch Distributed: Experiences on Accelerating Data
Parallel Training") and Horovod (Sergeev & Del Balso, 2018):

1. rank 0's weights (and optimizer state, when resuming) are broadcast once, at
   the first batch, after the model is built and any LSUV initialization done;
2. each process computes the gradient of its part of the global batch;
3. one bucketed allreduce per step sums the gradients, each weighted by its
   process's share of the batch (``buckets.py``), so every process applies the
   same global-batch gradient: weights and optimizer state stay identical;
4. metrics are computed from the processes' summed running state
   (``metric_sync.py``), so logs, History and callbacks' decisions are the same
   on every process; checkpoints, CSV/TensorBoard logs and the progress bar are
   written by rank 0 only (callbacks with ``rank_zero_only``).

An error on one process while the others wait for it stops all of them: an
error raised before that process's gradient allreduce is sent to the others
through it (every process raises ``DistributedError`` naming the rank and the
message); any other error prints the rank and message and aborts the MPI job
(``MPI_Abort``), which ends every process instead of leaving them hanging.
"""

import contextlib
import sys
import traceback
import warnings
import zlib

import numpy

from .. import backend
from ..autograd import Tensor, no_grad
from . import metric_sync
from .buckets import BUCKET_BYTES, GradientBuckets, wire_dtype
from .communicator import world


class DistributedError(RuntimeError):
    """An error on one process of a data-parallel run, raised on every process.

    Attributes:
        failures: ``{rank: message}`` of the processes that failed.
    """

    def __init__(self, failures):
        self.failures = dict(failures)
        text = "; ".join(f"rank {rank}: {message}" for rank, message in sorted(self.failures.items()))
        super().__init__(f"data-parallel training stopped on every process because of an error on "
                         f"{len(self.failures)} of them: {text}")


class DataParallel:
    """Synchronous data-parallel training over the processes of an MPI run (one process without MPI).

    Args:
        bucket_bytes: the largest gradient buffer of the allreduce (default 25 MiB, as PyTorch's DDP).

    Attributes:
        rank, size: this process's index and the number of processes.
        allreduce_seconds: the time spent in gradient allreduces in the last ``fit`` (benchmarks read it).
    """

    def __init__(self, bucket_bytes=BUCKET_BYTES):
        if isinstance(bucket_bytes, bool) or not isinstance(bucket_bytes, (int, numpy.integer)) or bucket_bytes < 1024:
            raise ValueError(f"DataParallel: bucket_bytes must be an integer >= 1024, got {bucket_bytes!r}")
        self.bucket_bytes = int(bucket_bytes)
        self.comm = world()
        self.rank, self.size = self.comm.rank, self.comm.size
        self._buckets, self._layout = None, None
        self._share, self._flags, self._reduced = None, (False, None), False
        self.allreduce_seconds, self.allreduce_calls = 0.0, 0

    def __repr__(self):
        return f"DataParallel(rank={self.rank}, size={self.size})"

    # ---- set-up ----------------------------------------------------------------------------------------------
    def callbacks(self, callbacks):
        """The callbacks this process runs: all on rank 0; elsewhere those not marked ``rank_zero_only``."""
        if self.rank == 0 or callbacks is None:
            return callbacks
        return [cb for cb in callbacks if not getattr(cb, "rank_zero_only", False)]

    def verbose(self, verbose):
        """Progress output from rank 0 only."""
        return verbose if self.rank == 0 else 0

    def share_generator(self, rng):
        """``rng`` set to rank 0's state, so that every process draws the same shuffled order."""
        rng.bit_generator.state = self.comm.bcast(rng.bit_generator.state if self.rank == 0 else None)
        return rng

    def start(self, model, x):
        """Before the first step: build ``model`` on the batch ``x`` if needed, then take rank 0's state."""
        if not model.built or not model.weights:
            with no_grad():
                model(x, training=False)
        self.broadcast_state(model)

    def broadcast_state(self, model, optimizer=True):
        """Rank 0's weights (every float weight, trainable or not) and optimizer state on every process."""
        weights = [w for w in model.weights if backend.is_floating(w.data.dtype)]
        _broadcast_arrays(self.comm, weights)
        optimizer = getattr(model, "optimizer", None) if optimizer else None
        if optimizer is not None and self.size > 1:
            trainable = model.trainable_weights
            state = self.comm.bcast(optimizer.get_state(trainable) if self.rank == 0 else None)
            if self.rank != 0:
                optimizer.set_state(state, trainable)

    # ---- the gradient allreduce --------------------------------------------------------------------------------
    @contextlib.contextmanager
    def synchronizing(self, model):
        """While inside: ``model.optimizer`` sums its gradients across the processes before every update."""
        optimizer = model.optimizer
        self._model, self._buckets, self._layout = model, None, None
        self.allreduce_seconds, self.allreduce_calls = 0.0, 0
        if self.size > 1:  # one process trains as without DataParallel: nothing to sum, nobody to wait for
            optimizer._gradient_reducer = self._reduce_pairs
        try:
            yield self
        finally:
            optimizer._gradient_reducer = None
            self._model = self._buckets = None

    def _buckets_for(self, pairs):
        model = self._model
        weights = list(model.trainable_weights)
        known = {id(w) for w in weights}
        weights += [v for _, v in pairs if id(v) not in known]  # variables trained outside the model's weights
        layout = tuple(id(w) for w in weights)
        if layout != self._layout:
            averaged = [w for w in model.non_trainable_weights if backend.is_floating(w.data.dtype)
                        and w.data.size and id(w) not in known]
            self._buckets = GradientBuckets(self.comm, weights, averaged, self.bucket_bytes)
            self._layout = layout
        return self._buckets

    def _reduce_pairs(self, pairs):
        """The optimizer's hook: ``[(summed gradient, variable)]``, or None when the step is to be skipped."""
        import time

        buckets = self._buckets_for(pairs)
        grads = {id(v): (g.data if isinstance(g, Tensor) else g) for g, v in pairs}
        share = self._share if self._share is not None else 1.0 / self.size
        skip, failure = self._flags
        start = time.perf_counter()
        reduced, (skips, failures) = buckets.reduce(grads, share, skip=skip, fail=failure is not None)
        self.allreduce_seconds += time.perf_counter() - start
        self.allreduce_calls += 1
        self._reduced = True
        if failures:
            self._raise_failures(failure)
        if skips:
            return None
        return [(reduced[id(v)], v) for _, v in pairs]

    def _raise_failures(self, failure):
        messages = self.comm.allgather(None if failure is None else _describe(failure))
        failures = {rank: text for rank, text in enumerate(messages) if text is not None}
        raise DistributedError(failures) from failure

    def _join(self, model, skip=False, failure=None):
        """Take part in this step's allreduce without a gradient of one's own (no rows, a skipped step, an error)."""
        self._flags, self._share = (skip, failure), 0.0
        weights = model.trainable_weights
        for w in weights:
            w.grad = backend.xp_of(w.data).zeros_like(w.data)
        try:
            model.optimizer.apply(weights) if weights else self._reduce_pairs([])
        finally:
            self._flags = (False, None)
            model.zero_grad()

    def train_batch(self, model, data, local_rows, global_rows, run_step):
        """One data-parallel step: ``run_step(data)`` on this process's rows, its gradient summed with the others'.

        Returns the logs of the global batch (the same on every process).
        """
        if self.size == 1:
            return run_step(data)
        self._share, self._reduced = (local_rows / global_rows if global_rows else 0.0), False
        logs = None
        if local_rows == 0:
            self._join(model)
        else:
            try:
                logs = run_step(data)
            except DistributedError:
                raise
            except Exception as error:
                if self._reduced:  # the others are past the gradient allreduce: fail(error) aborts the run
                    raise
                self._join(model, failure=error)  # raises DistributedError on every process
            if not self._reduced:  # no update here (a non-finite loss under TerminateOnNaN): nobody updates
                self._join(model, skip=True)
        return self.reduced_logs(model, logs)

    # ---- agreement -----------------------------------------------------------------------------------------
    def reduced_logs(self, model, step_logs=None):
        """``model.get_metrics_result()`` over every process's samples, with the other keys of ``step_logs``
        (what a custom ``train_step`` returned) from the lowest rank that ran a step."""
        if self.size == 1:
            return model.get_metrics_result() if step_logs is None else step_logs
        return metric_sync.reduced_results(self.comm, model.metrics, step_logs)

    def agree(self, flag):
        """True on every process if ``flag`` is true on any (e.g. a callback's ``stop_training``)."""
        if self.size == 1:
            return bool(flag)
        return bool(self.comm.allreduce(1.0 if flag else 0.0, op="max"))

    def check_in_sync(self, model):
        """End of an epoch: make sure every process holds rank 0's weights (a checksum; re-sent if they differ)."""
        if self.size == 1:
            return
        checksum = 0
        for w in model.weights:
            checksum = zlib.crc32(numpy.ascontiguousarray(backend.asnumpy(w.data)).view(numpy.uint8), checksum)
        sums = self.comm.allgather(checksum)
        if len(set(sums)) > 1:
            warnings.warn(f"data-parallel: the processes' weights differed at the end of an epoch (checksums "
                          f"{sums}); rank 0's were sent to every process", RuntimeWarning, stacklevel=3)
            self.broadcast_state(model)

    def gather_rows(self, array):
        """Every process's rows of ``array``, in rank order (``predict``'s outputs)."""
        return self.comm.allgather_rows(backend.asnumpy(array))

    def fail(self, error):
        """An error leaves ``fit``/``evaluate``/``predict`` on this process: stop the whole run if others may wait.

        A ``DistributedError`` is raised on every process already, and one process has nobody waiting; for
        anything else with several processes, the rank and message go to stderr and the MPI job is aborted.
        """
        if self.size == 1 or isinstance(error, DistributedError) or getattr(error, "collective", False):
            return
        sys.stderr.write(f"neurona.distributed: rank {self.rank} of {self.size} failed, stopping every process:\n"
                         + "".join(traceback.format_exception(error)))
        sys.stderr.flush()
        self.comm.abort(1)


def _describe(error):
    return f"{type(error).__name__}: {error}"


def _broadcast_arrays(comm, variables):
    """Rank 0's values of ``variables`` on every process, through one flat buffer per dtype."""
    if comm.size == 1 or not variables:
        return
    groups = {}
    for var in variables:
        groups.setdefault(wire_dtype(var.data.dtype), []).append(var)
    buffers = []
    for dtype, group in groups.items():
        buffer = numpy.empty(sum(int(v.data.size) for v in group), dtype=dtype)
        if comm.rank == 0:
            numpy.concatenate([backend.asnumpy(v.data).ravel() for v in group], out=buffer, casting="unsafe")
        buffers.append((buffer, group))
    comm.broadcast_buffers([b for b, _ in buffers])
    if comm.rank == 0:
        return
    for buffer, group in buffers:
        start = 0
        for var in group:
            size = int(var.data.size)
            value = buffer[start:start + size].reshape(var.data.shape).astype(var.data.dtype)
            var.data[...] = backend.to_device(value, backend.device_of(var.data))
            start += size
