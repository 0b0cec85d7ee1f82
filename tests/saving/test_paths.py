"""Where and how saves land: symbolic links, permissions, refused single-file names, messages naming the user's
path (issue 10, items 10 to 13)."""

import errno
import json
import os
import re
import stat

import numpy as np
import pytest

from neurona import callbacks, layers, models, saving
from neurona.saving import atomic

posix = pytest.mark.skipif(os.name != "posix", reason="symbolic links and umask are POSIX")


def _model(value=1.0):
    model = models.Sequential([layers.Input((3,)), layers.Dense(2, name="out")], name="net")
    model.set_weights([np.full(w.shape, value, w.dtype) for w in model.get_weights()])
    return model


def _value(model):
    values = {float(v) for w in model.get_weights() for v in np.unique(w)}
    assert len(values) == 1
    return values.pop()


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


# ---- item 10: a folder that is a symbolic link --------------------------------------------------------------
@posix
def test_saving_through_a_symlink_replaces_its_target_and_keeps_the_link(tmp_path):
    real, link = tmp_path / "runs" / "real", tmp_path / "latest"
    _model(1.0).save(real)
    link.symlink_to(real, target_is_directory=True)
    for value in (2.0, 3.0):  # the second save through the link used to fail: "Cannot call rmtree on a symlink"
        _model(value).save(link)
        assert link.is_symlink() and os.readlink(link) == str(real)
        assert _value(models.load_model(link)) == value == _value(models.load_model(real))
    assert sorted(os.listdir(tmp_path)) == ["latest", "runs"]
    assert os.listdir(tmp_path / "runs") == ["real"]  # backup and lock beside the real target, and gone


@posix
def test_save_weights_through_a_symlink_keeps_the_link(tmp_path):
    real, link = tmp_path / "real.weights.h5", tmp_path / "w.h5"
    _model(1.0).save_weights(real)
    link.symlink_to(real)
    _model(2.0).save_weights(link)
    assert link.is_symlink()
    twin = _model(0.0)
    twin.load_weights(real)
    assert _value(twin) == 2.0


# ---- item 11: permissions follow the umask -------------------------------------------------------------------
@posix
@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_saved_files_and_folders_follow_the_umask(tmp_path, umask):
    previous = os.umask(umask)
    try:
        model = _model()
        model.compile(optimizer="adam", loss="mse")
        model.save(tmp_path / "m")
        model.save_weights(tmp_path / "w.h5")
        callbacks_checkpoint = callbacks.ModelCheckpoint(str(tmp_path / "ckpt"))
        callbacks_checkpoint.set_model(model)
        callbacks_checkpoint.on_epoch_end(0, {"loss": 1.0})
    finally:
        os.umask(previous)
    for folder in ("m", "ckpt"):
        assert _mode(tmp_path / folder) == 0o777 & ~umask
        for name in ("model.json", "model.h5"):
            assert _mode(tmp_path / folder / name) == 0o666 & ~umask
    assert _mode(tmp_path / "w.h5") == 0o666 & ~umask


# ---- item 12: single-file names write Keras's single-file forms (issue 14) ------------------------------------
@pytest.mark.parametrize("name", ["m.h5", "m.keras", "M.HDF5"])
def test_single_file_model_names_write_one_file_that_loads_back(tmp_path, name):
    model = _model()
    model.save(os.path.join(str(tmp_path), name))
    assert os.listdir(tmp_path) == [name] and (tmp_path / name).is_file()
    x = np.linspace(-1, 1, 12, dtype="float32").reshape(4, 3)
    np.testing.assert_array_equal(models.load_model(tmp_path / name).predict(x, verbose=0), model.predict(x, verbose=0))


def test_a_single_file_name_with_a_trailing_separator_is_refused_and_nothing_is_written(tmp_path):
    with pytest.raises(ValueError, match=r"trailing separator names a folder.*one file"):
        _model().save(os.path.join(str(tmp_path), "m.keras") + "/")
    assert os.listdir(tmp_path) == []


def test_an_h5_weights_file_is_not_a_model(tmp_path):
    _model().save_weights(tmp_path / "m.h5")  # the weights alone are an HDF5 file, as before
    with pytest.raises(saving.FileFormatError, match=r"no 'model_config' attribute: it is a weights file"):
        models.load_model(tmp_path / "m.h5")


# ---- item 13: messages name the user's path, never a temporary or backup one ---------------------------------
def _failing_fsync(number):
    def fsync_path(path):
        raise OSError(number, os.strerror(number), path)  # as the OS names the file it failed on

    return fsync_path


