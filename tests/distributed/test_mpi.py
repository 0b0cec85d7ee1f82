"""Data-parallel training under ``mpirun -n 2`` on this machine's loopback, against one process.

Tolerance: N processes with a global batch B compute the same gradient as one process in exact arithmetic
(each process's mean over its rows, weighted by its share of B, summed), but float32 rounds the per-process
means and their sum in another order than one mean over B rows: about one float32 ulp per gradient entry and
step (~1e-7 relative). Adam divides by the root of the second moment, so such differences stay of the order
of the learning rate times 1e-7 per step; over the two epochs (18 steps) here they stay below 1e-6
(3e-8 measured). The test allows 1e-5 on the weights and 1e-6 on the logged metrics.
"""

import json
import os
import shutil
import subprocess
import sys

import numpy
import pytest

pytest.importorskip("mpi4py")
PROGRAMS = os.path.join(os.path.dirname(__file__), "mpi_programs.py")
BIN = os.path.dirname(sys.executable)
MPIRUN = shutil.which("mpirun", path=BIN + os.pathsep + os.environ.get("PATH", ""))
pytestmark = pytest.mark.skipif(MPIRUN is None, reason="mpirun not found (pip install 'neurona[mpi]')")
TIMEOUT = 120  # a hang would be a failure, not a stuck test suite


def _env(serial=False):
    env = dict(os.environ, NEURONA_TEST_SERIAL="1" if serial else "0", PATH=BIN + os.pathsep + os.environ["PATH"])
    env.pop("KERAS_BACKEND", None)
    return env


def run(mode, out, ranks=2, check=True):
    """``mpirun -n ranks`` (or one plain process for ranks=0) of a mode of mpi_programs.py."""
    command = [sys.executable, PROGRAMS, mode, str(out)]
    if ranks:
        command = [MPIRUN, "-n", str(ranks), "-launcher", "fork"] + command
    result = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, env=_env(serial=ranks == 0))
    if check and result.returncode != 0:
        raise AssertionError(f"{mode} exited with {result.returncode}:\n{result.stdout}\n{result.stderr[-3000:]}")
    return result


def load(out, name, rank=0):
    return dict(numpy.load(os.path.join(out, f"{name}.rank{rank}.npz")))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    one, two = tmp_path_factory.mktemp("one"), tmp_path_factory.mktemp("two")
    run("train", one, ranks=0)
    run("train", two, ranks=2)
    return one, two


def test_two_processes_end_with_the_weights_of_one(trained):
    one, two = trained
    serial, rank0, rank1 = load(one, "train"), load(two, "train", 0), load(two, "train", 1)
    numpy.testing.assert_array_equal(rank0["weights"], rank1["weights"])  # identical on every process
    numpy.testing.assert_allclose(rank0["weights"], serial["weights"], atol=1e-5, rtol=0)
    assert int(rank0["iterations"]) == int(serial["iterations"]) == 14  # ceil(205 / 32) steps x 2 epochs


def test_history_metrics_and_predictions_are_the_global_ones(trained):
    one, two = trained
    read = lambda folder, rank: json.load(open(os.path.join(folder, f"history.rank{rank}.json")))
    serial, rank0, rank1 = read(one, 0), read(two, 0), read(two, 1)
    assert rank0 == rank1 and set(rank0) == set(serial) and "val_auc" in rank0
    for key in serial:
        numpy.testing.assert_allclose(rank0[key], serial[key], atol=1e-6, err_msg=key)
    numpy.testing.assert_allclose(load(two, "train")["scores"], load(one, "train")["scores"], atol=1e-6)
    numpy.testing.assert_allclose(load(two, "train")["predictions"], load(one, "train")["predictions"], atol=1e-5)
    assert load(two, "train", 1)["predictions"].shape == (257, 3)  # every process gets every row, in order


def test_moving_statistics_stay_identical_across_processes(tmp_path):
    run("batch_norm", tmp_path)
    numpy.testing.assert_array_equal(load(tmp_path, "batch_norm", 0)["weights"],
                                     load(tmp_path, "batch_norm", 1)["weights"])


def test_only_rank_zero_writes_checkpoints_and_logs_and_stops_agree(tmp_path):
    run("files", tmp_path)
    written = sorted(os.listdir(tmp_path))
    assert "log.rank0.csv" in written and "ckpt.rank0.weights.h5" in written
    assert not any(name.startswith(("log.rank1", "ckpt.rank1")) for name in written)
    assert int(load(tmp_path, "files", 0)["epochs"]) == int(load(tmp_path, "files", 1)["epochs"]) == 2


def test_an_error_in_one_forward_pass_is_raised_on_every_process(tmp_path):
    run("forward_error", tmp_path)
    for rank in (0, 1):
        text = open(os.path.join(tmp_path, f"error.rank{rank}.txt")).read()
        assert text.startswith("DistributedError") and "rank 1: ValueError: a bad batch on rank 1" in text


def test_an_error_elsewhere_aborts_every_process_with_its_message(tmp_path):
    result = run("callback_error", tmp_path, check=False)
    assert result.returncode != 0
    assert "rank 1 of 2 failed" in result.stderr and "a callback failed on rank 1" in result.stderr
    assert "finished" not in result.stdout  # rank 0 did not go on alone, nor hang (the timeout)


