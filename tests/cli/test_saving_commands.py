"""``neurona train --save/--resume``, ``neurona info`` and ``neurona predict``."""

import json

import numpy as np
import pytest

from neurona import models
from neurona.cli.main import main
from neurona.datasets import mnist

TRAIN = ["train", "--data", "embedded", "--hidden", "16", "--seed", "0", "--verbose", "0", "--batch-size", "256",
         "--validation-split", "0.1"]


pytestmark = pytest.mark.usefixtures("embedded_mnist_only")


@pytest.fixture(scope="module")
def _trained_once(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("full")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NEURONA_DATA_DIR", str(tmp_path / "data"))
        mp.setenv("NEURONA_OFFLINE", "1")
        assert main([*TRAIN, "--epochs", "3", "--save", str(tmp_path / "full"),
                     "--history", str(tmp_path / "h.json")]) == 0
    return tmp_path / "full", json.loads((tmp_path / "h.json").read_text())


@pytest.fixture
def uninterrupted(_trained_once, tmp_path):
    """A finished 3-epoch ``train --save`` run (a copy per test: some tests write to it)."""
    import shutil

    full, record = _trained_once
    shutil.copytree(full, tmp_path / "full")
    return tmp_path / "full", record


def test_resume_continues_to_the_same_weights(uninterrupted, tmp_path, capsys):
    full, record = uninterrupted
    assert main([*TRAIN, "--epochs", "1", "--save", str(tmp_path / "run")]) == 0
    assert main(["train", "--resume", str(tmp_path / "run"), "--epochs", "3", "--verbose", "0",
                 "--history", str(tmp_path / "h2.json")]) == 0
    assert "resuming" in capsys.readouterr().out
    a, b = models.load_model(full), models.load_model(tmp_path / "run")
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    resumed = json.loads((tmp_path / "h2.json").read_text())
    assert resumed["history"] == record["history"] and resumed["test_accuracy"] == record["test_accuracy"]


def test_resume_of_a_finished_run_trains_nothing(uninterrupted, capsys):
    full, _ = uninterrupted
    before = models.load_model(full).get_weights()
    assert main(["train", "--resume", str(full), "--verbose", "0"]) == 0  # the run's own 3 epochs
    assert "already completed 3 epochs" in capsys.readouterr().out
    assert all(np.array_equal(a, b) for a, b in zip(before, models.load_model(full).get_weights()))


def test_info_prints_summary_compile_settings_and_checkpoint(uninterrupted, capsys):
    full, record = uninterrupted
    capsys.readouterr()
    assert main(["info", str(full)]) == 0
    out = capsys.readouterr().out
    assert "Total params: 12,730" in out  # 784*16+16 + 16*10+10
    assert "optimizer Adam" in out and "loss categorical_crossentropy" in out and "metrics accuracy" in out
    assert "Preprocessing: rescale(/255.0) -> flatten" in out
    assert f"Checkpoint: 3 epochs completed; last epoch loss: {record['history']['loss'][-1]:.4f}" in out


def test_predict_applies_the_saved_preprocessing_to_raw_images(uninterrupted, tmp_path, capsys):
    full, _ = uninterrupted
    (_, _), (x_test, _) = mnist.load_data(source="embedded")
    raw = x_test[:5]
    np.save(tmp_path / "raw.npy", raw)
    model = models.load_model(full)
    expected = model.predict(raw.reshape(5, -1).astype(np.float32) / np.float32(255))
    assert main(["predict", str(full), str(tmp_path / "raw.npy"), "--output", str(tmp_path / "p.npy")]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "p.npy"), expected)
    capsys.readouterr()
    assert main(["predict", str(full), str(tmp_path / "raw.npy")]) == 0
    printed = np.array([[float(v) for v in line.split()] for line in capsys.readouterr().out.splitlines()])
    np.testing.assert_allclose(printed, expected, rtol=1e-7)
    np.save(tmp_path / "flat.npy", raw.reshape(5, -1).astype(np.float32) / np.float32(255))
    assert main(["predict", str(full), str(tmp_path / "flat.npy"), "--no-preprocessing",
                 "--output", str(tmp_path / "q.npy")]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "q.npy"), expected)


def test_errors_name_the_file(tmp_path, capsys):
    assert main(["info", str(tmp_path / "missing")]) == 2
    assert "no saved model at" in capsys.readouterr().err
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "model.json").write_text("{\"format\": \"neurona.model\", \"format_ver")
    assert main(["predict", str(tmp_path / "bad"), str(tmp_path / "x.npy")]) == 2
    assert "model.json at" in capsys.readouterr().err
    assert main(["train", "--resume", str(tmp_path / "missing")]) == 2
    assert "no checkpoint to resume" in capsys.readouterr().err
