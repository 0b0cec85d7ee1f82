"""Per-sample loss functions: closed forms, the fused softmax/sigmoid path, clipping, gradients, errors."""

import math

import numpy as np
import pytest

import neurona as nr
from neurona import losses, ops

LOG_EPS = -math.log(1e-7)  # the cost of a probability clipped to epsilon


def t64(values, requires_grad=False):
    """A float64 Tensor (floatx stays float32 in the tests, so build float64 explicitly)."""
    return nr.Tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def softmax_np(z, axis=-1):
    e = np.exp(z - z.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def log_sigmoid_np(z):
    return -np.logaddexp(0.0, -z)


# ---- regression ---------------------------------------------------------------------------------
def test_mse_and_mae_hand_values(device):
    y_true = [[1.0, 2.0], [3.0, 4.0]]
    y_pred = t64([[1.5, 2.0], [2.0, 6.0]])
    np.testing.assert_allclose(losses.mean_squared_error(y_true, y_pred).numpy(), [0.125, 2.5], rtol=1e-15)
    np.testing.assert_allclose(losses.mean_absolute_error(y_true, y_pred).numpy(), [0.25, 1.5], rtol=1e-15)
    assert losses.mse is losses.mean_squared_error and losses.mae is losses.mean_absolute_error


def test_labels_without_the_trailing_unit_axis_are_expanded():
    y_pred = t64([[0.5], [2.0], [-1.0]])
    out = losses.mean_squared_error(np.array([1.0, 2.0, 3.0]), y_pred)
    assert out.shape == (3,)
    np.testing.assert_allclose(out.numpy(), [0.25, 0.0, 16.0])
    out = losses.mean_absolute_error(np.array([[1.0], [2.0]]), t64([1.5, 2.5]))  # (N, 1) labels, (N,) outputs
    np.testing.assert_allclose(out.numpy(), 0.5)


def test_mse_gradcheck_in_float64(rng):
    y_true, y_pred = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    assert nr.gradcheck(losses.mean_squared_error, y_true, y_pred)  # w.r.t. both arguments
    assert nr.gradcheck(losses.mean_absolute_error, y_true, y_pred)  # |d| > eps everywhere here


def test_targets_take_the_prediction_dtype():
    y_pred = nr.Tensor(np.array([[0.2, 0.8]], dtype=np.float32))
    for fn in (losses.mean_squared_error, losses.binary_crossentropy, losses.categorical_crossentropy):
        assert fn(np.array([[0.0, 1.0]]), y_pred).dtype == np.float32  # float64 labels do not promote
    assert losses.sparse_categorical_crossentropy(np.array([1]), y_pred).dtype == np.float32


def test_shape_mismatch_names_both_shapes():
    message = r"mean_squared_error: y_true has shape \(2, 3\) but y_pred has shape \(2, 4\)"
    with pytest.raises(ValueError, match=message):
        losses.mean_squared_error(np.zeros((2, 3)), t64(np.zeros((2, 4))))
    with pytest.raises(ValueError, match="at least one axis"):
        losses.mean_absolute_error(1.0, t64(1.0))


# ---- binary cross-entropy -----------------------------------------------------------------------
def test_binary_crossentropy_probability_path_hand_values():
    out = losses.binary_crossentropy([[1.0, 0.0], [0.0, 1.0]], t64([[0.8, 0.3], [0.1, 0.6]]))
    expected = [-(math.log(0.8) + math.log(0.7)) / 2, -(math.log(0.9) + math.log(0.6)) / 2]
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)


def test_binary_crossentropy_clips_probabilities():
    out = losses.binary_crossentropy([[1.0], [0.0]], t64([[0.0], [1.0]]))
    np.testing.assert_allclose(out.numpy(), [LOG_EPS, LOG_EPS], rtol=1e-9)  # finite, not inf


def test_binary_crossentropy_from_logits_matches_closed_form(rng):
    z, y = rng.standard_normal((5, 3)) * 4, rng.random((5, 3))
    expected = -(y * log_sigmoid_np(z) + (1 - y) * log_sigmoid_np(-z)).mean(-1)
    np.testing.assert_allclose(losses.binary_crossentropy(y, t64(z), from_logits=True).numpy(), expected, rtol=1e-12)
    assert nr.gradcheck(lambda zz, yy: losses.binary_crossentropy(yy, zz, from_logits=True), z, y)


def test_binary_crossentropy_through_a_recorded_sigmoid_uses_the_logits():
    z = t64([[800.0], [-800.0], [1.5]], requires_grad=True)
    y = np.array([[0.0], [1.0], [1.0]])
    loss = losses.binary_crossentropy(y, ops.sigmoid(z))
    # exact values; the probability path would clip saturated p to 1e-7 and report 16.1
    np.testing.assert_allclose(loss.numpy(), [800.0, 800.0, -log_sigmoid_np(1.5)], rtol=1e-12)
    loss.sum().backward()
    np.testing.assert_allclose(z.grad, [[1.0], [-1.0], [1 / (1 + math.exp(-1.5)) - 1]], rtol=1e-12)  # sigmoid - y


