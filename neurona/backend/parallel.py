"""Elementwise NumPy work on every core, split along the first (batch) axis.

NumPy runs a ufunc or a copy on one core, while BLAS products already use all
of them; on the two-core machine the elementwise half of a CNN step (im2col
copies, ReLU, pooling, gradient scatter) left a core idle. NumPy releases the
GIL inside those loops, so running them on slices of the batch in a small
thread pool divides their time by the number of cores (measured on a
(128, 24, 24, 64) ReLU backward and a 3x3 im2col of a (128, 26, 26, 32) batch).

Only large NumPy work is split: below ``MIN_ELEMENTS`` the hand-off costs more
than it saves, and CuPy arrays run on the GPU as they are. Set
``NEURONA_NUM_THREADS`` to change the number of threads (1 turns this off).
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


def num_threads():
    """Threads used for elementwise work (``NEURONA_NUM_THREADS``, default: the CPU count)."""
    value = os.environ.get("NEURONA_NUM_THREADS")
    if value:
        return max(1, int(value))
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _executor(workers):
    global _pool
    with _pool_lock:
        if _pool is None or _pool._max_workers != workers - 1:
            _pool = ThreadPoolExecutor(max_workers=workers - 1, thread_name_prefix="neurona")
        return _pool


def for_each_chunk(n, fn, array):
    """Call ``fn(s)`` for slices ``s`` that split ``range(n)``, in parallel when ``array`` is large.

    ``fn`` must write disjoint parts of its outputs for disjoint slices (e.g.
    ``out[s] = x[s] * 2``). ``array`` (any array of the work) decides: a CuPy
    array or one smaller than ``MIN_ELEMENTS`` runs as a single call.
    """
    map_chunks(n, fn, array)


def map_chunks(n, fn, array, blas_work=False):
    """``[fn(s) for s in slices]`` over slices ``s`` that split ``range(n)``, in parallel when worthwhile.

    Like ``for_each_chunk``, and returns each call's result in slice order
    (e.g. partial sums to be added up by the caller). With ``blas_work=True``
    ``fn`` calls BLAS: the slices then run in parallel only while BLAS can be
    held to one thread (``blas.single_threaded``), so that the cores are not
    oversubscribed; otherwise ``fn`` gets the whole range and BLAS keeps its
    own threads.
    """
    workers = num_threads()
    if workers < 2 or n < 2 or array.size < MIN_ELEMENTS or not isinstance(array, numpy.ndarray):
        return [fn(slice(0, n))]
    if blas_work and not blas.available():
        return [fn(slice(0, n))]
    k = min(workers, n)
    bounds = [n * i // k for i in range(k + 1)]
    slices = [slice(bounds[i], bounds[i + 1]) for i in range(k)]
    region = blas.single_threaded() if blas_work else contextlib.nullcontext()
    with region:
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
