"""Precision, Recall and the four counts: against an independent NumPy computation, streaming, options."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import neurona as nr
from neurona import metrics


def _reference(y_true, y_pred, threshold, weights=None):
    """TP, FP, TN, FN by direct boolean logic over flattened elements."""
    pred, label = (y_pred > threshold).ravel(), (y_true != 0).ravel()
    w = np.ones(label.shape) if weights is None else np.broadcast_to(weights, y_pred.shape).ravel()
    return (w[pred & label].sum(), w[pred & ~label].sum(), w[~pred & ~label].sum(), w[~pred & label].sum())


def test_hand_values(device):
    y_true = [0, 1, 1, 0, 1]
    y_pred = nr.Tensor(np.array([0.6, 0.7, 0.2, 0.4, 0.9], dtype="float32"))
    p, r = metrics.Precision(), metrics.Recall()
    p.update_state(y_true, y_pred)
    r.update_state(y_true, y_pred)
    # predicted positive: 0.6, 0.7, 0.9 -> TP 2 (0.7, 0.9), FP 1 (0.6); positives 3 -> FN 1 (0.2)
    assert p.result() == pytest.approx(2 / 3) and r.result() == pytest.approx(2 / 3)
    assert isinstance(p.result(), float)
    tp = metrics.TruePositives(thresholds=[0.1, 0.5, 0.8])
    tp.update_state(y_true, y_pred)
    np.testing.assert_array_equal(tp.result(), [3, 2, 1])


def test_nan_scores_are_never_positive():
    # NaN > t is false: a NaN score is a predicted negative at every threshold (searchsorted would put it last)
    fp = metrics.FalsePositives(thresholds=[0.0, 0.5])
    fp.update_state([0, 0, 1], [np.nan, 0.7, np.nan])
    np.testing.assert_array_equal(fp.result(), [1, 1])
    fn = metrics.FalseNegatives(thresholds=0.5)
    fn.update_state([0, 0, 1], [np.nan, 0.7, np.nan])
    assert fn.result() == 1.0


def test_nothing_predicted_gives_zero():
    p = metrics.Precision()
    assert p.result() == 0.0
    p.update_state([1, 1], [0.1, 0.2])
    assert p.result() == 0.0 and metrics.Recall()([1, 0], [0.9, 0.1]) == 1.0


@pytest.mark.parametrize("threshold", [0.0, 0.3, 0.5, 0.99, 1.0])
def test_counts_match_the_reference(threshold, rng):
    y_true = rng.integers(0, 2, (50, 3))
    y_pred = rng.uniform(size=(50, 3))
    y_pred[:5] = threshold  # ties with the threshold: not above it
    weights = rng.uniform(0, 2, 50)
    counts = [cls(thresholds=threshold) for cls in (metrics.TruePositives, metrics.FalsePositives,
                                                    metrics.TrueNegatives, metrics.FalseNegatives)]
    for m in counts:
        m.update_state(y_true, y_pred, sample_weight=weights)
    expected = _reference(y_true, y_pred, threshold, weights[:, None])
    np.testing.assert_allclose([m.result() for m in counts], expected, rtol=1e-12)
    p = metrics.Precision(thresholds=threshold)
    p.update_state(y_true, y_pred, sample_weight=weights)
    tp, fp, _, _ = expected
    assert p.result() == pytest.approx(tp / (tp + fp) if tp + fp else 0.0, rel=1e-12)


def test_several_thresholds_in_any_order(rng):
    y_true, y_pred = rng.integers(0, 2, 200), rng.uniform(size=200)
    r = metrics.Recall(thresholds=[0.9, 0.1, 0.5])
    r.update_state(y_true, y_pred)
    expected = []
    for t in (0.9, 0.1, 0.5):
        tp, _, _, fn = _reference(y_true, y_pred, t)
        expected.append(tp / (tp + fn))
    np.testing.assert_allclose(r.result(), expected, rtol=1e-12)


def test_class_id_and_top_k():
    y_true = np.eye(3)[[0, 1, 2, 2]]
    y_pred = np.array([[0.6, 0.3, 0.1], [0.5, 0.4, 0.1], [0.2, 0.3, 0.5], [0.45, 0.35, 0.2]])
    # class 2: scores 0.1, 0.1, 0.5, 0.2 > 0.5? none -> recall 0; at threshold 0.15: rows 2, 3 -> recall 1
    assert metrics.Recall(class_id=2)(y_true, y_pred) == 0.0
    assert metrics.Recall(thresholds=0.15, class_id=2)(y_true, y_pred) == 1.0
    # top-1 over all columns: the argmax of each row is right for rows 0 and 2 only
    assert metrics.Precision(top_k=1)(y_true, y_pred) == 0.5
    # top-2: 8 predicted positives, the true class is among them in rows 0, 1, 2 (row 3's 2 is third)
    assert metrics.Precision(top_k=2)(y_true, y_pred) == pytest.approx(3 / 8)
    assert metrics.Recall(top_k=2)(y_true, y_pred) == pytest.approx(3 / 4)
    # top-1 restricted to class 0: rows 0, 1, 3 have class 0 on top, only row 0 is class 0
    assert metrics.Precision(top_k=1, class_id=0)(y_true, y_pred) == pytest.approx(1 / 3)


batch_sizes = st.lists(st.integers(1, 12), min_size=1, max_size=5)


@settings(max_examples=40, deadline=None)
@given(batch_sizes, st.integers(0, 2**31 - 1))
def test_streaming_equals_the_concatenation(sizes, seed):
    rng = np.random.default_rng(seed)
    n = sum(sizes)
    y_true, y_pred, w = rng.integers(0, 2, (n, 2)), rng.uniform(size=(n, 2)), rng.uniform(size=n)
    for make in (lambda: metrics.Precision(thresholds=[0.2, 0.7]), lambda: metrics.Recall(top_k=1),
                 lambda: metrics.Precision(class_id=1)):
        streamed, whole = make(), make()
        start = 0
        for size in sizes:
            streamed.update_state(y_true[start:start + size], y_pred[start:start + size], w[start:start + size])
            start += size
        whole.update_state(y_true, y_pred, w)
        np.testing.assert_allclose(streamed.result(), whole.result(), rtol=1e-12)


def test_config_round_trip_and_names():
    for m in (metrics.Precision(thresholds=[0.2, 0.4], top_k=2, class_id=1, name="p"), metrics.Recall(),
              metrics.TruePositives(thresholds=0.3)):
        clone = metrics.deserialize(metrics.serialize(m))
        assert type(clone) is type(m) and clone.get_config() == m.get_config()
    assert metrics.resolve("precision").name == "precision" and type(metrics.resolve("Recall")) is metrics.Recall


def test_bad_input():
    with pytest.raises(ValueError, match=r"thresholds must be numbers in \[0, 1\], got 1.5"):
        metrics.Precision(thresholds=1.5)
    with pytest.raises(ValueError, match=r"Precision: y_true has shape \(3,\) but y_pred has shape \(2,\)"):
        metrics.Precision().update_state([0, 1, 1], [0.2, 0.3])
    with pytest.raises(ValueError, match="class_id=3 is out of range"):
        metrics.Recall(class_id=3).update_state(np.eye(3), np.eye(3))
    with pytest.raises(ValueError, match="k must be at least 1"):
        metrics.Recall(top_k=0)
