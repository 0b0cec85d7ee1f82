"""neurona.serving.reference_statistics's PCA (eigh of the Gram matrix, the SVD where eigh cannot resolve the
directions), the row split, and ReferenceStatistics.from_split with its lazy (deferred PCA) form, compared with
the immediate one."""

import copy
import pickle
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurona.backend import blas
from neurona.serving import reference_statistics as drift_pca
from neurona.serving.drift import ReferenceStatistics, split_rows

EPS = np.finfo(np.float64).eps


def _low_rank(rng, h, d, rank, spread=2.0):
    """(h, d) centred rows spanning ``rank`` directions with singular values over ``10**spread``."""
    scales = 10.0 ** rng.uniform(-spread / 2, spread / 2, size=rank)
    a = (rng.normal(size=(h, rank)) * scales) @ rng.normal(size=(rank, d))
    return a - a.mean(axis=0)


def _svd_reference(a, components):
    """What from_arrays computed before issue 16: numpy.linalg.svd and its tolerance s_0 max(h, d) eps."""
    _, s, vt = np.linalg.svd(a, full_matrices=False)
    return s, vt[:min(components, int(np.sum(s > s[0] * max(a.shape) * EPS)))]


@settings(max_examples=120, deadline=None)
@given(st.integers(4, 50), st.integers(2, 50), st.integers(1, 50), st.integers(1, 8), st.booleans(),
       st.integers(0, 2**32 - 1))
def test_axes_are_the_svd_directions_and_count(h, d, rank, components, rounded, seed):
    """Same number of directions as the SVD kept (rank deficiency and float32 rounding noise included), and the
    same directions up to sign wherever they are well separated; tall (d <= h) and wide (d > h) alike."""
    rng = np.random.default_rng(seed)
    a = _low_rank(rng, h, d, min(rank, h, d))
    if rounded:  # float32 inputs: rounding spreads tiny singular values where the rank is deficient
        a = a.astype(np.float32).astype(np.float64)
    s, expected = _svd_reference(a, components)
    axes = drift_pca._principal_axes(a, components)
    assert axes.shape == expected.shape
    np.testing.assert_allclose(axes @ axes.T, np.eye(len(axes)), atol=1e-9)
    for i, direction in enumerate(expected):
        gap = min(abs(s[i] ** 2 - s[j] ** 2) for j in range(len(s)) if j != i) / s[0] ** 2 if len(s) > 1 else 1.0
        if gap > 1e-3:
            assert abs(axes[i] @ direction) == pytest.approx(1.0, abs=1e-9)


def test_sign_makes_the_largest_entry_positive():
    axes = drift_pca._principal_axes(_low_rank(np.random.default_rng(1), 60, 12, 12), 12)
    largest = axes[np.arange(len(axes)), np.argmax(np.abs(axes), axis=1)]
    assert np.all(largest > 0)


def test_mnist_sized_rows_take_the_eigh_path_and_match_the_svd(monkeypatch):
    rng = np.random.default_rng(2)
    a = _low_rank(rng, 600, 200, 200, spread=1.0) + 0.01 * rng.normal(size=(600, 200))
    calls = []
    svd = np.linalg.svd
    monkeypatch.setattr(np.linalg, "svd", lambda *args, **kwargs: calls.append(1) or svd(*args, **kwargs))
    axes = drift_pca._principal_axes(a, 32)
    assert calls == []  # well-resolved: no SVD
    monkeypatch.undo()
    _, expected = _svd_reference(a, 32)
    np.testing.assert_allclose(np.abs(np.sum(axes * expected, axis=1)), 1.0, atol=1e-10)


def test_huge_and_tiny_values_are_scaled_exactly():
    a = _low_rank(np.random.default_rng(3), 40, 10, 4)
    reference = drift_pca._principal_axes(a, 3)
    for factor in (2.0 ** 900, 2.0 ** -900):  # the Gram matrix of a * 2^900 would overflow float64
        np.testing.assert_array_equal(drift_pca._principal_axes(a * factor, 3), reference)
    assert drift_pca._principal_axes(np.zeros((5, 3)), 3).shape == (0, 3)