def test_binary_crossentropy_gradcheck_probability_path(rng):
    p, y = rng.uniform(0.05, 0.95, (4, 3)), rng.random((4, 3))
    assert nr.gradcheck(losses.binary_crossentropy, y, p)
    # through a sigmoid: backprop takes the fused path, finite differences (no graph) the probability path
    assert nr.gradcheck(lambda z: losses.binary_crossentropy(y, ops.sigmoid(z)), rng.standard_normal((4, 3)))


def test_binary_label_smoothing_formula(rng):
    y, p, s = rng.integers(0, 2, (4, 3)).astype(float), rng.uniform(0.1, 0.9, (4, 3)), 0.2
    ys = y * (1 - s) + s / 2
    expected = -(ys * np.log(p) + (1 - ys) * np.log(1 - p)).mean(-1)
    np.testing.assert_allclose(losses.binary_crossentropy(y, t64(p), label_smoothing=s).numpy(), expected, rtol=1e-12)


# ---- categorical cross-entropy ------------------------------------------------------------------
def test_categorical_crossentropy_hand_values():
    y = [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    out = losses.categorical_crossentropy(y, t64([[0.2, 0.3, 0.5], [0.25, 0.25, 0.5]]))
    np.testing.assert_allclose(out.numpy(), [math.log(2), math.log(4)], rtol=1e-12)


def test_probabilities_are_renormalized_then_clipped():
    out = losses.categorical_crossentropy([[0.0, 0.0, 1.0]], t64([[1.0, 1.0, 2.0]]))  # sums to 4
    np.testing.assert_allclose(out.numpy(), [math.log(2)], rtol=1e-12)
    out = losses.categorical_crossentropy([[1.0, 0.0]], t64([[0.0, 1.0]]))
    np.testing.assert_allclose(out.numpy(), [LOG_EPS], rtol=1e-9)  # p = 0 for the true class: -log(1e-7)


def test_softmax_output_goes_through_the_fused_op():
    z = t64([[1000.0, 0.0, -1000.0], [1.0, 2.0, 3.0]], requires_grad=True)
    y = np.eye(3)[[1, 2]]
    probs = ops.softmax(z)
    loss = losses.categorical_crossentropy(y, probs)
    expected_row2 = -np.log(softmax_np(np.array([1.0, 2.0, 3.0]))[2])
    np.testing.assert_allclose(loss.numpy(), [1000.0, expected_row2], rtol=1e-12)
    assert isinstance(loss._ctx, ops.losses.SoftmaxCrossEntropy)
    loss.sum().backward()
    np.testing.assert_allclose(z.grad, softmax_np(z.data) - y, rtol=1e-12, atol=1e-300)


def test_without_a_graph_the_probability_path_is_used():
    z = t64([[1000.0, 0.0, -1000.0]])
    with nr.no_grad():
        probs = ops.softmax(z)  # nothing recorded: the loss cannot see the logits
    np.testing.assert_allclose(losses.categorical_crossentropy([[0.0, 1.0, 0.0]], probs).numpy(), [LOG_EPS])


def test_softmax_over_another_axis_is_not_fused(rng):
    z, y = rng.standard_normal((4, 3)), np.eye(3)[[0, 1, 2, 1]]
    probs = ops.softmax(t64(z, requires_grad=True), axis=0)  # columns sum to 1, rows do not
    p = softmax_np(z, axis=0)
    p = p / p.sum(-1, keepdims=True)
    expected = -(y * np.log(p)).sum(-1)
    np.testing.assert_allclose(losses.categorical_crossentropy(y, probs).numpy(), expected, rtol=1e-12)


def test_class_axis_argument(rng):
    z = rng.standard_normal((2, 4, 3))  # classes on axis 1
    y = np.moveaxis(np.eye(4)[rng.integers(0, 4, (2, 3))], -1, 1)
    expected = -(y * np.log(softmax_np(z, axis=1))).sum(1)
    out = losses.categorical_crossentropy(y, t64(z), from_logits=True, axis=1)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    big = t64(z * 1e3, requires_grad=True)
    out = losses.categorical_crossentropy(y, ops.softmax(big, axis=1), axis=1)  # fused along axis 1
    assert np.isfinite(out.numpy()).all() and out.numpy().max() > 100
    labels = np.argmax(y, axis=1)
    out = losses.sparse_categorical_crossentropy(labels, t64(z), from_logits=True, axis=1)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)


def test_categorical_label_smoothing_formula(rng):
    z, s = rng.standard_normal((5, 4)), 0.1
    y = np.eye(4)[rng.integers(0, 4, 5)]
    smoothed = y * (1 - s) + s / 4
    expected = -(smoothed * np.log(softmax_np(z))).sum(-1)
    out = losses.categorical_crossentropy(y, t64(z), from_logits=True, label_smoothing=s)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    out = losses.categorical_crossentropy(y, t64(softmax_np(z)), label_smoothing=s)  # probability path
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-10)


