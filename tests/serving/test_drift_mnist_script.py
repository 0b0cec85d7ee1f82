"""benchmarks/drift_mnist.py: the bilinear rotation against numpy.rot90 and the closed form of a linear image, the
shifts, the windows the detectors are fed, and a seconds-long run on the embedded MNIST subset (never ../shared)."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import neurona as nr
from neurona.models.data_arrays import split_validation as fit_split_validation
from neurona.serving.drift import DriftResult, ReferenceStatistics

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "drift_mnist.py"
_spec = importlib.util.spec_from_file_location("drift_mnist", SCRIPT)
tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tool)


# ---------------------------------------------------------------------------------------------------------- rotate
@pytest.mark.parametrize("size", [5, 6, 28])
def test_right_angles_equal_rot90_and_zero_is_the_identity(size):
    images = np.random.default_rng(size).random((3, size, size))
    assert np.array_equal(tool.rotate(images, 0), images)
    assert np.array_equal(tool.rotate(images, 360), images)
    for k in (1, 2, 3):
        assert np.array_equal(tool.rotate(images, 90 * k), np.rot90(images, k, axes=(1, 2)))
    assert np.array_equal(tool.rotate(images, -90), np.rot90(images, -1, axes=(1, 2)))
    channels = images[..., None]  # (n, H, W, 1), the model's layout
    assert np.array_equal(tool.rotate(channels, 90), np.rot90(channels, 1, axes=(1, 2)))


@settings(max_examples=60, deadline=None)
@given(st.floats(-180, 180), st.floats(-3, 3), st.floats(-3, 3), st.floats(-5, 5))
def test_bilinear_rotation_of_a_linear_image_is_exact_where_the_source_is_inside(degrees, a, b, c):
    # bilinear interpolation reproduces a linear function exactly, so the rotated image equals f at the source
    # point R(-theta) ((i, j) - centre) + centre wherever that point lies inside the image
    n = 15
    i, j = np.meshgrid(np.arange(n, dtype=float), np.arange(n, dtype=float), indexing="ij")
    image = (a * i + b * j + c)[None]
    t = np.deg2rad(degrees)
    centre = (n - 1) / 2
    src_i = centre + np.cos(t) * (i - centre) + np.sin(t) * (j - centre)
    src_j = centre - np.sin(t) * (i - centre) + np.cos(t) * (j - centre)
    inside = (src_i >= 0) & (src_i <= n - 1) & (src_j >= 0) & (src_j <= n - 1)
    rotated = tool.rotate(image, degrees)[0]
    np.testing.assert_allclose(rotated[inside], (a * src_i + b * src_j + c)[inside], atol=1e-9)


def test_points_from_outside_read_zero_and_the_centre_stays():
    ones = np.ones((1, 9, 9))
    rotated = tool.rotate(ones, 45)[0]
    assert rotated[0, 0] == rotated[0, -1] == rotated[-1, 0] == rotated[-1, -1] == 0.0  # corners come from outside
    assert rotated[4, 4] == 1.0
    counterclockwise = tool.rotate(np.pad(np.ones((1, 1, 1)), ((0, 0), (0, 4), (4, 0))), 90)[0]  # a top-right dot
    assert counterclockwise[0, 0] == 1.0 and counterclockwise.sum() == 1.0  # goes to the top left, as rot90


def test_rotate_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"\(n, H, W\)"):
        tool.rotate(np.zeros((28, 28)), 10)
    with pytest.raises(ValueError, match="degrees"):
        tool.rotate(np.zeros((1, 28, 28)), float("nan"))
    with pytest.raises(ValueError, match="degrees"):
        tool.rotate(np.zeros((1, 28, 28)), "15")


# ------------------------------------------------------------------------------------------------ noise, inversion
def test_noise_is_seeded_clipped_and_has_the_asked_spread():
    grey = np.full((200, 28, 28), 0.5, dtype=np.float32)
    a = tool.add_noise(grey, 0.1, np.random.default_rng(0))
    assert np.array_equal(a, tool.add_noise(grey, 0.1, np.random.default_rng(0)))
    assert a.dtype == np.float32
    assert abs(float(a.std()) - 0.1) < 0.002  # 5 sigma from the clip bounds: clipping is negligible
    wide = tool.add_noise(grey, 0.3, np.random.default_rng(1))
    assert wide.min() == 0.0 and wide.max() == 1.0
    assert np.array_equal(tool.add_noise(grey, 0.0, np.random.default_rng(2)), grey)
    assert np.array_equal(tool.invert(np.array([0.0, 0.25, 1.0])), [1.0, 0.75, 0.0])


def test_validation_rows_are_the_ones_fit_holds_out():
    for n in (10, 99, 60000):
        train, val = tool.split_validation(n)
        rows = np.arange(n)
        (fit_train, _, _), (fit_val, _, _) = fit_split_validation((rows, rows, None), 0.1)
        assert np.array_equal(train, fit_train) and np.array_equal(val, fit_val)


def test_preprocess_applies_the_recorded_steps_and_checks_the_range():
    class Saved:
        preprocessing = [nr.saving.preprocessing.rescale(255.0)]

    raw = np.array([[0, 51, 255] + [0] * 781], dtype=np.uint8)
    x = tool.preprocess(Saved(), raw)
    assert x.shape == (1, 28, 28, 1) and x.dtype == np.float32 and x[0, 0, 1, 0] == np.float32(51) / 255
    Saved.preprocessing = [nr.saving.preprocessing.rescale(1.0)]
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        tool.preprocess(Saved(), raw)


# --------------------------------------------------------------------------------------------------------- windows
def _synthetic(n=3000, d=16, shift=0.0, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)) + shift
    p = rng.dirichlet(np.ones(4), size=n)
    return x, p


def test_windows_flag_a_shift_and_rarely_clean_data():
    x_ref, p_ref = _synthetic(seed=0)
    reference = ReferenceStatistics.from_arrays(x_ref, p_ref, components=8)
    x, p = _synthetic(seed=1)
    clean = (x, p, np.arange(len(x)))
    with tool.quiet_drift_log():
        null = tool.window_p_values(reference, clean, None, 100, 60, np.random.default_rng(0))
        moved = tool.window_p_values(reference, (x + 0.5, p, clean[2]), clean, 100, 10, np.random.default_rng(0))
    assert null.shape == (60, 3) and np.all((0 <= null) & (null <= 1))
    assert tool.rates(null)["flagged"] <= 0.1
    assert tool.rates(moved) == {"flagged": 1.0, "inputs": 1.0, "entropy": 0.0, "n": 10}  # probabilities unchanged
    # the combined p-value is Bonferroni over the two tests
    np.testing.assert_allclose(null[:, 0], np.minimum(1.0, 2 * np.minimum(null[:, 1], null[:, 2])))


def test_rates_read_each_test_at_its_bonferroni_share():
    p = np.array([[0.01, 0.005, 0.9], [0.04, 0.5, 0.02], [0.2, 0.1, 0.3], [0.001, 0.0005, 0.0005]])
    assert tool.rates(p) == {"flagged": 0.75, "inputs": 0.5, "entropy": 0.5, "n": 4}
    assert tool.rates(p, alpha=0.005)["flagged"] == 0.25


def test_a_partly_shifted_window_mixes_distinct_images(monkeypatch):
    n = 400
    ids = np.arange(n, dtype=float)
    x = np.stack([ids, np.zeros(n)] + [np.random.default_rng(3).standard_normal(n) for _ in range(4)], axis=1)
    shifted = x.copy()
    shifted[:, 1] = 1.0  # marks a shifted request
    p = np.full((n, 2), 0.5)
    reference = ReferenceStatistics.from_arrays(x, p)
    seen = []
    monkeypatch.setattr(tool.DriftDetector, "update", lambda self, xs, ps: seen.append(np.array(xs)))
    monkeypatch.setattr(tool.DriftDetector, "check", lambda self: DriftResult(False, 1.0, 0.0, 1.0, 1.0))
    tool.window_p_values(reference, (shifted, p, np.arange(n)), (x, p, np.arange(n)), 51, 5,
                         np.random.default_rng(0), fraction=0.5)
    assert len(seen) == 5
    for window in seen:
        assert window.shape[0] == 51 and window[:, 1].sum() == 26  # round(0.5 * 51) shifted
        assert np.unique(window[:, 0]).size == 51  # no image twice, shifted and not
    with pytest.raises(ValueError, match="without replacement"):
        tool.window_p_values(reference, (x, p, np.arange(10)), None, 20, 1, np.random.default_rng(0))
    with pytest.raises(ValueError, match="clean data"):
        tool.window_p_values(reference, (x, p, np.arange(n)), None, 20, 1, np.random.default_rng(0), fraction=0.5)


# ------------------------------------------------------------------------------------------------------ end to end
def test_quick_run_on_the_embedded_subset_saves_a_model_that_reproduces_it(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("NEURONA_DATA_DIR", raising=False)
    quick = ["--quick", "--source", "embedded", "--train-subset", "600", "--test-subset", "500", "--windows", "20",
             "40", "--clean-windows", "8", "--shift-windows", "3", "--reference-draws", "1"]
    first = tool.main(quick + ["--save", str(tmp_path / "model"), "--output", str(tmp_path / "drift.md")])
    page = (tmp_path / "drift.md").read_text(encoding="utf-8")
    assert first["source"].kind == "embedded"
    assert "benchmarks/drift_mnist.py --quick --source embedded" in page
    for heading in ("## Windows flagged, %", "## Which test fired", "## False alarms on clean test data"):
        assert heading in page
    assert page.count("| rotation 45° |") == 3  # full and partial shift tables and the which-test table
    expected = {(ref, "clean", w, 1.0) for ref in ("validation", "training", "control") for w in (20, 40)}
    assert expected <= set(first["p_values"])
    assert all(v.shape == ((8, 3) if k[1] == "clean" else (3, 3)) for k, v in first["p_values"].items())
    loaded = tool.main(quick + ["--model", str(tmp_path / "model")])
    assert loaded["accuracy"] == first["accuracy"]
    assert first["p_values"].keys() == loaded["p_values"].keys()
    for key, values in first["p_values"].items():  # the same model and seed: the same windows and verdicts
        np.testing.assert_array_equal(values, loaded["p_values"][key])
    assert "Drift detected" not in capsys.readouterr().err


def test_quick_run_with_the_shuffled_and_longer_fitted_models(tmp_path, monkeypatch):
    monkeypatch.delenv("NEURONA_DATA_DIR", raising=False)
    results = tool.main(["--quick", "--source", "embedded", "--train-subset", "400", "--test-subset", "400",
                         "--windows", "40", "--fraction", "1", "--shuffled-model", "--long-epochs", "2",
                         "--reference-draws", "1", "--clean-windows", "4", "--shift-windows", "2",
                         "--output", str(tmp_path / "drift.md")])
    page = (tmp_path / "drift.md").read_text(encoding="utf-8")
    assert {"main", "shuffled", "long"} == set(results["facts"]) == set(results["accuracy"])
    for key, _, label in tool.REFERENCES:
        assert (key, "clean", 40, 1.0) in results["p_values"] and label in page
    assert "fitted for 2 epochs" in page and "## The same reference kind, other draws" in page
    assert "shifted, %" not in page  # --fraction 1: no partly shifted table
    assert set(results["draws"]) == {("training", 0, 40), ("control", 0, 40)}


def test_arguments_are_checked():
    with pytest.raises(SystemExit):
        tool.parse_args(["--windows", "1"])
    with pytest.raises(SystemExit):
        tool.parse_args(["--fraction", "0"])
    args = tool.parse_args(["--quick"])
    assert (args.epochs, args.windows, args.shuffled_model, args.long_epochs) == (1, [50, 100], False, 0)
    args = tool.parse_args([])
    assert (args.epochs, args.windows, args.shuffled_model, args.long_epochs) == (3, [100, 200, 500], True, 15)
    assert tool.parse_args(["--model", "somewhere"]).shuffled_model is False
