"""ModelCheckpoint: Keras's arguments and semantics; what it writes loads back."""

import json
import os
import re

import numpy as np
import pytest

from neurona import callbacks, layers, models, saving


def _model():
    model = models.Sequential([layers.Input((3,)), layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def _attached(model, **kwargs):
    cb = callbacks.ModelCheckpoint(**kwargs)
    cb.set_model(model)
    cb.set_params({"epochs": 10, "steps": 1, "verbose": 0})
    return cb


def _saved_epoch(path):
    return json.loads((path / "model.json").read_text())["training"]["epoch"]


def test_fit_saves_every_epoch_with_formatted_names(tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(20, 3)).astype(np.float32), np.eye(2, dtype=np.float32)[rng.integers(0, 2, 20)]
    model = _model()
    history = model.fit(x, y, epochs=3, batch_size=5, validation_split=0.2, verbose=0,
                        callbacks=[callbacks.ModelCheckpoint(str(tmp_path / "ep{epoch:02d}-{val_loss:.3f}"))])
    expected = [f"ep{e + 1:02d}-{v:.3f}" for e, v in enumerate(history.history["val_loss"])]
    assert sorted(p.name for p in tmp_path.iterdir()) == expected
    last = models.load_model(tmp_path / expected[-1])
    np.testing.assert_array_equal(last.predict(x), model.predict(x))


def test_save_best_only_keeps_the_best_in_min_and_max_modes(tmp_path):
    model = _model()
    cb = _attached(model, filepath=str(tmp_path / "best"), save_best_only=True)  # monitor val_loss: min
    for epoch, value in enumerate([0.9, 0.7, 0.8, 0.75, 0.6]):
        cb.on_epoch_end(epoch, {"val_loss": value})
        assert _saved_epoch(tmp_path / "best") == {0: 1, 1: 2, 2: 2, 3: 2, 4: 5}[epoch]
    assert cb.best == 0.6
    acc = _attached(model, filepath=str(tmp_path / "acc"), monitor="val_accuracy", save_best_only=True)
    assert acc.mode == "max"
    for epoch, value in enumerate([0.5, 0.4, 0.7]):
        acc.on_epoch_end(epoch, {"val_accuracy": value})
    assert _saved_epoch(tmp_path / "acc") == 3 and acc.best == 0.7


def test_initial_value_threshold_must_be_beaten_first(tmp_path):
    cb = _attached(_model(), filepath=str(tmp_path / "best"), save_best_only=True, initial_value_threshold=0.5)
    cb.on_epoch_end(0, {"val_loss": 0.6})
    assert not (tmp_path / "best").exists()
    cb.on_epoch_end(1, {"val_loss": 0.4})
    assert _saved_epoch(tmp_path / "best") == 2


def test_missing_monitor_warns_and_skips(tmp_path):
    cb = _attached(_model(), filepath=str(tmp_path / "best"), save_best_only=True)
    with pytest.warns(UserWarning, match="val_loss"):
        cb.on_epoch_end(0, {"loss": 0.3})
    assert not (tmp_path / "best").exists()


def test_save_weights_only_writes_a_weights_file(tmp_path):
    model = _model()
    cb = _attached(model, filepath=str(tmp_path / "w{epoch}.weights.h5"), save_weights_only=True)
    cb.on_epoch_end(0, {"val_loss": 1.0})
    twin = _model()
    twin.load_weights(tmp_path / "w1.weights.h5")
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), twin.get_weights()))
    with pytest.raises(saving.FileFormatError, match="is a weights file, not a whole model"):
        models.load_model(tmp_path / "w1.weights.h5")


def test_verbose_messages(tmp_path, capsys):
    cb = _attached(_model(), filepath=str(tmp_path / "best"), save_best_only=True, verbose=1)
    cb.on_epoch_end(0, {"val_loss": 0.5})
    cb.on_epoch_end(1, {"val_loss": 0.7})
    out = capsys.readouterr().out
    assert f"Epoch 1: val_loss improved from inf to 0.50000, saving model to {tmp_path / 'best'}" in out
    assert "Epoch 2: val_loss did not improve from 0.50000" in out


