"""AUC: the bucketed streaming area against exact areas computed independently (by sorting, by integration)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import neurona as nr
from neurona import layers, metrics, models


def exact_roc_auc(y_true, scores):
    """P(score of a random positive > that of a random negative), ties counting 1/2 (Mann-Whitney, by ranks)."""
    scores, y_true = np.asarray(scores, float).ravel(), np.asarray(y_true).ravel() != 0
    order = np.argsort(scores, kind="stable")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    i = 0
    while i < len(scores):  # average rank over each block of ties
        j = i
        while j + 1 < len(scores) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    n_pos, n_neg = y_true.sum(), (~y_true).sum()
    return (ranks[y_true].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def interpolated_pr_area(y_true, scores, samples=4000):
    """Area under the PR curve through the operating points of every distinct score, interpolating TP linearly
    in the number of predicted positives between them (Davis & Goadrich), by midpoint-rule integration."""
    y_true, scores = np.asarray(y_true).ravel() != 0, np.asarray(scores, float).ravel()
    total_pos = y_true.sum()
    points = [(0.0, 0.0)] + [(float((scores >= s).sum()), float((y_true & (scores >= s)).sum()))
                             for s in np.unique(scores)[::-1]]
    area = 0.0
    for (p0, tp0), (p1, tp1) in zip(points, points[1:]):
        slope = (tp1 - tp0) / (p1 - p0)
        p = p0 + (np.arange(samples) + 0.5) / samples * (p1 - p0)
        precision = (tp0 + slope * (p - p0)) / p
        area += precision.mean() * (tp1 - tp0) / total_pos  # d(recall) = slope dp / P over the segment
    return area


def _grid_data(rng, n=300):
    """Scores on a coarse grid (0.01, 0.06, ...): every distinct score sits alone between two thresholds."""
    labels = rng.integers(0, 2, n)
    scores = np.clip(0.01 + 0.05 * np.round(rng.normal(8 + 4 * labels, 3)), 0.01, 0.96)
    return labels, scores


def test_small_hand_example(device):
    auc = metrics.AUC()
    auc.update_state([0, 0, 1, 1], nr.Tensor(np.array([0.1, 0.4, 0.35, 0.8], dtype="float32")))
    assert auc.result() == pytest.approx(0.75, abs=1e-12)  # 3 of the 4 (positive, negative) pairs are ordered
    assert metrics.AUC()([0, 1], [0.3, 0.3]) == pytest.approx(0.5)  # a tie is half a win


def test_roc_equals_the_exact_area_on_grid_scores(rng):
    labels, scores = _grid_data(rng)
    auc = metrics.AUC()
    auc.update_state(labels, scores)
    assert auc.result() == pytest.approx(exact_roc_auc(labels, scores), abs=1e-12)


def test_pr_equals_the_exact_interpolated_area_on_grid_scores(rng):
    labels, scores = _grid_data(rng)
    auc = metrics.AUC(curve="PR")
    auc.update_state(labels, scores)
    assert auc.result() == pytest.approx(interpolated_pr_area(labels, scores), rel=1e-6)


@pytest.mark.parametrize("num_thresholds, tol", [(200, 3e-3), (2000, 3e-4)])
def test_roc_is_close_to_the_exact_area_for_continuous_scores(num_thresholds, tol, rng):
    labels = rng.integers(0, 2, 2000)
    scores = 1 / (1 + np.exp(-(rng.standard_normal(2000) + 1.2 * labels)))
    auc = metrics.AUC(num_thresholds=num_thresholds)
    auc.update_state(labels, scores)
    assert abs(auc.result() - exact_roc_auc(labels, scores)) < tol


def test_summation_methods_bracket_the_trapezoid(rng):
    labels = rng.integers(0, 2, 500)
    scores = np.clip(rng.normal(0.4 + 0.2 * labels, 0.2), 0, 1)
    for curve in ("ROC", "PR"):
        values = {}
        for method in ("minoring", "interpolation", "majoring"):
            m = metrics.AUC(num_thresholds=50, curve=curve, summation_method=method)
            m.update_state(labels, scores)
            values[method] = m.result()
        assert values["minoring"] < values["interpolation"] < values["majoring"], (curve, values)
    perfect = metrics.AUC(summation_method="minoring")
    perfect.update_state([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])
    assert perfect.result() == pytest.approx(1.0)


def test_from_logits_and_weights(rng):
    labels, logits = rng.integers(0, 2, 100), rng.normal(size=100) * 3
    a, b = metrics.AUC(from_logits=True), metrics.AUC()
    a.update_state(labels, logits)
    b.update_state(labels, 1 / (1 + np.exp(-logits)))
    assert a.result() == pytest.approx(b.result(), abs=1e-12)
    # integer weights are repetitions
    w = rng.integers(0, 4, 100)
    weighted, repeated = metrics.AUC(curve="PR"), metrics.AUC(curve="PR")
    weighted.update_state(labels, logits, sample_weight=w.astype(float))
    repeated.update_state(np.repeat(labels, w), np.repeat(logits, w))
    assert weighted.result() == pytest.approx(repeated.result(), rel=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 15), min_size=1, max_size=5), st.integers(0, 2**31 - 1), st.sampled_from(["ROC", "PR"]))
def test_streaming_equals_the_concatenation(sizes, seed, curve):
    rng = np.random.default_rng(seed)
    n = sum(sizes)
    labels, scores, w = rng.integers(0, 2, (n, 1)), rng.uniform(size=(n, 1)), rng.uniform(size=n)
    streamed, whole = metrics.AUC(num_thresholds=37, curve=curve), metrics.AUC(num_thresholds=37, curve=curve)
    start = 0
    for size in sizes:
        streamed.update_state(labels[start:start + size], scores[start:start + size], w[start:start + size])
        start += size
    whole.update_state(labels, scores, w)
    assert streamed.result() == pytest.approx(whole.result(), rel=1e-12, abs=1e-15)


def test_explicit_thresholds_config_and_errors():
    m = metrics.AUC(thresholds=[0.7, 0.2, 0.5], curve="pr", name="pr_auc")
    assert m.num_thresholds == 5 and m.curve == "PR"
    clone = metrics.deserialize(metrics.serialize(m))
    assert type(clone) is metrics.AUC and clone.get_config() == m.get_config() and clone.thresholds == m.thresholds
    with pytest.raises(ValueError, match="curve must be 'ROC' or 'PR', got 'DET'"):
        metrics.AUC(curve="DET")
    with pytest.raises(ValueError, match="num_thresholds must be an integer > 1, got 1"):
        metrics.AUC(num_thresholds=1)
    assert metrics.AUC().result() == 0.0


def test_compiled_by_name_matches_the_standalone_metrics(rng):
    x = rng.standard_normal((80, 3)).astype("float32")
    y = (x[:, 0] + 0.5 * rng.standard_normal(80) > 0).astype("float32")[:, None]
    model = models.Sequential([layers.Input((3,)), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=nr.optimizers.Adam(0.05), loss="binary_crossentropy",
                  metrics=["auc", "precision", "recall", metrics.AUC(curve="PR", name="pr_auc")])
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0, validation_split=0.25)
    assert {"auc", "precision", "recall", "pr_auc", "val_auc", "val_pr_auc"} <= set(history.history)
    result = model.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    probs = model.predict(x)
    for name, metric in [("auc", metrics.AUC()), ("precision", metrics.Precision()), ("recall", metrics.Recall()),
                         ("pr_auc", metrics.AUC(curve="PR"))]:
        metric.update_state(y, probs)
        assert result[name] == pytest.approx(metric.result(), abs=1e-6), name