@pytest.mark.parametrize("n, max_samples", [(4, 2000), (7, 2000), (3000, 2000), (4000, 2000), (10, 3)])
def test_split_rows_are_from_arrays_sets_in_ascending_order(n, max_samples):
    pca, held, scored = split_rows(n, max_samples, seed=5)
    order = np.random.default_rng(5).permutation(n)
    half = min(n // 2, max_samples)
    for got, rows in ((pca, order[:half]), (held, order[half:half + max_samples]), (scored, order[:max_samples])):
        np.testing.assert_array_equal(got, np.sort(rows))
    assert not set(pca) & set(held)
    if n >= 2 * max_samples:
        np.testing.assert_array_equal(scored, pca)


def _rows(seed, n=60, shape=(4, 3), dtype=np.float32):
    rng = np.random.default_rng(seed)
    x = (rng.normal(size=(n, *shape)) + np.arange(np.prod(shape)).reshape(shape)).astype(dtype)
    p = rng.dirichlet(np.ones(3), size=n)
    return x, p


def _same(a, b):
    assert (a.input_shape, a.n_classes, a.n_components) == (b.input_shape, b.n_classes, b.n_components)
    for name, array in a.to_arrays().items():
        np.testing.assert_array_equal(array, b.to_arrays()[name], err_msg=name)
        assert array.dtype == np.float32


@settings(max_examples=40, deadline=None)
@given(st.integers(4, 80), st.sampled_from([(5,), (3, 4), (2, 2, 2)]), st.sampled_from([np.float32, np.float64]),
       st.integers(1, 6), st.integers(0, 1000))
def test_lazy_equals_immediate_bit_for_bit(n, shape, dtype, components, seed):
    x, p = _rows(seed, n, shape, dtype)
    pca, held, scored = split_rows(n, 30, seed)
    lazy = ReferenceStatistics.from_split(x[pca], x[held], p[scored], components=components, lazy=True)
    now = ReferenceStatistics.from_split(x[pca], x[held], p[scored], components=components)
    assert type(now) is ReferenceStatistics and isinstance(lazy, ReferenceStatistics)
    assert "_pending" in vars(lazy)
    _same(lazy, now)
    assert "_pending" not in vars(lazy)
    _same(now, ReferenceStatistics.from_arrays(x, p, components=components, max_samples=30, seed=seed))


def test_lazy_answers_shapes_and_entropies_without_the_pca(monkeypatch):
    x, p = _rows(0)
    calls = []
    summary = drift_pca._pca_summary
    monkeypatch.setattr(drift_pca, "_pca_summary", lambda *args: calls.append(1) or summary(*args))
    stats = ReferenceStatistics.from_split(x[:30], x[30:], p[:30], components=4, lazy=True)
    assert (stats.input_shape, stats.n_classes, stats.entropies.shape) == ((4, 3), 3, (30,))
    assert calls == []
    assert stats.n_components == 4 and calls == [1]
    stats.project(x[:5]), stats.to_dict(), stats.metadata(), stats.to_arrays()
    assert calls == [1]  # once


def test_concurrent_first_reads_run_the_pca_once(monkeypatch):
    x, p = _rows(1, n=400, shape=(50,))
    calls = []
    summary = drift_pca._pca_summary
    monkeypatch.setattr(drift_pca, "_pca_summary", lambda *args: calls.append(1) or summary(*args))
    stats = ReferenceStatistics.from_split(x[:200], x[200:], p[:200], lazy=True)
    start, seen = threading.Barrier(6), []

    def read():
        start.wait()
        seen.append(stats.projections)

    threads = [threading.Thread(target=read) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == [1] and all(array is seen[0] for array in seen)


def test_a_failed_pca_leaves_the_statistics_pending(monkeypatch):
    x, p = _rows(2)
    stats = ReferenceStatistics.from_split(x[:30], x[30:], p[:30], components=3, lazy=True)
    summary = drift_pca._pca_summary

    def fail_once(*args):
        monkeypatch.setattr(drift_pca, "_pca_summary", summary)
        raise MemoryError("no room")

    monkeypatch.setattr(drift_pca, "_pca_summary", fail_once)
    with pytest.raises(MemoryError):
        _ = stats.components
    assert "_pending" in vars(stats) and "mean" not in vars(stats)  # nothing half-set
    _same(stats, ReferenceStatistics.from_split(x[:30], x[30:], p[:30], components=3))


def test_copies_and_pickles_of_a_pending_object_resolve_alike():
    x, p = _rows(3)
    expected = ReferenceStatistics.from_split(x[:30], x[30:], p[:30], components=3)
    for make in (copy.deepcopy, lambda s: pickle.loads(pickle.dumps(s))):
        _same(make(ReferenceStatistics.from_split(x[:30], x[30:], p[:30], components=3, lazy=True)), expected)
    lazy = ReferenceStatistics.from_split(x[:30], x[30:], p[:30], components=3, lazy=True)
    _same(ReferenceStatistics.from_dict(lazy.to_dict()), expected)


@pytest.mark.parametrize("edit", ["huge", "nan", "constant"])
def test_what_could_fail_is_computed_at_once(edit):
    x, p = _rows(4, dtype=np.float64)
    if edit == "huge":  # beyond 1e30 a float32 projection may overflow: decided now
        stats = ReferenceStatistics.from_split(x[:30] * 1e32, x[30:] * 1e32, p[:30], lazy=True)
        assert type(stats) is ReferenceStatistics
        signs = np.sign(np.random.default_rng(4).normal(size=(60, 12)))  # a mean near 0, |x - mean| ~ 3e38 sqrt(12)
        with pytest.raises(ValueError, match="projections came out non-finite"):
            ReferenceStatistics.from_split(signs[:30] * 3e38, signs[30:] * 3e38, p[:30], lazy=True)
        return
    if edit == "nan":
        x[40, 1, 2] = np.nan
        with pytest.raises(ValueError, match="reference_rows must hold finite values only"):
            ReferenceStatistics.from_split(x[:30], x[30:], p[:30], lazy=True)
        return
    with pytest.raises(ValueError, match="x is constant"):
        ReferenceStatistics.from_split(np.ones((30, 4, 3)), x[30:], p[:30], lazy=True)


def test_from_split_refuses_mismatched_rows():
    x, p = _rows(5)
    with pytest.raises(ValueError, match=r"reference_rows must have 12 values per example \(as pca_rows\), got 6"):
        ReferenceStatistics.from_split(x[:30], x[30:, :2], p[:30])
    with pytest.raises(ValueError, match=r"pca_rows must be a numeric batch of at least 2 rows.*\(1, 4, 3\)"):
        ReferenceStatistics.from_split(x[:1], x[30:], p[:30])
    with pytest.raises(ValueError, match="probabilities must be non-negative rows summing to 1"):
        ReferenceStatistics.from_split(x[:30], x[30:], p[:30] * 2)


def test_the_pca_runs_single_threaded_whatever_the_caller_set():
    """BLAS's thread count is the PCA's own business (one thread): inside or outside a caller's region alike."""
    x, p = _rows(6, n=300, shape=(40,))
    outside = ReferenceStatistics.from_arrays(x, p, components=8)
    with blas.single_threaded():
        inside = ReferenceStatistics.from_arrays(x, p, components=8)
    _same(outside, inside)
    assert blas.num_threads() is None or blas.num_threads() >= 1
