"""Elementwise work split across threads gives exactly the single-threaded results."""

import numpy as np
import pytest

import neurona as nr
from neurona import ops
from neurona.backend import parallel


def test_chunks_cover_every_index_once(monkeypatch):
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", 1)
    monkeypatch.setenv("NEURONA_NUM_THREADS", "3")
    hits = np.zeros(10, dtype=int)

    def mark(s):
        hits[s] += 1

    parallel.for_each_chunk(10, mark, np.zeros(10))
    np.testing.assert_array_equal(hits, np.ones(10))


def test_worker_exceptions_reach_the_caller(monkeypatch):
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", 1)
    monkeypatch.setenv("NEURONA_NUM_THREADS", "2")

    def fail_on_second_half(s):
        if s.start > 0:
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        parallel.for_each_chunk(4, fail_on_second_half, np.zeros(4))


def test_small_work_runs_in_one_call():
    calls = []
    parallel.for_each_chunk(8, calls.append, np.zeros(8))
    assert calls == [slice(0, 8)]


def _conv_pool_relu_step(rng):
    x = nr.Tensor(rng.standard_normal((4, 9, 8, 3)).astype(np.float32), requires_grad=True)
    w = nr.Tensor(rng.standard_normal((3, 3, 3, 5)).astype(np.float32), requires_grad=True)
    b = nr.Tensor(rng.standard_normal(5).astype(np.float32), requires_grad=True)
    out = ops.max_pool2d(ops.relu(ops.conv2d(x, w, padding="same", bias=b)), 2)
    (out * out).sum().backward()
    return [out.numpy(), x.grad, w.grad, b.grad]


@pytest.mark.parametrize("threads", ["2", "3"])
def test_threaded_ops_equal_single_threaded(monkeypatch, threads):
    serial = _conv_pool_relu_step(np.random.default_rng(0))
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", 1)
    monkeypatch.setenv("NEURONA_NUM_THREADS", threads)
    threaded = _conv_pool_relu_step(np.random.default_rng(0))
    for a, b in zip(serial, threaded):
        np.testing.assert_array_equal(a, b)