def test_categorical_crossentropy_gradchecks(rng):
    z = rng.standard_normal((4, 5))
    y = rng.dirichlet(np.ones(5), size=4)
    p = rng.dirichlet(np.ones(5) * 5, size=4)  # away from the clipping bounds
    assert nr.gradcheck(losses.categorical_crossentropy, y, p)  # probability path, both arguments
    assert nr.gradcheck(lambda yy, zz: losses.categorical_crossentropy(yy, zz, from_logits=True), y, z)
    assert nr.gradcheck(lambda zz: losses.categorical_crossentropy(y, ops.softmax(zz), label_smoothing=0.1), z)


# ---- sparse categorical cross-entropy -----------------------------------------------------------
@pytest.mark.parametrize("path", ["probabilities", "logits", "softmax"])
def test_sparse_equals_dense_on_one_hot_labels(rng, path):
    z, labels = rng.standard_normal((6, 4)), rng.integers(0, 4, 6)
    one_hot = np.eye(4)[labels]

    def both(y):
        if path == "logits":
            return losses.categorical_crossentropy(one_hot, t64(z), from_logits=True), \
                losses.sparse_categorical_crossentropy(y, t64(z), from_logits=True)
        pred = ops.softmax(t64(z, requires_grad=True)) if path == "softmax" else t64(softmax_np(z))
        return losses.categorical_crossentropy(one_hot, pred), losses.sparse_categorical_crossentropy(y, pred)

    expected = -np.log(softmax_np(z))[np.arange(6), labels]
    for y in (labels, labels[:, None], labels.astype(np.float32), list(labels)):  # (N,), (N, 1), integral floats
        dense, sparse = both(y)
        np.testing.assert_allclose(sparse.numpy(), dense.numpy(), rtol=1e-12)
        np.testing.assert_allclose(sparse.numpy(), expected, rtol=1e-10)


def test_sparse_crossentropy_huge_logits_and_gradient():
    z = t64([[1000.0, 0.0, -1000.0]], requires_grad=True)
    loss = losses.sparse_categorical_crossentropy([1], ops.softmax(z))
    np.testing.assert_allclose(loss.numpy(), [1000.0])
    loss.sum().backward()
    np.testing.assert_allclose(z.grad, [[1.0, -1.0, 0.0]])
    p0 = losses.sparse_categorical_crossentropy([0], t64([[0.0, 1.0]]))
    np.testing.assert_allclose(p0.numpy(), [LOG_EPS], rtol=1e-9)


def test_sparse_crossentropy_gradchecks(rng):
    labels = rng.integers(0, 5, 4)
    p = rng.dirichlet(np.ones(5) * 5, size=4)
    assert nr.gradcheck(lambda pp: losses.sparse_categorical_crossentropy(labels, pp), p)
    assert nr.gradcheck(lambda z: losses.sparse_categorical_crossentropy(labels, z, from_logits=True), p * 3)


def test_sparse_label_errors():
    pred = t64(np.full((2, 3), 1 / 3))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\] for y_pred with 3 classes, got .*\[0, 3\]"):
        losses.sparse_categorical_crossentropy([0, 3], pred)
    with pytest.raises(ValueError, match=r"\[0, 2\].*\[-1, 1\]"):
        losses.sparse_categorical_crossentropy([-1, 1], pred, from_logits=True)
    with pytest.raises(ValueError, match=r"non-integral \(or non-finite\) values of dtype float64"):
        losses.sparse_categorical_crossentropy([0.5, 1.0], pred)
    with pytest.raises(ValueError, match=r"shape \(2, 3\).*looks one-hot encoded: use categorical_crossentropy"):
        losses.sparse_categorical_crossentropy(np.eye(3)[[0, 1]], pred)


def test_categorical_error_suggests_sparse_for_integer_labels():
    pred = t64(np.full((2, 3), 1 / 3))
    with pytest.raises(ValueError, match=r"y_true has shape \(2,\) but y_pred has shape \(2, 3\).*"
                                         r"use sparse_categorical_crossentropy"):
        losses.categorical_crossentropy(np.array([0, 2]), pred)
    with pytest.raises(ValueError, match="binary_crossentropy"):
        losses.categorical_crossentropy(np.array([0, 1]), t64([[1.0], [1.0]]))
    with pytest.raises(ValueError, match=r"label_smoothing must lie in \[0, 1\], got 1.5"):
        losses.categorical_crossentropy(np.eye(3)[[0, 1]], pred, label_smoothing=1.5)


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_sparse_loss_refuses_non_finite_labels_as_the_metrics_do(bad):
    # inf == round(inf), so an infinite label used to pass the integrality check and be cast to a garbage index
    with pytest.raises(ValueError, match=r"non-integral \(or non-finite\) values"):
        losses.sparse_categorical_crossentropy(np.array([0.0, bad]), nr.Tensor(np.full((2, 3), 1 / 3)))
    with pytest.raises(ValueError, match=r"non-integral \(or non-finite\) values"):
        nr.ops.softmax_cross_entropy(nr.Tensor(np.zeros((2, 3))), np.array([0.0, bad]), sparse=True)
