"""Regression metrics: hand values, weights, label shapes."""

import numpy as np
import pytest

import neurona as nr
from neurona import metrics


def test_mse_and_mae_hand_values(device):
    y_true, y_pred = [[1.0, 2.0], [3.0, 4.0]], nr.Tensor([[1.5, 2.0], [2.0, 6.0]])
    np.testing.assert_allclose(nr.backend.asnumpy(metrics.mean_squared_error(y_true, y_pred)), [0.125, 2.5])
    np.testing.assert_allclose(nr.backend.asnumpy(metrics.mean_absolute_error(y_true, y_pred)), [0.25, 1.5])
    mse, mae = metrics.MeanSquaredError(), metrics.MeanAbsoluteError()
    mse.update_state(y_true, y_pred, sample_weight=[1.0, 3.0])
    mae.update_state(y_true, y_pred)
    assert mse.result() == pytest.approx((0.125 + 7.5) / 4)
    assert mae.result() == pytest.approx(0.875)
    mse.update_state([[0.0, 0.0]], [[2.0, 2.0]])  # one more sample, loss 4, weight 1
    assert mse.result() == pytest.approx((0.125 + 7.5 + 4) / 5)


def test_labels_without_the_unit_axis():
    m = metrics.MeanAbsoluteError()
    m.update_state(np.array([1.0, 2.0]), np.array([[1.5], [0.0]]))
    assert m.result() == pytest.approx(1.25)
    with pytest.raises(ValueError, match=r"y_true has shape \(3,\) but y_pred has shape \(2, 1\)"):
        m.update_state(np.zeros(3), np.zeros((2, 1)))


def test_config_round_trip():
    m = metrics.MeanSquaredError(name="val_mse")
    assert metrics.MeanSquaredError.from_config(m.get_config()).name == "val_mse"


def test_mean_absolute_percentage_error_matches_keras():
    y_true = np.array([[1.0, 0.5, -2.0], [0.5, 3.0, 4.0]])
    y_pred = np.array([[1.5, 0.2, -1.0], [0.4, 2.0, 1.0]])
    # the formula by hand: per sample 100 * mean(|t - p| / |t|)
    per_sample = 100 * np.mean(np.abs(y_true - y_pred) / np.abs(y_true), axis=-1)
    metric = metrics.MeanAbsolutePercentageError()
    metric.update_state(y_true, y_pred)
    np.testing.assert_allclose(metric.result(), per_sample.mean(), rtol=1e-12)
    np.testing.assert_allclose(metric.result(), 48.05555725097656, rtol=1e-6)  # Keras 3.15.1, float32
    weighted = metrics.get("mape")
    weighted.update_state(y_true, y_pred, sample_weight=np.array([1.0, 3.0]))
    np.testing.assert_allclose(weighted.result(), 45.41667175292969, rtol=1e-6)  # Keras 3.15.1
