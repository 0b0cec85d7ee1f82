"""The processes of a run and the collective calls between them: MPI through mpi4py, or a lone process.

``world()`` is the communicator of this process: MPI's ``COMM_WORLD`` when the
process was started by an MPI launcher (``mpirun``/``mpiexec``, which set
``PMI_RANK``/``PMI_SIZE`` for MPICH's Hydra, ``OMPI_COMM_WORLD_SIZE`` for Open
MPI, ``PMIX_RANK`` for PMIx) or when mpi4py is already initialized; otherwise
a ``LocalCommunicator`` of one process whose collectives return their input, so
that a script written for ``mpirun -n 4`` also runs as ``python train.py``.

mpi4py is imported only here, and only when an MPI launch is detected: importing
``mpi4py.MPI`` initializes MPI, which must not happen in a plain process.
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
        row = int(numpy.prod(array.shape[1:], dtype=numpy.int64))
        out = numpy.empty((sum(counts),) + array.shape[1:], dtype=array.dtype)
        sizes = [count * row for count in counts]
        offsets = numpy.concatenate([[0], numpy.cumsum(sizes)[:-1]]).astype(int).tolist()
        mpi_type = self.MPI._typedict[array.dtype.char] if array.dtype.char in self.MPI._typedict else None
        if mpi_type is None:  # e.g. bfloat16, which MPI has no type for: its bytes
            self.comm.Allgatherv(array.view(numpy.uint8),
                                 [out.view(numpy.uint8), [s * array.itemsize for s in sizes],
                                  [o * array.itemsize for o in offsets], self.MPI.BYTE])
        else:
            self.comm.Allgatherv(array, [out, sizes, offsets, mpi_type])
        return out

    def abort(self, code=1):
        """Stop every process of the run (``MPI_Abort``): used when one fails while the others wait."""
        self.comm.Abort(code)
