"""``neurona compress``: quantized and pruned copies of a saved model, written atomically, with clear refusals."""

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import neurona as nr
from neurona import backend, layers, models
from neurona.cli.main import main
from neurona.datasets import mnist

pytestmark = pytest.mark.usefixtures("embedded_mnist_only")

TRAIN = ["train", "--data", "embedded", "--hidden", "32", "--seed", "0", "--verbose", "0", "--batch-size", "128",
         "--epochs", "1"]


@pytest.fixture(scope="module")
def mnist_run(tmp_path_factory):
    """A 784-32-10 MLP trained for one epoch by ``neurona train --save`` (preprocessing: rescale(/255), flatten;
    optimizer state and drift reference statistics saved with it)."""
    folder = tmp_path_factory.mktemp("compress") / "run"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NEURONA_DATA_DIR", str(folder.parent / "data"))
        mp.setenv("NEURONA_OFFLINE", "1")
        assert main([*TRAIN, "--save", str(folder)]) == 0
    return folder


@pytest.fixture(scope="module")
def plain_run(mnist_run):
    """The same model saved with its weights alone: the baseline of the model.h5 size."""
    model = models.load_model(mnist_run)
    model.reference_statistics = None
    folder = mnist_run.parent / "plain"
    model.save(folder, include_optimizer=False)
    return folder


