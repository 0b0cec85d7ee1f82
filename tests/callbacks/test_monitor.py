"""MonitorCallback: direction from the name, the improvement rule, missing keys."""

import math

import pytest

from neurona.callbacks import MonitorCallback
from neurona.callbacks.monitor import infer_mode


@pytest.mark.parametrize("name, mode", [
    ("val_loss", "min"), ("loss", "min"), ("mse", "min"), ("val_mean_absolute_error", "min"),
    ("accuracy", "max"), ("val_acc", "max"), ("val_sparse_categorical_accuracy", "max"), ("auc", "max"),
    ("val_precision", "max"), ("recall", "max"), ("f1_score", "max"), ("Val_AUC", "max"),
])
def test_infer_mode(name, mode):
    assert infer_mode(name) == mode
    assert MonitorCallback(name).mode == mode


def test_improvement_rule():
    low = MonitorCallback("loss", mode="min", min_delta=0.1)
    assert low.is_improvement(5.0, None) and not low.is_improvement(math.nan, None)
    assert low.is_improvement(0.89, 1.0) and not low.is_improvement(0.9, 1.0) and not low.is_improvement(1.1, 1.0)
    high = MonitorCallback("loss", mode="max", min_delta=-0.1)  # explicit mode wins over the name; |min_delta|
    assert high.is_improvement(1.11, 1.0) and not high.is_improvement(1.1, 1.0)
    assert not high.is_improvement(math.nan, 1.0)


def test_missing_key_warning_lists_the_keys():
    cb = MonitorCallback("val_auc")
    with pytest.warns(UserWarning, match=r"MonitorCallback monitors 'val_auc'.*available keys: auc, loss"):
        assert cb.get_monitor_value({"loss": 1.0, "auc": 0.5}) is None
    assert cb.get_monitor_value({"val_auc": 0.75}) == 0.75


def test_bad_arguments():
    with pytest.raises(TypeError, match="monitor must be the name"):
        MonitorCallback(monitor=None)
    with pytest.raises(ValueError, match="min_delta must be a finite number"):
        MonitorCallback(min_delta=float("inf"))
