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


# ---- the two pools: polling threads (numba) and sleeping ones (concurrent.futures) -------------------------------
POOLS = ["auto", "numpy"]  # NEURONA_KERNELS: auto polls when numba is there; numpy always takes the sleeping pool


def _squares(n):
    """``map_chunks`` over ``range(n)``: each slice's values squared, in slice order."""
    values = np.arange(n)
    return np.concatenate(parallel.map_chunks(n, lambda s: values[s] ** 2, values))


def _product(m, seed=0):
    """A split ``kernels.matmul`` of ``m`` rows (compiled ?gemm pieces on the pool's threads when numba is
    there, NumPy pieces otherwise) beside NumPy's own product."""
    from neurona.backend import kernels

    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal((m, 17)), rng.standard_normal((17, 5))
    return kernels.matmul(a, b), a @ b


@pytest.fixture(params=POOLS)
def split_everything(request, monkeypatch):
    from neurona.backend.kernels import linalg

    monkeypatch.setattr(linalg, "SPLIT_MACS", 1)
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", 1)
    monkeypatch.setenv("NEURONA_NUM_THREADS", "3")
    monkeypatch.setenv("NEURONA_KERNELS", request.param)
    return request.param


def test_pool_kind_follows_the_kernel_choice(split_everything):
    from neurona.backend.kernels import select

    _squares(6)
    polling = split_everything == "auto" and select.numba_available()
    assert isinstance(parallel._pool, parallel._PollingPool if polling else parallel._ExecutorPool)


def test_work_after_the_threads_fell_asleep(split_everything, monkeypatch):
    import time

    monkeypatch.setattr(parallel, "POLL_ROUNDS", 1)  # every thread sleeps right after its task
    for round_ in range(50):
        np.testing.assert_array_equal(_squares(9 + round_), np.arange(9 + round_) ** 2)
        np.testing.assert_allclose(*_product(150 + round_), rtol=1e-12, atol=1e-12)
        if round_ % 10 == 0:
            time.sleep(0.01)


def test_products_and_python_tasks_interleave(split_everything):
    for m in range(96, 400, 3):
        got, want = _product(m, seed=m)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(_squares(m), np.arange(m) ** 2)


def test_many_quick_handoffs_lose_nothing(split_everything):
    for n in range(3, 400):
        np.testing.assert_array_equal(_squares(n), np.arange(n) ** 2)


def test_exceptions_leave_the_pool_usable(split_everything):
    def fail_on_last_third(s):
        if s.stop == 9:
            raise ValueError("last")
        return s.stop

    for _ in range(3):
        with pytest.raises(ValueError, match="last"):
            parallel.map_chunks(9, fail_on_last_third, np.zeros(9))
        assert parallel.map_chunks(9, lambda s: s.stop, np.zeros(9)) == [3, 6, 9]


def test_work_split_inside_the_pools_work_runs_in_place(split_everything):
    def outer(s):
        return np.concatenate(parallel.map_chunks(6, lambda t: np.arange(6)[t] + s.start, np.zeros(6)))

    results = parallel.map_chunks(6, outer, np.zeros(6))
    for block, start in zip(results, (0, 2, 4)):
        np.testing.assert_array_equal(block, np.arange(6) + start)


def test_callers_on_several_threads_all_get_their_results(split_everything):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as callers:
        results = list(callers.map(_squares, range(20, 220)))
    for n, result in zip(range(20, 220), results):
        np.testing.assert_array_equal(result, np.arange(n) ** 2)


def test_a_new_thread_count_replaces_the_pool(split_everything, monkeypatch):
    _squares(8)
    old = parallel._pool
    monkeypatch.setenv("NEURONA_NUM_THREADS", "2")
    assert parallel.map_chunks(8, lambda s: s, np.zeros(8)) == [slice(0, 4), slice(4, 8)]
    assert parallel._pool is not old and parallel._pool.workers == 1
    if isinstance(old, parallel._PollingPool):
        for thread in old.threads:
            thread.join(timeout=5)
            assert not thread.is_alive()


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="fork is POSIX only")
def test_a_forked_child_starts_its_own_threads(split_everything):
    import multiprocessing

    _squares(8)  # the parent's pool exists before the fork
    context = multiprocessing.get_context("fork")
    with context.Pool(1) as children:
        total = children.apply(_sum_of_squares, (30,))
    assert total == sum(i * i for i in range(30))


def _sum_of_squares(n):
    got, want = _product(200)  # and a product, whose pieces the child's own threads run
    assert np.allclose(got, want)
    return int(_squares(n).sum())


# ---- products on the polling pool: exceptions, pool replacement (found by a reader of the change) ------------
def _polling_pool(monkeypatch):
    from neurona.backend.kernels import linalg, select

    if select.compiled("sync") is None:
        pytest.skip("the polling pool needs numba")
    monkeypatch.setattr(linalg, "SPLIT_MACS", 1)
    monkeypatch.setenv("NEURONA_NUM_THREADS", "2")
    return select.compiled("sync")


def test_an_interrupted_product_keeps_its_arrays_until_the_thread_is_done(monkeypatch):
    """The caller's own share raises (as a KeyboardInterrupt would): the worker's share still writes into the
    output, so the pool keeps the arrays alive, and the next product waits for that share before posting."""
    sync = _polling_pool(monkeypatch)
    from neurona.backend import blas, kernels

    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((400, 300)), rng.standard_normal((300, 200))
    kernels.matmul(a, b)  # the pool exists
    pool = parallel._pool

    class Interrupted:
        def __getattr__(self, name):
            return getattr(sync.gemm, name)

        def run(self, descriptor):
            raise KeyboardInterrupt

    out = np.empty((400, 200))
    descriptor = sync.gemm.describe(a, b, out, 4, blas.gemm_address(out.dtype))
    assert pool.busy.acquire(blocking=False)
    try:
        with pytest.raises(KeyboardInterrupt):
            pool.run_product(Interrupted(), descriptor, 2, (a, b, out))
    finally:
        pool.busy.release()
    assert pool.holding[0][2] is out  # held until the thread's next task
    np.testing.assert_allclose(kernels.matmul(a, b), a @ b, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(out[200:], (a @ b)[200:], rtol=1e-12, atol=1e-12)  # the thread's share landed


def test_changing_the_thread_count_while_another_thread_multiplies(monkeypatch):
    """One thread switches NEURONA_NUM_THREADS back and forth while another multiplies: the pool in use is never
    closed under it (it hung before), and every product is right."""
    import threading
    import time

    _polling_pool(monkeypatch)
    from neurona.backend import kernels

    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((200, 64)), rng.standard_normal((64, 32))
    want = a @ b
    stop, errors = time.monotonic() + 1.5, []

    def multiply():
        while time.monotonic() < stop:
            if not np.allclose(kernels.matmul(a, b), want, rtol=1e-12, atol=1e-12):
                errors.append("wrong product")

    def switch():
        while time.monotonic() < stop:
            for threads in ("2", "3"):
                monkeypatch.setenv("NEURONA_NUM_THREADS", threads)
                kernels.matmul(a, b)

    workers = [threading.Thread(target=multiply), threading.Thread(target=switch)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    assert not any(worker.is_alive() for worker in workers), "a product hung"
    assert errors == []
