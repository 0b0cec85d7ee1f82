"""experiments/he2015.py end to end at --quick size on the embedded MNIST subset (a few seconds)."""

import math
import pathlib

import pytest

from ._scripts import load, run_quick


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return run_quick(load("he2015"), "he2015", tmp_path_factory)[1]


def _run(result, depth, init_key, use_bias=True):
    return next(r for r in result["runs"] if (r["depth"], r["init_key"], r["use_bias"]) == (depth, init_key, use_bias))


def test_writes_figure_and_report(result):
    png, md = pathlib.Path(result["png"]), pathlib.Path(result["md"])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = md.read_text()
    assert "python experiments/he2015.py --quick" in text and "| depth |" in text and "## Discussion" in text
    assert result["data"] == "embedded"
    assert len(result["rows"]) == 5  # 22 and 30 layers under he and xavier, and the 30-layer ablation


def test_activation_std_decays_under_xavier_only(result):
    """Eq. (9)/(10): about 1 per layer under He, 2^(-1/2) per layer under Xavier, measured at initialization."""
    for depth in (22, 30):
        he = _run(result, depth, "he")["init"]["activation_std"]
        xavier = _run(result, depth, "xavier")["init"]["activation_std"]
        assert len(he) == len(xavier) == depth - 1
        assert 0.3 < he[-1] / he[0] < 3
        assert xavier[-1] / xavier[0] < 2.0 ** (-(depth - 2) / 4)  # decays at least half as fast (in log) as predicted
    deeper = _run(result, 30, "xavier")["init"]["activation_std"]
    shallower = _run(result, 22, "xavier")["init"]["activation_std"]
    assert deeper[-1] / deeper[0] < shallower[-1] / shallower[0]


def test_xavier_gradients_are_uniformly_small(result):
    he = _run(result, 30, "he")["init"]["kernel_grad_std"]
    xavier = _run(result, 30, "xavier")["init"]["kernel_grad_std"]
    assert max(xavier) < 1e-2 * min(he)


def test_he_learns_while_xavier_stays_at_chance(result):
    for depth in (22, 30):
        he, xavier = _run(result, depth, "he"), _run(result, depth, "xavier")
        assert he["escape_step"] is not None
        assert he["epoch_loss"][-1] < xavier["epoch_loss"][-1]
        assert abs(xavier["epoch_loss"][-1] - math.log(10)) < 0.05
    assert len(_run(result, 30, "he")["window_loss"]) == len(_run(result, 30, "he")["steps"]) > 4


def test_window_losses_average_to_the_epoch_loss(result):
    """The curve is rebuilt from fit's running means: its windows, weighted by samples, give each epoch's mean."""
    run = _run(result, 22, "he")
    spe, batch, n_train = run["steps_per_epoch"], 64, 1000
    first = [(s, v) for s, v in zip(run["steps"], run["window_loss"]) if s <= spe]
    bounds = [0] + [min(s * batch, n_train) for s, _ in first]
    mean = sum(v * (b - a) for (_, v), a, b in zip(first, bounds, bounds[1:])) / n_train
    assert mean == pytest.approx(run["epoch_loss"][0], rel=1e-6)
