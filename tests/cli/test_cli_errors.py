"""The ``neurona`` command with bad arguments: one-line errors, exit statuses, checks made before training."""

import errno
import os
import subprocess
import sys

import numpy as np
import pytest

import neurona
from neurona.cli import main as cli
from neurona.cli.main import main
from neurona.datasets import mnist

TRAIN = ["train", "--data", "embedded", "--hidden", "16", "--seed", "0", "--verbose", "0", "--batch-size", "256"]


pytestmark = pytest.mark.usefixtures("embedded_mnist_only")


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A 1-epoch ``train --save`` run on the embedded subset (hidden 16, batch 256, lr 0.003)."""
    folder = tmp_path_factory.mktemp("ckpt") / "run"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NEURONA_DATA_DIR", str(folder.parent / "data"))
        mp.setenv("NEURONA_OFFLINE", "1")
        assert main([*TRAIN, "--epochs", "1", "--lr", "0.003", "--save", str(folder)]) == 0
    return folder


def _error_line(capsys):
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("neurona: error: ")
    return err


# ---- help and version ----------------------------------------------------------------------------------
def test_no_arguments_prints_the_help_to_stdout(capsys):
    assert main([]) == 2  # argparse's status for a missing subcommand
    out = capsys.readouterr().out
    assert out.startswith("usage: neurona") and "demo" in out and "predict" in out


def test_version(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"neurona {neurona.__version__}" == "neurona 0.1.0"


def test_help_documents_what_resume_keeps_and_how_predict_checks_its_input(capsys):
    for command in ("train", "predict"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "come from the checkpoint, and giving one of them with a different value is an error" in out
    assert "Inputs whose range does not fit it are refused" in out and "--no-range-check" in out


# ---- every expected error: one line, status 2 (usage) or 1 (runtime) --------------------------------------
@pytest.mark.parametrize("error, status", [
    (neurona.models.TrainingError("the training loss became nan\n(at optimizer step 3)"), 1),
    (RuntimeError("out of device memory"), 1),
    (PermissionError(errno.EACCES, "Permission denied", "/x/h.json"), 1),
    (ImportError('this needs h5py: pip install "neurona[h5]"'), 1),
    (FileExistsError("'/x/run' exists and overwrite=False"), 2),
    (IsADirectoryError(errno.EISDIR, "Is a directory", "/x"), 2),
    (NotADirectoryError(errno.ENOTDIR, "Not a directory", "/x/f/h.json"), 2),
    (FileNotFoundError("no saved model at '/x'"), 2),
    (ValueError("unknown initializer 'he_nromal'"), 2),
    (KeyboardInterrupt(), 130),
], ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else str(v))
def test_expected_errors_print_one_line_and_exit_with_their_status(monkeypatch, capsys, error, status):
    def fail(args):
        raise error

    monkeypatch.setattr(cli, "cmd_train", fail)
    assert main(["train"]) == status
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    expected = " ".join(str(error).split()) or "interrupted"
    assert err == f"neurona: error: {expected}\n"


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflow that makes the loss NaN
def test_a_loss_that_becomes_nan_exits_1_with_the_training_error(capsys):
    assert main([*TRAIN, "--epochs", "1", "--optimizer", "sgd", "--lr", "1e30"]) == 1
    assert "the training loss became nan" in _error_line(capsys)


def test_flag_values_are_checked_by_the_parser(capsys):
    for flags in (["--epochs", "0"], ["--batch-size", "-3"], ["--validation-split", "1.5"], ["--lr", "0"],
                  ["--hidden", "16", "0"]):
        with pytest.raises(SystemExit) as stop:
            main(["train", *flags])
        assert stop.value.code == 2
        assert "error: argument" in capsys.readouterr().err


# ---- output paths are checked before training --------------------------------------------------------------
def test_a_history_path_that_is_a_folder_is_refused_before_training(tmp_path, capsys):
    assert main([*TRAIN, "--epochs", "1", "--history", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert "test accuracy" not in captured.out  # nothing was trained
    assert captured.err.strip() == f"neurona: error: --history {tmp_path}: is a folder; expected a file name"


def test_save_paths_that_cannot_be_a_model_folder_are_refused_before_training(tmp_path, capsys):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("keep me")
    assert main([*TRAIN, "--save", str(a_file)]) == 2
    assert _error_line(capsys) == f"neurona: error: --save {a_file}: is a file; expected a folder name (a saved " \
                                  "model is a folder)"
    assert main([*TRAIN, "--save", str(a_file / "run")]) == 2
    assert f"{str(a_file)!r} is a file, not a folder" in _error_line(capsys)
    # a folder of other files would be replaced whole by the first checkpoint: refused, and left alone
    assert main([*TRAIN, "--save", str(tmp_path)]) == 2
    assert "holds 1 file(s) that are not part of a save ('notes.txt'); a save replaces the whole folder" \
        in _error_line(capsys)
    assert a_file.read_text() == "keep me" and "test accuracy" not in capsys.readouterr().out
    # the rule of the save itself: an earlier save with a file of the user's beside it is refused too
    run = tmp_path / "run"
    run.mkdir()
    (run / "model.json").write_text("{}")
    (run / "notes.md").write_text("keep me")
    assert main([*TRAIN, "--save", str(run)]) == 2
    assert "('notes.md')" in _error_line(capsys) and (run / "notes.md").read_text() == "keep me"
    # and a single-file name, refused before the first epoch rather than at its end
    assert main([*TRAIN, "--save", str(tmp_path / "run.keras")]) == 2
    assert "'.keras' file is a single-file format" in _error_line(capsys)
    assert "test accuracy" not in capsys.readouterr().out


def test_history_inside_the_save_folder_is_refused(tmp_path, capsys):
    run = tmp_path / "run"
    assert main([*TRAIN, "--save", str(run), "--history", str(run / "h.json")]) == 2
    assert "lies inside the --save folder" in _error_line(capsys) and not run.exists()


def test_missing_parent_folders_are_created(tmp_path):
    out = tmp_path / "new" / "deeper" / "h.json"
    assert main([*TRAIN, "--epochs", "1", "--history", str(out)]) == 0
    assert out.is_file()


def test_an_unwritable_folder_is_refused_before_training(tmp_path, monkeypatch, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = os.access
    # os.access rather than chmod: a test run as root may write anywhere
    monkeypatch.setattr(os, "access", lambda path, mode: os.fspath(path) != str(locked) and real_access(path, mode))
    assert main([*TRAIN, "--history", str(locked / "h.json")]) == 2
    assert _error_line(capsys) == f"neurona: error: --history {locked / 'h.json'}: the folder {str(locked)!r} is " \
                                  "not writable"
    assert main([*TRAIN, "--save", str(locked)]) == 2
    assert _error_line(capsys) == f"neurona: error: --save {locked}: the folder is not writable"


def test_a_predict_output_that_is_a_folder_is_refused_before_loading(tmp_path, capsys):
    assert main(["predict", str(tmp_path / "no_model"), str(tmp_path / "x.npy"), "--output", str(tmp_path)]) == 2
    assert _error_line(capsys) == f"neurona: error: --output {tmp_path}: is a folder; expected a file name"


# ---- --resume refuses flags that differ from the checkpoint -------------------------------------------------
def test_resume_refuses_flags_that_differ_from_the_checkpoint(checkpoint, tmp_path, capsys):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(checkpoint, run)
    before = (run / "model.h5").read_bytes()
    code = main(["train", "--resume", str(run), "--epochs", "2", "--lr", "0.1", "--batch-size", "32",
                 "--hidden", "64", "--optimizer", "sgd", "--data", "full"])
    assert code == 2
    err = _error_line(capsys)
    for part in ("--lr 0.1 (the checkpoint has 0.003)", "--batch-size 32 (the checkpoint has 256)",
                 "--hidden 64 (the checkpoint has 16)", "--optimizer sgd (the checkpoint has adam)",
                 "--data full (the checkpoint has embedded)", "Drop those flags"):
        assert part in err
    assert (run / "model.h5").read_bytes() == before  # nothing trained, nothing written
    # the same values as the checkpoint's are no conflict, and the kept settings are printed
    assert main(["train", "--resume", str(run), "--epochs", "2", "--batch-size", "256", "--hidden", "16",
                 "--verbose", "0"]) == 0
    out = capsys.readouterr().out
    assert "resuming" in out and "with its settings: data embedded, batch-size 256" in out and "lr 0.003" in out


# ---- predict checks the input range against the saved preprocessing -----------------------------------------
def test_predict_refuses_inputs_whose_range_does_not_fit_the_preprocessing(checkpoint, tmp_path, capsys):
    (_, _), (x_test, _) = mnist.load_data(source="embedded")
    raw = x_test[:4]
    scaled = raw.reshape(4, -1).astype(np.float32) / np.float32(255)  # what --no-preprocessing expects
    for name, array in (("raw", raw), ("scaled", scaled), ("big", raw.astype(np.float32) * 2)):
        np.save(tmp_path / f"{name}.npy", array)

    def predict(name, *flags):
        code = main(["predict", str(checkpoint), str(tmp_path / f"{name}.npy"), "--output",
                     str(tmp_path / "p.npy"), *flags])
        return code, capsys.readouterr()

    code, captured = predict("scaled")  # the reported case: divided by 255 twice, accuracy 0.99 -> 0.07
    assert code == 2 and "looks already preprocessed" in captured.err and "pass --no-preprocessing" in captured.err
    assert predict("raw", "--no-preprocessing")[0] == 2
    code, captured = predict("big")
    assert code == 2 and "expects raw inputs in [0, 255]" in captured.err and "values in [0, 510]" in captured.err
    assert predict("raw")[0] == 0
    expected = np.load(tmp_path / "p.npy")
    assert predict("scaled", "--no-preprocessing")[0] == 0
    np.testing.assert_array_equal(np.load(tmp_path / "p.npy"), expected)
    assert predict("scaled", "--no-range-check")[0] == 0  # the user insists: divided again, as asked


def test_a_real_process_reports_errors_on_one_line(tmp_path):
    env = {**os.environ, "NEURONA_OFFLINE": "1", "NEURONA_DATA_DIR": str(tmp_path / "data")}
    result = subprocess.run([sys.executable, "-m", "neurona.cli.main", "train", "--history", str(tmp_path)],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == f"neurona: error: --history {tmp_path}: is a folder; expected a file name\n"
    result = subprocess.run([sys.executable, "-m", "neurona.cli.main"], capture_output=True, text=True, env=env,
                            timeout=120)
    assert result.returncode == 2 and result.stdout.startswith("usage: neurona")


# ---- fault probe, defect 4: count flags have upper limits; predict refuses NaN and inf --------------------------
def _no_training(monkeypatch):
    def trained(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(neurona.models.Model, "fit", trained)  # a refused flag must never reach fit


@pytest.mark.parametrize("flags, message", [
    (["train", "--epochs", "99999999999999999999999"], "argument --epochs: expected an integer from 1 to 100000, "
                                                       "got 99999999999999999999999"),
    (["train", "--epochs", "1" * 5000], "argument --epochs: expected an integer from 1 to 100000, got '1111"),
    (["train", "--hidden", "16", "1000000"], "argument --hidden: expected an integer from 1 to 8192, got 1000000"),
    (["train", "--batch-size", str(2**63)], "argument --batch-size: expected an integer from 1 to 60000, got "
                                            f"{2**63}"),
    (["demo", "--epochs", "100001"], "argument --epochs: expected an integer from 1 to 100000, got 100001"),
    (["predict", "m", "x.npy", "--batch-size", str(2**64)], "argument --batch-size: expected an integer from 1 to "
                                                            f"{2**63 - 1}, got {2**64}"),
])
def test_count_flags_beyond_their_limit_are_refused_by_the_parser(monkeypatch, capsys, flags, message):
    _no_training(monkeypatch)
    with pytest.raises(SystemExit) as stop:
        main(flags)
    assert stop.value.code == 2 and message in capsys.readouterr().err


def test_a_batch_size_larger_than_the_training_split_is_refused_before_training(monkeypatch, capsys):
    _no_training(monkeypatch)
    assert main([*TRAIN[:-1], "10000", "--epochs", "1", "--validation-split", "0.5"]) == 2
    assert _error_line(capsys) == "neurona: error: --batch-size 10000 is larger than the 5000 training samples of " \
                                  "--data embedded (after --validation-split 0.5); expected at most 5000"


def test_predict_refuses_inputs_holding_nan_or_inf(checkpoint, tmp_path, capsys):
    images = np.zeros((2, 28, 28), np.float32)
    images[0, 3, 3] = np.nan  # the range check alone let it through: min and max of NaN compare False
    np.save(tmp_path / "nan.npy", images)
    assert main(["predict", str(checkpoint), str(tmp_path / "nan.npy")]) == 2
    assert _error_line(capsys) == f"neurona: error: {tmp_path / 'nan.npy'} holds 1 non-finite value(s) (NaN or " \
                                  "inf), the first at index (0, 3, 3); expected finite numbers (replace or drop the " \
                                  "missing values first)"
    # a model without preprocessing steps, and --no-range-check, are no way around it
    plain = neurona.models.Sequential([neurona.layers.Input((4,)), neurona.layers.Dense(3)])
    plain.save(tmp_path / "plain")
    np.save(tmp_path / "inf.npy", np.full((2, 4), np.inf, np.float32))
    assert main(["predict", str(tmp_path / "plain"), str(tmp_path / "inf.npy"), "--no-range-check"]) == 2
    assert "holds 8 non-finite value(s) (NaN or inf), the first at index (0, 0)" in _error_line(capsys)
    assert capsys.readouterr().out == ""
