"""Training past one process: synchronous data parallelism over MPI (``DataParallel``).

Run ``mpirun -n 4 python train.py`` with ``model.fit(..., distribute=DataParallel())``
(``pip install 'neurona[mpi]'`` brings mpi4py and the MPICH wheels from PyPI);
``rank()`` and ``size()`` say which process this is, e.g. to print or save from
rank 0 only. Without an MPI launcher everything runs as one process of one.
"""

from .communicator import launched_under_mpi
from .errors import DistributedError, collective
from .strategy import DataParallel


def rank():
    """This process's index in the run (0 without MPI)."""
    from .communicator import world

    return world().rank


def size():
    """The number of processes in the run (1 without MPI)."""
    from .communicator import world

    return world().size


__all__ = ["DataParallel", "DistributedError", "collective", "launched_under_mpi", "rank", "size"]
