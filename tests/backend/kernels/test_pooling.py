"""The pooling kernels: compiled (numba) max pooling against the NumPy reference, and both against the math.

The compiled max pool does the same comparisons as the reference, so outputs, first-max indices and
non-overlapping gradients are compared exactly (``assert_array_equal``, NaN equal to NaN). Where windows overlap
the compiled gradient adds a cell's shares in output order and the reference in window-cell order: the sums
agree to a few ulps of the largest share (``atol=1e-5`` float32, ``1e-12`` float64, gradients of order 1).
"""

import numpy as np
import pytest
from _harness.kernel_choice import both, needs_numba
from hypothesis import given, settings
from hypothesis import strategies as st

from neurona.backend import kernels, parallel

DTYPES = ["float32", "float64"]
VALID = ((0, 0), (0, 0))


def loop_max_pool(x, pool, strides, padding):
    """The definition, one window at a time: the max and the first row-major index attaining it."""
    n, h, w, c = x.shape
    xpad = np.pad(x, ((0, 0), padding[0], padding[1], (0, 0)), constant_values=-np.inf)
    ho = (xpad.shape[1] - pool[0]) // strides[0] + 1
    wo = (xpad.shape[2] - pool[1]) // strides[1] + 1
    y, arg = np.empty((n, ho, wo, c), x.dtype), np.empty((n, ho, wo, c), int)
    for i in range(ho):
        for j in range(wo):
            window = xpad[:, i * strides[0]:i * strides[0] + pool[0], j * strides[1]:j * strides[1] + pool[1], :]
            flat = window.reshape(n, -1, c)
            y[:, i, j] = flat.max(axis=1)
            arg[:, i, j] = np.where(np.isnan(y[:, i, j]), -1, np.argmax(flat == y[:, i, j][:, None], axis=1))
    return y, arg


def sample(shape, dtype, seed, ties=True):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    if ties:  # zeros after a ReLU: windows of tied values
        x = np.maximum(x, 0)
    return x.astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("pool, strides, padding", [((2, 2), (2, 2), VALID), ((3, 3), (2, 2), VALID),
                                                    ((3, 2), (1, 2), ((1, 1), (0, 1))), ((2, 2), (3, 3), VALID)])
@pytest.mark.parametrize("choice", ["numba", "numpy"])
def test_max_pool_is_the_definition(monkeypatch, choice, pool, strides, padding, dtype):
    if choice == "numba":
        needs_numba()
    monkeypatch.setenv("NEURONA_KERNELS", choice)
    x = sample((3, 7, 8, 5), dtype, 0)
    y, arg = kernels.max_pool(x, pool, strides, padding)
    want_y, want_arg = loop_max_pool(x, pool, strides, padding)
    np.testing.assert_array_equal(y, want_y)
    np.testing.assert_array_equal(arg, want_arg)
    assert arg.dtype == np.int8


@pytest.mark.parametrize("choice", ["numba", "numpy"])
def test_nan_propagates_and_takes_no_gradient(monkeypatch, choice):
    if choice == "numba":
        needs_numba()
    monkeypatch.setenv("NEURONA_KERNELS", choice)
    x = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1)
    x[0, 0, 1, 0] = np.nan  # window (0, 0): NaN after its first cell
    x[0, 2, 2, 0] = np.nan  # window (1, 1): NaN first
    y, arg = kernels.max_pool(x, (2, 2), (2, 2), VALID)
    assert np.isnan(y[0, 0, 0, 0]) and np.isnan(y[0, 1, 1, 0])
    assert arg[0, 0, 0, 0] == -1 and arg[0, 1, 1, 0] == -1
    dx = kernels.max_pool_grad(np.ones_like(y), arg, x.shape, (2, 2), (2, 2), VALID)
    assert dx[0, :2, :2].sum() == 0 and dx[0, 2:, 2:].sum() == 0 and dx.sum() == 2


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("pool, strides, padding", [((2, 2), (2, 2), VALID), ((3, 3), (1, 1), ((1, 1), (1, 1))),
                                                    ((2, 3), (2, 1), VALID), ((2, 2), (2, 2), ((0, 1), (1, 0)))])