@pytest.mark.parametrize("number", [errno.EIO, errno.ENOSPC])
def test_write_errors_name_the_users_path(tmp_path, monkeypatch, number):
    _model(1.0).save(tmp_path / "m")
    monkeypatch.setattr(atomic, "fsync_path", _failing_fsync(number))
    for save, path in [(lambda p: _model(2.0).save(p), tmp_path / "m"),
                       (lambda p: _model(2.0).save_weights(p), tmp_path / "w.h5")]:
        with pytest.raises(OSError) as info:
            save(path)
        message = str(info.value)
        assert info.value.errno == number and f"cannot save to {str(path)!r}" in message, message
        assert ".tmp-" not in message, message
        assert ("the disk is full" in message) == (number == errno.ENOSPC)
    monkeypatch.undo()
    assert _value(models.load_model(tmp_path / "m")) == 1.0
    assert sorted(os.listdir(tmp_path)) == ["m"]


def test_load_errors_name_the_users_path_when_reading_the_backup(tmp_path):
    """A save killed between its two renames leaves only .m.previous; errors still name 'm'."""
    _model().save(tmp_path / "m")
    os.rename(tmp_path / "m", tmp_path / ".m.previous")
    doc = json.loads((tmp_path / ".m.previous" / "model.json").read_text())
    doc["weights"]["sha256"] = "0" * 64
    (tmp_path / ".m.previous" / "model.json").write_text(json.dumps(doc))
    with pytest.raises(saving.FileFormatError) as info:
        models.load_model(tmp_path / "m")
    assert repr(str(tmp_path / "m" / "model.h5")) in str(info.value) and ".previous" not in str(info.value)
    os.remove(tmp_path / ".m.previous" / "model.h5")
    with pytest.raises(saving.FileFormatError, match=r"model\.h5 is missing") as info:
        models.load_model(tmp_path / "m")
    assert repr(str(tmp_path / "m")) in str(info.value) and ".previous" not in str(info.value)


def test_a_folder_of_other_files_is_never_emptied_by_a_save(tmp_path):
    # model.save("~/Documents") used to replace the whole folder, deleting the user's files
    folder = tmp_path / "documents"
    folder.mkdir()
    (folder / "notes.txt").write_text("precious")
    model = _model()
    with pytest.raises(FileExistsError, match="notes.txt"):
        model.save(str(folder))
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
    assert (folder / "notes.txt").read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["documents"]  # no temporary or lock file left


def test_an_earlier_save_and_an_empty_folder_are_replaced(tmp_path):
    model = _model()
    empty = tmp_path / "empty"
    empty.mkdir()
    model.save(str(empty))
    model.save(str(empty))  # the earlier save is replaced
    assert sorted(p.name for p in empty.iterdir()) == ["model.h5", "model.json"]


# ---- fault probe, defect 3: a path argument that is not a path ----------------------------------------------------
def _path_calls(saved):
    """Every saving entry point, called with ``bad`` as its path: (name of the path argument, owner, call)."""
    model = _model()
    return {
        "Model.save": ("filepath", lambda bad: model.save(bad)),
        "save_model": ("path", lambda bad: saving.save_model(model, bad)),
        "Model.save_weights": ("filepath", lambda bad: model.save_weights(bad)),
        "save_weights": ("path", lambda bad: saving.save_weights(model, bad)),
        "Model.load_weights": ("filepath", lambda bad: model.load_weights(bad)),
        "load_weights": ("path", lambda bad: saving.load_weights(model, bad)),
        "load_model": ("filepath", lambda bad: models.load_model(bad)),
        "save_checkpoint": ("path", lambda bad: saving.save_checkpoint(model, bad, epoch=1)),
        "load_checkpoint": ("path", lambda bad: saving.load_checkpoint(bad)),
        "peek": ("path", lambda bad: saving.peek(bad)),
        "export_onnx": ("path", lambda bad: saving.export_onnx(model, bad)),  # checked before onnx is imported
    }


@pytest.mark.parametrize("bad", [None, 3, ["m"]], ids=["None", "int", "list"])
def test_a_path_that_is_not_a_path_is_refused_by_every_entry_point(tmp_path, monkeypatch, bad):
    monkeypatch.chdir(tmp_path)  # str(3) would otherwise become a folder "3" here
    for owner, (name, call) in _path_calls(tmp_path).items():
        with pytest.raises(TypeError, match=rf"^{owner}: expected a path \(str or os.PathLike\) as {name}, got "
                                            rf"{re.escape(repr(bad))} \({type(bad).__name__}\)$"):
            call(bad)
    assert list(tmp_path.iterdir()) == []


