"""The processes of a run and the collective calls between them: MPI through mpi4py, or a lone process.

``world()`` is the communicator of this process: MPI's ``COMM_WORLD`` when the
process was started by an MPI launcher (``mpirun``/``mpiexec``, which set
``PMI_RANK``/``PMI_SIZE`` for MPICH's Hydra, ``OMPI_COMM_WORLD_SIZE`` for Open
MPI, ``PMIX_RANK`` for PMIx) or when mpi4py is already initialized; otherwise
a ``LocalCommunicator`` of one process whose collectives return their input, so
that a script written for ``mpirun -n 4`` also runs as ``python train.py``.

mpi4py is imported only here, and only when an MPI launch is detected: importing
``mpi4py.MPI`` initializes MPI, which must not happen in a plain process. In a
run of several processes, the first use also installs a ``sys.excepthook`` that
aborts the MPI job when a process ends with an uncaught exception (after
printing it), so that the others never wait for it forever.
"""

import os
import sys

import numpy

# environment variables an MPI launcher sets in every process it starts: (variable of the rank, of the size)
LAUNCHER_VARIABLES = (("PMI_RANK", "PMI_SIZE"), ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"),
                      ("PMIX_RANK", None), ("MPI_LOCALRANKID", None))

_world = None


def launched_under_mpi():
    """Whether an MPI launcher started this process (its environment names a rank)."""
    return any(rank in os.environ for rank, _ in LAUNCHER_VARIABLES) or "mpi4py.MPI" in sys.modules


def launched_size():
    """The number of processes the launcher started, from the environment (1 when it says nothing)."""
    for _, size in LAUNCHER_VARIABLES:
        if size and os.environ.get(size, "").isdigit():
            return int(os.environ[size])
    return 1


LOCAL_RANK_VARIABLES = ("MPI_LOCALRANKID", "OMPI_COMM_WORLD_LOCAL_RANK", "PMIX_LOCAL_RANK")


def local_rank():
    """This process's index among the processes of the run on this machine (0 when the launcher says nothing)."""
    for name in LOCAL_RANK_VARIABLES:
        if os.environ.get(name, "").isdigit():
            return int(os.environ[name])
    return 0


def world():
    """This process's communicator (created once): ``MPICommunicator`` under MPI, else ``LocalCommunicator``."""
    global _world
    if _world is None:
        _world = MPICommunicator() if launched_under_mpi() else LocalCommunicator()
    return _world


def _import_mpi():
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise ImportError(
            "neurona.distributed: this process was started by an MPI launcher (mpirun/mpiexec), which needs "
            f"mpi4py and an MPI library ({error}); install them with: pip install 'neurona[mpi]' (mpi4py and the "
            "mpich wheels from PyPI, no system MPI needed)") from None
    return MPI


def _abort_on_uncaught_errors(communicator):
    """An exception that ends one process of a multi-process run ends the whole run (as ``python -m mpi4py``
    does): otherwise the other processes would wait forever in their next collective call for this one."""
    previous = sys.excepthook

    def hook(kind, error, trace):
        previous(kind, error, trace)
        sys.stderr.write(f"neurona.distributed: rank {communicator.rank} of {communicator.size} ended with an "
                         "uncaught exception; stopping every process\n")
        sys.stderr.flush()
        communicator.abort(1)

    sys.excepthook = hook


class LocalCommunicator:
    """One process: rank 0 of 1; every collective hands back its input."""

    rank, size = 0, 1

    def allreduce_buffers(self, buffers, op="sum"):
        return buffers

    def allreduce(self, value, op="sum"):
        return value

    def broadcast_buffers(self, buffers):
        return buffers

    def bcast(self, value):
        return value

    def allgather(self, value):
        return [value]

    def allgather_rows(self, array):
        return array

    def abort(self, code=1):  # pragma: no cover - one process has nobody to stop
        raise SystemExit(code)


class MPICommunicator:
    """``COMM_WORLD`` of mpi4py with the few collectives data-parallel training needs.

    Array collectives work in place on contiguous NumPy buffers (``Iallreduce`` of each, then one ``Waitall``:
    the buffers travel concurrently); ``bcast``/``allgather`` of small Python values use mpi4py's pickled
    messages, in memory, between the processes of one run.
    """

    def __init__(self):
        self.MPI = _import_mpi()
        self.comm = self.MPI.COMM_WORLD
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
        if self.size > 1:
            _abort_on_uncaught_errors(self)

    def _op(self, op):
        return {"sum": self.MPI.SUM, "max": self.MPI.MAX, "min": self.MPI.MIN}[op]

    def allreduce_buffers(self, buffers, op="sum"):
        """Reduce every buffer in place across the processes (all at once); returns them."""
        requests = [self.comm.Iallreduce(self.MPI.IN_PLACE, buffer, op=self._op(op)) for buffer in buffers]
        self.MPI.Request.Waitall(requests)
        return buffers

    def allreduce(self, value, op="sum"):
        """A number reduced across the processes (a float64 reduction)."""
        buffer = numpy.array([value], dtype=numpy.float64)
        self.comm.Allreduce(self.MPI.IN_PLACE, buffer, op=self._op(op))
        return buffer[0]

    def broadcast_buffers(self, buffers):
        """Rank 0's buffers copied into every process's buffers, in place; returns them."""
        requests = [self.comm.Ibcast(buffer, root=0) for buffer in buffers]
        self.MPI.Request.Waitall(requests)
        return buffers

    def bcast(self, value):
        return self.comm.bcast(value, root=0)

    def allgather(self, value):
        return self.comm.allgather(value)

    def allgather_rows(self, array):
        """Every process's rows of ``array`` (the same dtype and row shape everywhere), concatenated in rank order."""
        array = numpy.ascontiguousarray(array)
        counts = self.comm.allgather(array.shape[0])
        row_bytes = int(numpy.prod(array.shape[1:], dtype=numpy.int64)) * array.itemsize
        out = numpy.empty((sum(counts),) + array.shape[1:], dtype=array.dtype)
        sizes = [count * row_bytes for count in counts]
        offsets = numpy.concatenate([[0], numpy.cumsum(sizes)[:-1]]).astype(numpy.int64).tolist()
        # as bytes: any dtype (bfloat16 has no MPI type), and the receiver knows the layout already
        self.comm.Allgatherv([array.reshape(-1).view(numpy.uint8), self.MPI.BYTE],
                             [out.reshape(-1).view(numpy.uint8), sizes, offsets, self.MPI.BYTE])
        return out

    def abort(self, code=1):
        """Stop every process of the run (``MPI_Abort``): used when one fails while the others wait."""
        self.comm.Abort(code)
