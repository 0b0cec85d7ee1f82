"""Checkpoints resume exactly: an interrupted run ends with the same weights, bit for bit, as an uninterrupted one."""

import json
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import neurona as nr
from neurona import callbacks, layers, models, optimizers, saving

EPOCHS = 4


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 6)).astype(np.float32)
    return x, np.eye(3, dtype=np.float32)[rng.integers(0, 3, 120)]


def _model():
    """Every source of state a resume must restore: shuffling, dropout masks, moving statistics, Adam's moments,
    a learning-rate schedule driven by the step count."""
    model = models.Sequential([layers.Input((6,)), layers.Dense(16, activation="relu"), layers.Dropout(0.3),
                               layers.BatchNormalization(), layers.Dense(3, activation="softmax")])
    schedule = optimizers.schedules.ExponentialDecay(0.01, decay_steps=5, decay_rate=0.9)
    model.compile(optimizer=optimizers.Adam(schedule), loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def _fit(model, x, y, **kwargs):
    return model.fit(x, y, batch_size=16, epochs=EPOCHS, validation_split=0.2, verbose=0, **kwargs)


@pytest.fixture
def uninterrupted(tmp_path):
    x, y = _data()
    nr.seed(3)
    model = _model()
    history = _fit(model, x, y, callbacks=[callbacks.ModelCheckpoint(str(tmp_path / "ckpt-{epoch}"))])
    return model, history, x, y


def test_checkpoint_holds_epoch_history_rng_and_optimizer_state(uninterrupted, tmp_path):
    model, history, _, _ = uninterrupted
    assert sorted(os.listdir(tmp_path)) == [f"ckpt-{e}" for e in range(1, EPOCHS + 1)]
    doc = json.loads((tmp_path / "ckpt-2" / "model.json").read_text())
    training = doc["training"]
    assert training["epoch"] == 2 and training["history"]["epoch"] == [0, 1]
    assert training["history"]["history"]["val_loss"] == history.history["val_loss"][:2]
    assert training["global_rng"]["bit_generator"] == "PCG64"
    assert set(doc["rng"]["layers"]) == {model.layers[1].name}  # the Dropout layer's generator
    assert doc["rng"]["shuffle"]["bit_generator"] == "PCG64"
    assert doc["optimizer_state"]["iterations"] == 2 * 6  # 96 training samples in batches of 16


def test_resume_ends_with_the_same_weights_as_an_uninterrupted_run(uninterrupted, tmp_path):
    model, history, x, y = uninterrupted
    nr.seed(999)  # whatever the process did in between does not matter
    ckpt = saving.load_checkpoint(tmp_path / "ckpt-2")
    assert ckpt.epoch == 2
    resumed = _fit(ckpt.model, x, y, initial_epoch=ckpt.epoch)
    assert resumed.epoch == [2, 3]
    for a, b in zip(model.get_weights(), ckpt.model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert ckpt.model.optimizer.iterations == model.optimizer.iterations
    assert saving.run_history(ckpt.model) == {"epoch": history.epoch, "history": history.history}


@pytest.mark.parametrize("broken", ["shuffle", "optimizer", "dropout"])
def test_resume_without_each_piece_of_state_diverges(uninterrupted, tmp_path, broken):
    """Controls: the equality above depends on every restored piece (so the test can fail)."""
    model, _, x, y = uninterrupted
    ckpt = saving.load_checkpoint(tmp_path / "ckpt-2")
    if broken == "shuffle":
        del ckpt.model._resume_shuffle_generator
    elif broken == "optimizer":
        ckpt.model.optimizer.set_state({"iterations": 0, "learning_rate": None,
                                        "slots": [{}] * len(ckpt.model.weights)}, ckpt.model.weights)
    else:
        ckpt.model.layers[1]._rng = np.random.default_rng(0)
    _fit(ckpt.model, x, y, initial_epoch=ckpt.epoch)
    assert not all(np.array_equal(a, b) for a, b in zip(model.get_weights(), ckpt.model.get_weights()))


CHILD = textwrap.dedent("""
    import os, signal, sys
    sys.path.insert(0, os.path.dirname(__file__))
    import neurona as nr
    from neurona import callbacks
    from run_spec import _data, _fit, _model

    x, y = _data()
    nr.seed(3)
    model = _model()
    die = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: epoch == 1 and os.kill(os.getpid(), signal.SIGKILL))
    _fit(model, x, y, callbacks=[callbacks.ModelCheckpoint(sys.argv[1]), die])
""")


def test_a_killed_training_process_resumes_to_the_same_weights(uninterrupted, tmp_path):
    """The interrupted run is a real process, SIGKILLed at the end of its second epoch."""
    model, _, x, y = uninterrupted
    (tmp_path / "run_spec.py").write_text(open(__file__).read())
    (tmp_path / "child.py").write_text(CHILD)
    child = subprocess.run([sys.executable, str(tmp_path / "child.py"), str(tmp_path / "latest")],
                           capture_output=True, text=True, timeout=120)
    assert child.returncode == -signal.SIGKILL, child.stderr
    ckpt = saving.load_checkpoint(tmp_path / "latest")
    assert ckpt.epoch == 2
    _fit(ckpt.model, x, y, initial_epoch=ckpt.epoch)
    for a, b in zip(model.get_weights(), ckpt.model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_checkpoint_inside_an_epoch_records_the_batch(tmp_path):
    x, y = _data()
    model = _model()
    model.fit(x, y, batch_size=16, epochs=1, verbose=0,
              callbacks=[callbacks.ModelCheckpoint(str(tmp_path / "b{batch}"), save_freq=4)])
    assert sorted(os.listdir(tmp_path)) == ["b4", "b8"]  # 8 batches of 16 (the last of 8 samples)
    training = json.loads((tmp_path / "b4" / "model.json").read_text())["training"]
    assert training["epoch"] == 0 and training["batch"] == 4  # no epoch completed, 4 batches into the first
    assert json.loads((tmp_path / "b4" / "model.json").read_text())["optimizer_state"]["iterations"] == 4
