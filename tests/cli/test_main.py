"""The ``neurona`` command: demo and train on the embedded MNIST subset."""

import json
import re
import shutil
import subprocess
import sys

import pytest

from neurona.cli.main import main

pytestmark = pytest.mark.usefixtures("embedded_mnist_only")


def test_train_writes_history_and_reports_accuracy(tmp_path, capsys):
    out = tmp_path / "run.json"
    code = main(["train", "--init", "glorot_uniform", "--hidden", "32", "--epochs", "2", "--lr", "0.003",
                 "--validation-split", "0.1", "--verbose", "0", "--seed", "0", "--history", str(out)])
    assert code == 0
    record = json.loads(out.read_text())
    assert set(record["history"]) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(record["history"]["loss"]) == 2
    assert record["history"]["loss"][1] < record["history"]["loss"][0]
    assert record["test_accuracy"] > 0.85
    assert f"test accuracy: {record['test_accuracy']:.4f}" in capsys.readouterr().out


def test_demo_trains_and_prints_test_accuracy(capsys):
    assert main(["demo", "--epochs", "2"]) == 0
    captured = capsys.readouterr()
    assert "Epoch 2/2" in captured.out and "Total params: 101,770" in captured.out
    accuracy = float(re.search(r"test accuracy: (\d\.\d+)", captured.out).group(1))
    assert accuracy > 0.9  # chance is 0.1; two epochs on the 10,000-image subset give about 0.93
    assert "embedded subset" in captured.err


def test_bad_arguments_fail_with_a_message(capsys):
    assert main(["train", "--init", "he_nromal", "--epochs", "1", "--verbose", "0"]) == 2
    assert "unknown initializer 'he_nromal'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", "--model", "resnet"])


@pytest.mark.skipif(shutil.which("neurona") is None, reason="console script not installed")
def test_console_script_is_installed():
    result = subprocess.run(["neurona", "--help"], capture_output=True, text=True, check=True)
    assert "demo" in result.stdout and "train" in result.stdout
    assert sys.executable  # the script belongs to the active environment's install
