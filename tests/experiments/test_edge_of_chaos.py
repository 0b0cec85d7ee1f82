"""experiments/edge_of_chaos.py end to end at --quick size on the embedded MNIST subset (a few seconds).

The shapes --quick can show: the mean-field theory (q*, chi_1, c*, xi_c) has its phases where Schoenholz et al.
2017 put them, with xi_c largest at the edge of chaos (sigma_w^2 ~ 1.76 for sigma_b^2 = 0.05); shallow networks
train at every sigma_w^2, and at depth 40 the network at the edge of chaos trains better than the ordered and the
chaotic ones.
"""

import math
import pathlib

import pytest

from ._scripts import load, run_quick


@pytest.fixture(scope="module")
def script():
    return load("edge_of_chaos")


@pytest.fixture(scope="module")
def result(script, tmp_path_factory):
    return run_quick(script, "edge_of_chaos", tmp_path_factory)[1]


def test_writes_figure_and_report(result):
    assert pathlib.Path(result["png"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = pathlib.Path(result["md"]).read_text()
    assert "python experiments/edge_of_chaos.py --quick --out " in text
    assert "| sigma_w^2 | q* | chi_1 | c* | xi_c | paper: trainable to ~6 xi_c |" in text
    assert "## Measured test accuracy" in text and "## Discussion" in text
    assert result["depths"] == [3, 40] and result["sigma_w2"] == [1.0, 1.75, 4.0]


def test_theory_has_the_papers_phases(result):
    assert result["critical_sigma_w2"] == pytest.approx(1.76, abs=0.01)
    ordered, edge, chaotic = result["theory"]
    assert ordered["chi_1"] < 1 and ordered["c_star"] == 1.0 and ordered["chi_c"] == ordered["chi_1"]
    assert chaotic["chi_1"] > 1 and 0 < chaotic["c_star"] < 1 and chaotic["chi_c"] < 1
    assert edge["xi_c"] > 10 * max(ordered["xi_c"], chaotic["xi_c"])
    six = [r["six_xi_c"] for r in result["rows"]]
    assert six == pytest.approx([6 * t["xi_c"] for t in result["theory"]])


def test_correlation_map_is_consistent_with_neuronas_length_map(script):
    single, pair = script._rules()
    for sigma_w2 in (1.0, 2.5, 4.0):
        theory = script.depth_scale(sigma_w2, 0.05, (single, pair))
        q = theory["q_star"]
        # c = 1 is a fixed point exactly when q* is the length map's fixed point (neurona.diagnostics.mean_field)
        assert script.correlation_map(1.0, q, sigma_w2, 0.05, pair) == pytest.approx(1.0, abs=1e-10)
        assert script.correlation_slope(1.0, q, sigma_w2, pair) == pytest.approx(theory["chi_1"], rel=1e-10)
        if theory["c_star"] < 1:
            c = theory["c_star"]
            assert script.correlation_map(c, q, sigma_w2, 0.05, pair) == pytest.approx(c, abs=1e-9)
            assert theory["xi_c"] == pytest.approx(-1 / math.log(theory["chi_c"]))


def test_shallow_trains_everywhere_and_depth_favours_the_edge(result):
    shallow, deep = result["test_accuracy"]
    assert min(shallow) > 0.5  # chance is 0.1
    ordered, edge, chaotic = deep
    assert edge > ordered + 0.05 and edge > chaotic + 0.05
    assert max(deep) < max(shallow)


def test_rejects_a_zero_bias_variance(script, tmp_path):
    with pytest.raises(SystemExit):
        script.main(["--quick", "--sigma-b2", "0", "--out", tmp_path])
