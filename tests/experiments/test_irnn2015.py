"""experiments/irnn2015.py: the adding problem's data against its closed forms, and the --quick run end to end."""

import pathlib

import numpy as np
import pytest

from ._scripts import load

MODULE = load("irnn2015")


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return MODULE.main(["--quick", "--out", str(tmp_path_factory.mktemp("irnn2015"))])


def _run(result, kind):
    return next(r for r in result["results"] if r["kind"] == kind)


def test_adding_problem_has_one_marker_per_half_and_sums_the_marked_values():
    x, y = MODULE.adding_problem(500, 9, np.random.default_rng(0))
    assert x.shape == (500, 9, 2) and y.shape == (500, 1) and x.dtype == y.dtype == np.float32
    markers = x[:, :, 1]
    assert set(np.unique(markers)) == {0.0, 1.0}
    assert (markers[:, :4].sum(1) == 1).all() and (markers[:, 4:].sum(1) == 1).all()
    np.testing.assert_allclose(y[:, 0], (x[:, :, 0] * markers).sum(1), rtol=1e-6)
    assert ((x[:, :, 0] >= 0) & (x[:, :, 0] <= 1)).all()
    with pytest.raises(ValueError, match="at least 2 steps"):
        MODULE.adding_problem(3, 1, np.random.default_rng(0))


def test_predicting_one_scores_the_baseline_variance():
    """E[(u1 + u2 - 1)^2] = Var(u1 + u2) = 1/6 for independent U(0, 1) values: the 0.167 to beat."""
    _, y = MODULE.adding_problem(200_000, 6, np.random.default_rng(1))
    assert abs(float(np.mean((y - 1.0) ** 2)) - MODULE.BASELINE_MSE) < 3e-3


def test_the_three_networks_are_initialized_as_the_paper_says():
    irnn = MODULE.build("irnn", 10, 8, seed=0).layers[0]
    np.testing.assert_array_equal(irnn.recurrent_kernel.numpy(), np.eye(8))
    assert np.abs(irnn.kernel.numpy()).max() < 0.01 and not irnn.bias.numpy().any()
    assert irnn.activation.__name__ == "relu"
    tanh = MODULE.build("tanh", 10, 8, seed=0).layers[0]
    assert np.abs(tanh.recurrent_kernel.numpy()).max() < 0.01 and tanh.activation.__name__ == "tanh"
    with pytest.raises(ValueError, match="unknown model kind 'gru'"):
        MODULE.build("gru", 10, 8, seed=0)


def test_quick_run_writes_its_report_and_figure(result):
    png, md = pathlib.Path(result["png"]), pathlib.Path(result["md"])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = md.read_text()
    assert "python experiments/irnn2015.py --quick" in text and "| T " in text and "## Discussion" in text
    assert [r["kind"] for r in result["results"]] == list(MODULE.KINDS)


def test_at_initialization_the_identity_carries_the_gradient_back_and_small_weights_lose_it(result):
    irnn, tanh = _run(result, "irnn")["through_time"], _run(result, "tanh")["through_time"]
    assert len(irnn["per_step_rms"]) == 20
    assert irnn["first_last_ratio"] > 0.05  # relu(identity) passes it back; only the inactive units cut it
    assert tanh["first_last_ratio"] < 1e-20  # a 0.001-scaled recurrence shrinks it ~1e-3 per step


def test_quick_lstm_solves_a_short_adding_problem_and_the_tanh_rnn_does_not(result):
    lstm, tanh = _run(result, "lstm"), _run(result, "tanh")
    assert lstm["final_mse"] < MODULE.SOLVED_MSE and lstm["solved_step"] is not None
    assert tanh["final_mse"] > 0.8 * MODULE.BASELINE_MSE
    assert lstm["test_mse"][0] > 0.5 * MODULE.BASELINE_MSE  # it started from no better than the baseline


@pytest.mark.parametrize("argv, message", [(["--models", "gru"], "--models must name"),
                                           (["--lengths", "a"], "--lengths must be"),
                                           (["--steps", "0"], "--steps must be >= 1")])
def test_bad_arguments_are_refused_before_any_training(argv, message, capsys, tmp_path):
    with pytest.raises(SystemExit):
        MODULE.main(argv + ["--out", str(tmp_path / "out")])
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
