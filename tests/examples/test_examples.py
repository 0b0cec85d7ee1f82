"""The examples run and learn (on the embedded MNIST subset: no files outside the package needed)."""

import runpy
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


pytestmark = pytest.mark.usefixtures("embedded_mnist_only")


def _load(name):
    return runpy.run_path(str(EXAMPLES / name), run_name="example")


def test_seed_keras_program_trains_with_only_the_import_changed(capsys):
    example = _load("seed_keras_he_normal.py")
    model = example["modelo"]  # the article's own variable name
    assert [(type(layer).__name__, layer.units) for layer in model.layers] == [("Dense", 128), ("Dense", 10)]
    assert type(model.layers[0].kernel.initializer).__name__ == "HeNormal"
    assert "Total params: 101,770" in capsys.readouterr().out  # the article's modelo.summary(): 784*128+128 + 1290
    accuracy = example["main"](epochs=2, verbose=0)
    assert accuracy > 0.90  # chance is 0.10; a dense net on 10k images reaches ~0.94 in two epochs
    assert "embedded subset" in capsys.readouterr().err


def test_backprop_steps_by_hand_learn():
    accuracy = _load("backprop_steps.py")["main"](epochs=2)
    assert accuracy > 0.85  # chance is 0.10; plain SGD reaches ~0.87 after two epochs on the subset


def test_regularization_example_builds_its_table(tmp_path):
    out = tmp_path / "table.md"
    results = _load("regularization.py")["main"](
        ["--seeds", "0", "--epochs", "2", "--train", "300", "--val", "300", "--variants", "baseline",
         "dropout 0.5", "early stopping", "--output", str(out)])
    assert set(results) == {"baseline", "dropout 0.5", "early stopping"}
    for runs in results.values():
        assert 0.5 < runs[0]["train"] <= 1.0 and runs[0]["gap"] == runs[0]["train"] - runs[0]["val"]
    text = out.read_text()
    assert "| dropout 0.5 |" in text and "Training set 300 images" in text
