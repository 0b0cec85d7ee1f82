"""EarlyStopping: the stop epoch for scripted monitored values, derived by hand from Keras 3's rule."""

import numpy as np
import pytest

from neurona import callbacks

from .conftest import scripted, tiny_model


def _run(values, data, epochs=None, **kwargs):
    """Fit with ``values`` as the monitored ``score``; returns (history, the EarlyStopping)."""
    stopper = callbacks.EarlyStopping(monitor="score", **kwargs)
    history = tiny_model().fit(*data, epochs=epochs or len(values), batch_size=20, verbose=0,
                               callbacks=[scripted("score", values), stopper])
    return history, stopper


@pytest.mark.parametrize("values, kwargs, stop", [
    # best at epoch 1, then two epochs without improvement -> stop at epoch 3
    ([1.0, 0.5, 0.6, 0.7, 0.4, 0.3], {"patience": 2}, 3),
    # patience 0: the first epoch without improvement stops
    ([1.0, 0.5, 0.6, 0.4], {"patience": 0}, 2),
    # 0.95 is not below 1.0 - 0.1, so it is no improvement
    ([1.0, 0.95, 0.93, 0.5], {"patience": 1, "min_delta": 0.1}, 1),
    ([1.0, 0.95, 0.93, 0.5], {"patience": 1, "min_delta": -0.1}, 1),  # the sign of min_delta is ignored
    # names with "acc" are maximized in auto mode (the key here is "score", so mode is given)
    ([0.5, 0.6, 0.55, 0.58, 0.9], {"patience": 1, "mode": "max"}, 2),
    # a baseline never beaten: patience counts from the first epoch
    ([1.0, 1.1, 1.2, 1.3, 1.4], {"patience": 2, "baseline": 0.5}, 1),
    ([1.0, 1.1, 1.2, 1.3, 1.4], {"patience": 2}, 2),
    # a warm-up: epochs 0 and 1 are not watched
    ([0.1, 0.2, 1.0, 1.1, 1.2], {"patience": 1, "start_from_epoch": 2}, 3),
    ([0.1, 0.2, 1.0, 1.1, 1.2], {"patience": 1}, 1),
    # NaN is never an improvement
    ([1.0, float("nan"), float("nan"), 0.5], {"patience": 2}, 2),
])
def test_stop_epoch(values, kwargs, stop, data):
    history, stopper = _run(values, data, **kwargs)
    assert stopper.stopped_epoch == stop
    assert history.epoch == list(range(stop + 1))


def test_runs_all_epochs_while_improving(data):
    history, stopper = _run([5.0, 4.0, 3.0, 2.0], data, patience=0)
    assert history.epoch == [0, 1, 2, 3] and stopper.stopped_epoch == 0 and stopper.best == 2.0


def test_auto_mode_maximizes_accuracy_like_names(data):
    stopper = callbacks.EarlyStopping(monitor="val_accuracy", patience=1)
    history = tiny_model().fit(*data, epochs=5, batch_size=20, verbose=0,
                               callbacks=[scripted("val_accuracy", [0.5, 0.6, 0.55, 0.58, 0.9]), stopper])
    assert stopper.mode == "max" and history.epoch == [0, 1, 2]


@pytest.mark.parametrize("stop_early", [True, False])
def test_restore_best_weights(stop_early, data):
    values = [1.0, 0.5, 0.7, 0.8, 0.9] if stop_early else [1.0, 0.5, 0.7]
    snapshots = []
    record = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: snapshots.append(model.get_weights()))
    stopper = callbacks.EarlyStopping(monitor="score", patience=2, restore_best_weights=True)
    model = tiny_model()
    model.fit(*data, epochs=len(values), batch_size=20, verbose=0,
              callbacks=[scripted("score", values), record, stopper])
    assert len(snapshots) == (4 if stop_early else 3)
    assert stopper.best_epoch == 1
    # weights went on changing after epoch 1, and were set back to their end-of-epoch-1 values
    assert not np.array_equal(snapshots[-1][0], snapshots[1][0])
    for now, best in zip(model.get_weights(), snapshots[1]):
        np.testing.assert_array_equal(now, best)


