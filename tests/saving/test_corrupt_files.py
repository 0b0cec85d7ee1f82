"""Files that cannot be loaded fail with a FileFormatError naming the file, the layer and what was expected."""

import json
import re

import h5py
import numpy as np
import pytest

from neurona import layers, models
from neurona.saving import FileFormatError, load_checkpoint


def _saved(tmp_path):
    model = models.Sequential([layers.Input((4,)), layers.Dense(5, name="hidden"), layers.Dense(2, name="out")],
                              name="net")
    model.compile(optimizer="adam", loss="mse")
    model.save(tmp_path / "m")
    return model, tmp_path / "m"


def _rewrite_json(folder, edit):
    doc = json.loads((folder / "model.json").read_text())
    edit(doc)
    (folder / "model.json").write_text(json.dumps(doc))


def test_truncated_weights_file(tmp_path):
    _, folder = _saved(tmp_path)
    h5 = folder / "model.h5"
    h5.write_bytes(h5.read_bytes()[:500])
    with pytest.raises(FileFormatError, match=re.escape(str(h5)) + r".*SHA-256.*truncated"):
        models.load_model(folder)


def test_flipped_byte_in_the_weights_file(tmp_path):
    model, folder = _saved(tmp_path)
    h5 = folder / "model.h5"
    data = bytearray(h5.read_bytes())
    offset = data.find(model.layers[0].kernel.numpy().tobytes()[:8])
    assert offset > 0
    data[offset] ^= 0x40
    h5.write_bytes(bytes(data))
    with pytest.raises(FileFormatError, match=r"model\.h5.*does not match model\.json: its SHA-256"):
        models.load_model(folder)


def test_flipped_byte_in_a_weights_only_file_is_caught_by_its_checksum(tmp_path):
    model, _ = _saved(tmp_path)
    path = tmp_path / "w.h5"
    model.save_weights(path)
    data = bytearray(path.read_bytes())
    offset = data.find(model.layers[0].kernel.numpy().tobytes()[:8])
    data[offset] ^= 0x40
    path.write_bytes(bytes(data))
    with pytest.raises(FileFormatError, match=r"w\.h5.*'weights/hidden/kernel'.*layer 'hidden' \(Dense\).*corrupted"):
        model.load_weights(path)


def test_truncated_weights_only_file(tmp_path):
    model, _ = _saved(tmp_path)
    path = tmp_path / "w.h5"
    model.save_weights(path)
    path.write_bytes(path.read_bytes()[:-300])
    with pytest.raises(FileFormatError, match=r"w\.h5.*not a readable HDF5 weights file \(truncated or corrupted"):
        model.load_weights(path)


def test_truncated_json(tmp_path):
    _, folder = _saved(tmp_path)
    text = (folder / "model.json").read_text()
    (folder / "model.json").write_text(text[: len(text) // 2])
    with pytest.raises(FileFormatError, match=r"model\.json at .* is not valid JSON \(truncated or corrupted"):
        models.load_model(folder)


def test_newer_format_version(tmp_path):
    _, folder = _saved(tmp_path)
    _rewrite_json(folder, lambda doc: doc.update(format_version=99))
    with pytest.raises(FileFormatError, match=r"model\.json at .*format_version is 99; this Neurona reads versions 1"):
        models.load_model(folder)


def test_newer_weights_format_version(tmp_path):
    model, _ = _saved(tmp_path)
    path = tmp_path / "w.h5"
    model.save_weights(path)
    with h5py.File(path, "a") as f:
        f.attrs["format_version"] = 7
    with pytest.raises(FileFormatError, match=r"w\.h5.*weights format_version 7; this Neurona reads versions 1 to 2"):
        model.load_weights(path)


def test_not_a_neurona_file(tmp_path):
    model, _ = _saved(tmp_path)
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=np.zeros(3))
    with pytest.raises(FileFormatError, match=r"other\.h5.*not a Neurona weights file.*expected 'neurona.weights'"):
        model.load_weights(path)


def test_weights_of_another_model(tmp_path):
    """model.h5 swapped for the weights of a model with another shape (and the JSON's hash updated)."""
    _, folder = _saved(tmp_path)
    other = models.Sequential([layers.Input((4,)), layers.Dense(7, name="hidden"), layers.Dense(2, name="out")])
    other.save(tmp_path / "other")
    (folder / "model.h5").write_bytes((tmp_path / "other" / "model.h5").read_bytes())
    sha = json.loads((tmp_path / "other" / "model.json").read_text())["weights"]["sha256"]
    _rewrite_json(folder, lambda doc: doc["weights"].update(sha256=sha))
    with pytest.raises(FileFormatError, match=r"model\.h5.*layer 'hidden' \(Dense\) weight 'kernel' expects "
                                              r"'weights/hidden/kernel' of shape \(4, 5\) and dtype float32, "
                                              r"the file has shape \(4, 7\)"):
        models.load_model(folder)


def test_missing_weight_dataset_names_layer_and_expectation(tmp_path):
    model, _ = _saved(tmp_path)
    path = tmp_path / "w.h5"
    model.save_weights(path)
    with h5py.File(path, "a") as f:
        del f["weights/out/bias"]
    with pytest.raises(FileFormatError, match=r"layer 'out' \(Dense\) weight 'bias' expects a dataset "
                                              r"'weights/out/bias' of shape \(2,\) and dtype float32"):
        model.load_weights(path, by_name=True)


def test_unknown_layer_class_and_bad_layer_config(tmp_path):
    _, folder = _saved(tmp_path)

    def rename(doc):
        doc["model"]["config"]["layers"][1]["class_name"] = "Denze"

    _rewrite_json(folder, rename)
    with pytest.raises(FileFormatError, match=r"model\.json at .*layer 'hidden' \(Denze\).*unknown layer 'Denze'"):
        models.load_model(folder, compile=False)

    _, folder = _saved(tmp_path / "b")

    def bad_units(doc):
        doc["model"]["config"]["layers"][2]["config"]["units"] = "two"

    _rewrite_json(folder, bad_units)
    with pytest.raises(FileFormatError, match=r"layer 'out' \(Dense\).*expected the arguments.*positive integer"):
        models.load_model(folder)


def test_missing_files_and_wrong_kinds(tmp_path):
    _, folder = _saved(tmp_path)
    with pytest.raises(FileNotFoundError, match="no saved model"):
        models.load_model(tmp_path / "nothing")
    (folder / "model.h5").unlink()
    with pytest.raises(FileFormatError, match=r"model\.h5 is missing"):
        models.load_model(folder)
    (folder / "model.json").unlink()
    with pytest.raises(FileFormatError, match="has no model.json"):
        models.load_model(folder)
    (tmp_path / "file").write_text("x")
    with pytest.raises(FileFormatError, match="is a file; a saved model is a folder"):
        models.load_model(tmp_path / "file")


def test_a_saved_model_is_not_a_checkpoint(tmp_path):
    _, folder = _saved(tmp_path)
    with pytest.raises(FileFormatError, match="is a saved model, not a training checkpoint"):
        load_checkpoint(folder)


def test_pickled_npy_inputs_are_refused_by_predict(tmp_path, capsys):
    from neurona.cli.main import main

    _saved(tmp_path)
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    assert main(["predict", str(tmp_path / "m"), str(tmp_path / "objects.npy")]) == 2
    assert "allow_pickle=False" in capsys.readouterr().err