def test_arguments_are_checked(tmp_path):
    with pytest.raises(ValueError, match="save_freq must be 'epoch' or a positive number of batches, got 0"):
        callbacks.ModelCheckpoint(str(tmp_path / "x"), save_freq=0)
    with pytest.raises(ValueError, match="mode"):
        callbacks.ModelCheckpoint(str(tmp_path / "x"), mode="best")
    cb = _attached(_model(), filepath=str(tmp_path / "{val_acc:.2f}"))
    with pytest.raises(KeyError, match=r"cannot format filepath.*val_acc"):
        cb.on_epoch_end(0, {"val_loss": 0.5})
    assert cb.get_config()["save_freq"] == "epoch"


# ---- defect 2 (fault probe): filepath and the other arguments are checked at construction -------------------
@pytest.mark.parametrize("filepath", [None, 3, ["ckpt"]], ids=["None", "int", "list"])
def test_a_filepath_that_is_not_a_path_is_refused_before_anything_is_written(filepath, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # str(None) used to become the folder ./None
    with pytest.raises(TypeError, match=r"ModelCheckpoint: expected a path \(str or os.PathLike\) as filepath, got "
                                        rf"{re.escape(repr(filepath))} \({type(filepath).__name__}\)"):
        callbacks.ModelCheckpoint(filepath, monitor="loss")
    with pytest.raises(ValueError, match="ModelCheckpoint: expected a path as filepath, got the empty path ''"):
        callbacks.ModelCheckpoint("", monitor="loss")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kwargs, error, message", [
    ({"save_best_only": "no"}, TypeError, r"save_best_only must be True or False, got 'no' \(str\)"),
    ({"save_weights_only": 1}, TypeError, r"save_weights_only must be True or False, got 1 \(int\)"),
    ({"verbose": "loud"}, ValueError, r"verbose must be 0 or 1, got 'loud' \(str\)"),
    ({"verbose": 5}, ValueError, r"verbose must be 0 or 1, got 5 \(int\)"),
    ({"initial_value_threshold": "low"}, ValueError, r"initial_value_threshold must be a finite number or None"),
    ({"monitor": None}, TypeError, r"monitor must be the name of a logged quantity, got None"),
])
def test_mistyped_arguments_are_refused(tmp_path, kwargs, error, message):
    with pytest.raises(error, match="ModelCheckpoint: " + message):
        callbacks.ModelCheckpoint(str(tmp_path / "ckpt"), **kwargs)


def test_paths_and_numpy_values_are_accepted(tmp_path):
    cb = callbacks.ModelCheckpoint(tmp_path / "ckpt", save_best_only=np.bool_(True), verbose=np.int64(1),
                                   save_freq=np.int64(2), initial_value_threshold=np.float32(0.5))
    assert cb.filepath == str(tmp_path / "ckpt") and cb.save_best_only is True and cb.verbose == 1
    assert cb.save_freq == 2 and cb.initial_value_threshold == 0.5
    json.dumps(cb.get_config())  # plain Python values only


@pytest.mark.parametrize("name, written", [("best.keras", "best.keras"), ("ckpt-{epoch:02d}.h5", "ckpt-01.h5"),
                                           ("m.HDF5", "m.HDF5")])
def test_a_single_file_checkpoint_name_saves_keras_files(tmp_path, name, written):
    """Keras 3's ModelCheckpoint takes .keras names: each save is one file both libraries open."""
    model = _model()
    cb = _attached(model, filepath=str(tmp_path / name))
    cb.on_train_begin()
    cb.on_epoch_end(0, {"val_loss": 1.0})
    assert os.listdir(tmp_path) == [written]
    loaded = models.load_model(tmp_path / written)
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), loaded.get_weights()))
    assert type(loaded.optimizer).__name__ == "SGD"  # compiled as saved
    assert callbacks.ModelCheckpoint(str(tmp_path / name), save_weights_only=True).save_weights_only


def test_a_keras_file_checkpoint_of_a_model_keras_cannot_describe_fails_before_training(tmp_path):
    model = models.Sequential([layers.Input((4, 4, 2)), layers.InstanceNormalization(), layers.Flatten(),
                               layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    cb = _attached(model, filepath=str(tmp_path / "best.keras"))
    with pytest.raises(ValueError, match="InstanceNormalization"):
        cb.on_train_begin()
    assert os.listdir(tmp_path) == []
