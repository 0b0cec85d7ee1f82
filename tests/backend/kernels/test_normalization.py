"""The normalization kernels against NumPy's own reductions, for any shape and set of axes, and the compiled
batch-norm kernels (numba) against the references.

Against NumPy's ``sum``/``mean``/``var`` the summation order differs (merged axes, outer axis first); the compiled
``moments`` and ``batch_norm_grad`` accumulate in float64 pieces where the references accumulate in the input's
dtype: ``rtol=1e-5`` float32, ``1e-12`` float64 (scaled by the size where values cancel). The compiled results
are exactly the same whatever the number of threads.
"""

import numpy as np
import pytest
from _harness.kernel_choice import both, needs_numba
from hypothesis import given, settings
from hypothesis import strategies as st

from neurona.backend import kernels, parallel

DTYPES = ["float32", "float64"]
RTOL = {"float32": 1e-5, "float64": 1e-12}


@st.composite
def shape_and_axes(draw):
    shape = tuple(draw(st.lists(st.integers(1, 6), min_size=1, max_size=5)))
    axes = tuple(sorted(draw(st.sets(st.integers(0, len(shape) - 1), min_size=1))))
    return shape, axes


def data(shape, dtype, seed):
    return np.random.default_rng(seed).normal(2.0, 3.0, shape).astype(dtype)


@settings(max_examples=40, deadline=None)
@given(case=shape_and_axes(), dtype=st.sampled_from(DTYPES), seed=st.integers(0, 2**16))
def test_reductions_are_numpys_sums(case, dtype, seed):
    shape, axes = case
    a, b = data(shape, dtype, seed), data(shape, dtype, seed + 1)
    np.testing.assert_allclose(kernels.sum_over(a, axes), a.sum(axis=axes, keepdims=True), rtol=RTOL[dtype],
                               atol=RTOL[dtype] * a.size * 10)
    np.testing.assert_allclose(kernels.sum_product_over(a, b, axes), (a * b).sum(axis=axes, keepdims=True),
                               rtol=RTOL[dtype], atol=RTOL[dtype] * a.size * 100)


@settings(max_examples=40, deadline=None)
@given(case=shape_and_axes(), dtype=st.sampled_from(DTYPES), seed=st.integers(0, 2**16))
def test_moments_are_the_mean_and_biased_variance(case, dtype, seed):
    shape, axes = case
    x = data(shape, dtype, seed)
    x_hat, mean, var, inv_std = kernels.moments(x, axes, 1e-3)
    x64 = x.astype(np.float64)
    want_mean, want_var = x64.mean(axis=axes, keepdims=True), x64.var(axis=axes, keepdims=True)
    np.testing.assert_allclose(mean, want_mean, rtol=RTOL[dtype], atol=RTOL[dtype] * 10)
    np.testing.assert_allclose(var, want_var, rtol=RTOL[dtype] * 10, atol=RTOL[dtype] * 10)
    np.testing.assert_allclose(inv_std, 1 / np.sqrt(want_var + 1e-3), rtol=RTOL[dtype] * 10)
    np.testing.assert_allclose(x_hat, (x64 - want_mean) / np.sqrt(want_var + 1e-3), rtol=RTOL[dtype] * 10,
                               atol=RTOL[dtype] * 100)
    assert x_hat.dtype == mean.dtype == var.dtype == np.dtype(dtype) and x_hat.shape == shape


def test_spread_copies_a_statistic_along_a_short_inner_axis():
    shape, axes = (64, 4, 4, 8, 2), (1, 2, 4)  # group norm of channels-last data: 8 groups of 2 channels
    stat = data((64, 1, 1, 8, 1), "float32", 0)
    spread = kernels.spread(stat, shape, axes)
    assert spread.shape == (64, 1, 1, 8, 2) and spread.flags.c_contiguous
    np.testing.assert_array_equal(spread, np.broadcast_to(stat, spread.shape))
    same = data((1, 3), "float32", 1)  # the last axis is kept: nothing to spread
    assert kernels.spread(same, (5, 3), (0,)) is same


def batch_norm_grad_args(shape, axes, dtype, seed):
    x = data(shape, dtype, seed)
    x_hat, _, _, inv_std = kernels.moments(x, axes, 1e-3)
    gamma = data(inv_std.shape, dtype, seed + 1)
    return data(shape, dtype, seed + 2), x_hat, inv_std * gamma


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, axes", [((64, 5, 5, 8), (0, 1, 2)), ((9000, 3), (0,)), ((7, 4, 2, 3), (0, 1))])
def test_compiled_batch_norm_kernels_match_the_references(monkeypatch, shape, axes, dtype):
    needs_numba()
    x = data(shape, dtype, 4)
    compiled, reference = both(monkeypatch, lambda: kernels.moments(x, axes, 1e-3))
    for got, want in zip(compiled, reference):
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=RTOL[dtype] * 10, atol=RTOL[dtype] * 10)
    args = batch_norm_grad_args(shape, axes, dtype, 5)
    compiled, reference = both(monkeypatch, lambda: kernels.batch_norm_grad(*args, axes))
    size = np.prod([shape[i] for i in axes])
    for got, want in zip(compiled, reference):
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=RTOL[dtype] * 10, atol=RTOL[dtype] * np.sqrt(size) * 10)
    monkeypatch.setenv("NEURONA_KERNELS", "numba")
    dx, d_gamma, d_beta = kernels.batch_norm_grad(*args, axes, need_dx=False)
    assert dx is None and d_gamma.shape == d_beta.shape == compiled[1].shape


@pytest.mark.parametrize("choice", ["numba", "numpy"])
def test_results_do_not_depend_on_the_number_of_threads(monkeypatch, choice):
    if choice == "numba":
        needs_numba()
    monkeypatch.setenv("NEURONA_KERNELS", choice)
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", 1)
    monkeypatch.setattr(kernels.normalization, "PIECE_ROWS", 64)  # many pieces: the split matters
    x = data((40, 6, 6, 4), "float32", 6)
    args = batch_norm_grad_args(x.shape, (0, 1, 2), "float32", 7)
    runs = []
    for threads in ("1", "3"):
        monkeypatch.setenv("NEURONA_NUM_THREADS", threads)
        runs.append(kernels.moments(x, (0, 1, 2), 1e-3) + kernels.batch_norm_grad(*args, (0, 1, 2)))
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


def test_a_non_contiguous_input_is_summed_as_numpy_does():
    a = data((6, 5, 4), "float64", 3).transpose(2, 0, 1)
    np.testing.assert_array_equal(kernels.sum_over(a, (0, 1)), a.sum(axis=(0, 1), keepdims=True))
