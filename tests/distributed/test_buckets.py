"""``GradientBuckets``: share-weighted gradient sums in flat per-dtype buffers, averaged weights, control slots.

The ranks are simulated in one process (tests/distributed/fakes.py). A float32 gradient is scaled by its share
in float32 and the shares' products are summed in float32 (the buffer's dtype), so the views are compared with
the same sums done in float32 by NumPy to 1e-7 relative; float64 weights travel in float64 buffers and must
match their float64 sums to 1e-15.
"""

import ml_dtypes
import numpy
import pytest

from neurona.autograd.variable import Variable
from neurona.distributed.buckets import CONTROL_SLOTS, GradientBuckets, wire_dtype

from .fakes import Scaling, simulate

SHAPES = [((3, 4), "float32"), ((5,), "float64"), ((2, 3), "float32"), ((7,), "float64"), ((4,), "float32")]


def weights():
    return [Variable(numpy.zeros(shape, dtype=dtype), name=f"w{i}") for i, (shape, dtype) in enumerate(SHAPES)]


def gradients(rank):
    rng = numpy.random.default_rng(rank)
    # float64 values that float32 would round: a float64 sum must not pass through float32
    return [(rng.normal(size=shape) * (1 + 1e-12)).astype(dtype) for shape, dtype in SHAPES]


def test_the_views_hold_the_share_weighted_sum_of_every_processs_gradient():
    shares, bucket_bytes = [3 / 8, 5 / 8], 64  # small buckets: several buffers per dtype

    def run(comm):
        ws = weights()
        buckets = GradientBuckets(comm, ws, bucket_bytes=bucket_bytes)
        grads = {id(w): g for w, g in zip(ws, gradients(comm.rank))}
        views, counts = buckets.reduce(grads, shares[comm.rank])
        return buckets, [numpy.array(views[id(w)]) for w in ws], counts

    runs = simulate(2, run)
    for rank, (buckets, views, counts) in enumerate(runs):
        assert counts == (0, 0)
        dtypes = [b.dtype for b in buckets.buffers]
        assert len(buckets.buffers) > 2 and set(dtypes) == {numpy.dtype("float32"), numpy.dtype("float64")}
        assert all(b.nbytes <= bucket_bytes for b in buckets.buffers)
        received = simulate.comms[rank].received
        assert len(received) == 1 and all(a is b for a, b in zip(received[0], buckets.buffers))  # one call, all
        assert len(received[0]) == len(buckets.buffers)
        for i, (view, (shape, dtype)) in enumerate(zip(views, SHAPES)):
            parts = [numpy.multiply(gradients(r)[i], shares[r], dtype=dtype) for r in (0, 1)]
            assert view.shape == shape and view.dtype == dtype
            numpy.testing.assert_allclose(view, parts[0] + parts[1], rtol=1e-15 if dtype == "float64" else 1e-7)


def test_a_weight_larger_than_a_bucket_gets_a_buffer_of_its_own_and_the_control_slots_come_first():
    ws = [Variable(numpy.zeros(100, dtype="float32")), Variable(numpy.zeros(3, dtype="float32"))]
    buckets = GradientBuckets(Scaling(1), ws, bucket_bytes=64)
    # the control slots: skips, failures, and a gradient count per weight
    assert [b.size for b in buckets.buffers] == [CONTROL_SLOTS + 2, 100, 3] and buckets.control == CONTROL_SLOTS + 2
    assert GradientBuckets(Scaling(1), ws).buffers[0].size == CONTROL_SLOTS + 2 + 103  # 25 MiB: all in one


def test_a_weight_without_a_gradient_sends_zeros_and_one_nobody_has_is_left_out():
    def run(comm):
        ws = weights()
        buckets = GradientBuckets(comm, ws, bucket_bytes=64)
        everything = {id(w): numpy.ones(w.data.shape, w.data.dtype) for w in ws}
        first, _ = buckets.reduce(everything, 0.5)
        first = numpy.array(first[id(ws[1])])
        missing = {} if comm.rank == 0 else {id(ws[1]): numpy.full(ws[1].data.shape, 4.0)}
        second, _ = buckets.reduce(missing, 0.5)
        return first, {i: numpy.array(second[id(w)]) for i, w in enumerate(ws) if id(w) in second}

    for first, second in simulate(2, run):
        numpy.testing.assert_array_equal(first, numpy.ones(5))
        # rank 1's half (rank 0 sent zeros, not its last step's values); the weights no process has a gradient
        # for are not handed back, so no process updates them
        assert list(second) == [1]
        numpy.testing.assert_array_equal(second[1], numpy.full(5, 2.0))


