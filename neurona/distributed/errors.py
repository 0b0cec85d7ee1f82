"""Errors of data-parallel runs: raised on every process alike, or raised on one (then the run is aborted)."""


class DistributedError(RuntimeError):
    """An error on one process of a data-parallel run, raised on every process.

    Attributes:
        failures: ``{rank: message}`` of the processes that failed.
    """

    collective = True

    def __init__(self, failures):
        self.failures = dict(failures)
        text = "; ".join(f"rank {rank}: {message}" for rank, message in sorted(self.failures.items()))
        super().__init__(f"data-parallel training stopped on every process because of an error on "
                         f"{len(self.failures)} of them: {text}")


def collective(error):
    """Mark ``error`` as raised by every process at the same point (its ``collective`` attribute): it leaves
    ``fit``/``evaluate``/``predict`` as an exception on each of them, instead of aborting the run."""
    error.collective = True
    return error


def is_collective(error):
    return bool(getattr(error, "collective", False))


def describe(error):
    """``"Type: message"`` of an exception, as the other processes are told it."""
    return f"{type(error).__name__}: {error}"
