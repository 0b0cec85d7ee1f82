"""``neurona lab compare`` and ``neurona lab reproduce`` through ``neurona.cli.main``."""

import json

import pytest

from neurona.cli.main import main
from neurona.lab import experiments


def test_compare_end_to_end_writes_the_command_into_the_report(tmp_path, capsys):
    out = tmp_path / "grid"
    args = ["lab", "compare", "--init", "he_normal", "lecun_normal", "--seeds", "3", "--depth", "1", "--width",
            "8", "--epochs", "1", "--data", "embedded", "--max-train", "128", "--max-val", "64", "--jobs", "1",
            "--lr", "0.05", "--no-plots", "--quiet", "--out", str(out)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "2 runs; report:" in printed and "1. " in printed
    report = (out / "report.md").read_text()
    assert "neurona lab compare --init he_normal lecun_normal --seeds 3" in report and "--lr 0.05" in report
    runs = json.loads((out / "results.json").read_text())["runs"]
    assert [r["id"] for r in runs] == ["he_normal/seed3", "lecun_normal/seed3"]
    assert main(args) == 2  # the folder holds this comparison: --resume is needed
    assert "pass --resume" in capsys.readouterr().err
    assert main(args + ["--resume"]) == 0  # nothing left to run


@pytest.mark.parametrize("args, match", [
    (["--init", "he_nromal"], "unknown initializer 'he_nromal'"),
    (["--model", "mlp"], "unknown model 'mlp'"),
    (["--model", "no_such_module_xyz:build"], "cannot import module"),
    (["--activation", "swishy"], "unknown activation"),
    (["--address", "10.0.0.5:6379"], "needs executor='ray'"),
    (["--executor", "ray", "--address", "head-node"], "address must be"),
])
def test_compare_bad_values_exit_2_with_one_line(tmp_path, capsys, args, match):
    assert main(["lab", "compare", "--data", "embedded", "--out", str(tmp_path / "o"), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("neurona: error: ") and match in err and err.count("\n") == 1


@pytest.mark.parametrize("args", [["--epochs", "0"], ["--executor", "dask"]])
def test_compare_flag_values_out_of_range_are_argparse_errors(capsys, args):
    with pytest.raises(SystemExit) as exit_info:
        main(["lab", "compare", *args])
    assert exit_info.value.code == 2 and args[0] in capsys.readouterr().err


def test_reproduce_runs_the_scripts_main_with_the_rest_of_the_line(tmp_path, monkeypatch, capsys):
    (tmp_path / "toy.py").write_text("def main(argv=None):\n    print('toy got', argv)\n    return {'argv': argv}\n")
    (tmp_path / "_private.py").write_text("")
    monkeypatch.setattr(experiments, "experiments_dir", lambda: tmp_path)
    assert main(["lab", "reproduce", "toy", "--full", "--seed", "2"]) == 0
    assert "toy got ['--full', '--seed', '2']" in capsys.readouterr().out
    assert experiments.reproduce("toy", ["--quick"], folder=tmp_path) == {"argv": ["--quick"]}
    assert main(["lab", "reproduce", "nope"]) == 2
    assert "unknown experiment 'nope'" in capsys.readouterr().err and "toy" in experiments.available(tmp_path)
    assert "_private" not in experiments.available(tmp_path)


def test_reproduce_without_the_experiments_folder_says_why(tmp_path, capsys):
    with pytest.raises(ValueError, match="no experiments folder"):
        experiments.reproduce("he2015", folder=tmp_path / "missing")
    assert experiments.experiments_dir().name == "experiments"
