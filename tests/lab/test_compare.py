"""End to end: a tiny grid on the embedded MNIST subset, interrupted and resumed, in one process and in two."""

import json
from pathlib import Path

import numpy as np
import pytest

from neurona import layers, models
from neurona.lab import compare, parallel, results

TINY = dict(depth=2, width=16, epochs=1, batch_size=64, data="embedded", max_train=256, max_val=200,
            optimizer="sgd", learning_rate=0.1, progress=False)
INITS = ["he_normal", "glorot_uniform"]


def _numbers(content):
    """What must not depend on how the grid ran: every run's config, history, marks and diagnostics (no timings)."""
    return [{k: v for k, v in run.items() if k not in ("timing", "seconds_to_target")} for run in content["runs"]]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("lab") / "whole"
    return compare(INITS, seeds=[0], out=out, jobs=1, **TINY)


def test_a_grid_writes_results_report_and_plots(uninterrupted):
    out = uninterrupted.out
    content = json.loads((Path(out) / "results.json").read_text())
    assert [r["id"] for r in content["runs"]] == ["he_normal/seed0", "glorot_uniform/seed0"]
    run = content["runs"][0]
    assert len(run["history"]["val_accuracy"]) == 1 and 0.0 <= run["history"]["val_accuracy"][0] <= 1.0
    assert run["diagnostics"]["layers"][0]["layer"].endswith("dense_1")
    assert run["config"]["threads"] == 1 and run["timing"]["wall_seconds"] > 0
    for r in content["runs"]:  # the time to target counts the initialization too
        assert r["timing"]["init_seconds"] > 0
        if r["epochs_to_target"] is not None:
            epoch_end = r["timing"]["epoch_seconds"][r["epochs_to_target"] - 1]
            assert r["seconds_to_target"] == pytest.approx(r["timing"]["init_seconds"] + epoch_end)
    report = open(uninterrupted.report).read()
    assert "| 1 | " in report and "he_normal" in report and "glorot_uniform" in report
    assert {r["initializer"] for r in uninterrupted.ranking} == set(INITS)
    for path in uninterrupted.plots:
        with open(path, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_an_interrupted_grid_resumes_without_redoing_finished_runs(tmp_path, monkeypatch, uninterrupted):
    real, calls = parallel.run_one, []

    def interrupted_after_one(spec, data):
        if calls:
            raise KeyboardInterrupt  # Ctrl-C during the second run
        calls.append(spec.run_id)
        return real(spec, data)

    monkeypatch.setattr(parallel, "run_one", interrupted_after_one)
    with pytest.raises(KeyboardInterrupt):
        compare(INITS, seeds=[0], out=tmp_path, jobs=1, plots=False, **TINY)
    saved = results.read_results(tmp_path)
    assert [r["id"] for r in saved["runs"]] == ["he_normal/seed0"]  # the finished run is on disk

    resumed = []
    monkeypatch.setattr(parallel, "run_one", lambda spec, data: resumed.append(spec.run_id) or real(spec, data))
    result = compare(INITS, seeds=[0], out=tmp_path, jobs=1, resume=True, **TINY)
    assert resumed == ["glorot_uniform/seed0"]
    assert _numbers(result.results) == _numbers(uninterrupted.results)


def test_runs_in_two_worker_processes_give_the_same_numbers(tmp_path, uninterrupted):
    result = compare(INITS, seeds=[0], out=tmp_path, jobs=2, plots=False, **TINY)
    assert _numbers(result.results) == _numbers(uninterrupted.results)


def test_resume_refuses_another_grid_and_a_folder_is_not_reused_without_it(uninterrupted):
    with pytest.raises(ValueError, match="grid differs.*epochs"):
        compare(INITS, seeds=[0], out=uninterrupted.out, resume=True, **{**TINY, "epochs": 2})
    with pytest.raises(ValueError, match="runs differ"):
        compare(["he_normal"], seeds=[0], out=uninterrupted.out, resume=True, **TINY)
    with pytest.raises(ValueError, match="pass --resume"):
        compare(INITS, seeds=[0], out=uninterrupted.out, **TINY)


def _builder(input_shape, num_classes, kernel_initializer):
    return models.Sequential([layers.Input(input_shape), layers.Dense(8, activation="tanh",
                              kernel_initializer=kernel_initializer, name="h"),
                              layers.Dense(num_classes, activation="softmax", name="out")])


def _small_normal(shape, dtype=None):
    return np.random.default_rng(7).normal(0.0, 0.1, size=shape).astype(dtype or "float32")


def _blobs(n_train=240, n_val=90):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=n_train + n_val)
    x = (np.eye(3, 4)[y] * 4 + rng.normal(size=(len(y), 4))).astype("float32")
    return x[:n_train], y[:n_train], x[n_train:], np.eye(3)[y[n_train:]]  # one-hot validation labels


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning", "ignore:invalid value:RuntimeWarning")
def test_arrays_a_builder_callables_lsuv_and_a_diverging_run(tmp_path):
    kwargs = dict(model=_builder, data=_blobs(), epochs=3, batch_size=32, target=0.8, progress=False, plots=False)
    result = compare([_small_normal, "lsuv", "zeros"], seeds=[1], out=tmp_path / "a", jobs=1, learning_rate=0.5,
                     **kwargs)
    runs = {r["config"]["initializer"].rsplit(":", 1)[-1]: r for r in result.results["runs"]}
    assert result.results["grid"]["data"]["label"].startswith("arrays:")
    assert runs["_small_normal"]["final_val_accuracy"] > 0.8 and runs["_small_normal"]["epochs_to_target"] >= 1
    assert runs["lsuv"]["lsuv"]["layers"] and not runs["lsuv"]["diverged"]
    assert "symmetr" in json.dumps(runs["zeros"]["diagnostics"]["verdicts"]).lower()
    kwargs.update(model="dense", depth=2, width=16)  # ReLU: a huge step overflows (tanh's saturation would not)
    blown = compare(["he_normal"], seeds=[0], out=tmp_path / "b", jobs=1, learning_rate=1e9, **kwargs)
    (run,) = blown.results["runs"]
    assert run["diverged"] and not run["stalled"] and None in run["history"]["loss"]
    assert "**1/1**" in open(blown.report).read()


