"""Loss objects: reductions, sample weights, configs, and agreement with the functions."""

import json

import numpy as np
import pytest

import neurona as nr
from neurona import losses, ops


def t64(values, requires_grad=False):
    return nr.Tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


Y_TRUE = np.array([[1.0, 2.0], [3.0, 4.0], [0.0, 0.0]])
Y_PRED = np.array([[1.5, 2.0], [2.0, 6.0], [1.0, -1.0]])
PER_SAMPLE_MSE = np.array([0.125, 2.5, 1.0])  # by hand: (0.25 + 0) / 2, (1 + 4) / 2, (1 + 1) / 2


def test_default_reduction_is_the_batch_mean(device):
    loss = losses.MeanSquaredError()(Y_TRUE, t64(Y_PRED))
    assert loss.shape == ()
    np.testing.assert_allclose(loss.item(), PER_SAMPLE_MSE.mean(), rtol=1e-15)


@pytest.mark.parametrize(
    "reduction, weights, expected",
    [
        ("sum", None, PER_SAMPLE_MSE.sum()),
        ("none", None, PER_SAMPLE_MSE),
        (None, None, PER_SAMPLE_MSE),
        ("mean", None, PER_SAMPLE_MSE.mean()),
        ("sum_over_batch_size", [1.0, 0.0, 2.0], (0.125 + 2.0) / 3),  # divided by the count, not by sum(w)
        ("sum_over_batch_size", [[1.0], [0.0], [2.0]], (0.125 + 2.0) / 3),
        ("sum_over_batch_size", 2.0, 2 * PER_SAMPLE_MSE.mean()),
        ("sum", [1.0, 0.0, 2.0], 0.125 + 2.0),
        ("none", [1.0, 0.0, 2.0], [0.125, 0.0, 2.0]),
        ("mean_with_sample_weight", [1.0, 0.0, 2.0], (0.125 + 2.0) / 3.0),
        ("mean_with_sample_weight", [3.0, 1.0, 0.0], (3 * 0.125 + 2.5) / 4.0),
        ("mean_with_sample_weight", None, PER_SAMPLE_MSE.mean()),
    ],
)
def test_reductions_and_sample_weights(reduction, weights, expected):
    loss = losses.MeanSquaredError(reduction=reduction)(Y_TRUE, t64(Y_PRED), sample_weight=weights)
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-15)


def test_per_sample_weights_broadcast_over_extra_axes():
    y_true, y_pred = np.zeros((2, 3, 2)), np.ones((2, 3, 2)) * np.array([1.0, 2.0])[:, None, None]
    # per-sample losses (2, 3): all 1 for sample 0, all 4 for sample 1
    loss = losses.MeanSquaredError(reduction="mean_with_sample_weight")
    # issue 10, defect 6: Keras 3 divides by sum(w) = 4, not by sum(w) * T = 12: sum(w l) = 1 * 3 + 3 * 12 = 39
    np.testing.assert_allclose(loss(y_true, t64(y_pred), sample_weight=[1.0, 3.0]).item(), 39 / 4)
    per_step = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    np.testing.assert_allclose(loss(y_true, t64(y_pred), sample_weight=per_step).item(), (1 + 4) / 2)


def test_weighted_mean_matches_keras_3_on_sequence_losses():
    # Keras 3.15.1 (torch backend), MeanSquaredError(reduction="mean_with_sample_weight") on these arrays: 35.0
    y_true, y_pred = np.zeros((2, 3, 1)), np.arange(6.0).reshape(2, 3, 1)
    loss = losses.MeanSquaredError(reduction="mean_with_sample_weight")
    assert loss(y_true, t64(y_pred), sample_weight=[1.0, 2.0]).item() == 35.0
    assert loss(y_true, t64(y_pred), sample_weight=[0.0, 0.0]).item() == 0.0  # Keras's divide_no_nan


def test_sample_weights_are_differentiable_in_the_prediction(rng):
    y, p, w = rng.standard_normal((4, 3)), rng.standard_normal((4, 3)), rng.random(4)
    assert nr.gradcheck(lambda pp: losses.MeanSquaredError()(y, pp, sample_weight=w), p)


