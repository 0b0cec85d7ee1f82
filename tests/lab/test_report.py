"""The ranked table and the run marks, on hand-made records (no training)."""

import math

import pytest

from neurona.lab import report
from neurona.lab.grid import ModelConfig, RunSpec
from neurona.lab.runner import summarize

MODEL = {"kind": "dense", "depth": 2, "width": 8, "activation": "relu", "normalization": False}


def _spec(epochs=3, target=0.9):
    return RunSpec(initializer="he_normal", seed=0, model=ModelConfig(depth=2, width=8), epochs=epochs,
                   batch_size=32, optimizer="sgd", learning_rate=None, target=target, data="embedded")


def _record(init, seed, val_acc, diverged=False, stalled=False, verdicts=()):
    return {"id": f"{init}/seed{seed}", "config": {"initializer": init, "seed": seed},
            "history": {"loss": [1.0] * len(val_acc), "val_accuracy": val_acc}, "final_val_accuracy": val_acc[-1],
            "epochs_to_target": next((i + 1 for i, a in enumerate(val_acc) if a and a >= 0.9), None),
            "seconds_to_target": None, "val_loss_after_epoch_1": 0.5, "diverged": diverged, "stalled": stalled,
            "diagnostics": {"verdicts": [{"kind": "symmetry", "message": m} for m in verdicts]},
            "timing": {"wall_seconds": 1.0}}


def _results(records):
    inits = list(dict.fromkeys(r["config"]["initializer"] for r in records))
    seeds = sorted({r["config"]["seed"] for r in records})
    runs = [{"id": f"{i}/seed{s}", "initializer": i, "seed": s, "model": MODEL, "epochs": 3, "batch_size": 32,
             "optimizer": "sgd", "learning_rate": None, "target": 0.9, "threads": 1} for i in inits for s in seeds]
    return {"grid": {"data": {"label": "embedded", "train": 100, "validation": 50}, "runs": runs}, "runs": records}


def test_ranking_orders_by_mean_final_accuracy_with_sample_std():
    records = [_record("a", 0, [0.5, 0.80]), _record("a", 1, [0.5, 0.90]),
               _record("b", 0, [0.9, 0.95]), _record("b", 1, [0.9, 0.97]),
               _record("c", 0, [0.1, None], diverged=True), _record("c", 1, [0.1, None], diverged=True)]
    rows = report.rank(_results(records))
    assert [r["initializer"] for r in rows] == ["b", "a", "c"]
    assert rows[0]["final_val_accuracy_mean"] == pytest.approx(0.96)
    assert rows[1]["final_val_accuracy_std"] == pytest.approx(math.sqrt(0.005))  # sample std of 0.8 and 0.9
    assert rows[0]["reached_target"] == 2 and rows[1]["reached_target"] == 1 and rows[1]["epochs_to_target"] == 2
    assert rows[2]["final_val_accuracy_mean"] is None and rows[2]["diverged"] == 2


def test_ties_go_to_fewer_diverged_runs():
    records = [_record("x", 0, [0.5], diverged=True), _record("y", 0, [0.5])]
    assert [r["initializer"] for r in report.rank(_results(records))] == ["y", "x"]


def test_report_marks_diverged_and_stalled_and_lists_the_verdicts():
    records = [_record("he", 0, [0.95]), _record("zeros", 0, [0.11], stalled=True,
                                                 verdicts=["units are identical (symmetry)"]),
               _record("huge", 0, [None], diverged=True)]
    text = report.make_report(_results(records), command="neurona lab compare --init he zeros huge")
    assert text.startswith("# Initializer comparison\n\n```\nneurona lab compare --init he zeros huge\n```")
    ranking = text.split("## Ranking")[1].split("## Runs")[0]
    lines = [line for line in ranking.splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert lines[0].startswith("| 1 | he |") and "| **1/1** |" in lines[1] and "zeros" in lines[1]
    assert lines[2].startswith("| 3 | huge |") and "| **1/1** | 0 |" in lines[2]
    assert "- **he**: healthy (all 1 runs)" in text
    assert "  - symmetry, 1/1 runs (seed 0); seed 0: units are identical (symmetry)" in text


def test_summarize_marks_stalled_runs_near_chance_after_the_first_epochs():
    spec = _spec(epochs=3)
    stalled = summarize({"loss": [2.3] * 3, "val_loss": [2.3] * 3, "val_accuracy": [0.11, 0.12, 0.5]}, spec, 10,
                        [1.0, 2.0, 3.0])
    assert stalled["stalled"] and not stalled["diverged"] and stalled["epochs_to_target"] is None
    learning = summarize({"loss": [1.0] * 3, "val_loss": [0.6, 0.4, 0.3], "val_accuracy": [0.12, 0.92, 0.95]}, spec,
                         10, [1.0, 2.0, 3.0])
    assert not learning["stalled"] and learning["epochs_to_target"] == 2 and learning["seconds_to_target"] == 2.0
    assert learning["val_loss_after_epoch_1"] == 0.6 and learning["final_val_accuracy"] == 0.95


def test_summarize_marks_diverged_runs_and_runs_stopped_early():
    spec = _spec(epochs=3)
    nan = summarize({"loss": [1.0, None], "val_loss": [0.5, None], "val_accuracy": [0.5, 0.1]}, spec, 10, [1, 2])
    assert nan["diverged"] and not nan["stalled"]
    bad_val = summarize({"loss": [1.0] * 3, "val_loss": [0.5, None, 0.4], "val_accuracy": [0.9] * 3}, spec, 10,
                        [1, 2, 3])
    assert bad_val["diverged"]


def test_the_depth_profile_averages_seeds_over_the_hidden_layers_only():
    from neurona.lab.plots import _depth_profile

    def record(stds):
        layers = [{"layer": "flatten", "kernel": None, "activation_std": 9.0}]
        layers += [{"layer": f"dense_{i}", "kernel": "he_normal", "activation_std": s} for i, s in enumerate(stds)]
        return {"diagnostics": {"layers": layers}}

    # the last weighted layer is the softmax classifier: probabilities, left out of the depth profile
    depths, means = _depth_profile([record([1.0, 0.5, 0.1]), record([3.0, 1.5, 0.2])], "activation_std")
    assert depths == [1, 2] and means == [2.0, 1.0]
