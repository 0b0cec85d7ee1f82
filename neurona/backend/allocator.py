"""Keep freed array memory in the process instead of handing it back to the OS (glibc only).

By default glibc serves every allocation above a threshold (128 KiB, raised
dynamically up to 32 MiB) with a fresh ``mmap`` and gives it back on free; the
next step's array of the same size is mapped again and every one of its 4 KiB
pages faults on first touch. Training allocates the same large activations at
every step, and on the two-core VM that page-faulting cost more than the
arithmetic of some ops (ReLU backward on a (128, 24, 24, 64) batch: 16 ms
against 5 ms; a whole CNN training step: 195 ms against 140 ms). Raising the
mmap threshold to its maximum and the trim threshold keeps those pages mapped
for reuse, as PyTorch's documentation suggests doing with jemalloc or tcmalloc.

It is a process-wide setting, so importing Neurona never applies it: a
library must not change its host process on import. ``Model.fit`` applies it
when training starts (``fit`` is where those repeated allocations happen), and
``tune()`` applies it explicitly, e.g. before a hand-written training loop. Set
``NEURONA_MALLOC_TUNING=0`` to leave the allocator alone everywhere. It does
nothing on systems without glibc, and it is applied at most once per process.
"""

import ctypes
import ctypes.util
import os
import sys

M_TRIM_THRESHOLD = -1  # mallopt parameter numbers from glibc's malloc.h
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's largest accepted value on 64-bit systems
TRIM_THRESHOLD = 1024 * 1024 * 1024  # keep up to 1 GiB of freed memory at the top of the heap

_tuned = False
_unavailable = False  # no glibc here: every later fit skips the library lookup (it may start a subprocess)


def tune():
    """Raise glibc's mmap and trim thresholds for this process (once); returns True when glibc accepted them.

    Does nothing (and returns False) with ``NEURONA_MALLOC_TUNING=0``, off Linux, or without glibc.
    """
    global _tuned, _unavailable
    if _tuned or _unavailable or os.environ.get("NEURONA_MALLOC_TUNING", "1") == "0":
        return _tuned
    if not sys.platform.startswith("linux"):
        _unavailable = True
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl): nothing to tune, and no need to look again
        _unavailable = True
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    _tuned = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return _tuned


def is_tuned():
    """Whether ``tune()`` changed the allocator's thresholds in this process."""
    return _tuned
