"""kernels.matmul: row pieces fixed by the problem (bits independent of the thread count), the compiled ?gemm
path against NumPy for every operand layout it accepts, and NumPy for the layouts it refuses."""

import threading

import numpy as np
import pytest
from _harness.kernel_choice import both, needs_numba
from hypothesis import given, settings
from hypothesis import strategies as st

from neurona.backend import blas, kernels
from neurona.backend.kernels import linalg

# the MNIST MLP's products and a tall one: with OpenBLAS's Haswell kernels (on an AMD Zen 5), splitting
# (128, 784) @ (784, 128) into one row block per thread gave other bits than one call (rows 60-63, 66-69, ...)
# (48, 784, 128) is large but one piece: left to OpenBLAS's own threads it gave other bits on 2 threads than on 1
SHAPES = [(128, 784, 128), (784, 128, 128), (128, 128, 784), (300, 97, 61), (64, 784, 128), (48, 784, 128)]


def _operands(shape, dtype, seed=0):
    m, k, n = shape
    rng = np.random.default_rng(seed)
    return rng.standard_normal((m, k)).astype(dtype), rng.standard_normal((k, n)).astype(dtype)


@pytest.mark.parametrize("kernels_choice", ["numba", "numpy"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", SHAPES)
def test_bits_do_not_depend_on_the_thread_count(monkeypatch, kernels_choice, dtype, shape):
    if kernels_choice == "numba":
        needs_numba()
    monkeypatch.setenv("NEURONA_KERNELS", kernels_choice)
    a, b = _operands(shape, dtype)
    results = {}
    for threads in ("1", "2", "3", "5"):
        monkeypatch.setenv("NEURONA_NUM_THREADS", threads)
        results[threads] = (kernels.matmul(a, b), kernels.matmul(np.asfortranarray(a), b),
                            kernels.matmul(a[:, ::1], np.asfortranarray(b)))
    for threads, got in results.items():
        for g, want in zip(got, results["1"]):
            np.testing.assert_array_equal(g, want, err_msg=f"{threads} threads")
    np.testing.assert_allclose(results["1"][0], a.astype(np.float64) @ b, rtol=1e-4 if dtype == "float32" else 1e-12,
                               atol=1e-3 if dtype == "float32" else 1e-10)


def test_the_pieces_are_fixed_by_the_rows():
    assert [linalg.row_pieces(m) for m in (1, 63, 64, 191, 192, 784)] == [1, 1, 2, 2, 4, 4]
    assert all(m // linalg.row_pieces(m) >= linalg.MIN_PIECE_ROWS for m in range(96, 2000, 7))


def _layouts(a):
    """The same matrix as C-ordered, F-ordered, a padded row view, a padded column view, and a strided view."""
    m, k = a.shape
    padded = np.zeros((m, k + 3), a.dtype)
    padded[:, :k] = a
    tall = np.zeros((m + 5, k), a.dtype, order="F")
    tall[:m] = a
    every_other = np.zeros((m, 2 * k), a.dtype)
    every_other[:, ::2] = a
    return {"C": a, "F": np.asfortranarray(a), "row view": padded[:, :k], "column view": tall[:m],
            "strided (NumPy)": every_other[:, ::2]}


@settings(max_examples=30, deadline=None)
@given(m=st.integers(96, 260), k=st.integers(1, 70), n=st.integers(1, 70),
       dtype=st.sampled_from(["float32", "float64"]),
       left=st.sampled_from(["C", "F", "row view", "column view", "strided (NumPy)"]),
       right=st.sampled_from(["C", "F", "row view", "column view", "strided (NumPy)"]), seed=st.integers(0, 99))
def test_every_layout_matches_numpy(m, k, n, dtype, left, right, seed):
    """The compiled path reads strides right for each layout it takes (and leaves the rest to NumPy)."""
    needs_numba()
    a, b = _operands((m, k, n), dtype, seed)
    a, b = _layouts(a)[left], _layouts(b)[right]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(linalg, "SPLIT_MACS", 1)
        compiled, reference = both(mp, lambda: kernels.matmul(a, b))
    want = a.astype(np.float64) @ b.astype(np.float64)
    tolerance = dict(rtol=1e-5, atol=1e-4) if dtype == "float32" else dict(rtol=1e-12, atol=1e-11)
    np.testing.assert_allclose(compiled, want, **tolerance)
    np.testing.assert_allclose(reference, want, **tolerance)


def test_the_compiled_path_refuses_what_it_cannot_describe():
    needs_numba()
    from neurona.backend.kernels.compiled import gemm

    address = blas.gemm_address("float32") or 1
    a, b = np.ones((100, 4), np.float32), np.ones((4, 3), np.float32)
    out = np.empty((100, 3), np.float32)
    assert gemm.describe(a, b, out, 2, address) is not None
    assert gemm.describe(a, b.astype(np.float64), out, 2, address) is None  # mixed dtypes
    assert gemm.describe(a.astype(np.int32), b.astype(np.int32), out.astype(np.int32), 2, address) is None
    assert gemm.describe(np.ones((100, 8), np.float32)[:, ::2], b, out, 2, address) is None  # no unit stride
    assert gemm.describe(a, b, out, 2, None) is None  # no CBLAS ?gemm found
    assert gemm.describe(np.ones((100, 0), np.float32), np.ones((0, 3), np.float32), out, 2, address) is None


def test_shapes_that_do_not_fit_are_refused_as_numpy_refuses_them(monkeypatch):
    monkeypatch.setattr(linalg, "SPLIT_MACS", 1)
    for a, b in [(np.ones((200, 900), np.float32), np.ones((1000, 30), np.float32)),
                 (np.ones((200, 1000), np.float32), np.ones((900, 30), np.float32))]:
        with pytest.raises(ValueError, match="matmul"):
            kernels.matmul(a, b)


def test_mixed_dtypes_and_empty_products_follow_numpy(monkeypatch):
    monkeypatch.setattr(linalg, "SPLIT_MACS", 1)
    a, b = np.ones((200, 5), np.float32), np.full((5, 3), 2.0)
    got = kernels.matmul(a, b)
    assert got.dtype == np.float64 and np.array_equal(got, a @ b)
    empty = kernels.matmul(np.ones((200, 0), np.float32), np.ones((0, 3), np.float32))
    assert empty.shape == (200, 3) and not empty.any()


def test_concurrent_products_from_many_threads_are_all_right(monkeypatch):
    """Threads of the user's own multiplying at once: one gets the pool, the others run their pieces in place."""
    monkeypatch.setenv("NEURONA_NUM_THREADS", "2")
    a, b = _operands((256, 300, 64), "float32")
    want = kernels.matmul(a, b)
    errors = []

    def work():
        for _ in range(30):
            if not np.array_equal(kernels.matmul(a, b), want):
                errors.append("different bits")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
