"""A non-finite loss: an error by default, a graceful stop with TerminateOnNaN, the last good weights kept."""

import numpy as np
import pytest

from neurona import callbacks, models

from .conftest import blobs, tiny_model


def _poisoned():
    x, y = blobs(n=60)
    x[45] = np.nan  # in the second batch of 30 (no shuffling)
    return x, y


def test_without_the_callback_training_raises():
    model = tiny_model()
    with pytest.raises(models.TrainingError, match="loss became nan"):
        model.fit(*_poisoned(), epochs=3, batch_size=30, shuffle=False, verbose=0)
    assert all(np.isfinite(w).all() for w in model.get_weights())


def test_with_the_callback_training_ends_gracefully(capsys):
    model = tiny_model()
    after_first_batch = []
    record = callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: after_first_batch.append(model.get_weights()) if batch == 0 else None)
    x, y = _poisoned()
    history = model.fit(x, y, epochs=3, batch_size=30, shuffle=False, verbose=0, validation_data=(x[:20], y[:20]),
                        callbacks=[callbacks.TerminateOnNaN(), record])
    assert isinstance(history, callbacks.History) and history.epoch == [0]
    assert np.isnan(history.history["loss"][0])
    assert np.isfinite(history.history["val_loss"][0])  # the epoch's bookkeeping ran on the last good weights
    assert model.stop_training
    assert "Batch 1: Invalid loss, terminating training" in capsys.readouterr().out
    for now, good in zip(model.get_weights(), after_first_batch[0]):
        np.testing.assert_array_equal(now, good)  # the bad step changed nothing


def test_finite_training_is_unaffected():
    x, y = blobs(n=60)
    history = tiny_model().fit(x, y, epochs=2, batch_size=30, verbose=0, callbacks=[callbacks.TerminateOnNaN()])
    assert history.epoch == [0, 1] and all(np.isfinite(history.history["loss"]))


def test_the_keras_rule_on_logs():
    class Model:
        stop_training = False

    cb = callbacks.TerminateOnNaN()
    cb.set_model(Model())
    cb.on_train_batch_end(0, {"loss": 1.0})
    assert not cb.model.stop_training
    cb.on_train_batch_end(1, {"loss": float("inf")})
    assert cb.model.stop_training


# ---- defect 7 (fault probe): weights made non-finite by a step whose loss was finite --------------------------
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # Adam's squared gradients overflow float32
def test_weights_that_became_non_finite_stop_training_like_a_nan_loss(capsys):
    x, y = blobs(n=20)
    model = tiny_model(optimizer="adam")
    history = model.fit(x * np.float32(1e30), y, epochs=4, batch_size=20, shuffle=False, verbose=0,
                        callbacks=[callbacks.TerminateOnNaN()])
    assert history.epoch == [0, 1] and model.stop_training  # the second update overflowed; no third epoch
    assert "Epoch 2: the weights" in capsys.readouterr().out
