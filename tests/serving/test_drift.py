"""neurona.serving.drift: the KS test against brute force and published Kolmogorov values, and the detector's
false-alarm rate and power on synthetic images (Rabanser et al. 2019's PCA + KS + Bonferroni, and the entropy test)."""

import json
import logging
import math
import subprocess
import sys
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import neurona.serving
from neurona.serving.drift import DriftDetector, DriftResult, ReferenceStatistics, entropy, kolmogorov_q, ks_2samp

# ---------------------------------------------------------------------------------------------------------- ks_2samp


def _brute_force_d(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return max(abs(np.mean(a <= x) - np.mean(b <= x)) for x in np.concatenate([a, b]))


samples = st.lists(st.integers(-5, 5), min_size=1, max_size=25)  # small integers: many ties within and across


@settings(max_examples=150, deadline=None)
@given(samples, samples)
def test_statistic_is_the_largest_cdf_gap_with_ties(a, b):
    d, p = ks_2samp(a, b)
    assert d == pytest.approx(_brute_force_d(a, b), abs=1e-12)
    assert 0.0 <= p <= 1.0


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=40), st.lists(st.floats(-1e6, 1e6), min_size=1,
                                                                          max_size=15))
def test_statistic_on_floats_of_unequal_sizes(a, b):
    assert ks_2samp(a, b)[0] == pytest.approx(_brute_force_d(a, b), abs=1e-12)


def test_hand_worked_samples():
    # a = {1, 2, 2, 3}, b = {2, 4}: at x = 3 F_a = 1, F_b = 1/2; at x = 1 F_a = 1/4, F_b = 0 -> D = 1/2
    d, p = ks_2samp([1, 2, 2, 3], [2, 4])
    assert d == 0.5
    ne = 4 * 2 / 6
    assert p == pytest.approx(kolmogorov_q((math.sqrt(ne) + 0.12 + 0.11 / math.sqrt(ne)) * 0.5), rel=1e-12)
    assert ks_2samp([3, 1, 2], [2, 3, 1]) == (0.0, 1.0)
    assert ks_2samp([0, 0, 0], [1, 1])[0] == 1.0


def test_kolmogorov_q_published_values():
    # the 5% and 1% critical values of the Kolmogorov distribution (Smirnov 1948 tables)
    assert kolmogorov_q(1.36) == pytest.approx(0.049, abs=1e-3)
    assert kolmogorov_q(1.63) == pytest.approx(0.010, abs=3e-4)
    assert kolmogorov_q(0.5) == pytest.approx(0.9639, abs=1e-4)
    assert kolmogorov_q(0.0) == 1.0 and kolmogorov_q(50.0) == 0.0


@pytest.mark.parametrize("lam", [0.3, 0.8, 1.18, 1.5, 2.5])
def test_kolmogorov_q_two_series_agree(lam):
    # the alternating series and the theta-function form are the same function: they meet at the 1.18 switch,
    # and here each is compared directly with the alternating series summed to 2000 terms
    series = 2 * sum((-1) ** (k - 1) * math.exp(-2 * k * k * lam * lam) for k in range(1, 2000))
    assert kolmogorov_q(lam) == pytest.approx(series, abs=1e-10)
    assert kolmogorov_q(1.18 - 1e-12) == pytest.approx(kolmogorov_q(1.18), abs=1e-9)


def test_null_rejection_rate():
    # no scipy or torch to compare with: under the null the p-values must reject about alpha of the time
    rng = np.random.default_rng(0)
    rejected = np.mean([ks_2samp(rng.normal(size=200), rng.normal(size=200))[1] < 0.05 for _ in range(2000)])
    assert 0.02 <= rejected <= 0.07


def test_power_against_a_shift():
    rng = np.random.default_rng(1)
    assert ks_2samp(rng.normal(size=200), rng.normal(0.5, 1, size=200))[1] < 1e-4


@pytest.mark.parametrize("a, message", [([], "non-empty"), ([[1.0, 2.0]], "1-D"), ([1.0, np.nan], "finite")])
def test_ks_bad_input(a, message):
    with pytest.raises(ValueError, match=message):
        ks_2samp(a, [1.0, 2.0])


def test_entropy_closed_forms():
    h = entropy([[0.25] * 4, [1.0, 0, 0, 0], [0.5, 0.5, 0, 0]])
    np.testing.assert_allclose(h, [math.log(4), 0.0, math.log(2)], atol=1e-12)


