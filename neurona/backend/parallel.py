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
a parallel region starting then ran 30 ms slower, see ``backend/blas.py``). The exception is work that cannot be
split (a single block) and is large: BLAS keeps its own threads for it.

Only large NumPy work is split: below ``MIN_ELEMENTS`` (or the caller's ``size`` measure) the hand-off costs
more than it saves, and CuPy arrays run on the GPU as they are. ``NEURONA_NUM_THREADS`` sets the number of
threads (1 turns splitting off). Results never depend on the number of threads: callers split only work whose
blocks are independent (elementwise loops, row blocks of a product) or add partial results in a fixed order.
"""

import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy

from . import blas

MIN_ELEMENTS = 1 << 18

_pool = None
_pool_lock = threading.Lock()
_cpu_count = []


def num_threads():
    """Threads used for Neurona's work (``NEURONA_NUM_THREADS``, default: the CPUs this process may run on)."""
    value = os.environ.get("NEURONA_NUM_THREADS")
    if value:
        return max(1, int(value))
    if not _cpu_count:  # the affinity mask, read once: sched_getaffinity costs a system call per step otherwise
        _cpu_count.append(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))
    return _cpu_count[0]


def _executor(workers):
    global _pool
    with _pool_lock:
        if _pool is None or _pool._max_workers != workers - 1:
            _pool = ThreadPoolExecutor(max_workers=workers - 1, thread_name_prefix="neurona")
        return _pool


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
    split, and so that small products never wake BLAS's threads. Work that is not split but large keeps
    BLAS's own threads, and so does all of it when BLAS's thread count cannot be controlled
    (``blas.available()`` False: then nothing with ``blas_work`` is split either). ``size`` and ``min_size``
    measure the work in other units than elements (e.g. multiply-adds against ``kernels.linalg.SPLIT_MACS``).
    """
    workers = num_threads()
    is_numpy = isinstance(array, numpy.ndarray)
    large = (array.size if size is None else size) >= (MIN_ELEMENTS if min_size is None else min_size)
    controlled = blas_work and is_numpy and blas.available()
    if workers < 2 or n < 2 or not large or not is_numpy or (blas_work and not controlled):
        if controlled and (not large or workers < 2):
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


def _run(fn, slices, workers):
    futures = [_executor(workers).submit(fn, s) for s in slices[1:]]
    results, error = [], None
    try:
        results.append(fn(slices[0]))  # the calling thread does its share
    except BaseException as exc:  # wait for the workers before raising: they write the same outputs
        error = exc
    for future in futures:
        try:
            results.append(future.result())
        except BaseException as exc:
            error = error or exc
    if error is not None:
        raise error
    return results


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
