"""The one owner of the cores: Neurona's thread pool, how work is split over it, and the BLAS thread policy.

NumPy runs a ufunc or a copy on one core, while BLAS products can use all of them. NumPy (and numba's
``nogil`` kernels) release the GIL inside their loops, so running a kernel on slices of the batch in a small
thread pool divides its time by the number of cores (measured on a (128, 24, 24, 64) ReLU backward and a 3x3
im2col of a (128, 26, 26, 32) batch). The kernels (``backend.kernels``) call ``for_each_chunk`` and
``map_chunks``; ops, layers, models and optimizers never do.

The BLAS policy, in one sentence: every product Neurona computes runs with BLAS on one thread, and large ones
are split into independent blocks over this pool (``map_chunks(..., blas_work=True)``). So a step runs the same
way under ``fit``, ``train_step`` overridden by a user, or the documented low-level loop, and OpenBLAS's own
threads are never woken by Neurona (after a multi-threaded product they keep spinning on the cores for a while:
a parallel region starting then ran 30 ms slower, see ``backend/blas.py``). That holds for work that is not
split too: a large product left to OpenBLAS's threads gave other bits with 2 threads than with 1 (44 of the 64
rows of (64, 784) @ (784, 128) float32), so it would make results depend on the thread count.

Only large NumPy work is split: below ``MIN_ELEMENTS`` (or the caller's ``size`` measure) the hand-off costs
more than it saves, and CuPy arrays run on the GPU as they are. With numba the pool's threads poll for work for
about a millisecond after each task (``_PollingPool``: waking a sleeping thread costs ~50 us on this project's
two-core machine), then sleep, and matrix products are handed to them as compiled tasks that run without the
GIL (``run_compiled_product``); without numba (``NEURONA_KERNELS=numpy``) they sleep between tasks
(``_ExecutorPool``). Work split by a pool thread, or by a second caller while the pool is busy, runs
on the calling thread, in the same pieces. ``NEURONA_NUM_THREADS`` sets the number of
threads (1 turns splitting off). Results never depend on the number of threads: callers split only work whose
blocks are independent (elementwise loops, row blocks of a product) or add partial results in a fixed order.
"""

import contextlib
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy

from . import blas
from .kernels import select

MIN_ELEMENTS = 1 << 18
POLL_ROUNDS = 2000  # reads of a counter before a thread sleeps: about 1 ms
_THREAD_PREFIX = "neurona"

_pool = None
_pool_lock = threading.Lock()
_local = threading.local()  # in_pool: set on the pool's own threads
_cpu_count = []


# set by MPI launchers (MPICH's Hydra, Open MPI): how many processes of the run share this machine
LOCAL_RANKS_VARIABLES = ("MPI_LOCALNRANKS", "OMPI_COMM_WORLD_LOCAL_SIZE")


