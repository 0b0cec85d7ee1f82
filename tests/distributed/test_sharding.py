"""``ShardedAdapter``: each of N processes reads its part of every global batch, and together they read it all.

The N processes are N adapters over the same data in one process, each with a fake communicator naming its rank
(fakes.Shards); the shuffling generators start from one state, as ``DataParallel.share_generator`` makes them.
"""

import math

import numpy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurona.models.data_adapter import ArrayAdapter, make_adapter
from neurona.models.sharding import ShardedAdapter, part
from neurona.utils import PyDataset

from .fakes import Shards

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True, database=None)


def arrays(n):
    rows = numpy.arange(n)
    return numpy.stack([rows, -rows], axis=1).astype("float32"), rows * 10, rows / 2


def array_adapter(n, batch, shuffle, seed=0):
    x, y, w = arrays(n)
    return ArrayAdapter(x, y, w, batch_size=batch, shuffle=shuffle, rng=numpy.random.default_rng(seed))


def sharded_passes(make_inner, size, **comm):
    """``[[(batch, global_rows)] of rank r] for r in range(size)``: one pass of each rank's adapter."""
    out = []
    for rank in range(size):
        adapter = ShardedAdapter(make_inner(), Shards(rank, size, **comm), metrics=False)  # any batch size
        out.append([(batch, adapter.global_rows) for batch in adapter.passes()])
    return out


def assert_union_is_the_batch(ranks, whole):
    assert [len(r) for r in ranks] == [len(whole)] * len(ranks)  # every rank takes every step
    for step, batch in enumerate(whole):
        parts = [r[step][0] for r in ranks]
        for column, expected in enumerate(batch):
            numpy.testing.assert_array_equal(numpy.concatenate([p[column] for p in parts]), expected)
        assert all(r[step][1] == len(batch[0]) for r in ranks)  # global_rows: the whole batch's size


@SETTINGS
@given(rows=st.integers(0, 200), size=st.integers(1, 9))
def test_the_parts_of_a_batch_are_contiguous_in_rank_order_and_differ_by_at_most_one_row(rows, size):
    bounds = [part(rows, rank, size) for rank in range(size)]
    assert bounds[0][0] == 0 and bounds[-1][1] == rows
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))
    lengths = [hi - lo for lo, hi in bounds]
    assert min(lengths) >= 0 and max(lengths) - min(lengths) <= 1


@SETTINGS
@given(n=st.integers(1, 60), batch=st.integers(1, 16), size=st.integers(1, 5), shuffle=st.booleans(),
       seed=st.integers(0, 1000))
def test_the_ranks_parts_of_every_batch_make_the_batch_in_order(n, batch, size, shuffle, seed):
    whole = list(array_adapter(n, batch, shuffle, seed).passes())
    assert len(whole) == math.ceil(n / batch)
    assert_union_is_the_batch(sharded_passes(lambda: array_adapter(n, batch, shuffle, seed), size), whole)


def test_a_last_batch_of_one_row_leaves_two_of_three_ranks_empty():
    ranks = sharded_passes(lambda: array_adapter(7, 3, shuffle=False), 3)
    last = [r[-1][0] for r in ranks]
    assert [len(b[0]) for b in last] == [0, 0, 1] and [len(b[1]) for b in last] == [0, 0, 1]
    assert last[0][0].shape == (0, 2)  # an empty part keeps the row shape
    numpy.testing.assert_array_equal(last[2][0], [[6.0, -6.0]])
    assert [len(r) for r in ranks] == [3, 3, 3] and all(r[-1][1] == 1 for r in ranks)


def test_the_shuffled_order_follows_the_shared_generator_and_changes_each_pass():
    adapter = ShardedAdapter(array_adapter(12, 4, shuffle=True, seed=3), Shards(1, 2))
    first, second = [b[0].copy() for b in adapter.passes()], [b[0].copy() for b in adapter.passes()]
    assert not all(numpy.array_equal(a, b) for a, b in zip(first, second))
    adapter.rng = numpy.random.default_rng(3)  # the setter reaches the inner adapter: the first order again
    assert adapter.inner.rng is adapter.rng
    again = [b[0] for b in adapter.passes()]
    assert all(numpy.array_equal(a, b) for a, b in zip(first, again))


def test_processes_holding_different_numbers_of_samples_are_refused():
    with pytest.raises(ValueError, match=r"the processes hold \[10, 10, 9\] samples"):
        ShardedAdapter(array_adapter(10, 4, shuffle=False), Shards(0, 3, counts=[10, 10, 9]))


def test_the_adapters_size_and_epoch_hooks_are_the_inner_ones():
    inner = array_adapter(10, 4, shuffle=False)
    calls = []
    inner.on_epoch_begin, inner.on_epoch_end = (lambda: calls.append("begin")), (lambda: calls.append("end"))
    adapter = ShardedAdapter(inner, Shards(0, 4))
    assert (adapter.num_batches, adapter.batch_size) == (3, 4)
    adapter.on_epoch_begin()
    adapter.on_epoch_end()
    assert calls == ["begin", "end"]


SIZES = [5, 1, 4, 2, 3]  # rows of the batches a source yields: some smaller than the number of processes


class Batches(PyDataset):
    def __init__(self):
        super().__init__()
        self.starts = numpy.cumsum([0] + SIZES)

    def __len__(self):
        return len(SIZES)

    def __getitem__(self, index):
        x, y, _ = arrays(int(self.starts[-1]))
        rows = slice(self.starts[index], self.starts[index + 1])
        return x[rows], y[rows]


def generator():
    yield from (Batches()[i] for i in range(len(SIZES)))


@pytest.mark.parametrize("source", [generator, Batches], ids=["generator", "PyDataset"])
def test_the_batches_of_a_source_are_cut_the_same_way(source):
    whole = list(make_adapter(source(), caller="fit").passes())
    assert [len(b[0]) for b in whole] == SIZES
    ranks = sharded_passes(lambda: make_adapter(source(), caller="fit"), 3)
    assert_union_is_the_batch(ranks, [b[:2] for b in whole])
    assert [len(b[0]) for b, _ in ranks[0]] == [1, 0, 1, 0, 1]  # rank 0 of 3: rows [0, b // 3) of each batch
    assert all(b[2] is None for r in ranks for b, _ in r)  # no sample weights: still none


def test_sources_that_run_out_at_different_batches_are_refused():
    # one of the three processes has no batch left while the others have one
    adapter = ShardedAdapter(make_adapter(generator(), caller="fit"), Shards(0, 3, have=2))
    with pytest.raises(RuntimeError, match=r"ran out at different batches \(2 of 3 processes still had one\)"):
        next(adapter.passes())


@pytest.mark.parametrize("samples, batch, expected", [(10, 2, "batch_size=2"), (2, 4, "2 samples")])
def test_fewer_rows_than_processes_are_refused_where_metrics_are_kept(samples, batch, expected):
    """fit and evaluate: a process that never sees a row could not build its metrics (predict can)."""
    with pytest.raises(ValueError, match=rf"evaluate: data-parallel over 3 processes .* got {expected}"):
        ShardedAdapter(array_adapter(samples, batch, shuffle=False), Shards(0, 3), caller="evaluate")
    assert ShardedAdapter(array_adapter(samples, batch, shuffle=False), Shards(0, 3), metrics=False).num_batches