def test_a_nan_loss_on_one_process_skips_the_step_everywhere(tmp_path):
    run("nan", tmp_path)
    rank0, rank1 = load(tmp_path, "nan", 0), load(tmp_path, "nan", 1)
    numpy.testing.assert_array_equal(rank0["weights"], rank1["weights"])
    assert int(rank0["iterations"]) == int(rank1["iterations"]) == 6  # batches 0-5; batch 6 holds rank 1's NaN
    assert numpy.isnan(rank0["last_loss"]) and numpy.isnan(rank1["last_loss"])


def test_cli_train_under_mpirun_resumes_with_another_number_of_processes(tmp_path):
    """``mpirun -n 2 neurona train --save`` for 1 epoch, resumed by one process to 2: as one process throughout."""
    neurona = os.path.join(BIN, "neurona")
    common = ["--data", "embedded", "--seed", "3", "--verbose", "0"]
    env = _env()
    split, whole = tmp_path / "split", tmp_path / "whole"
    first = subprocess.run([MPIRUN, "-n", "2", "-launcher", "fork", neurona, "train", *common, "--epochs", "1",
                            "--save", str(split)], capture_output=True, text=True, timeout=TIMEOUT, env=env)
    assert first.returncode == 0, first.stderr[-3000:]
    assert first.stdout.count("test accuracy") == 1  # rank 0 reports
    for command in ([neurona, "train", "--resume", str(split), "--epochs", "2"],
                    [neurona, "train", *common, "--epochs", "2", "--save", str(whole)]):
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, env=env)
        assert done.returncode == 0, done.stderr[-3000:]
    from neurona import saving

    resumed, straight = saving.load_checkpoint(str(split)), saving.load_checkpoint(str(whole))
    assert resumed.epoch == straight.epoch == 2
    for a, b in zip(resumed.model.weights, straight.model.weights):
        numpy.testing.assert_allclose(a.data, b.data, atol=1e-5, rtol=0, err_msg=a.name)


def test_the_example_trains_on_two_processes_and_rank_zero_saves(tmp_path):
    example = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "data_parallel_mnist.py")
    env = dict(_env(), NEURONA_DATA_DIR=str(tmp_path / "data"), NEURONA_OFFLINE="1")  # the embedded subset
    result = subprocess.run([MPIRUN, "-n", "2", "-launcher", "fork", sys.executable, example, "--epochs", "1",
                             "--save", str(tmp_path / "model")], capture_output=True, text=True, timeout=TIMEOUT,
                            env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(line for line in result.stdout.splitlines() if line.startswith("2 process(es)"))
    assert float(line.split("test accuracy ")[1].split(",")[0]) > 0.8  # chance is 0.1; one epoch gives ~0.89
    from neurona import models

    assert models.load_model(str(tmp_path / "model")).count_params() == 101_770


def test_a_rank_zero_callback_failing_before_the_first_step_aborts_the_run(tmp_path):
    result = run("begin_error", tmp_path, check=False)
    shown = f"rc {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr[-3000:]}"
    assert result.returncode != 0 and "rank 0 of 2 failed" in result.stderr and "log.csv" in result.stderr, shown
    assert "finished" not in result.stdout, shown


def test_a_custom_step_with_a_batch_too_short_for_every_process_is_refused_everywhere(tmp_path):
    run("custom_short_batch", tmp_path)
    for rank in (0, 1):
        text = open(os.path.join(tmp_path, f"error.rank{rank}.txt")).read()
        assert "custom train_step needs at least 2 rows in every batch" in text and "has 1" in text


def test_a_custom_steps_own_logs_are_the_global_ones(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir(), two.mkdir()
    run("custom_logs", one, ranks=0)
    run("custom_logs", two)
    numpy.testing.assert_allclose(load(two, "custom_logs")["loss"], load(one, "custom_logs")["loss"], rtol=1e-6)
    numpy.testing.assert_allclose(load(two, "custom_logs")["weights"], load(one, "custom_logs")["weights"],
                                  atol=1e-6)


def test_a_weight_without_gradients_stays_put_on_every_process(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir(), two.mkdir()
    run("unused_weight", one, ranks=0)
    run("unused_weight", two)
    numpy.testing.assert_array_equal(load(two, "unused_weight", 0)["weights"], load(two, "unused_weight", 1)["weights"])
    numpy.testing.assert_allclose(load(two, "unused_weight")["weights"], load(one, "unused_weight")["weights"],
                                  atol=1e-6)
    numpy.testing.assert_array_equal(load(two, "unused_weight", 1)["unused"], numpy.ones(4))


def test_each_process_draws_its_own_dropout_masks(tmp_path):
    run("dropout", tmp_path)
    rank0, rank1 = load(tmp_path, "dropout", 0), load(tmp_path, "dropout", 1)
    numpy.testing.assert_array_equal(rank0["weights"], rank1["weights"])
    assert not numpy.array_equal(rank0["draw"], rank1["draw"])


def test_an_error_every_process_raises_alike_can_be_caught(tmp_path):
    result = run("caught", tmp_path)
    for rank in (0, 1):
        assert "yielded no batch" in open(os.path.join(tmp_path, f"caught.rank{rank}.txt")).read(), result.stderr

