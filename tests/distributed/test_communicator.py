"""The communicator without MPI: launch detection from the environment, the lone process, the missing extra.

Nothing here imports ``mpi4py.MPI`` (that would initialize MPI in the test process): the launch is faked with
the variables launchers set, and a module placed in ``sys.modules`` under that name stands for an initialized
mpi4py.
"""

import sys
import types

import numpy
import pytest

import neurona.distributed as distributed
from neurona.backend import parallel
from neurona.distributed import communicator
from neurona.distributed.communicator import LAUNCHER_VARIABLES, LocalCommunicator

LAUNCH_NAMES = sorted({name for pair in LAUNCHER_VARIABLES for name in pair if name})


@pytest.fixture
def plain_process(monkeypatch):
    """No launcher variable, no mpi4py.MPI loaded, no communicator made yet."""
    for name in LAUNCH_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delitem(sys.modules, "mpi4py.MPI", raising=False)
    monkeypatch.setattr(communicator, "_world", None)
    return monkeypatch


def test_a_plain_process_is_not_under_mpi_and_is_rank_0_of_1(plain_process):
    assert not distributed.launched_under_mpi() and communicator.launched_size() == 1
    assert isinstance(communicator.world(), LocalCommunicator)
    assert communicator.world() is communicator.world()  # made once
    assert (distributed.rank(), distributed.size()) == (0, 1)
    assert "mpi4py.MPI" not in sys.modules


@pytest.mark.parametrize("rank, size, value", [("PMI_RANK", "PMI_SIZE", "4"),
                                               ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "3"),
                                               ("PMIX_RANK", None, None), ("MPI_LOCALRANKID", None, None)])
def test_each_launchers_variables_are_recognized(plain_process, rank, size, value):
    plain_process.setenv(rank, "1")
    if size:
        plain_process.setenv(size, value)
    assert distributed.launched_under_mpi()
    assert communicator.launched_size() == (int(value) if size else 1)


def test_a_size_that_is_not_a_number_counts_as_unknown(plain_process):
    plain_process.setenv("PMI_SIZE", "")
    plain_process.setenv("OMPI_COMM_WORLD_SIZE", "two")
    assert communicator.launched_size() == 1
    plain_process.setenv("OMPI_COMM_WORLD_SIZE", "2")
    assert communicator.launched_size() == 2


def test_an_initialized_mpi4py_counts_as_a_launch(plain_process):
    plain_process.setitem(sys.modules, "mpi4py.MPI", types.ModuleType("mpi4py.MPI"))  # a stand-in, not MPI
    assert distributed.launched_under_mpi()


def test_a_launch_without_mpi4py_names_the_extra_to_install(plain_process):
    plain_process.setenv("PMI_RANK", "0")
    plain_process.setitem(sys.modules, "mpi4py", None)  # import mpi4py fails
    with pytest.raises(ImportError, match=r"MPI launcher.*pip install 'neurona\[mpi\]'"):
        communicator.world()
    with pytest.raises(ImportError, match="neurona"):
        distributed.rank()
    assert communicator._world is None  # nothing half-made: the next call tries again


def test_the_local_communicators_collectives_hand_back_their_input():
    comm, buffers = LocalCommunicator(), [numpy.arange(3.0), numpy.ones(2, dtype="float32")]
    assert (comm.rank, comm.size) == (0, 1)
    assert comm.allreduce_buffers(buffers) is buffers and comm.broadcast_buffers(buffers) is buffers
    numpy.testing.assert_array_equal(buffers[0], [0.0, 1.0, 2.0])
    assert comm.allreduce(2.5) == 2.5 and comm.allreduce(3, op="max") == 3
    state = {"a": [1, 2]}
    assert comm.bcast(state) is state and comm.allgather(state) == [state]
    rows = numpy.arange(6).reshape(3, 2)
    assert comm.allgather_rows(rows) is rows


@pytest.fixture
def cpus(monkeypatch):
    """8 CPUs in this process's affinity mask, no thread count asked for, nothing cached."""
    monkeypatch.delenv("NEURONA_NUM_THREADS", raising=False)
    for name in parallel.LOCAL_RANKS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(parallel, "_cpu_count", [])
    monkeypatch.setattr(parallel.os, "sched_getaffinity", lambda pid: set(range(8)), raising=False)
    return monkeypatch


@pytest.mark.parametrize("variables, threads", [({}, 8), ({"MPI_LOCALNRANKS": "2"}, 4),
                                                ({"OMPI_COMM_WORLD_LOCAL_SIZE": "3"}, 2),
                                                ({"MPI_LOCALNRANKS": "16"}, 1),  # never below one
                                                ({"MPI_LOCALNRANKS": "0"}, 8), ({"MPI_LOCALNRANKS": "x"}, 8),
                                                ({"MPI_LOCALNRANKS": "4", "OMPI_COMM_WORLD_LOCAL_SIZE": "2"}, 2)])
def test_the_processes_on_one_machine_share_its_cpus(cpus, variables, threads):
    for name, value in variables.items():
        cpus.setenv(name, value)
    assert parallel.num_threads() == threads


def test_an_explicit_thread_count_wins_over_the_share(cpus):
    cpus.setenv("MPI_LOCALNRANKS", "4")
    cpus.setenv("NEURONA_NUM_THREADS", "3")
    assert parallel.num_threads() == 3