@pytest.mark.parametrize("bad, match", [
    (dict(epochs=0), "epochs must be an integer >= 1"),
    (dict(model="mlp"), "unknown model 'mlp'"),
    (dict(activation="swishy"), "unknown activation"),
    (dict(optimizer="nope"), "unknown optimizer"),
    (dict(data="mnist"), "unknown data 'mnist'"),
    (dict(target=1.5), "target must be"),
    (dict(jobs=0), "jobs must be"),
])
def test_bad_settings_are_refused_before_any_run(tmp_path, bad, match):
    with pytest.raises(ValueError, match=match):
        compare(INITS, seeds=[0], out=tmp_path, **{**TINY, **bad})
    assert not (tmp_path / "results.json").exists()


def test_bad_initializers_folders_and_lambdas_are_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown initializer 'he_nromal'"):
        compare(["he_nromal"], seeds=[0], out=tmp_path / "a", **TINY)
    with pytest.raises(ValueError, match="duplicate runs"):
        compare(["he_normal", "he_normal"], seeds=[0], out=tmp_path / "a", **TINY)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="notes.txt"):
        compare(INITS, seeds=[0], out=tmp_path / "b", **TINY)
    with pytest.raises(ValueError, match="jobs=1"):
        compare([lambda shape, dtype=None: np.zeros(shape), "he_normal"], seeds=[0], out=tmp_path / "c", jobs=2,
                **TINY)


def test_ctrl_c_in_a_parallel_grid_ends_the_workers_and_keeps_the_finished_run(tmp_path, ctrl_c_after_first_run,
                                                                               uninterrupted):
    import multiprocessing

    with pytest.raises(KeyboardInterrupt):
        compare(INITS, seeds=[0], out=tmp_path, jobs=2, plots=False, **TINY)
    assert not [p for p in multiprocessing.active_children() if p.name.startswith("neurona-lab")]
    assert len(results.read_results(tmp_path)["runs"]) == 1
    ctrl_c_after_first_run()  # stop interrupting
    result = compare(INITS, seeds=[0], out=tmp_path, jobs=2, resume=True, plots=False, **TINY)
    assert _numbers(result.results) == _numbers(uninterrupted.results)
