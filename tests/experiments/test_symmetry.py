"""experiments/symmetry.py end to end at --quick size on the embedded MNIST subset (a few seconds).

The shapes --quick can show: zeros ends at the class prior with the hidden kernels still exactly zero; constant
initializations keep one distinct unit per hidden layer at every epoch (bit for bit where BLAS rounds identical
columns alike, within float rounding of the weights' scale where it does not); he_normal keeps all 128
units distinct and learns far beyond the prior; fit's symmetry check warns for the symmetric ones only.
"""

import pathlib

import pytest

from ._scripts import load, run_quick


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return run_quick(load("symmetry"), "symmetry", tmp_path_factory)[1]


def _run(result, init):
    return next(r for r in result["runs"] if r["init"] == init)


def test_writes_figure_and_report(result):
    assert pathlib.Path(result["figure"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = pathlib.Path(result["report"]).read_text()
    assert "python experiments/symmetry.py --quick --out " in text
    assert "| act | init |" in text and "## Discussion" in text
    assert result["source"].startswith("embedded MNIST, 1,000 train / 500 test")
    assert [r["init"] for r in result["runs"]] == ["zeros", "constant:0.1", "constant:0.001", "he_normal",
                                                   "glorot_uniform@1"]


def test_zeros_learns_only_the_class_prior(result):
    run = _run(result, "zeros")
    assert run["test_accuracy"][-1] == pytest.approx(result["prior_accuracy"], abs=1e-9)
    assert [d["rank"] for d in run["final_units"]] == [0, 0]  # no hidden kernel ever moved
    assert run["fit_warned"]


@pytest.mark.parametrize("init", ["constant:0.1", "constant:0.001"])
def test_constant_hidden_units_stay_identical(result, init):
    run = _run(result, init)
    assert all(counts == [1, 1] for counts in run["distinct_per_epoch"])
    random = _run(result, "he_normal")
    for constant, distinct in zip(run["final_units"], random["final_units"]):
        # rounding at most: ten thousand times less than how far apart random units are
        assert constant["spread"] < 1e-4 * distinct["spread"]
    assert run["fit_warned"]


def test_random_units_stay_distinct_and_learn(result):
    run = _run(result, "he_normal")
    assert all(counts == [128, 128] for counts in run["distinct_per_epoch"])
    assert [d["rank"] for d in run["final_units"]] == [128, 128]
    assert run["test_accuracy"][-1] > result["prior_accuracy"] + 0.3
    assert not run["fit_warned"]


def test_bad_initializer_spec_is_a_usage_error(capsys):
    with pytest.raises(SystemExit):
        load("symmetry").main(["--quick", "--inits", "constant"])
    assert "constant needs its value" in capsys.readouterr().err
