"""F1Score / FBetaScore: per-class values by hand, averages, Keras's epsilon, streaming, validation."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurona import metrics

EPS = 1e-7


def _reference(y_true, y_hat, beta=1.0, average=None):
    """F-beta from per-class counts of 0/1 decisions, written out independently (exact, no epsilon)."""
    tp = (y_true * y_hat).sum(0)
    fp = ((1 - y_true) * y_hat).sum(0)
    fn = (y_true * (1 - y_hat)).sum(0)
    if average == "micro":
        tp, fp, fn = tp.sum(), fp.sum(), fn.sum()
    p = np.where(tp + fp > 0, tp / np.maximum(tp + fp, 1e-300), 0)
    r = np.where(tp + fn > 0, tp / np.maximum(tp + fn, 1e-300), 0)
    f = np.where(p + r > 0, (1 + beta**2) * p * r / np.maximum(beta**2 * p + r, 1e-300), 0)
    if average == "macro":
        return f.mean()
    if average == "weighted":
        support = y_true.sum(0)
        return (f * support).sum() / support.sum()
    return f


def test_hand_values():
    y_true = np.eye(3)[[0, 0, 1, 2, 2, 2]]
    y_pred = np.eye(3)[[0, 1, 1, 2, 2, 0]] * 0.8 + 0.05
    # class 0: TP 1 FP 1 FN 1 -> 1/2; class 1: TP 1 FP 1 FN 0 -> 2/3; class 2: TP 2 FP 0 FN 1 -> 4/5
    f = metrics.F1Score()
    f.update_state(y_true, y_pred)
    np.testing.assert_allclose(f.result(), [0.5, 2 / 3, 0.8], rtol=1e-6)
    assert metrics.F1Score(average="macro")(y_true, y_pred) == pytest.approx((0.5 + 2 / 3 + 0.8) / 3, rel=1e-6)
    assert metrics.F1Score(average="weighted")(y_true, y_pred) == pytest.approx((1 + 2 / 3 + 2.4) / 6, rel=1e-6)
    # single-label micro-F1 is accuracy (4 of 6 rows right)
    assert metrics.F1Score(average="micro")(y_true, y_pred) == pytest.approx(4 / 6, rel=1e-6)


def test_keras_epsilon_and_thresholds():
    y_true = np.array([[1, 0], [1, 1], [0, 1]])
    y_pred = np.array([[0.7, 0.6], [0.2, 0.9], [0.4, 0.1]])
    # threshold 0.5: class 0 decisions 1, 0, 0 (TP 1 FN 1), class 1 decisions 1, 1, 0 (TP 1 FP 1 FN 1)
    f = metrics.F1Score(threshold=0.5)(y_true, y_pred)
    p0, r0 = 1 / (1 + EPS), 1 / (2 + EPS)
    p1, r1 = 1 / (2 + EPS), 1 / (2 + EPS)
    np.testing.assert_allclose(f, [2 * p0 * r0 / (p0 + r0 + EPS), 2 * p1 * r1 / (p1 + r1 + EPS)], rtol=1e-12)
    # beta = 2 weights recall: class 0 has P 1, R 1/2 -> 5 * 0.5 / (4 + 0.5)
    fb = metrics.FBetaScore(beta=2.0, threshold=0.5)(y_true, y_pred)
    assert fb[0] == pytest.approx(2.5 / 4.5, rel=1e-6)


def test_argmax_decisions_ties_and_zero_rows():
    f = metrics.F1Score()
    f.update_state(np.array([[1, 0], [0, 1]]), np.array([[0.5, 0.5], [0.0, 0.0]]))
    # row 0: both tied maxima count as predicted (TP for class 0, FP for class 1); row 1 predicts nothing
    np.testing.assert_allclose(f.result(), [1.0, 0.0], atol=1e-6)


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 10), min_size=1, max_size=4), st.integers(0, 2**31 - 1))
def test_streaming_equals_the_reference_on_the_concatenation(average, sizes, seed):
    rng = np.random.default_rng(seed)
    n, c = sum(sizes), 4
    y_true = np.eye(c)[rng.integers(0, c, n)]
    y_pred = rng.uniform(size=(n, c))
    f = metrics.F1Score(average=average)
    start = 0
    for size in sizes:
        f.update_state(y_true[start:start + size], y_pred[start:start + size])
        start += size
    y_hat = (y_pred == y_pred.max(1, keepdims=True)).astype(float)
    np.testing.assert_allclose(f.result(), _reference(y_true, y_hat, average=average), atol=2e-6)


def test_sample_weights_count_rows():
    y_true = np.eye(2)[[0, 1, 1]]
    y_pred = np.eye(2)[[0, 0, 1]]
    weighted = metrics.F1Score(average="macro")(y_true, y_pred, sample_weight=[1.0, 2.0, 1.0])
    repeated = metrics.F1Score(average="macro")(y_true[[0, 1, 1, 2]], y_pred[[0, 1, 1, 2]])
    assert weighted == pytest.approx(repeated, rel=1e-9)


def test_in_compile_per_class_scores_are_logged_as_lists():
    from neurona import layers, models

    rng = np.random.default_rng(0)
    x = rng.standard_normal((30, 2)).astype("float32")
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, 30)]
    model = models.Sequential([layers.Input((2,)), layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["f1_score"])
    history = model.fit(x, y, epochs=1, batch_size=10, verbose=0)
    per_class = history.history["f1_score"][0]
    assert isinstance(per_class, list) and len(per_class) == 3
    expected = metrics.F1Score()(y, model.predict(x))
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0, return_dict=True)["f1_score"], expected, rtol=1e-6)


def test_validation_and_config():
    with pytest.raises(ValueError, match="average must be one of"):
        metrics.F1Score(average="binary")
    with pytest.raises(ValueError, match=r"expected y_true and y_pred of the same shape \(batch, num_classes\)"):
        metrics.F1Score().update_state([0, 1, 2], np.eye(3))
    f = metrics.F1Score()
    f.update_state(np.eye(3), np.eye(3))
    with pytest.raises(ValueError, match="y_pred has 2 classes but earlier batches had 3"):
        f.update_state(np.eye(2), np.eye(2))
    m = metrics.F1Score(average="weighted", threshold=0.3, name="f1w")
    clone = metrics.deserialize(metrics.serialize(m))
    assert type(clone) is metrics.F1Score and clone.get_config() == m.get_config()
    assert metrics.FBetaScore.from_config(metrics.FBetaScore(beta=0.5).get_config()).beta == 0.5
