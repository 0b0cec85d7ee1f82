"""ReduceLROnPlateau: the learning rate of each epoch for scripted values, derived by hand (Keras 3 rule)."""

import numpy as np
import pytest

import neurona as nr
from neurona import callbacks

from .conftest import scripted, tiny_model


def test_reductions_cooldown_and_floor(data, capsys):
    # epoch: 0 best; 1 wait -> lr 0.5, cooldown 2; 2 cooling; 3 wait -> 0.25; 4 cooling; 5 wait -> max(0.125, 0.2);
    # 6 improves; 7 would reduce but the rate is already at min_lr
    values = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5]
    model = tiny_model(optimizer=nr.optimizers.SGD(learning_rate=1.0))
    reducer = callbacks.ReduceLROnPlateau(monitor="score", factor=0.5, patience=1, cooldown=2, min_lr=0.2,
                                          verbose=1)
    history = model.fit(*data, epochs=len(values), batch_size=20, verbose=0,
                        callbacks=[scripted("score", values), reducer])
    assert history.history["learning_rate"] == pytest.approx([1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.2, 0.2], abs=0)
    assert model.optimizer.learning_rate == 0.2
    out = capsys.readouterr().out
    assert out.count("ReduceLROnPlateau reducing learning rate") == 3 and "Epoch 2: " in out


def test_the_new_rate_is_used_by_the_next_steps(data):
    seen = []
    model = tiny_model(optimizer=nr.optimizers.SGD(learning_rate=0.8))
    spy = callbacks.LambdaCallback(on_train_batch_begin=lambda batch, logs: seen.append(model.optimizer.learning_rate))
    model.fit(*data, epochs=3, batch_size=20, verbose=0,
              callbacks=[scripted("score", [1.0, 2.0, 3.0]), spy,
                         callbacks.ReduceLROnPlateau(monitor="score", factor=0.25, patience=1)])
    assert seen == [0.8, 0.8, 0.8, 0.8, 0.2, 0.2]


def test_patience_and_min_delta(data):
    # with min_delta 0.1 the small gains do not count: three epochs of patience 3 end in one reduction
    values = [1.0, 0.95, 0.92, 0.91, 0.8]
    model = tiny_model(optimizer=nr.optimizers.SGD(learning_rate=1.0))
    history = model.fit(*data, epochs=5, batch_size=20, verbose=0, callbacks=[
        scripted("score", values), callbacks.ReduceLROnPlateau(monitor="score", patience=3, min_delta=0.1)])
    assert history.history["learning_rate"] == pytest.approx([1.0, 1.0, 1.0, 1.0, 0.1])


def test_reused_instance_starts_over(data):
    reducer = callbacks.ReduceLROnPlateau(monitor="score", factor=0.5, patience=1)
    model = tiny_model(optimizer=nr.optimizers.SGD(learning_rate=1.0))
    model.fit(*data, epochs=2, batch_size=20, verbose=0, callbacks=[scripted("score", [0.1, 0.2]), reducer])
    assert model.optimizer.learning_rate == 0.5
    # a fresh run at a higher level: an old best of 0.1 would count every epoch as a plateau
    model.fit(*data, epochs=3, batch_size=20, verbose=0, callbacks=[scripted("score", [3.0, 2.0, 1.0]), reducer])
    assert model.optimizer.learning_rate == 0.5


def test_a_schedule_is_not_overwritten(data):
    model = tiny_model(optimizer=nr.optimizers.SGD(learning_rate=nr.optimizers.schedules.ExponentialDecay(1, 10, .5)))
    with pytest.raises(TypeError, match="cannot set the learning rate of SGD: it follows the schedule"):
        model.fit(*data, epochs=3, batch_size=20, verbose=0, callbacks=[
            scripted("score", [1.0, 1.0, 1.0]), callbacks.ReduceLROnPlateau(monitor="score", patience=1)])


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"factor must be in \(0, 1\), got 1.0"):
        callbacks.ReduceLROnPlateau(factor=1.0)
    with pytest.raises(ValueError, match="cooldown must be a non-negative integer"):
        callbacks.ReduceLROnPlateau(cooldown=-2)


# ---- defect 2 (fault probe): every argument is checked; NumPy integers count as integers ---------------------
@pytest.mark.parametrize("kwargs, message", [
    ({"factor": "0.5"}, r"factor must be a finite number, got '0.5' \(str\)"),
    ({"factor": float("nan")}, r"factor must be a finite number, got nan"),
    ({"min_lr": "0"}, r"min_lr must be a finite number, got '0' \(str\)"),
    ({"min_lr": -1.0}, r"min_lr must be a number >= 0, got -1.0"),
    ({"patience": 2.0}, r"patience must be a non-negative integer, got 2.0 \(float\)"),
    ({"verbose": 3}, r"verbose must be 0 or 1, got 3 \(int\)"),
])
def test_mistyped_arguments_are_refused(kwargs, message):
    with pytest.raises(ValueError, match="ReduceLROnPlateau: " + message):
        callbacks.ReduceLROnPlateau(**kwargs)


def test_numpy_scalars_are_accepted():
    reducer = callbacks.ReduceLROnPlateau(factor=np.float32(0.5), patience=np.int64(3), cooldown=np.uint8(1),
                                          min_lr=np.float64(1e-4), verbose=np.int64(0))
    assert (reducer.factor, reducer.patience, reducer.cooldown, reducer.min_lr) == (0.5, 3, 1, 1e-4)
    assert type(reducer.patience) is int and type(reducer.cooldown) is int
