"""RandomUniform, RandomNormal, TruncatedNormal: moments, supports and argument checks."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurona.backend import asnumpy
from neurona.initializers import TRUNCATED_NORMAL_STDDEV, RandomNormal, RandomUniform, TruncatedNormal
from neurona.initializers.random import truncated_standard_normal

# Dense and conv kernels, each with at least 40k entries so the moment checks are sharp.
SHAPES = [(512, 256), (5, 40, 200), (3, 3, 64, 128), (2, 3, 3, 32, 64)]


@pytest.mark.parametrize("shape", SHAPES)
def test_random_uniform_moments_and_support(shape, moments):
    lo, hi = -0.3, 0.5
    w = RandomUniform(lo, hi, seed=1)(shape, dtype="float64")
    moments.check(w, (lo + hi) / 2, (hi - lo) ** 2 / 12, moments.uniform_kurtosis)
    moments.check_bound(w, (lo + hi) / 2, (hi - lo) / 2, density_at_bound=1.0)
    assert w.min() >= lo and w.max() < hi


@pytest.mark.parametrize("shape", SHAPES)
def test_random_normal_moments(shape, moments):
    w = RandomNormal(mean=0.2, stddev=0.1, seed=2)(shape, dtype="float64")
    moments.check(w, 0.2, 0.01, moments.normal_kurtosis)
    # Untruncated: about 0.27% of a normal lies beyond 3 stddev; truncation would leave none.
    assert (np.abs(w - 0.2) > 0.3).mean() > 0.001


@pytest.mark.parametrize("shape", SHAPES)
def test_truncated_normal_moments_and_support(shape, moments):
    mean, stddev = -0.1, 0.2
    w = TruncatedNormal(mean, stddev, seed=3)(shape, dtype="float64")
    # stddev is the parameter before truncation; the draw's own stddev is 0.8796 of it (Keras semantics).
    moments.check(w, mean, (stddev * TRUNCATED_NORMAL_STDDEV) ** 2, moments.truncated_kurtosis)
    moments.check_bound(w, mean, 2 * stddev, density_at_bound=0.2)


def test_truncation_constant_matches_closed_form(moments):
    std, _ = moments.truncated_normal_moments(2.0)
    assert TRUNCATED_NORMAL_STDDEV == pytest.approx(std, rel=1e-14)


def test_truncated_draws_are_redrawn_not_clipped():
    # Rejection keeps the normal's shape inside [-2, 2]: P(|z| < 1 | |z| <= 2) = erf(1/sqrt2) / erf(2/sqrt2) = 0.7153.
    # Clipping would give 0.6827 and an atom at +-2; the check has 6 standard errors of room.
    z = truncated_standard_normal(np.random.default_rng(0), (400_000,))
    p = math.erf(1 / math.sqrt(2)) / math.erf(2 / math.sqrt(2))
    assert abs((np.abs(z) < 1).mean() - p) < 6 * math.sqrt(p * (1 - p) / z.size)
    assert np.abs(z).max() <= 2.0 and (np.abs(z) == 2.0).sum() == 0


def test_truncated_standard_normal_keeps_shape_and_handles_empty():
    rng = np.random.default_rng(0)
    assert truncated_standard_normal(rng, (3, 4, 5)).shape == (3, 4, 5)
    assert truncated_standard_normal(rng, (0, 4)).shape == (0, 4)


@settings(max_examples=20, deadline=None, derandomize=True)
@given(mean=st.floats(-2, 2), stddev=st.floats(1e-3, 3), seed=st.integers(0, 2**31))
def test_normal_family_moments_for_any_parameters(mean, stddev, seed, moments):
    shape = (160, 125)
    normal = RandomNormal(mean, stddev, seed=seed)(shape, dtype="float64")
    moments.check(normal, mean, stddev**2, moments.normal_kurtosis)
    truncated = TruncatedNormal(mean, stddev, seed=seed)(shape, dtype="float64")
    moments.check(truncated, mean, (stddev * TRUNCATED_NORMAL_STDDEV) ** 2, moments.truncated_kurtosis)
    assert np.abs(truncated - mean).max() <= 2 * stddev * (1 + 1e-12)


@settings(max_examples=20, deadline=None, derandomize=True)
@given(lo=st.floats(-5, 5), width=st.floats(1e-3, 5), seed=st.integers(0, 2**31))
def test_uniform_moments_for_any_bounds(lo, width, seed, moments):
    hi = lo + width
    w = RandomUniform(lo, hi, seed=seed)((200, 100), dtype="float64")
    moments.check(w, (lo + hi) / 2, width**2 / 12, moments.uniform_kurtosis)
    assert w.min() >= lo and w.max() <= hi


def test_zero_stddev_gives_the_mean():
    np.testing.assert_array_equal(asnumpy(RandomNormal(0.5, 0.0, seed=0)((3, 3))), np.full((3, 3), 0.5, np.float32))
    np.testing.assert_array_equal(asnumpy(TruncatedNormal(0.5, 0.0, seed=0)((3,))), np.full(3, 0.5, np.float32))


def test_configs_hold_the_constructor_arguments():
    assert RandomUniform(-1, 2, seed=3).get_config() == {"minval": -1.0, "maxval": 2.0, "seed": 3}
    assert RandomNormal(0.5, 0.1).get_config() == {"mean": 0.5, "stddev": 0.1, "seed": None}
    assert repr(TruncatedNormal(stddev=0.02, seed=1)) == "TruncatedNormal(mean=0.0, stddev=0.02, seed=1)"


@pytest.mark.parametrize("lo, hi", [(0.1, 0.1), (0.5, -0.5)])
def test_uniform_needs_minval_below_maxval(lo, hi):
    with pytest.raises(ValueError, match=f"RandomUniform needs minval < maxval, got minval={lo}, maxval={hi}"):
        RandomUniform(lo, hi)


@pytest.mark.parametrize("cls", [RandomNormal, TruncatedNormal])
def test_negative_stddev_is_rejected(cls):
    with pytest.raises(ValueError, match=f"{cls.__name__} stddev must be >= 0.0, got -0.1"):
        cls(stddev=-0.1)


@pytest.mark.parametrize("kwargs, what", [
    ({"mean": "0"}, "RandomNormal mean"), ({"stddev": None}, "RandomNormal stddev"),
])
def test_non_numeric_arguments_are_rejected(kwargs, what):
    with pytest.raises(TypeError, match=f"{what} must be a real number"):
        RandomNormal(**kwargs)


def test_uniform_bounds_must_be_finite():
    with pytest.raises(ValueError, match="RandomUniform maxval must be finite, got inf"):
        RandomUniform(0.0, float("inf"))
