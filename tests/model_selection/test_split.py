"""Splits and folds: exact partitions, sizes, order, stratified class shares, seeds."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurona.model_selection import class_labels, kfold_indices, split_indices, train_val_test_split


def _is_partition(parts, n):
    joined = np.concatenate(parts)
    return len(joined) == n and np.array_equal(np.sort(joined), np.arange(n))


@settings(max_examples=60, deadline=None)
@given(st.integers(3, 300), st.floats(0, 0.45), st.floats(0, 0.45), st.booleans(), st.integers(0, 1000))
def test_split_partitions_with_ceil_sizes(n, val, test, shuffle, seed):
    n_val, n_test = math.ceil(val * n), math.ceil(test * n)
    if n_val + n_test >= n:
        with pytest.raises(ValueError, match="leaving no training samples"):
            split_indices(n, val, test, shuffle=shuffle, seed=seed)
        return
    train, v, t = split_indices(n, val, test, shuffle=shuffle, seed=seed)
    assert _is_partition([train, v, t], n)
    assert (len(v), len(t)) == (n_val, n_test)
    if not shuffle:  # consecutive blocks: train, then validation, then test
        assert np.array_equal(np.concatenate([train, v, t]), np.arange(n))


def test_split_seeds():
    a = split_indices(100, seed=3)
    b = split_indices(100, seed=3)
    c = split_indices(100, seed=4)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[2], c[2])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 60), min_size=2, max_size=5), st.floats(0.05, 0.4), st.floats(0.05, 0.4),
       st.booleans(), st.integers(0, 1000))
def test_stratified_split_keeps_every_class_share(class_sizes, val, test, shuffle, seed):
    labels = np.repeat(np.arange(len(class_sizes)), class_sizes)
    np.random.default_rng(seed).shuffle(labels)
    n = len(labels)
    try:
        train, v, t = split_indices(n, val, test, shuffle=shuffle, seed=seed, labels=labels)
    except ValueError as err:  # tiny classes can round a set down to nothing; that must be said, not hidden
        assert "set empty" in str(err)
        return
    assert _is_partition([train, v, t], n)
    for c, n_c in enumerate(class_sizes):
        assert abs((labels[t] == c).sum() - test * n_c) <= 0.5 + 1e-9
        assert abs((labels[v] == c).sum() - val * n_c) <= 1.0 + 1e-9
    if not shuffle:
        assert all(np.array_equal(part, np.sort(part)) for part in (train, v, t))


def test_stratification_beats_a_plain_split_on_an_imbalanced_set():
    labels = np.array([1] * 20 + [0] * 180)
    worst = max(abs((labels[split_indices(200, 0.0, 0.2, seed=s, labels=labels)[2]] == 1).sum() - 4)
                for s in range(20))
    assert worst == 0  # exactly 10% positives in every stratified test set
    plain = [(labels[split_indices(200, 0.0, 0.2, seed=s)[2]] == 1).sum() for s in range(20)]
    assert len(set(plain)) > 1  # a plain random split varies


def test_train_val_test_split_keeps_rows_aligned():
    x = np.arange(50, dtype="float32")[:, None] * np.ones((1, 3), dtype="float32")
    y = np.arange(50) % 5
    (x_tr, y_tr), (x_val, y_val), (x_te, y_te) = train_val_test_split(x, y, val=0.2, test=0.2, seed=0,
                                                                      stratify=True)
    for xs, ys in ((x_tr, y_tr), (x_val, y_val), (x_te, y_te)):
        assert np.array_equal(xs[:, 0].astype(int) % 5, ys)
        assert np.array_equal(np.bincount(ys, minlength=5), np.full(5, len(ys) // 5))  # 2 per class, exactly
    assert len(x_tr) + len(x_val) + len(x_te) == 50
    onehot = np.eye(5)[y]
    parts = train_val_test_split(x, onehot, val=0.0, test=0.2, seed=0, stratify=True)
    assert len(parts[1][0]) == 0 and np.array_equal(parts[2][1].sum(0), np.full(5, 2.0))


def test_class_labels():
    assert np.array_equal(class_labels([3, 7, 3, 9]), [0, 1, 0, 2])
    assert np.array_equal(class_labels(np.eye(3)[[2, 0, 2]]), [1, 0, 1])  # ids of the classes present
    assert np.array_equal(class_labels(np.array([[1], [0]])), [1, 0])
    with pytest.raises(ValueError, match="stratify needs class labels"):
        class_labels(np.zeros((2, 2, 2)))


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 200), st.integers(2, 10), st.booleans(), st.integers(0, 1000))
def test_kfold_test_parts_partition_the_indices(n, k, shuffle, seed):
    if k > n:
        with pytest.raises(ValueError, match=f"k={k} folds need at least {k} samples"):
            kfold_indices(n, k)
        return
    folds = kfold_indices(n, k, shuffle=shuffle, seed=seed)
    assert len(folds) == k
    assert _is_partition([test for _, test in folds], n)
    for train, test in folds:
        assert _is_partition([train, test], n)
        assert len(test) in (n // k, -(-n // k))
    if not shuffle:
        assert np.array_equal(folds[0][1], np.arange(len(folds[0][1])))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 40), min_size=1, max_size=4), st.integers(2, 6), st.booleans(), st.integers(0, 1000))
def test_stratified_folds_hold_floor_or_ceil_of_each_class(class_sizes, k, shuffle, seed):
    labels = np.repeat(np.arange(len(class_sizes)), class_sizes)
    np.random.default_rng(seed).shuffle(labels)
    n = len(labels)
    if k > n:
        return
    folds = kfold_indices(n, k, shuffle=shuffle, seed=seed, labels=labels)
    assert _is_partition([test for _, test in folds], n)
    sizes = [len(test) for _, test in folds]
    assert max(sizes) - min(sizes) <= 1
    for c, n_c in enumerate(class_sizes):
        assert all((labels[test] == c).sum() in (n_c // k, -(-n_c // k)) for _, test in folds)


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"val must be a fraction in \[0, 1\), got 1.0"):
        split_indices(10, val=1.0)
    with pytest.raises(ValueError, match="k must be an integer >= 2, got 1"):
        kfold_indices(10, 1)
    with pytest.raises(ValueError, match="labels has 3 entries for n=4"):
        kfold_indices(4, 2, labels=[0, 1, 0])
    with pytest.raises(ValueError, match="same number of samples, got 3 and 2"):
        train_val_test_split(np.zeros((3, 1)), np.zeros(2))