def test_without_restore_the_last_weights_stay(data):
    snapshots = []
    model = tiny_model()
    record = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: snapshots.append(model.get_weights()))
    model.fit(*data, epochs=4, batch_size=20, verbose=0,
              callbacks=[scripted("score", [1.0, 0.5, 0.7, 0.8]), record,
                         callbacks.EarlyStopping(monitor="score", patience=2)])
    for now, last in zip(model.get_weights(), snapshots[-1]):
        np.testing.assert_array_equal(now, last)


def test_an_instance_can_be_reused(data):
    stopper = callbacks.EarlyStopping(monitor="score", patience=1)
    model = tiny_model()
    model.fit(*data, epochs=3, batch_size=20, verbose=0, callbacks=[scripted("score", [0.1, 0.2, 0.3]), stopper])
    assert stopper.stopped_epoch == 1
    # a second run with higher values: stale state (best 0.1, wait 1) would stop it at once
    history = model.fit(*data, epochs=4, batch_size=20, verbose=0,
                        callbacks=[scripted("score", [5.0, 4.0, 3.0, 2.0]), stopper])
    assert history.epoch == [0, 1, 2, 3] and stopper.stopped_epoch == 0 and stopper.best == 2.0


def test_verbose_messages(data, capsys):
    _run([1.0, 0.5, 0.7, 0.8], data, patience=1, verbose=1, restore_best_weights=True)
    out = capsys.readouterr().out
    assert "Epoch 3: early stopping" in out and "best epoch: 2." in out


def test_missing_monitor_warns_with_the_available_keys(data):
    stopper = callbacks.EarlyStopping(patience=0)  # val_loss, but no validation data
    with pytest.warns(UserWarning, match=r"'val_loss'.*validation_data.*available keys: accuracy, loss"):
        history = tiny_model().fit(*data, epochs=2, batch_size=20, verbose=0, callbacks=[stopper])
    assert history.epoch == [0, 1]  # nothing to watch: training goes on


def test_bad_arguments():
    with pytest.raises(ValueError, match="mode must be 'auto', 'min' or 'max', got 'maximum'"):
        callbacks.EarlyStopping(mode="maximum")
    with pytest.raises(ValueError, match="patience must be a non-negative integer, got -1"):
        callbacks.EarlyStopping(patience=-1)
    assert isinstance(callbacks.get("early_stopping"), callbacks.EarlyStopping)


# ---- defect 2 (fault probe): every argument is checked; NumPy integers count as integers ---------------------
@pytest.mark.parametrize("kwargs, error, message", [
    ({"patience": "3"}, ValueError, r"patience must be a non-negative integer, got '3' \(str\)"),
    ({"patience": 1.5}, ValueError, r"patience must be a non-negative integer, got 1.5 \(float\)"),
    ({"start_from_epoch": True}, ValueError, r"start_from_epoch must be a non-negative integer, got True"),
    ({"restore_best_weights": "no"}, TypeError, r"restore_best_weights must be True or False, got 'no' \(str\)"),
    ({"verbose": "loud"}, ValueError, r"verbose must be 0 or 1, got 'loud' \(str\)"),
    ({"baseline": "0.5"}, ValueError, r"baseline must be a finite number or None, got '0.5' \(str\)"),
    ({"min_delta": "0.1"}, ValueError, r"min_delta must be a finite number"),
    ({"mode": ["min"]}, ValueError, r"mode must be 'auto', 'min' or 'max', got \['min'\]"),
])
def test_mistyped_arguments_are_refused(kwargs, error, message):
    with pytest.raises(error, match="EarlyStopping: " + message):
        callbacks.EarlyStopping(**kwargs)


def test_numpy_scalars_are_accepted():
    stopper = callbacks.EarlyStopping(patience=np.int64(2), start_from_epoch=np.int32(1), verbose=np.int8(1),
                                      restore_best_weights=np.bool_(True), baseline=np.float32(0.5))
    assert (stopper.patience, stopper.start_from_epoch, stopper.verbose) == (2, 1, 1)
    assert type(stopper.patience) is int and stopper.restore_best_weights is True and stopper.baseline == 0.5