def test_bad_weights_and_reductions_are_rejected():
    with pytest.raises(ValueError, match=r"sample_weight of shape \(2,\) does not broadcast .* shape \(3,\)"):
        losses.MeanSquaredError()(Y_TRUE, t64(Y_PRED), sample_weight=[1.0, 2.0])
    with pytest.raises(ValueError, match=r"invalid loss reduction 'avg'; expected one of \['sum_over_batch_size'"):
        losses.MeanSquaredError(reduction="avg")


@pytest.mark.parametrize(
    "cls, kwargs, fn, y_true, y_pred",
    [
        (losses.MeanSquaredError, {}, losses.mean_squared_error, Y_TRUE, Y_PRED),
        (losses.MeanAbsoluteError, {}, losses.mean_absolute_error, Y_TRUE, Y_PRED),
        (losses.BinaryCrossentropy, {"label_smoothing": 0.1}, losses.binary_crossentropy,
         [[1.0, 0.0], [0.0, 1.0]], [[0.7, 0.2], [0.4, 0.9]]),
        (losses.CategoricalCrossentropy, {"from_logits": True}, losses.categorical_crossentropy,
         np.eye(3)[[0, 2]], [[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]]),
        (losses.SparseCategoricalCrossentropy, {"from_logits": True}, losses.sparse_categorical_crossentropy,
         [0, 2], [[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]]),
    ],
)
def test_each_class_is_the_mean_of_its_function(cls, kwargs, fn, y_true, y_pred):
    loss = cls(**kwargs)
    expected = fn(y_true, t64(y_pred), **kwargs).numpy().mean()
    np.testing.assert_allclose(loss(y_true, t64(y_pred)).item(), expected, rtol=1e-15)
    config = loss.get_config()
    json.dumps(config)  # JSON-safe
    clone = cls.from_config(config)
    assert clone.get_config() == config
    np.testing.assert_allclose(clone(y_true, t64(y_pred)).item(), expected, rtol=1e-15)


def test_configs_hold_the_keras_arguments():
    config = losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2, reduction="sum").get_config()
    assert config == {
        "name": "categorical_crossentropy", "reduction": "sum", "from_logits": True, "label_smoothing": 0.2, "axis": -1,
    }
    assert losses.SparseCategoricalCrossentropy(name="scce").get_config()["name"] == "scce"


def test_classifier_loss_backpropagates_softmax_minus_y(rng):
    """Dense + softmax + CategoricalCrossentropy: dL/dlogits = (softmax - y) / N through the fused op."""
    x, w = t64(rng.standard_normal((8, 5))), t64(rng.standard_normal((5, 4)) * 50, requires_grad=True)
    y = np.eye(4)[rng.integers(0, 4, 8)]
    logits = x @ w
    loss = losses.CategoricalCrossentropy()(y, ops.softmax(logits))
    loss.backward()
    z = logits.data
    expected = x.data.T @ ((np.exp(z - z.max(-1, keepdims=True)) / np.exp(z - z.max(-1, keepdims=True)).sum(
        -1, keepdims=True) - y) / 8)
    np.testing.assert_allclose(w.grad, expected, rtol=1e-10, atol=1e-12)


def test_loss_function_wrapper_wraps_a_custom_function():
    def squared_log_error(y_true, y_pred, offset=1.0):
        d = ops.log(y_pred + offset) - ops.log(nr.Tensor(np.asarray(y_true, dtype=np.float64)) + offset)
        return ops.mean(d * d, axis=-1)

    loss = losses.LossFunctionWrapper(squared_log_error, reduction="sum", offset=2.0)
    assert loss.name == "squared_log_error" and loss.get_config()["offset"] == 2.0
    value = loss([[0.0, 1.0]], t64([[2.0, 1.0]]))
    np.testing.assert_allclose(value.item(), (np.log(4 / 2) ** 2 + 0.0) / 2)
    with pytest.raises(TypeError, match="callable"):
        losses.LossFunctionWrapper(3)
