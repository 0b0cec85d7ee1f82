"""Compiled waiting for ``backend.parallel``'s polling workers (see ``parallel._PollingPool`` for the protocol)."""

from numba import types

from . import jit

# sched_yield between two reads: it lets another runnable thread have the core, and, being a call LLVM cannot see
# into, it keeps the compiler from hoisting the read of the flag out of the loop (the flag is written by another
# thread). Linked by name, so the compiled function stays cacheable.
_sched_yield = types.ExternalFunction("sched_yield", types.int32())


@jit
def wait_until(flags, index, value, rounds):
    """Whether ``flags[index] == value`` within ``rounds`` polls (one ``sched_yield``, about 0.5 us, between two)."""
    for _ in range(rounds):
        if flags[index] == value:
            return True
        _sched_yield()
    return flags[index] == value