def test_compiled_matches_the_reference(monkeypatch, pool, strides, padding, dtype):
    needs_numba()
    x = sample((4, 9, 7, 6), dtype, 1)
    g = sample((4,) + kernels.max_pool(x, pool, strides, padding)[0].shape[1:], dtype, 2, ties=False)

    def run():
        y, arg = kernels.max_pool(x, pool, strides, padding)
        return y, arg, kernels.max_pool_grad(g, arg, x.shape, pool, strides, padding)

    (y1, a1, d1), (y2, a2, d2) = both(monkeypatch, run)
    np.testing.assert_array_equal(y1, y2)
    np.testing.assert_array_equal(a1, a2)
    if strides[0] < pool[0] or strides[1] < pool[1]:
        np.testing.assert_allclose(d1, d2, rtol=0, atol=1e-5 if dtype == "float32" else 1e-12)
    else:
        np.testing.assert_array_equal(d1, d2)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 3), h=st.integers(2, 9), w=st.integers(2, 9), c=st.integers(1, 4),
       ph=st.integers(1, 3), pw=st.integers(1, 3), sh=st.integers(1, 3), sw=st.integers(1, 3),
       pad=st.tuples(*[st.integers(0, 1)] * 4), seed=st.integers(0, 2**16))
def test_compiled_matches_the_reference_on_any_window(n, h, w, c, ph, pw, sh, sw, pad, seed):
    needs_numba()
    padding = ((pad[0], pad[1]), (pad[2], pad[3]))
    if h + pad[0] + pad[1] < ph or w + pad[2] + pad[3] < pw:
        return
    x = sample((n, h, w, c), "float64", seed)
    with pytest.MonkeyPatch.context() as monkeypatch:
        (y1, a1), (y2, a2) = both(monkeypatch, lambda: kernels.max_pool(x, (ph, pw), (sh, sw), padding))
        np.testing.assert_array_equal(y1, y2)
        np.testing.assert_array_equal(a1, a2)
        g = sample(y1.shape, "float64", seed + 1, ties=False)
        d1, d2 = both(monkeypatch, lambda: kernels.max_pool_grad(g, a1, x.shape, (ph, pw), (sh, sw), padding))
        np.testing.assert_allclose(d1, d2, rtol=0, atol=1e-12)


def test_max_gradient_goes_to_the_first_maximum_once():
    x = np.zeros((1, 2, 2, 1), np.float32)  # one window of ties
    y, arg = kernels.max_pool(x, (2, 2), (2, 2), VALID)
    dx = kernels.max_pool_grad(np.full_like(y, 3.0), arg, x.shape, (2, 2), (2, 2), VALID)
    np.testing.assert_array_equal(dx.ravel(), [3, 0, 0, 0])


@pytest.mark.parametrize("choice", ["numba", "numpy"])
def test_results_do_not_depend_on_the_number_of_threads(monkeypatch, choice):
    if choice == "numba":
        needs_numba()
    monkeypatch.setenv("NEURONA_KERNELS", choice)
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", 1)
    x = sample((8, 10, 10, 3), "float32", 3)
    g = sample((8, 4, 4, 3), "float32", 4, ties=False)
    runs = []
    for threads in ("1", "3"):
        monkeypatch.setenv("NEURONA_NUM_THREADS", threads)
        y, arg = kernels.max_pool(x, (3, 3), (2, 2), VALID)
        runs.append((y, arg, kernels.max_pool_grad(g, arg, x.shape, (3, 3), (2, 2), VALID)))
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


def test_large_windows_index_with_int32():
    x = sample((1, 12, 12, 2), "float32", 5, ties=False)
    y, arg = kernels.max_pool(x, (12, 12), (1, 1), VALID)
    assert arg.dtype == np.int32
    np.testing.assert_array_equal(arg, loop_max_pool(x, (12, 12), (1, 1), VALID)[1])


@pytest.mark.parametrize("dtype", DTYPES)
def test_average_pool_counts_only_real_cells(dtype):
    x = np.ones((1, 3, 3, 1), dtype)
    padding = ((1, 1), (1, 1))
    y, count = kernels.avg_pool(x, (3, 3), (1, 1), padding)
    np.testing.assert_array_equal(y, np.ones((1, 3, 3, 1)))
    np.testing.assert_array_equal(count[0, :, :, 0], [[4, 6, 4], [6, 9, 6], [4, 6, 4]])
    dx = kernels.avg_pool_grad(np.ones_like(y), count, x.shape, (3, 3), (1, 1), padding)
    want = sum(1 / count[0, i, j, 0] for i in range(3) for j in range(3)
               if abs(i - 1) <= 1 and abs(j - 1) <= 1)  # the centre cell is in all nine windows
    np.testing.assert_allclose(dx[0, 1, 1, 0], want, rtol=1e-6)
    assert dx.dtype == np.dtype(dtype)
