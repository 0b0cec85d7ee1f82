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

import numpy

from ..autograd import no_grad
from . import metric_sync, state_sync
from .buckets import BUCKET_BYTES
from .communicator import local_rank, world
from .errors import DistributedError, collective, is_collective
from .gradient_sync import GradientSync


def _select_local_gpu():
    """With CuPy, the processes of one machine take its GPUs in turn (local rank modulo their count), rather
    than all using GPU 0; without a GPU nothing happens."""
    from ..backend import cuda

    if cuda.available:
        count = cuda.cupy.cuda.runtime.getDeviceCount()
        if count:
            cuda.cupy.cuda.Device(local_rank() % count).use()


class DataParallel:
    """Synchronous data-parallel training over the processes of an MPI run (one process without MPI).

    Args:
        bucket_bytes: the largest gradient buffer of the allreduce (default 25 MiB, as PyTorch's DDP).

    Attributes:
        rank, size: this process's index and the number of processes.
        allreduce_seconds, allreduce_calls: the time spent in, and the number of, gradient allreduces in the
            last ``fit`` (benchmarks read them).
    """

    def __init__(self, bucket_bytes=BUCKET_BYTES):
        if isinstance(bucket_bytes, bool) or not isinstance(bucket_bytes, (int, numpy.integer)) or bucket_bytes < 1024:
            raise ValueError(f"DataParallel: bucket_bytes must be an integer >= 1024, got {bucket_bytes!r}")
        self.bucket_bytes = int(bucket_bytes)
        self.comm = world()
        self.rank, self.size = self.comm.rank, self.comm.size
        if self.size > 1:
            _select_local_gpu()
        self._sync = None
        self.allreduce_seconds, self.allreduce_calls = 0.0, 0

    @property
    def training(self):
        """Whether a ``fit`` is running with this strategy (its validation then needs no broadcast)."""
        return self._sync is not None

    def __repr__(self):
        return f"DataParallel(rank={self.rank}, size={self.size})"

    # ---- set-up ----------------------------------------------------------------------------------------------
    def callbacks(self, callbacks):
        """The callbacks this process runs: all on rank 0; elsewhere those not marked ``rank_zero_only``, made
        quiet (their ``verbose`` set to 0: rank 0 prints their messages)."""
        if self.rank == 0 or callbacks is None:
            return callbacks
        kept = [cb for cb in callbacks if not getattr(cb, "rank_zero_only", False)]
        for cb in kept:
            if isinstance(getattr(cb, "verbose", None), int):
                cb.verbose = 0
        return kept

    def verbose(self, verbose):
        """Progress output from rank 0 only."""
        return verbose if self.rank == 0 else 0

    def share_generator(self, rng):
        """``rng`` set to rank 0's state, so that every process draws the same shuffled order."""
        rng.bit_generator.state = self.comm.bcast(rng.bit_generator.state if self.rank == 0 else None)
        return rng

    def start(self, model, x, optimizer=True):
        """Before the first step: build ``model`` on the batch ``x`` if needed, take rank 0's weights (and
        optimizer state), and give each process's random layers their own stream."""
        if not model.built or not model.weights:
            with no_grad():
                model(x, training=False)
        self.broadcast_state(model, optimizer)
        state_sync.decorrelate_generators(model, self.rank)

    def broadcast_state(self, model, optimizer=True):
        """Rank 0's weights (every float weight, trainable or not) and optimizer state on every process."""
        state_sync.broadcast_state(self.comm, model, optimizer)

    # ---- the gradient allreduce --------------------------------------------------------------------------------
    @contextlib.contextmanager
    def synchronizing(self, model):
        """While inside: ``model.optimizer`` sums its gradients across the processes before every update."""
        optimizer = model.optimizer
        self._sync = GradientSync(self.comm, model, self.bucket_bytes)
        if self.size > 1:  # one process trains as without DataParallel: nothing to sum, nobody to wait for
            optimizer._gradient_reducer = self._sync.hook
        try:
            yield self
        finally:
            optimizer._gradient_reducer, optimizer._loss_share = None, None
            self.allreduce_seconds, self.allreduce_calls = self._sync.seconds, self._sync.calls
            self._sync = None

    def train_batch(self, model, data, local_rows, global_rows, run_step, default_step=True):
        """One data-parallel step: ``run_step(data)`` on this process's rows, its gradient summed with the others'.

        Returns the logs of the global batch (the same on every process).

        Raises:
            ValueError: on every process, a process has no row of this batch while ``train_step`` is overridden
                (its number of updates per step is unknown to a process that cannot run it).
        """
        if self.size == 1:
            return run_step(data)
        if global_rows < self.size and not default_step:
            raise collective(ValueError(
                f"fit: data-parallel over {self.size} processes with a custom train_step needs at least {self.size} "
                f"rows in every batch (one per process), but a batch has {global_rows}: choose a batch_size and a "
                f"number of samples whose last batch is not smaller than {self.size}, or drop those samples"))
        sync = self._sync
        sync.begin_step(local_rows / global_rows if global_rows else 0.0)
        logs = None
        try:
            if local_rows == 0:
                sync.join()
            else:
                try:
                    logs = run_step(data)
                except DistributedError:
                    raise
                except Exception as error:
                    if sync.reduced:  # the others are past the gradient allreduce: fail(error) aborts the run
                        raise
                    sync.join(failure=error)  # raises DistributedError on every process
                if not sync.reduced:  # no update here (a non-finite loss under TerminateOnNaN): nobody updates
                    sync.join(skip=True)
        finally:
            sync.end_step()
        return self.reduced_logs(model, logs, local_rows)

    # ---- agreement -----------------------------------------------------------------------------------------
    def reduced_logs(self, model, step_logs=None, rows=0):
        """``model.get_metrics_result()`` over every process's samples; when ``step_logs`` (what a custom step
        returned) has other keys, those logs instead, averaged over the processes by their ``rows``."""
        if self.size == 1:
            return model.get_metrics_result() if step_logs is None else step_logs
        return metric_sync.reduced_results(self.comm, model.metrics, step_logs, rows)

    def agree(self, flag):
        """True on every process if ``flag`` is true on any (e.g. a callback's ``stop_training``)."""
        if self.size == 1:
            return bool(flag)
        return bool(self.comm.allreduce(1.0 if flag else 0.0, op="max"))

    def check_in_sync(self, model):
        """End of an epoch: make sure every process holds rank 0's weights (a checksum; re-sent if they differ)."""
        if self.size > 1:
            state_sync.check_in_sync(self.comm, model)

    def fail(self, error):
        """An error leaves ``fit``/``evaluate``/``predict`` on this process: stop the whole run if others may wait.

        An error raised on every process alike (``DistributedError``, or marked by ``errors.collective``) and
        one of a lone process leave as they are; for anything else with several processes, the rank and
        message go to stderr and the MPI job is aborted.
        """
        if self.size == 1 or is_collective(error):
            return
        sys.stderr.write(f"neurona.distributed: rank {self.rank} of {self.size} failed, stopping every process:\n"
                         + "".join(traceback.format_exception(error)))
        sys.stderr.flush()
        self.comm.abort(1)