# ---------------------------------------------------------------------------------------------- synthetic images

D, LATENT, CLASSES = 784, 20, 10
_g = np.random.default_rng(42)
_yy, _xx = np.mgrid[0:28, 0:28]
MU = (0.6 * np.exp(-((_yy - 14) ** 2 + (_xx - 14) ** 2) / 60.0)).reshape(-1) + 0.1  # a bright blob, not symmetric
LOADINGS = _g.normal(size=(LATENT, D)) * 0.03  # 20 latent factors: correlated pixels
WEIGHTS = _g.normal(size=(D, CLASSES)) * 0.5  # a fixed random linear model


def images(n, rng):
    return np.clip(MU + rng.normal(size=(n, LATENT)) @ LOADINGS + 0.05 * rng.normal(size=(n, D)), 0, 1)


def softmax_model(x):
    z = (x - MU) @ WEIGHTS
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.fixture(scope="module")
def reference():
    x = images(10000, np.random.default_rng(7)).reshape(-1, 28, 28)
    return ReferenceStatistics.from_arrays(x, softmax_model(x.reshape(-1, D)))


def _verdict(reference, x, probabilities, **kwargs):
    detector = DriftDetector(reference, **kwargs)
    detector.update(x, probabilities)
    return detector.check()


def test_reference_shapes(reference):
    assert reference.n_components == 32 and reference.components.shape == (32, D)
    assert reference.projections.shape == (5000, 32) and reference.projections.dtype == np.float32
    assert reference.entropies.shape == (5000,) and reference.input_shape == (28, 28)
    gram = reference.components.astype(np.float64) @ reference.components.T
    np.testing.assert_allclose(gram, np.eye(32), atol=1e-5)  # orthonormal directions


def test_constant_pixels_give_no_component():
    # a 3-dimensional signal in 50 features: only 3 directions have variance, rounding noise must not be compared
    rng = np.random.default_rng(0)
    x = np.zeros((400, 50))
    x[:, :3] = rng.normal(size=(400, 3))
    p = np.full((400, 2), 0.5)
    assert ReferenceStatistics.from_arrays(x, p).n_components == 3


def test_false_alarm_rate_on_clean_windows(reference, caplog):
    rng = np.random.default_rng(3)
    alarms = []
    with caplog.at_level(logging.CRITICAL, logger="neurona.serving.drift"):
        for _ in range(100):
            x = images(200, rng)
            alarms.append(_verdict(reference, x, softmax_model(x)).drift)
    assert np.mean(alarms) <= 0.05


@pytest.mark.parametrize("shift", ["mean", "noise", "invert"])
def test_shifted_inputs_are_detected(reference, shift, caplog):
    rng = np.random.default_rng(4)
    transforms = {"mean": lambda x: x + 0.05, "noise": lambda x: x + 0.1 * rng.normal(size=x.shape),
                  "invert": lambda x: 1.0 - x}
    detected = []
    with caplog.at_level(logging.CRITICAL, logger="neurona.serving.drift"):
        for _ in range(20):
            x = transforms[shift](images(200, rng))
            result = _verdict(reference, x, softmax_model(x))
            detected.append(result.drift and result.feature_p_value < 0.05)
    assert np.mean(detected) >= 0.9


def test_entropy_only_change_is_caught_by_the_entropy_test(reference, caplog):
    rng = np.random.default_rng(5)
    results = []
    with caplog.at_level(logging.CRITICAL, logger="neurona.serving.drift"):
        for _ in range(20):
            results.append(_verdict(reference, images(200, rng), np.full((200, CLASSES), 1.0 / CLASSES)))
    assert all(r.drift and r.entropy_p_value < 1e-10 for r in results)
    assert np.mean([r.feature_p_value > 0.05 for r in results]) >= 0.8  # the inputs themselves did not move


def test_result_fields(reference):
    rng = np.random.default_rng(6)
    x = images(200, rng) + 0.05
    result = _verdict(reference, x, softmax_model(x))
    assert isinstance(result, DriftResult) and len(result.p_values) == 32 and result.window_size == 200
    assert result.feature_p_value == pytest.approx(min(1.0, 32 * min(result.p_values)))
    assert result.p_value == pytest.approx(min(1.0, 2 * min(result.feature_p_value, result.entropy_p_value)))
    assert result.score == pytest.approx(-math.log10(max(result.p_value, np.finfo(float).tiny)))
    assert result.score > -math.log10(result.alpha)
    json.dumps(result.to_dict())


