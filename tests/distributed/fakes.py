"""Several processes simulated in one: fake communicators for the in-process tests of neurona.distributed.

``simulate(size, run)`` plays the allreduces and allgathers between ``size`` processes without MPI. ``run(comm)``
builds one process's objects from scratch and makes its collective calls; it is called twice per rank. First every
rank runs with a communicator that records what it sends (and hands it back unreduced); then every rank runs again
with a communicator that checks it sends the same thing again and replaces it by the element-wise sum of what every
rank sent, which is what ``MPI_Allreduce(SUM)`` would leave in its buffers. The second runs' results are returned.
"""

import numpy


class Recording:
    """Rank ``rank`` of ``size``: ``allreduce_buffers`` keeps copies of the buffers of each call, ``allgather``
    the values (and hands back ``size`` copies of this rank's)."""

    def __init__(self, rank, size):
        self.rank, self.size, self.calls, self.gathers = rank, size, [], []

    def allgather(self, value):
        self.gathers.append(value)
        return [value] * self.size

    def allreduce_buffers(self, buffers, op="sum"):
        assert op == "sum"
        self.calls.append([numpy.array(b, copy=True) for b in buffers])
        return buffers


class Summing:
    """Rank ``rank`` of ``size``: call ``i`` of ``allreduce_buffers`` gets ``totals[i]``, the sums over the ranks.

    ``sent`` are this rank's recorded buffers: each call must send them again, bit for bit. ``received`` keeps
    the list objects each call got (to check that all buffers travel in one call).
    """

    def __init__(self, rank, size, sent, totals, gathered=()):
        self.rank, self.size, self.sent, self.totals, self.received = rank, size, sent, totals, []
        self.gathered, self.gather_calls = gathered, 0

    def allgather(self, value):
        """Call ``i`` gets every rank's value of its recorded call ``i``, in rank order."""
        call, self.gather_calls = self.gather_calls, self.gather_calls + 1
        return [gathers[call] for gathers in self.gathered]

    def allreduce_buffers(self, buffers, op="sum"):
        call = len(self.received)
        assert len(buffers) == len(self.sent[call])
        for buffer, sent, total in zip(buffers, self.sent[call], self.totals[call]):
            numpy.testing.assert_array_equal(buffer, sent)
            buffer[...] = total
        self.received.append(buffers)
        return buffers


def simulate(size, run):
    """``[run(comm) for each rank]`` as if the ranks' ``allreduce_buffers`` calls met in one MPI allreduce.

    Raises AssertionError when the ranks send buffers of different counts, dtypes or lengths (MPI would hang or
    reduce garbage).
    """
    recorders = [Recording(rank, size) for rank in range(size)]
    for comm in recorders:
        run(comm)
    calls = [comm.calls for comm in recorders]
    assert len({len(c) for c in calls}) == 1, f"the ranks made {[len(c) for c in calls]} allreduce calls"
    totals = []
    for call in zip(*calls):
        layouts = [[(b.dtype, b.shape) for b in buffers] for buffers in call]
        assert all(layout == layouts[0] for layout in layouts), f"the ranks sent different buffers: {layouts}"
        totals.append([numpy.sum([buffers[i] for buffers in call], axis=0).astype(call[0][i].dtype)
                       for i in range(len(call[0]))])
    gathered = [comm.gathers for comm in recorders]
    assert len({len(g) for g in gathered}) == 1, f"the ranks made {[len(g) for g in gathered]} allgather calls"
    comms = [Summing(rank, size, calls[rank], totals, gathered) for rank in range(size)]
    results = [run(comm) for comm in comms]
    simulate.comms = comms  # the last simulation's communicators, for checks of the calls themselves
    return results


class Scaling:
    """Rank ``rank`` of ``size`` whose peers all send what it sends: an allreduce multiplies by ``size``."""

    def __init__(self, size, rank=0):
        self.rank, self.size, self.calls = rank, size, []

    def allreduce_buffers(self, buffers, op="sum"):
        self.calls.append(list(buffers))
        for buffer in buffers:
            buffer *= self.size
        return buffers


class Shards:
    """Rank ``rank`` of ``size`` for ``ShardedAdapter``: every process holds ``counts`` samples and a batch."""

    def __init__(self, rank, size, counts=None, have=None):
        self.rank, self.size, self.counts, self.have = rank, size, counts, have

    def allgather(self, value):
        return list(self.counts) if self.counts is not None else [value] * self.size

    def allreduce(self, value, op="sum"):
        assert op == "sum"
        return self.have if self.have is not None else value * self.size


class Twin:
    """Rank 0 of 2 whose peer is its exact twin (the same model, and rows that give the same numbers): a sum doubles,
    every other collective hands back this process's value; ``abort`` is recorded in ``aborted`` instead of exiting.

    With it a data-parallel ``fit`` takes the multi-process code path (share-weighted buckets, averaged moving
    statistics, reduced metrics, agreement) in one process: each process's share is 1/2 of the global batch, so
    the summed gradient ``2 x (g / 2)`` is, exactly, the gradient of this process's half of every batch.
    """

    rank, size = 0, 2

    def __init__(self):
        self.aborted, self.reduced = [], []  # reduced: the numbers each allreduce_buffers call carried

    def allreduce_buffers(self, buffers, op="sum"):
        self.reduced.append(sum(b.size for b in buffers))
        if op == "sum":
            for buffer in buffers:
                buffer *= 2
        return buffers

    def allreduce(self, value, op="sum"):
        return 2 * value if op == "sum" else value

    def broadcast_buffers(self, buffers):
        return buffers

    def bcast(self, value):
        return value

    def allgather(self, value):
        return [value, value]

    def abort(self, code=1):
        self.aborted.append(code)