@pytest.fixture(scope="module")
def tabular(tmp_path_factory):
    """A small classifier of 12 features (not MNIST-shaped), its inputs and labels as .npy files."""
    folder = tmp_path_factory.mktemp("tabular")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 12)).astype(np.float32)
    y = (x[:, :4].sum(axis=1) > 0).astype(np.int64) + (x[:, 4] > 1)
    nr.seed(0)
    model = models.Sequential([layers.Input((12,)), layers.Dense(24, activation="relu"),
                               layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=64, epochs=3, verbose=0)
    model.save(folder / "model")
    np.save(folder / "x.npy", x)
    np.save(folder / "y.npy", y)
    return folder


def _raw_test_images(count=200):
    (_, _), (x_test, y_test) = mnist.load_data(source="embedded", verbose=False)
    return x_test[:count], y_test[:count]


def _preprocessed(images):
    return images.reshape(len(images), -1).astype(np.float32) / np.float32(255)


def _dense_names(folder):
    """The Dense layers' names (which depend on what ran before in the process: read, never assumed)."""
    return [layer.name for layer in models.load_model(folder).layers if hasattr(layer, "kernel")]


def _kernels(model):
    return {layer.name: backend.asnumpy(layer.kernel.data) for layer in model.layers if hasattr(layer, "kernel")}


def _nothing_written(out):
    """Neither the output folder nor any temporary or lock file of it exists."""
    assert not os.path.exists(out)
    leftovers = [entry for entry in os.listdir(out.parent) if entry.startswith(f".{out.name}")]
    assert leftovers == []


# ---- the transforms --------------------------------------------------------------------------------------------
def test_int8_output_loads_and_predicts_close_to_the_original(mnist_run, tmp_path, capsys):
    out = tmp_path / "int8"
    assert main(["compress", str(mnist_run), "--quantize", "int8", "--samples", "500", "--evaluate-mnist",
                 "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "calibrated on 500 samples of the MNIST training set (embedded); quantized layers:" in printed
    assert "".join(f"\n  {name}" for name in _dense_names(mnist_run)) + "\n" in printed
    assert "accuracy on the MNIST test set (embedded) (2,000 samples)" in printed
    assert sorted(os.listdir(out)) == ["model.h5", "model.json"]
    original, quantized = models.load_model(mnist_run), models.load_model(out)
    assert quantized.preprocessing == original.preprocessing  # `neurona predict out raw.npy` works as before
    assert quantized.optimizer is not None and quantized.optimizer.iterations == 0  # compile settings, no state
    x = _preprocessed(_raw_test_images()[0])
    expected, got = original.predict(x, verbose=0), quantized.predict(x, verbose=0)
    assert np.abs(got - expected).max() < 0.05
    assert np.mean(got.argmax(1) == expected.argmax(1)) >= 0.97


def test_int8_calibrates_on_a_file_and_evaluates_on_files(tabular, tmp_path, capsys):
    out = tmp_path / "int8"
    assert main(["compress", str(tabular / "model"), "--quantize", "int8", "--calibration", str(tabular / "x.npy"),
                 "--calibration-method", "percentile", "--evaluate", str(tabular / "x.npy"), str(tabular / "y.npy"),
                 "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"percentile ranges calibrated on 600 samples of {tabular / 'x.npy'}" in printed
    assert f"accuracy on {tabular / 'x.npy'} (600 samples): " in printed
    x = np.load(tabular / "x.npy")
    expected = models.load_model(tabular / "model").predict(x, verbose=0)
    got = models.load_model(out).predict(x, verbose=0)
    assert np.mean(got.argmax(1) == expected.argmax(1)) >= 0.97


@pytest.mark.parametrize("scope", ["layer", "global"])
def test_prune_holds_exactly_the_requested_zeros_and_shrinks_model_h5(plain_run, tmp_path, capsys, scope):
    out = tmp_path / "pruned"
    assert main(["compress", str(plain_run), "--prune", "0.9", "--scope", scope, "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    before, after = _kernels(models.load_model(plain_run)), _kernels(models.load_model(out))
    assert list(after) == list(before) == _dense_names(plain_run)
    first = list(after)[0]
    zeros = {name: int((kernel == 0).sum()) for name, kernel in after.items()}
    sizes = {name: kernel.size for name, kernel in after.items()}
    if scope == "layer":
        assert zeros == {name: round(0.9 * size) for name, size in sizes.items()}
        assert f"  {first}: 90.0% zeros ({zeros[first]:,} of {sizes[first]:,} weights)" in printed
    assert sum(zeros.values()) == round(0.9 * sum(sizes.values()))
    for name, kernel in after.items():  # the kept weights are the original ones, unchanged
        kept = kernel != 0
        np.testing.assert_array_equal(kernel[kept], before[name][kept])
        if scope == "layer":  # and the largest of their kernel
            assert np.abs(before[name][~kept]).max() <= np.abs(before[name][kept]).min()
    h5_before, h5_after = os.path.getsize(plain_run / "model.h5"), os.path.getsize(out / "model.h5")
    assert h5_after < 0.5 * h5_before
    assert "model.h5: " in printed and "  weights: " in printed


def test_prune_filters_removes_units(mnist_run, tmp_path, capsys):
    out = tmp_path / "thin"
    assert main(["compress", str(mnist_run), "--prune-filters", "0.5", "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"  {_dense_names(mnist_run)[0]}: 32 -> 16 units" in printed and "  parameters: 25,450 -> 12,730" in printed
    assert "optimizer state (left out of the output): " in printed
    thin = models.load_model(out)
    assert thin.count_params() == 784 * 16 + 16 + 16 * 10 + 10
    assert thin.predict(_preprocessed(_raw_test_images(4)[0]), verbose=0).shape == (4, 10)


@pytest.mark.parametrize("transform", [["--quantize", "int8"], ["--quantize", "dynamic"], ["--prune", "0.8"]])
def test_onnx_file_runs_in_onnxruntime(mnist_run, tmp_path, capsys, transform):
    ort = pytest.importorskip("onnxruntime")
    out = tmp_path / "onnx"
    samples = ["--samples", "300"] if transform[-1] == "int8" else []
    assert main(["compress", str(mnist_run), *transform, *samples, "--onnx", "--output", str(out)]) == 0
    assert "model.onnx: " in capsys.readouterr().out
    x = _preprocessed(_raw_test_images(64)[0])
    session = ort.InferenceSession(str(out / "model.onnx"), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {"input": x})
    expected = models.load_model(out).predict(x, verbose=0)
    assert np.mean(got.argmax(1) == expected.argmax(1)) >= 0.95
    assert np.abs(got - expected).max() < 0.1


def test_the_output_serves_raw_inputs_to_predict(mnist_run, tmp_path):
    out = tmp_path / "pruned"
    assert main(["compress", str(mnist_run), "--prune", "0.5", "--output", str(out)]) == 0
    images, _ = _raw_test_images(8)
    np.save(tmp_path / "raw.npy", images)
    assert main(["predict", str(out), str(tmp_path / "raw.npy"), "--output", str(tmp_path / "p.npy")]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "p.npy"),
                                  models.load_model(out).predict(_preprocessed(images), verbose=0))


def test_overwrite_replaces_an_earlier_output_whole(mnist_run, tmp_path):
    out = tmp_path / "out"
    assert main(["compress", str(mnist_run), "--quantize", "dynamic", "--onnx", "--output", str(out)]) == 0
    assert main(["compress", str(mnist_run), "--prune", "0.5", "--output", str(out)]) == 2  # not without --overwrite
    assert main(["compress", str(mnist_run), "--prune", "0.5", "--output", str(out), "--overwrite"]) == 0
    assert sorted(os.listdir(out)) == ["model.h5", "model.json"]  # the earlier model.onnx went with its save
    assert all(type(layer).__name__ == "Dense" for layer in models.load_model(out).layers)


# ---- refusals: one line, status 2, nothing at --output ---------------------------------------------------------
@pytest.fixture
def bad_inputs(tmp_path):
    np.save(tmp_path / "wrong_shape.npy", np.zeros((5, 28, 27), np.uint8))
    np.save(tmp_path / "images.npy", _raw_test_images(5)[0])
    np.save(tmp_path / "labels.npy", np.zeros(4, np.int64))
    (tmp_path / "empty").mkdir()
    models.Sequential([layers.Input((6,)), layers.Activation("relu")]).save(tmp_path / "no_kernel")
    models.Sequential([layers.Input((6,)), layers.Dense(2)]).save(tmp_path / "one_dense")
    return tmp_path


@pytest.mark.parametrize("argv, message", [
    (["{missing}", "--prune", "0.5"], "no saved model at"),
    (["{empty}", "--prune", "0.5"], "is not a saved Neurona model: it has no model.json"),
    (["{tabular}", "--quantize", "int8"], "--quantize int8 needs calibration inputs"),
    (["{run}", "--quantize", "int8", "--calibration", "{wrong_shape}"],
     "holds inputs of shape (5, 756) after the model's saved preprocessing (rescale(/255.0) -> flatten), but model"),
    (["{run}", "--quantize", "int8", "--calibration", "{nowhere}"], "no input file at"),
    (["{run}", "--prune", "0.5", "--evaluate", "{images}", "{labels}"], "expected 5 class numbers"),
    (["{run}", "--prune", "0.5", "--calibration", "{images}"], "--calibration applies to --quantize int8 only"),
    (["{run}", "--prune-filters", "0.5", "--scope", "global"], "--scope applies to --prune only"),
    (["{run}", "--quantize", "dynamic", "--data", "embedded"], "--data picks the MNIST images of --evaluate-mnist"),
    (["{tabular}", "--prune", "0.5", "--evaluate-mnist"], "not MNIST images; pass --evaluate X.npy Y.npy"),
    (["{no_kernel}", "--prune", "0.5"], "--prune: model 'sequential"),
    (["{no_kernel}", "--quantize", "dynamic"], "has no Dense layer to transform"),
    (["{one_dense}", "--prune-filters", "0.5"], "--prune-filters 0.5 removes nothing from model"),
    (["{quantized}", "--quantize", "dynamic"], "is already transformed"),
])
def test_bad_inputs_are_refused_on_one_line(mnist_run, tabular, bad_inputs, capsys, argv, message):
    places = {"missing": bad_inputs / "nothing", "empty": bad_inputs / "empty", "tabular": tabular / "model",
              "run": mnist_run, "wrong_shape": bad_inputs / "wrong_shape.npy", "nowhere": bad_inputs / "no.npy",
              "images": bad_inputs / "images.npy", "labels": bad_inputs / "labels.npy",
              "no_kernel": bad_inputs / "no_kernel", "one_dense": bad_inputs / "one_dense",
              "quantized": bad_inputs / "quantized"}
    if "{quantized}" in argv:  # an output of compress, given to it again
        assert main(["compress", str(tabular / "model"), "--quantize", "dynamic", "--output",
                     str(places["quantized"])]) == 0
    out = bad_inputs / "out"
    argv = [word.format(**places) for word in argv]
    assert main(["compress", *argv, "--output", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("neurona: error: ") and message in err[-1]
    _nothing_written(out)


@pytest.mark.parametrize("argv, message", [
    ([], "one of the arguments --quantize --prune --prune-filters is required"),
    (["--prune", "0.5", "--quantize", "int8"], "argument --quantize: not allowed with argument --prune"),
    (["--prune", "1"], "argument --prune: expected a number in [0, 1), got '1'"),
    (["--prune-filters", "-0.1"], "argument --prune-filters: expected a number in [0, 1), got '-0.1'"),
    (["--quantize", "int4"], "argument --quantize: invalid choice: 'int4'"),
])
def test_bad_command_lines_are_refused_by_the_parser(mnist_run, tmp_path, capsys, argv, message):
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as stop:
        main(["compress", str(mnist_run), *argv, "--output", str(out)])
    assert stop.value.code == 2 and message in capsys.readouterr().err
    _nothing_written(out)


def test_output_paths_that_cannot_take_the_result_are_refused(mnist_run, tmp_path, capsys):
    before = sorted(os.listdir(mnist_run))
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "notes.txt").write_text("mine")
    cases = [
        ([str(mnist_run)], "is the model's own folder"),
        ([str(mnist_run), "--overwrite"], "is the model's own folder"),
        ([str(mnist_run / "inside")], "lies inside the MODEL_DIR folder"),
        ([str(occupied)], "the folder exists and is not empty; pass --overwrite"),
        ([str(occupied), "--overwrite"], "holds 1 file(s) that are not part of a save ('notes.txt')"),
        ([str(occupied / "notes.txt")], "is a file; expected a folder name"),
    ]
    for output, message in cases:
        assert main(["compress", str(mnist_run), "--prune", "0.5", "--output", *output]) == 2
        assert message in capsys.readouterr().err
    assert sorted(os.listdir(mnist_run)) == before and sorted(os.listdir(occupied)) == ["notes.txt"]
    assert (occupied / "notes.txt").read_text() == "mine"


def test_a_failure_while_writing_leaves_nothing_and_keeps_the_earlier_output(mnist_run, tmp_path, monkeypatch,
                                                                            capsys):
    from neurona import saving

    out = tmp_path / "out"
    assert main(["compress", str(mnist_run), "--prune", "0.5", "--output", str(out)]) == 0
    earlier = (out / "model.h5").read_bytes()

    def broken(model, path, **kwargs):
        with open(path, "wb") as f:
            f.write(b"half an ONNX file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(saving, "export_onnx", broken)
    assert main(["compress", str(mnist_run), "--prune", "0.9", "--onnx", "--output", str(out), "--overwrite"]) == 1
    assert "No space left on device" in capsys.readouterr().err
    assert sorted(os.listdir(out)) == ["model.h5", "model.json"] and (out / "model.h5").read_bytes() == earlier
    shutil.rmtree(out)
    _nothing_written(out)  # and no temporary folder of the failed write beside it
    fresh = tmp_path / "fresh"
    assert main(["compress", str(mnist_run), "--prune", "0.9", "--onnx", "--output", str(fresh)]) == 1
    _nothing_written(fresh)


def test_a_real_process_compresses_and_reports_errors_on_one_line(mnist_run, tmp_path):
    env = {**os.environ, "NEURONA_OFFLINE": "1", "NEURONA_DATA_DIR": str(tmp_path / "data")}
    command = [sys.executable, "-m", "neurona.cli.main", "compress", str(mnist_run)]
    result = subprocess.run([*command, "--prune", "0.75", "--output", str(tmp_path / "out")], capture_output=True,
                            text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "--prune 0.75 (scope layer): kernel sparsity per layer:" in result.stdout
    assert f"written to {tmp_path / 'out'}" in result.stdout
    result = subprocess.run([*command, "--prune", "0.5", "--output", str(mnist_run)], capture_output=True,
                            text=True, env=env, timeout=120)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == (f"neurona: error: --output {mnist_run} is the model's own folder {mnist_run}; write "
                             "the compressed model to a new folder\n")
