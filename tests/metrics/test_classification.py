"""Accuracy metrics: hand-computed values, top-k ties, thresholds, streaming, configs, speed."""

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import neurona as nr
from neurona import metrics

PROBS = np.array([[0.1, 0.6, 0.3], [0.5, 0.2, 0.3], [0.2, 0.3, 0.5], [0.4, 0.4, 0.2]])
LABELS = np.array([1, 2, 2, 1])  # argmax of PROBS: 1, 0, 2, 0 (first of a tie) -> hits 1, 0, 1, 0


def test_categorical_and_sparse_accuracy_hand_values(device):
    probs = nr.Tensor(PROBS)
    np.testing.assert_array_equal(nr.backend.asnumpy(metrics.sparse_categorical_accuracy(LABELS, probs)), [1, 0, 1, 0])
    np.testing.assert_array_equal(
        nr.backend.asnumpy(metrics.categorical_accuracy(np.eye(3)[LABELS], probs)), [1, 0, 1, 0]
    )
    m = metrics.SparseCategoricalAccuracy()
    m.update_state(LABELS[:, None].astype(np.float32), probs)  # (N, 1) integral floats
    assert m.result() == 0.5
    m.update_state([0], [[0.9, 0.05, 0.05]])
    assert m.result() == pytest.approx(3 / 5)


def test_top_k_hand_values_and_ties():
    scores = np.array([[0.5, 0.3, 0.2, 0.0], [0.1, 0.2, 0.3, 0.4], [0.3, 0.3, 0.3, 0.1]])
    labels = np.array([2, 0, 1])
    # ranks (classes scoring strictly higher): 2, 3, 0 -> in top 2: no, no, yes; in top 3: yes, no, yes
    np.testing.assert_array_equal(metrics.sparse_top_k_categorical_accuracy(labels, scores, k=2), [0, 0, 1])
    np.testing.assert_array_equal(metrics.sparse_top_k_categorical_accuracy(labels, scores, k=3), [1, 0, 1])
    np.testing.assert_array_equal(metrics.top_k_categorical_accuracy(np.eye(4)[labels], scores, k=3), [1, 0, 1])
    np.testing.assert_array_equal(metrics.sparse_top_k_categorical_accuracy(labels, scores, k=9), [1, 1, 1])
    m = metrics.TopKCategoricalAccuracy(k=1)  # k = 1 is categorical accuracy, up to ties
    m.update_state(np.eye(4)[labels[:2]], scores[:2])
    assert m.result() == 0.0


def test_top_k_counts_nan_scores_as_misses_and_refuses_bad_labels():
    scores = np.array([[np.nan, 0.1], [0.2, 0.1]])
    # a NaN score is a miss even when k covers every class; a label 5 of 2 classes is a data bug, as in the loss
    np.testing.assert_array_equal(metrics.sparse_top_k_categorical_accuracy([0, 1], scores, k=2), [0, 1])
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 1\].*\[0, 5\]"):
        metrics.sparse_top_k_categorical_accuracy([0, 5], scores, k=2)


def test_top_k_agrees_with_a_sort_on_untied_scores(rng):
    scores, labels = rng.random((50, 10)), rng.integers(0, 10, 50)
    top3 = np.argsort(-scores, axis=-1)[:, :3]
    expected = (top3 == labels[:, None]).any(-1)
    np.testing.assert_array_equal(metrics.sparse_top_k_categorical_accuracy(labels, scores, k=3), expected)


def test_binary_accuracy_threshold():
    y_true, y_pred = np.array([[1.0], [0.0], [1.0], [0.0]]), np.array([[0.7], [0.6], [0.4], [0.1]])
    np.testing.assert_array_equal(metrics.binary_accuracy(y_true, y_pred), [1, 0, 0, 1])
    np.testing.assert_array_equal(metrics.binary_accuracy(y_true, y_pred, threshold=0.65), [1, 1, 0, 1])
    np.testing.assert_array_equal(metrics.binary_accuracy(y_true[:, 0], y_pred), [1, 0, 0, 1])  # (N,) labels
    m = metrics.BinaryAccuracy(threshold=0.35)
    m.update_state(y_true, nr.Tensor(y_pred))
    assert m.result() == 0.75
    multi = metrics.binary_accuracy([[1.0, 0.0, 1.0, 1.0]], [[0.9, 0.1, 0.2, 0.8]])  # mean over the last axis
    np.testing.assert_allclose(multi, [0.75])


def test_exact_match_accuracy():
    np.testing.assert_array_equal(metrics.accuracy([1, 2, 3, 4], [1, 2, 0, 4]), [1, 1, 0, 1])
    m = metrics.Accuracy()
    m.update_state([[1], [2]], [[1], [3]])
    assert m.result() == 0.5


def test_shape_errors_suggest_the_right_metric():
    with pytest.raises(ValueError, match="looks like integer labels: use sparse_categorical_accuracy"):
        metrics.categorical_accuracy([0, 1], PROBS[:2])
    with pytest.raises(ValueError, match="looks one-hot: use categorical_accuracy"):
        metrics.sparse_categorical_accuracy(np.eye(3)[[0, 1]], PROBS[:2])
    with pytest.raises(ValueError, match="k must be at least 1"):
        metrics.TopKCategoricalAccuracy(k=0)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 12), min_size=1, max_size=5), st.integers(0, 2**31 - 1), st.integers(1, 4))