def test_saving_load_model_names_its_own_argument(tmp_path):
    with pytest.raises(TypeError, match=r"^load_model: expected a path \(str or os.PathLike\) as path, got None"):
        saving.load_model(None)
    with pytest.raises(ValueError, match="^save_model: expected a path as path, got the empty path ''"):
        saving.save_model(_model(), "")


def test_pathlib_and_bytes_paths_are_accepted(tmp_path):
    _model(2.0).save(tmp_path / "a")
    assert _value(models.load_model(os.fsencode(tmp_path / "a"))) == 2.0
    _model(3.0).save_weights(os.fsencode(tmp_path / "w.weights.h5"))
    model = _model()
    model.load_weights(tmp_path / "w.weights.h5")
    assert _value(model) == 3.0


# ---- fault probe, defect 1: every flag of the saving API is a real bool -------------------------------------------
def test_overwrite_no_is_refused_and_the_save_is_kept(tmp_path):
    folder = tmp_path / "m"
    _model(1.0).save(folder)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    with pytest.raises(TypeError, match=r"^Model.save: overwrite must be True or False, got 'no' \(str\)$"):
        _model(2.0).save(folder, overwrite="no")  # a non-empty string is truthy: it used to overwrite
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    with pytest.raises(FileExistsError, match="overwrite=False"):
        _model(2.0).save(folder, overwrite=np.bool_(False))  # NumPy bools are bools


@pytest.mark.parametrize("owner, name, call", [
    ("Model.save", "include_optimizer", lambda m, p: m.save(p / "x", include_optimizer=1)),
    ("save_model", "overwrite", lambda m, p: saving.save_model(m, p / "x", overwrite=None)),
    ("Model.save_weights", "overwrite", lambda m, p: m.save_weights(p / "w.h5", overwrite="false")),
    ("save_weights", "overwrite", lambda m, p: saving.save_weights(m, p / "w.h5", overwrite=0)),
    ("Model.load_weights", "by_name", lambda m, p: m.load_weights(p / "saved", by_name="yes")),
    ("load_weights", "by_name", lambda m, p: saving.load_weights(m, p / "saved", by_name=1)),
    ("load_model", "compile", lambda m, p: models.load_model(p / "saved", compile="no")),
    ("save_checkpoint", "overwrite", lambda m, p: saving.save_checkpoint(m, p / "x", epoch=1, overwrite="no")),
    ("load_checkpoint", "restore_global_rng", lambda m, p: saving.load_checkpoint(p / "saved",
                                                                                  restore_global_rng="no")),
    ("export_onnx", "check", lambda m, p: saving.export_onnx(m, p / "m.onnx", check="yes")),
])
def test_a_flag_that_is_not_a_bool_is_refused_before_anything_is_done(tmp_path, owner, name, call):
    model = _model(1.0)
    saving.save_checkpoint(model, tmp_path / "saved", epoch=1)
    with pytest.raises(TypeError, match=rf"^{owner}: {name} must be True or False, got .*\(\w+\)$"):
        call(model, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["saved"]


def test_a_save_keeps_the_permissions_of_the_save_it_replaces(tmp_path):
    # the replacement is a new file or folder: it used to come back with the umask's (wider) permissions
    model = _model()
    weights, folder = tmp_path / "w.weights.h5", tmp_path / "m"
    model.save_weights(str(weights))
    model.save(str(folder))
    os.chmod(weights, 0o600)
    os.chmod(folder, 0o700)
    model.save_weights(str(weights))
    model.save(str(folder))
    assert stat.S_IMODE(os.stat(weights).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700


def test_a_refusal_found_under_the_lock_keeps_its_own_message(tmp_path, monkeypatch):
    folder = tmp_path / "m"
    calls = []
    real = atomic.check_replaceable

    def appears_meanwhile(path, target, replaces):
        calls.append(target)
        if len(calls) == 2:  # a file of the user's appears between the first check and the swap
            (folder / "notes.txt").write_text("x")
        return real(path, target, replaces)

    folder.mkdir()
    monkeypatch.setattr(atomic, "check_replaceable", appears_meanwhile)
    with pytest.raises(FileExistsError) as info:
        _model().save(str(folder))
    message = str(info.value)
    assert message.startswith(f"cannot save to {str(folder)!r}: the folder exists") and "writing failed" not in message
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
