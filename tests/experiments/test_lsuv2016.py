"""The LSUV reproduction (experiments/lsuv2016.py) end to end at its --quick size, on the embedded MNIST subset."""


import pytest

from ._scripts import load, run_quick


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """One --quick run shared by the tests (about 5 s): NEURONA_DATA_DIR empty and offline, so the embedded data."""
    out, result = run_quick(load("lsuv2016"), "lsuv2016", tmp_path_factory)
    return out, result, {r["variant"]: r for r in result["results"]}


def test_writes_figure_and_markdown_with_command_and_tables(quick_run):
    out, result, _ = quick_run
    png, md = out / "lsuv2016.png", out / "lsuv2016.md"
    assert result["data"] == "embedded"
    assert png.stat().st_size > 10_000 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = md.read_text(encoding="utf-8")
    assert "python experiments/lsuv2016.py --quick" in text
    assert "| variant | paper reports" in text and "## Discussion" in text
    for variant in ("glorot_uniform", "he_normal", "lsuv", "glorot+bn"):
        assert f"| {variant} |" in text


def test_lsuv_brings_every_layer_to_unit_variance(quick_run):
    _, result, by = quick_run
    report = by["lsuv"]["lsuv"]
    depth = result["args"]["depth"]
    assert report["converged"] and len(report["layers"]) == depth + 1
    assert all(abs(layer["final_variance"] - 1.0) < 0.1 for layer in report["layers"])
    # measured again on images LSUV did not see: still about 1 at every depth
    assert all(0.5 < v < 2.0 for v in by["lsuv"]["variance"])
    assert by["lsuv"]["lsuv_seconds"] > 0


def test_glorot_signal_vanishes_with_depth_while_he_and_bn_keep_it(quick_run):
    _, _, by = quick_run
    glorot, he, bn = by["glorot_uniform"]["variance"], by["he_normal"]["variance"], by["glorot+bn"]["variance"]
    # glorot's Var(W) = 1/n with a ReLU halves the variance at each layer: 30 layers take it down by ~1e-9
    assert glorot[-2] < 1e-5 * glorot[0]
    assert he[-2] > 1e3 * glorot[-2]
    assert all(abs(v - 1.0) < 0.05 for v in bn[:-1])  # batch statistics: every ReLU input is normalized


def test_lsuv_learns_where_glorot_stalls(quick_run):
    _, result, by = quick_run
    for r in by.values():
        assert len(r["accuracy"]) == result["args"]["epochs"] + 1 and not r["diverged"]
        assert all(s > 0 for s in r["seconds"])
    assert result["step_seconds"]["plain"] > 0 and result["step_seconds"]["bn"] > 0
    assert max(by["glorot_uniform"]["accuracy"]) < 0.2  # chance is 0.1
    assert by["lsuv"]["accuracy"][-1] > by["glorot_uniform"]["accuracy"][-1] + 0.05


def test_rejects_a_non_positive_size(tmp_path, capsys):
    with pytest.raises(SystemExit):
        load("lsuv2016").main(["--quick", "--depth", "0", "--out", str(tmp_path), "--data", "embedded"])
    assert "--depth must be a positive integer" in capsys.readouterr().err