def test_streaming_equals_one_pass_over_the_concatenation(sizes, seed, k):
    rng = np.random.default_rng(seed)
    n = sum(sizes)
    scores, labels, weights = rng.random((n, 5)), rng.integers(0, 5, n), rng.uniform(0, 2, n)
    for make in (metrics.SparseCategoricalAccuracy, lambda: metrics.SparseTopKCategoricalAccuracy(k=k)):
        streamed, whole = make(), make()
        for part in np.split(np.arange(n), np.cumsum(sizes)[:-1]):
            streamed.update_state(labels[part], scores[part], sample_weight=weights[part])
        whole.update_state(labels, scores, sample_weight=weights)
        assert streamed.result() == pytest.approx(whole.result(), rel=1e-12, abs=1e-12)
    hits = (scores.argmax(-1) == labels).astype(float)
    streamed = metrics.SparseCategoricalAccuracy()
    for part in np.split(np.arange(n), np.cumsum(sizes)[:-1]):
        streamed.update_state(labels[part], scores[part])
    assert streamed.result() == pytest.approx(hits.mean(), rel=1e-12)


@pytest.mark.parametrize(
    "metric",
    [metrics.Accuracy(), metrics.BinaryAccuracy(threshold=0.3, name="b"), metrics.CategoricalAccuracy(),
     metrics.SparseCategoricalAccuracy(), metrics.TopKCategoricalAccuracy(k=2),
     metrics.SparseTopKCategoricalAccuracy(k=3, name="top3")],
)
def test_config_round_trip(metric):
    clone = type(metric).from_config(metric.get_config())
    assert clone.get_config() == metric.get_config() and clone.name == metric.name
    assert clone.result() == 0.0


def test_update_state_is_vectorized(rng):
    """4096 x 10 batches: a per-sample Python loop would take seconds, the array code milliseconds."""
    scores, labels = nr.Tensor(rng.random((4096, 10)).astype(np.float32)), rng.integers(0, 10, 4096)
    one_hot = np.eye(10, dtype=np.float32)[labels]
    sparse, dense = metrics.SparseCategoricalAccuracy(), metrics.CategoricalAccuracy()
    start = time.perf_counter()
    for _ in range(50):
        sparse.update_state(labels, scores)
        dense.update_state(one_hot, scores)
    assert time.perf_counter() - start < 1.0
    assert sparse.result() == pytest.approx(dense.result())


SPARSE = [("sparse_categorical_accuracy", {}), ("sparse_top_k_categorical_accuracy", dict(k=2))]


@pytest.mark.parametrize("fn,kwargs", SPARSE)
@pytest.mark.parametrize("labels,message", [
    ([0, 7, 1, 2], r"labels must lie in \[0, 2\] for y_pred with 3 classes, got values in \[0, 7\]"),
    ([0, -1, 1, 2], r"labels must lie in \[0, 2\].*got values in \[-1, 2\]"),
    ([0, 0.5, 1, 2], r"labels must be integer class indices, got non-integral"),
    ([0, np.nan, 1, 2], r"labels must be integer class indices, got non-integral \(or non-finite\)"),
    ([0, np.inf, 1, 2], r"labels must be integer class indices, got non-integral \(or non-finite\)"),
    ([True, False, True, False], r"labels must be integer class indices, got dtype bool"),
])
def test_sparse_metrics_validate_labels_as_the_sparse_loss_does(fn, kwargs, labels, message):
    # label 7 of 3 classes and label 0.5 used to count as misses while the loss refused them
    probs = np.full((4, 3), 1 / 3, np.float32)
    with pytest.raises(ValueError, match=rf"{fn}: {message}"):
        getattr(metrics, fn)(np.array(labels), probs, **kwargs)


@pytest.mark.parametrize("cls", [metrics.SparseCategoricalAccuracy, metrics.SparseTopKCategoricalAccuracy])
def test_streaming_sparse_metrics_refuse_bad_labels_and_keep_their_state(cls):
    metric = cls()
    metric.update_state(LABELS, PROBS)
    before = metric.result()
    with pytest.raises(ValueError, match="labels must lie in"):
        metric.update_state(np.array([0, 1, 2, 3]), PROBS)
    assert metric.result() == before


def test_sparse_metrics_accept_integral_float_and_unsigned_labels():
    expected = metrics.sparse_categorical_accuracy(LABELS, PROBS)
    np.testing.assert_array_equal(metrics.sparse_categorical_accuracy(LABELS.astype(np.float32), PROBS), expected)
    np.testing.assert_array_equal(metrics.sparse_categorical_accuracy(LABELS.astype(np.uint8)[:, None], PROBS),
                                  expected)


@pytest.mark.parametrize("threshold", ["x", None, True, [0.5]])
def test_binary_accuracy_refuses_a_threshold_that_is_not_a_number(threshold):
    y = np.zeros((4, 1))
    with pytest.raises(TypeError, match="binary_accuracy: threshold must be a number, got "):
        metrics.binary_accuracy(y, y, threshold=threshold)
    with pytest.raises(TypeError, match="BinaryAccuracy: threshold must be a number, got "):
        metrics.BinaryAccuracy(threshold=threshold)
    with pytest.raises(ValueError, match="threshold must be a number, got nan"):
        metrics.BinaryAccuracy(threshold=float("nan"))


def test_binary_accuracy_accepts_a_numpy_threshold():
    y_true, y_pred = np.array([[1.0], [0.0]]), np.array([[0.4], [0.2]])
    np.testing.assert_array_equal(metrics.binary_accuracy(y_true, y_pred, threshold=np.float32(0.3)), [1, 1])
    assert metrics.BinaryAccuracy(threshold=np.float64(0.3)).get_config()["threshold"] == 0.3
