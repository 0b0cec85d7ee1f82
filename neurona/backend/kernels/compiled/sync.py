"""Compiled waiting and serving for ``backend.parallel``'s polling workers (see ``parallel._PollingPool``).

A worker waits for its next task in ``serve`` without the GIL. A compiled task (a matrix product described by
an int64 row, ``gemm.run``) runs right there, so the worker never takes the GIL for it; a Python task makes
``serve`` return to the Python loop that runs it. Counters are written with ``publish``: a full fence on either
side of the store, so that what was written before it (a task's descriptor, a product's output) is visible to
the thread that sees the new count, and the store itself is visible before the writer's next read (the
protocol's sleep/wake handshake reads the other side's flag right after).
"""

from numba import types
from numba.extending import intrinsic

from . import gemm, jit

# sched_yield between two reads: it lets another runnable thread have the core, and, being a call LLVM cannot see
# into, it keeps the compiler from hoisting the read of the flag out of the loop (the flag is written by another
# thread). Linked by name, so the compiled function stays cacheable.
_sched_yield = types.ExternalFunction("sched_yield", types.int32())

PYTHON_TASK, PRODUCT_TASK = 0, 1  # kinds[i]: what posted[i]'s latest task is


@intrinsic
def _fence(typingctx):
    def codegen(context, builder, signature, args):
        builder.fence("seq_cst")
        return context.get_dummy_value()
    return types.void(), codegen


@jit
def wait_until(flags, index, value, rounds):
    """Whether ``flags[index] == value`` within ``rounds`` polls (one ``sched_yield``, about 0.5 us, between two)."""
    for _ in range(rounds):
        if flags[index] == value:
            _fence()  # what the writer stored before the flag is read after it
            return True
        _sched_yield()
    _fence()
    return flags[index] == value


@jit
def publish(flags, index, value):
    """``flags[index] = value`` between two full fences."""
    _fence()
    flags[index] = value
    _fence()


@jit
def serve(posted, finished, kinds, descriptors, index, seen, rounds):
    """Run worker ``index``'s compiled tasks as they are posted; return ``(seen, True)`` when a Python task is
    posted (the caller runs it and publishes ``finished``), ``(seen, False)`` after ``rounds`` polls without one."""
    while True:
        if not wait_until(posted, index, seen + 1, rounds):
            return seen, False
        seen += 1
        if kinds[index] == PYTHON_TASK:
            return seen, True
        gemm.run(descriptors[index])
        publish(finished, index, seen)