def test_no_verdict_before_min_samples(reference):
    rng = np.random.default_rng(8)
    detector = DriftDetector(reference, window=200, min_samples=50)
    x = images(49, rng) + 0.5
    detector.update(x, softmax_model(x))
    result = detector.check()
    assert not result.drift and result.p_value is None and result.score is None and "49 of the 50" in result.reason
    x = images(1, rng) + 0.5
    detector.update(x, softmax_model(x))
    assert detector.check().drift


def test_window_slides_and_transitions_are_logged_once(reference, caplog):
    rng = np.random.default_rng(9)
    detector = DriftDetector(reference, window=200)
    shifted, clean = images(200, rng) + 0.1, images(300, rng)
    with caplog.at_level(logging.INFO, logger="neurona.serving.drift"):
        detector.update(clean[:200], softmax_model(clean[:200]))
        assert not detector.check().drift and not caplog.records
        detector.update(shifted, softmax_model(shifted))
        assert detector.check().drift and detector.check().drift and detector.drifting
        assert len(caplog.records) == 1 and caplog.records[0].levelno == logging.WARNING
        assert "Drift detected" in caplog.records[0].getMessage()
        detector.update(clean[200:], softmax_model(clean[200:]))  # 100 clean ones: half the window still shifted
        assert detector.check().drift and len(caplog.records) == 1
        detector.update(clean[:100], softmax_model(clean[:100]))
        assert len(detector) == 200 and not detector.check().drift and not detector.check().drift
    assert [r.getMessage().split(":")[0] for r in caplog.records] == ["Drift detected", "Drift ended"]


def test_round_trip_gives_identical_results(reference):
    restored = ReferenceStatistics.from_dict(json.loads(json.dumps(reference.to_dict())))
    for name in ("mean", "components", "projections", "entropies"):
        np.testing.assert_array_equal(getattr(restored, name), getattr(reference, name))
    rng = np.random.default_rng(10)
    for x in (images(200, rng), images(200, rng) * 0.9):
        p = softmax_model(x)
        assert _verdict(restored, x, p).to_dict() == _verdict(reference, x, p).to_dict()


def test_updates_from_several_threads(reference):
    detector = DriftDetector(reference, window=100)
    x = images(40, np.random.default_rng(11))
    p = softmax_model(x)
    errors = []

    def feed():
        try:
            for _ in range(5):
                detector.update(x, p)
                detector.check()
        except Exception as error:  # collected and checked in the main thread
            errors.append(error)

    threads = [threading.Thread(target=feed) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(detector) == 100


def test_bad_input(reference):
    detector = DriftDetector(reference)
    x = images(3, np.random.default_rng(12))
    p = softmax_model(x)
    cases = [
        (lambda: detector.update(x[:, :100], p), "784 values per example"),
        (lambda: detector.update(np.where(x > 0.5, np.nan, x), p), "finite"),
        (lambda: detector.update(x, p[:2]), "one row per input"),
        (lambda: detector.update(x, p[:, :5]), "10 classes"),
        (lambda: detector.update(x, p * 2), "summing to 1"),
        (lambda: detector.update(x[0], p[0]), "batch of shape"),
        (lambda: DriftDetector(reference, window=0), "window"),
        (lambda: DriftDetector(reference, alpha=1.5), "alpha"),
        (lambda: DriftDetector(reference, window=10, min_samples=20), "min_samples"),
        (lambda: ReferenceStatistics.from_arrays(x, p), "at least 4"),
        (lambda: ReferenceStatistics.from_arrays(images(10, np.random.default_rng(0)), p), "one row per input"),
        (lambda: ReferenceStatistics.from_arrays(np.ones((10, 5)), np.full((10, 2), 0.5)), "constant"),
        (lambda: ReferenceStatistics.from_arrays(x, p, components=0), "components"),
        (lambda: ReferenceStatistics.from_dict({"format": "other"}), "format"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError, match=message):
            call()
    with pytest.raises(TypeError, match="ReferenceStatistics"):
        DriftDetector({"mean": []})
    with pytest.raises(TypeError, match="numeric array"):
        detector.update(object(), p)


def test_importing_serving_does_not_import_flask():
    assert neurona.serving.drift.DriftDetector is DriftDetector
    code = "import sys, neurona.serving; assert 'flask' not in sys.modules, 'flask imported'"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
