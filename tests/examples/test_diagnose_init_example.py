"""examples/diagnose_init.py runs, and its verdicts are the ones the theory predicts (on the embedded subset)."""

import runpy
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "diagnose_init.py"

pytestmark = pytest.mark.usefixtures("embedded_mnist_only")


def test_diagnose_init_example_reports_and_plots(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    main = runpy.run_path(str(EXAMPLE), run_name="example")["main"]
    plot = tmp_path / "compare.png"
    reports = main(["--depth", "8", "--width", "64", "--batch", "128", "--plot", str(plot)])
    out = capsys.readouterr().out
    assert "| tanh | glorot_uniform |" in out and "q mean-field" in out
    for activation in ("tanh", "relu"):
        assert "symmetric units" in reports[(activation, "zeros")].kinds()
        assert "vanishing" in reports[(activation, "random_normal(0.01)")].kinds()
        lsuv = reports[(activation, "lsuv")]
        hidden = [r for r in lsuv.layers[:-1]]
        assert all(abs(r["preactivation_std"] ** 2 - 1.0) < 0.1 for r in hidden)  # LSUV's target, within tol
        assert lsuv.network["mean_field"] is True
    assert reports[("tanh", "glorot_uniform")].healthy
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
