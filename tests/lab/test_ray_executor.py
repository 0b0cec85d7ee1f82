"""``executor="ray"``: the same records as the local executor, resume, a failing run, Ctrl-C, and the checks of
the executor and the address (those need no Ray; the flags' errors are in test_lab_cli.py)."""

import io
import os
import sys

import pytest

from neurona.cli.main import main
from neurona.lab import compare, ray_executor, results

TINY = dict(depth=2, width=16, epochs=1, batch_size=64, data="embedded", max_train=256, max_val=200,
            optimizer="sgd", learning_rate=0.1, progress=False, plots=False)
INITS = ["he_normal", "glorot_uniform"]
QUIET_RAY = dict(include_dashboard=False, log_to_driver=False, logging_level="ERROR")


def _numbers(content):
    """What must not depend on how the grid ran: the grid, every run's config, history, marks and diagnostics."""
    runs = [{k: v for k, v in run.items() if k not in ("timing", "seconds_to_target")} for run in content["runs"]]
    return content["grid"], runs


def _ray_processes():
    """The Ray processes (gcs_server, raylet, workers) among this process's children."""
    pids = []
    for task in os.listdir(f"/proc/{os.getpid()}/task"):
        with open(f"/proc/{os.getpid()}/task/{task}/children") as f:
            pids += f.read().split()
    found = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                line = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # ended meanwhile
            continue
        if "ray" in line:
            found.append(line[:120])
    return found


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    """The grid run by the local executor, in this process: the reference."""
    return compare(INITS, seeds=[0], out=tmp_path_factory.mktemp("lab") / "local", jobs=1, **TINY)


@pytest.fixture(scope="module")
def ray_instance():
    """One local Ray instance of two CPUs for the module; shut down afterwards, leaving no process behind."""
    ray = pytest.importorskip("ray")
    ray.init(address="local", num_cpus=2, **QUIET_RAY)  # a new instance, whatever runs on this machine
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # tasks need not import this test module
    yield ray
    ray.cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    ray.shutdown()
    assert not _ray_processes()


def _refusing(shape, dtype=None):
    """An initializer that fails in the task, telling what the task's environment holds."""
    raise ValueError(f"refused, mark {os.environ.get('NEURONA_LAB_TEST_MARK')}")


def test_the_command_starts_ray_runs_the_grid_and_stops_ray(tmp_path, capsys, local):
    ray = pytest.importorskip("ray")
    if ray.is_initialized():
        pytest.skip("Ray is already running in this process")
    out = tmp_path / "grid"
    args = ["lab", "compare", "--init", *INITS, "--seeds", "0", "--depth", "2", "--width", "16", "--epochs", "1",
            "--batch-size", "64", "--data", "embedded", "--max-train", "256", "--max-val", "200", "--lr", "0.1",
            "--no-plots", "--quiet", "--out", str(out), "--executor", "ray", "--jobs", "2"]
    assert main(args) == 0, capsys.readouterr().err
    assert "2 runs; report:" in capsys.readouterr().out
    assert "--jobs 2 --threads 1" in (out / "report.md").read_text() and "--executor ray" in (
        out / "report.md").read_text()
    assert _numbers(results.read_results(out)) == _numbers(local.results)
    assert not ray.is_initialized() and not _ray_processes()  # started here, so shut down here


def test_ray_tasks_give_the_records_and_progress_of_the_local_executor(ray_instance, tmp_path, local):
    stream = io.StringIO()
    result = compare(INITS, seeds=[0], out=tmp_path, executor="ray", **{**TINY, "progress": True},
                     stream=stream)
    assert _numbers(result.results) == _numbers(local.results)
    assert [r["id"] for r in result.results["runs"]] == ["he_normal/seed0", "glorot_uniform/seed0"]
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and lines[-1].startswith("lab: 2/2 runs done, 0 running")
    assert ray_instance.is_initialized()  # a Ray the caller started is left running


def test_ctrl_c_cancels_the_tasks_and_resume_runs_only_the_missing_run(ray_instance, tmp_path,
                                                                       ctrl_c_after_first_run, local):
    with pytest.raises(KeyboardInterrupt):
        compare(INITS, seeds=[0], out=tmp_path, executor="ray", **TINY)
    (kept,) = results.read_results(tmp_path)["runs"]
    ctrl_c_after_first_run()  # stop interrupting
    result = compare(INITS, seeds=[0], out=tmp_path, executor="ray", resume=True, **TINY)
    assert _numbers(result.results) == _numbers(local.results)
    assert kept in result.results["runs"]  # the same record, its timings too: it was not run again


def test_a_failing_run_raises_naming_it_and_tasks_get_the_neurona_environment(ray_instance, tmp_path,
                                                                               monkeypatch, capsys):
    monkeypatch.setenv("NEURONA_LAB_TEST_MARK", "set-after-ray-started")
    with pytest.raises(RuntimeError, match=r"run \S*_refusing/seed0 failed in a Ray task: ValueError: refused, "
                                           "mark set-after-ray-started"):
        compare([_refusing], seeds=[0], out=tmp_path, executor="ray", **TINY)
    assert "Traceback" in capsys.readouterr().err  # the task's traceback, above the one-line error
    assert results.read_results(tmp_path)["runs"] == []


@pytest.mark.parametrize("bad, match", [
    (dict(executor="dask"), "unknown executor 'dask'; expected one of local, ray"),
    (dict(address="10.0.0.5:6379"), "needs executor='ray'"),
    (dict(executor="ray", address="head-node"), "address must be a Ray cluster's HOST:PORT"),
    (dict(executor="ray", address="head:70000"), "address must be"),
    (dict(executor="ray", address="http://head:8265"), "address must be"),
])
def test_bad_executors_and_addresses_are_refused_before_any_run(tmp_path, bad, match):
    with pytest.raises(ValueError, match=match):
        compare(INITS, seeds=[0], out=tmp_path, **{**TINY, **bad})
    assert not (tmp_path / "results.json").exists()


@pytest.mark.parametrize("address", ["auto", "10.0.0.5:6379", "head-1.cluster.local:6379", "[::1]:6379",
                                     "ray://head:10001", "ray://head"])
def test_cluster_addresses_are_accepted(address):
    assert ray_executor.check_address(address) == address


def test_without_ray_the_error_names_the_extra_before_any_run(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray fails
    with pytest.raises(ImportError, match=r"pip install 'neurona\[ray\]'"):
        compare(INITS, seeds=[0], out=tmp_path, executor="ray", **TINY)
    assert not (tmp_path / "results.json").exists()
    assert main(["lab", "compare", "--data", "embedded", "--out", str(tmp_path), "--executor", "ray"]) == 1
    assert "neurona[ray]" in capsys.readouterr().err