def test_averaged_weights_end_as_the_mean_of_the_processes_values():
    values = [numpy.array([1.0, 2.0, 3.0]), numpy.array([3.0, 6.0, 9.0]), numpy.array([5.0, 1.0, 0.0])]

    def run(comm):
        trainable = Variable(numpy.zeros(2, dtype="float32"))
        moving = [Variable(values[comm.rank].astype("float32"), trainable=False),
                  Variable(values[comm.rank][::-1].astype("float64"), trainable=False)]
        buckets = GradientBuckets(comm, [trainable], averaged=moving)
        views, _ = buckets.reduce({id(trainable): numpy.ones(2, dtype="float32")}, 1 / 3)
        return [m.data.copy() for m in moving], numpy.array(views[id(trainable)])

    mean = numpy.mean(values, axis=0)
    for (moving_f32, moving_f64), trainable in simulate(3, run):
        assert moving_f32.dtype == numpy.float32 and moving_f64.dtype == numpy.float64
        numpy.testing.assert_allclose(moving_f32, mean, rtol=3e-7)
        numpy.testing.assert_allclose(moving_f64, mean[::-1], rtol=1e-14)
        numpy.testing.assert_allclose(trainable, numpy.ones(2), rtol=3e-7)  # the 1/3 shares sum to one gradient


@pytest.mark.parametrize("skip, fail, counts", [((True, False, False), (False, False, False), (1, 0)),
                                                ((False, False, False), (True, False, True), (0, 2)),
                                                ((True, True, False), (False, True, False), (2, 1))])
def test_skips_and_failures_are_counted_and_no_process_gets_a_gradient(skip, fail, counts):
    def run(comm):
        w, moving = Variable(numpy.ones(4, dtype="float32")), Variable(numpy.full(2, float(comm.rank)),
                                                                       trainable=False)
        buckets = GradientBuckets(comm, [w], averaged=[moving])
        views, got = buckets.reduce({id(w): numpy.full(4, 10.0 ** comm.rank)}, 1 / 3, skip=skip[comm.rank],
                                    fail=fail[comm.rank])
        return views, got, moving.data.copy()

    for rank, (views, got, moving) in enumerate(simulate(3, run)):
        assert views is None and got == counts
        numpy.testing.assert_array_equal(moving, numpy.full(2, float(rank)))  # a skipped step averages nothing


def test_identical_processes_get_their_own_gradient_back_and_weights_unchanged():
    comm = Scaling(4)
    w = Variable(numpy.arange(6, dtype="float32").reshape(2, 3))
    moving = Variable(numpy.array([0.5, -2.0], dtype="float32"), trainable=False)
    buckets = GradientBuckets(comm, [w], averaged=[moving], bucket_bytes=1024)
    grad = numpy.linspace(-1, 1, 6, dtype="float32").reshape(2, 3)
    views, counts = buckets.reduce({id(w): grad}, 0.25)
    numpy.testing.assert_array_equal(views[id(w)], grad)  # 4 x (g / 4): exact in binary floating point
    numpy.testing.assert_array_equal(moving.data, [0.5, -2.0])
    assert counts == (0, 0) and len(comm.calls) == 1
    assert buckets.reduce({id(w): grad}, 0.25, skip=True) == (None, (4, 0))


def test_no_weights_leaves_the_control_slots_alone():
    buckets = GradientBuckets(Scaling(2), [])
    assert [b.size for b in buckets.buffers] == [CONTROL_SLOTS] and buckets.nbytes == 4 * CONTROL_SLOTS
    assert buckets.reduce({}, 0.5) == ({}, (0, 0))
    assert buckets.reduce({}, 0.5, fail=True) == (None, (0, 2))


@pytest.mark.parametrize("dtype", ["float16", ml_dtypes.bfloat16])
def test_16_bit_gradients_travel_and_are_scaled_in_float32(dtype):
    """A share of 1/3 in float16 or bfloat16 would round (bfloat16: 0.334 instead of 0.333...)."""
    assert wire_dtype(numpy.dtype(dtype)) == numpy.float32 and wire_dtype(numpy.dtype("float64")) == numpy.float64
    w = Variable(numpy.zeros(3, dtype=dtype))
    buckets = GradientBuckets(Scaling(3), [w])
    grad = numpy.array([1.0, 3.0, 7.0], dtype=dtype)
    views, _ = buckets.reduce({id(w): grad}, 1 / 3)
    assert views[id(w)].dtype == numpy.float32
    numpy.testing.assert_allclose(views[id(w)], grad.astype("float32"), rtol=1e-6)
