"""LearningRateScheduler: the rate of every step follows schedule(epoch, lr); both schedule forms."""

import pytest

import neurona as nr
from neurona import callbacks

from .conftest import tiny_model


def _rates(schedule, data, epochs=3, lr=1.0):
    seen = []
    model = tiny_model(optimizer=nr.optimizers.SGD(learning_rate=lr))
    spy = callbacks.LambdaCallback(on_train_batch_begin=lambda batch, logs: seen.append(model.optimizer.learning_rate))
    history = model.fit(*data, epochs=epochs, batch_size=20, verbose=0,
                        callbacks=[callbacks.LearningRateScheduler(schedule), spy])
    return seen, history


def test_relative_schedule(data):
    seen, history = _rates(lambda epoch, lr: lr if epoch == 0 else lr * 0.5, data)
    assert seen == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]  # two batches per epoch
    assert history.history["learning_rate"] == [1.0, 0.5, 0.25]


def test_one_argument_schedule(data):
    seen, _ = _rates(lambda epoch: 0.1 * (epoch + 1), data)
    assert seen == pytest.approx([0.1, 0.1, 0.2, 0.2, 0.3, 0.3])


def test_bad_outputs_are_explained(data):
    with pytest.raises(ValueError, match="the schedule returned 'fast' for epoch 0"):
        _rates(lambda epoch, lr: "fast", data)
    with pytest.raises(ValueError, match="returned -0.1 for epoch 0"):
        _rates(lambda epoch, lr: -0.1, data)
    with pytest.raises(TypeError, match="schedule must be a function"):
        callbacks.LearningRateScheduler(0.1)


def test_verbose(data, capsys):
    model = tiny_model()
    model.fit(*data, epochs=1, batch_size=40, verbose=0,
              callbacks=[callbacks.LearningRateScheduler(lambda e, lr: 0.05, verbose=1)])
    assert "Epoch 1: LearningRateScheduler setting learning rate to 0.05." in capsys.readouterr().out


# ---- defect 2 (fault probe): verbose is 0 or 1 ---------------------------------------------------------------
def test_verbose_is_checked():
    with pytest.raises(ValueError, match=r"LearningRateScheduler: verbose must be 0 or 1, got 'yes' \(str\)"):
        callbacks.LearningRateScheduler(lambda epoch: 0.1, verbose="yes")
    assert callbacks.LearningRateScheduler(lambda epoch: 0.1, verbose=1).verbose == 1