def _local_ranks():
    for name in LOCAL_RANKS_VARIABLES:
        value = os.environ.get(name, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    return 1


def num_threads():
    """Threads used for Neurona's work (``NEURONA_NUM_THREADS``, default: the CPUs this process may run on,
    shared out among the processes an MPI launcher started on this machine, so that they do not
    oversubscribe the cores)."""
    value = os.environ.get("NEURONA_NUM_THREADS")
    if value:
        return max(1, int(value))
    if not _cpu_count:  # the affinity mask, read once: sched_getaffinity costs a system call per step otherwise
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        # a launcher that bound each process to its own cores has already shared them out
        shared = cpus >= (os.cpu_count() or cpus)
        _cpu_count.append(max(1, cpus // _local_ranks()) if shared else cpus)
    return _cpu_count[0]


def for_each_chunk(n, fn, array, size=None):
    """Call ``fn(s)`` for slices ``s`` that split ``range(n)``, in parallel when the work is large.

    ``fn`` must write disjoint parts of its outputs for disjoint slices (e.g.
    ``out[s] = x[s] * 2``). ``array`` (any array of the work) decides: a CuPy
    array, or work smaller than ``MIN_ELEMENTS`` (``size``, default ``array.size``), runs as a single call.
    """
    map_chunks(n, fn, array, size=size)


def map_chunks(n, fn, array, blas_work=False, size=None, min_size=None):
    """``[fn(s) for s in slices]`` over slices ``s`` that split ``range(n)``, in parallel when worthwhile.

    Like ``for_each_chunk``, and returns each call's result in slice order (e.g. partial sums to be added up
    by the caller in that order). With ``blas_work=True`` ``fn`` calls BLAS, which then runs on one thread
    (``blas.single_threaded``): so that the pool's threads do not oversubscribe the cores when the work is
    split, so that small products never wake BLAS's threads, and so that a block's bits do not depend on the
    thread count. When BLAS's thread count cannot be controlled (``blas.available()`` False) BLAS keeps its own
    threads and nothing with ``blas_work`` is split. ``size`` and ``min_size``
    measure the work in other units than elements (e.g. multiply-adds against ``kernels.linalg.SPLIT_MACS``).
    """
    is_numpy = isinstance(array, numpy.ndarray)
    large = (array.size if size is None else size) >= (MIN_ELEMENTS if min_size is None else min_size)
    controlled = blas_work and is_numpy and blas.available()
    # the thread count is read only for work that may be split (it is an environment lookup, and most calls
    # of a small model's step are small)
    workers = num_threads() if large and is_numpy else 1
    if workers < 2 or n < 2 or (blas_work and not controlled):
        if controlled:
            with blas.single_threaded():
                return [fn(slice(0, n))]
        return [fn(slice(0, n))]
    k = min(workers, n)
    bounds = [n * i // k for i in range(k + 1)]
    slices = [slice(bounds[i], bounds[i + 1]) for i in range(k)]
    if controlled:
        with blas.single_threaded():
            return _run(fn, slices, workers)
    return _run(fn, slices, workers)


def run_compiled_product(sync, descriptor, arrays):
    """Compute the product ``descriptor`` describes (``kernels.compiled.gemm``) on every core.

    Its row pieces are shared out in contiguous ranges: the first on the calling thread, the others on the
    pool's threads, which run them in compiled code without taking the GIL. BLAS runs on one thread. Each piece
    is one ``?gemm`` call whichever thread runs it, so the result does not depend on the number of threads.
    ``sync`` is the compiled ``kernels.compiled.sync`` module; ``arrays`` the arrays the descriptor points
    into, which the pool keeps alive until its threads are done with them (even when the caller is interrupted).
    """
    gemm = sync.gemm
    pieces = int(descriptor[gemm.PIECES])
    workers = num_threads()
    with blas.single_threaded():
        pool = _pool_for(workers, sync) if workers >= 2 and pieces >= 2 else None
        if pool is None:
            gemm.run(descriptor)
            return
        try:
            pool.run_product(gemm, descriptor, min(workers, pieces), arrays)
        finally:
            pool.busy.release()


def _run(fn, slices, workers):
    """``[fn(s) for s in slices]``, the first slice on the calling thread and the others on the pool's threads."""
    pool = _pool_for(workers, select.compiled("sync"))
    if pool is None:  # the pool is busy with another caller's work, or this is one of its threads: run here
        return [fn(s) for s in slices]
    try:
        return pool.run(fn, slices)
    finally:
        pool.busy.release()


def _pool_for(workers, sync):
    """The pool for ``workers`` threads (polling ones with the compiled ``sync`` module, else sleeping ones), its
    ``busy`` lock taken; None when another call holds it (the caller then runs its pieces itself).

    A pool for another thread count (or kernel choice) replaces the current one only when no call is using it:
    the replaced pool's ``busy`` lock is taken for good before it is closed, so no call can post to it after.
    """
    global _pool
    if getattr(_local, "in_pool", False):
        return None  # work split from inside the pool's own work runs where it is (never waits for itself)
    with _pool_lock:
        pool = _pool
        if pool is None or pool.workers != workers - 1 or pool.sync is not sync:
            if pool is not None:
                if not pool.busy.acquire(blocking=False):
                    return None  # in use by another thread: this call runs in place
                pool.close()
            pool = _pool = _PollingPool(workers - 1, sync) if sync is not None else _ExecutorPool(workers - 1)
        return pool if pool.busy.acquire(blocking=False) else None


def _collect(first, waits):
    """``[first(), *(w() for w in waits)]``: every wait is run even when one raises (the threads write the same
    outputs), and the first error is raised afterwards."""
    results, error = [], None
    for call in (first, *waits):
        try:
            results.append(call())
        except BaseException as exc:
            error = error or exc
    if error is not None:
        raise error
    return results


def _mark_pool_thread():
    _local.in_pool = True


class _ExecutorPool:
    """Worker threads that sleep between tasks (``concurrent.futures``): what runs without numba. Handing a task
    to a sleeping thread costs about 50 us on this project's two-core machine (the wake-up of an idle core)."""

    sync = None

    def __init__(self, workers):
        self.workers, self.busy = workers, threading.Lock()
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=_THREAD_PREFIX,
                                           initializer=_mark_pool_thread)

    def run(self, fn, slices):
        futures = [self.executor.submit(fn, s) for s in slices[1:]]
        return _collect(lambda: fn(slices[0]), [future.result for future in futures])

    def close(self):
        self.executor.shutdown(wait=False)


class _PollingPool:
    """Worker threads that, after a task, poll for the next one for about a millisecond before they sleep.

    Waking a sleeping thread costs about 50 us on this project's two-core machine (an idle virtual core has to be
    woken), against the ~130 us that splitting the MNIST MLP's (128, 784) @ (784, 128) product over two threads
    can save: 178-183 us split this way against 216-240 us with sleeping threads and 260 us on one thread
    (``kernels.matmul``, same run). What remains above half the one-thread time is mostly the GIL: the worker
    needs it for the Python around its product while the caller still holds it. The polling runs in a compiled
    loop without the GIL (``kernels.compiled.sync``), yielding the core at every read, and stops after
    ``POLL_ROUNDS`` reads: between steps and epochs the threads sleep and leave the cores to others.

    A product (``run_product``) needs no GIL on the worker at all: its share is a row of ``descriptors`` that the
    compiled wait loop (``sync.serve``) multiplies itself (``kernels.compiled.gemm``). That took the split
    (128, 784) @ (784, 128) product from 176 to 129 us (one call on one thread: 219 us) with OpenBLAS's Haswell
    kernels; with its AVX-512 (SkylakeX) ones it takes 91 us, against 155 us on one thread (one run each).

    The protocol: ``posted[i]`` counts the tasks given to thread ``i`` and ``finished[i]`` those it completed; each
    side polls the other's counter, and falls back to an ``Event`` after announcing that it sleeps (``asleep``,
    ``waiting``; the caller of a product polls instead, since the worker cannot set an ``Event`` from compiled
    code). The counters are written with ``sync.publish`` (a store between full fences) and each side announces
    itself before it reads the other's counter, so a side that finds the other not yet done is sure to be woken.
    """

    def __init__(self, workers, sync):
        self.workers, self.sync, self.busy = workers, sync, threading.Lock()
        self.posted = numpy.zeros(workers, numpy.int64)
        self.finished = numpy.zeros(workers, numpy.int64)
        self.kinds = numpy.zeros(workers, numpy.int64)  # sync.PYTHON_TASK or sync.PRODUCT_TASK
        self.descriptors = numpy.zeros((workers, sync.gemm.SIZE), numpy.int64)  # each thread's product share
        self.tasks, self.outcomes = [None] * workers, [None] * workers
        self.holding = [None] * workers  # the arrays a thread's product share points into, kept alive
        self.asleep, self.waiting = [False] * workers, [False] * workers
        self.wake = [threading.Event() for _ in range(workers)]
        self.done = [threading.Event() for _ in range(workers)]
        self.threads = [threading.Thread(target=self._serve, args=(i,), name=f"{_THREAD_PREFIX}-{i}", daemon=True)
                        for i in range(workers)]
        for thread in self.threads:
            thread.start()

    def run(self, fn, slices):
        posted = [self._post(i, self.sync.PYTHON_TASK, (fn, piece)) for i, piece in enumerate(slices[1:])]
        return _collect(lambda: fn(slices[0]), [lambda i=i, n=n: self._outcome(i, n)
                                                for i, n in enumerate(posted)])

    def run_product(self, gemm, descriptor, participants, arrays):
        """The product's pieces in ``participants`` contiguous ranges, the first one on the calling thread.

        A thread's share keeps ``arrays`` alive (``holding``) until its next task is posted, which waits for
        this one to finish: an exception here (a KeyboardInterrupt) never frees memory a thread still writes.
        """
        pieces = int(descriptor[gemm.PIECES])
        bounds = [pieces * i // participants for i in range(participants + 1)]
        own = descriptor.copy()
        own[gemm.FIRST], own[gemm.STOP] = bounds[0], bounds[1]
        posted = []
        for i in range(participants - 1):
            self._await_idle(i)
            share = self.descriptors[i]
            share[:] = descriptor
            share[gemm.FIRST], share[gemm.STOP] = bounds[i + 1], bounds[i + 2]
            posted.append(self._post(i, self.sync.PRODUCT_TASK, None, arrays))
        gemm.run(own)
        for i, n in enumerate(posted):
            self._wait_for(i, n)

    def _post(self, i, kind, task, holding=None):
        """Give thread ``i`` its next task (after its previous one is done); returns the count its ``finished``
        reaches when the task is done."""
        self._await_idle(i)
        self.tasks[i], self.kinds[i], self.outcomes[i], self.holding[i] = task, kind, None, holding
        n = int(self.posted[i]) + 1
        self.sync.publish(self.posted, i, n)
        if self.asleep[i]:
            self.wake[i].set()
        return n

    def _await_idle(self, i):
        """Until thread ``i`` has finished every task posted to it (one a caller stopped waiting for included)."""
        self._wait_for(i, int(self.posted[i]))

    def _wait_for(self, i, n):
        """Poll until thread ``i``'s ``finished`` count is ``n``, sleeping between rounds when it takes long."""
        while not self.sync.wait_until(self.finished, i, n, POLL_ROUNDS):
            if not self.threads[i].is_alive():
                raise RuntimeError(f"thread {i} of Neurona's thread pool has stopped")
            time.sleep(20e-6)  # a long task: poll less often

    def _outcome(self, i, n):
        if not self.sync.wait_until(self.finished, i, n, POLL_ROUNDS):
            self.waiting[i] = True
            try:
                while True:
                    self.done[i].clear()
                    if self.finished[i] == n:
                        break
                    if not self.done[i].wait(timeout=1.0) and not self.threads[i].is_alive():
                        raise RuntimeError(f"thread {i} of Neurona's thread pool has stopped")
            finally:
                self.waiting[i] = False
        ok, value = self.outcomes[i]
        self.outcomes[i] = None
        if not ok:
            raise value
        return value

    def _serve(self, i):
        _local.in_pool = True
        seen = 0
        while True:
            # products run inside sync.serve; it returns for a Python task, or when it is time to sleep
            seen, python_task = self.sync.serve(self.posted, self.finished, self.kinds, self.descriptors, i, seen,
                                                POLL_ROUNDS)
            if not python_task:
                self._sleep(i, seen)
                continue
            task, self.tasks[i] = self.tasks[i], None
            if task is None:  # closed
                return
            fn, piece = task
            try:
                self.outcomes[i] = (True, fn(piece))
            except BaseException as exc:
                self.outcomes[i] = (False, exc)
            self.sync.publish(self.finished, i, seen)
            if self.waiting[i]:
                self.done[i].set()

    def _sleep(self, i, seen):
        """Sleep until thread ``i``'s next task is posted (after ``asleep`` is announced, see the protocol)."""
        self.asleep[i] = True
        while True:
            self.wake[i].clear()
            if self.posted[i] != seen:
                break
            self.wake[i].wait()
        self.asleep[i] = False

    def close(self):
        """Stop the threads (each after its current task); the caller holds ``busy``, for good."""
        for i in range(self.workers):
            self._post(i, self.sync.PYTHON_TASK, None)
            self.wake[i].set()


def _forget_pool():
    """In a forked child: the parent's threads do not exist there; the next parallel call starts new ones."""
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


@contextlib.contextmanager
def thread_limit(threads):
    """Run the body with ``threads`` threads for Neurona's work and BLAS on one thread throughout (also for
    products and factorizations Neurona does not split, e.g. an orthogonal initializer's QR): for a process that
    shares the machine with others running the same, such as the lab's worker processes. Restored afterwards."""
    previous = os.environ.get("NEURONA_NUM_THREADS")
    os.environ["NEURONA_NUM_THREADS"] = str(int(threads))
    try:
        with blas.single_threaded():
            yield
    finally:
        if previous is None:
            os.environ.pop("NEURONA_NUM_THREADS", None)
        else:
            os.environ["NEURONA_NUM_THREADS"] = previous
