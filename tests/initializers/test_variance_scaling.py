"""VarianceScaling and its named variants: Var(W) = scale / n for every mode, distribution and kernel layout."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurona import initializers
from neurona.initializers import TRUNCATED_NORMAL_STDDEV, VarianceScaling

KURTOSIS = {"uniform": "uniform_kurtosis", "untruncated_normal": "normal_kurtosis",
            "truncated_normal": "truncated_kurtosis"}

# (shape, fan_in, fan_out) computed by hand, channels_last kernel layout.
KERNELS = [
    ((400, 300), 400, 300),              # dense
    ((5, 64, 128), 320, 640),            # conv1d: 5*64, 5*128
    ((3, 3, 32, 96), 288, 864),          # conv2d: 9*32, 9*96
    ((3, 3, 3, 16, 40), 432, 1080),      # conv3d: 27*16, 27*40
]
N_BY_MODE = {"fan_in": lambda i, o: i, "fan_out": lambda i, o: o, "fan_avg": lambda i, o: (i + o) / 2}


def _draws(init_factory, shape, at_least=100_000):
    """Concatenated float64 draws from seeds 0, 1, ... until there are ``at_least`` values."""
    calls = math.ceil(at_least / math.prod(shape))
    return np.concatenate([init_factory(seed)(shape, dtype="float64").ravel() for seed in range(calls)])


def _check_distribution(x, variance, distribution, moments):
    """Moments and support of zero-mean draws that should have ``variance``."""
    moments.check(x, 0.0, variance, getattr(moments, KURTOSIS[distribution]))
    if distribution == "uniform":
        moments.check_bound(x, 0.0, math.sqrt(3 * variance), density_at_bound=1.0)
    elif distribution == "truncated_normal":
        moments.check_bound(x, 0.0, 2 * math.sqrt(variance) / TRUNCATED_NORMAL_STDDEV, density_at_bound=0.2)
    else:  # beyond 3 stddev holds 0.27% of an untruncated normal
        assert (np.abs(x) > 3 * math.sqrt(variance)).mean() > 0.001


@pytest.mark.parametrize("distribution", ["truncated_normal", "untruncated_normal", "uniform"])
@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg"])
@pytest.mark.parametrize("shape, fan_in, fan_out", KERNELS, ids=["dense", "conv1d", "conv2d", "conv3d"])
def test_variance_is_scale_over_fan(shape, fan_in, fan_out, mode, distribution, moments):
    scale = 1.7
    variance = scale / N_BY_MODE[mode](fan_in, fan_out)
    x = _draws(lambda s: VarianceScaling(scale, mode, distribution, seed=s), shape)
    _check_distribution(x, variance, distribution, moments)


def test_truncated_normal_variance_is_exactly_the_target(moments):
    # One large sample: the 0.8796 correction must bring the truncated variance to scale / fan_in = 2 / 144.
    # Without it the ratio would be 0.774, 90 standard errors away.
    x = VarianceScaling(2.0, "fan_in", "truncated_normal", seed=0)((3, 3, 16, 20_000), dtype="float64")
    ratio = x.var() / (2.0 / 144)
    assert abs(ratio - 1) < 6 * math.sqrt((moments.truncated_kurtosis - 1) / x.size)


NAMED = [
    # class, variance as a function of (fan_in, fan_out), distribution, equivalent VarianceScaling arguments
    (initializers.LecunNormal, lambda i, o: 1 / i, "truncated_normal", (1.0, "fan_in")),
    (initializers.LecunUniform, lambda i, o: 1 / i, "uniform", (1.0, "fan_in")),
    (initializers.GlorotNormal, lambda i, o: 2 / (i + o), "truncated_normal", (1.0, "fan_avg")),
    (initializers.GlorotUniform, lambda i, o: 2 / (i + o), "uniform", (1.0, "fan_avg")),
    (initializers.HeNormal, lambda i, o: 2 / i, "truncated_normal", (2.0, "fan_in")),
    (initializers.HeUniform, lambda i, o: 2 / i, "uniform", (2.0, "fan_in")),
]


@pytest.mark.parametrize("cls, variance, distribution, _", NAMED, ids=[n[0].__name__ for n in NAMED])
@pytest.mark.parametrize("shape, fan_in, fan_out", KERNELS, ids=["dense", "conv1d", "conv2d", "conv3d"])
def test_named_initializer_statistics(cls, variance, distribution, _, shape, fan_in, fan_out, moments):
    x = _draws(lambda s: cls(seed=s), shape)
    _check_distribution(x, variance(fan_in, fan_out), distribution, moments)


@pytest.mark.parametrize("cls, _, distribution, args", NAMED, ids=[n[0].__name__ for n in NAMED])
def test_named_initializer_is_variance_scaling(cls, _, distribution, args):
    scale, mode = args
    shape = (3, 3, 8, 16)
    np.testing.assert_array_equal(cls(seed=9)(shape), VarianceScaling(scale, mode, distribution, seed=9)(shape))
    assert isinstance(cls(), VarianceScaling)
    assert cls(seed=2).get_config() == {"seed": 2}


def test_he_normal_hand_computed_case():
    # 784 -> 128 dense kernel: Var = 2 / 784, values within 2 * sqrt(2 / 784) / 0.8796 = 0.1148.
    w = initializers.HeNormal(seed=0)((784, 128), dtype="float64")
    assert np.abs(w).max() <= 2 * math.sqrt(2 / 784) / 0.87962566103423978 + 1e-15
    assert abs(w.var() / (2 / 784) - 1) < 0.02


def test_glorot_uniform_hand_computed_limit():
    # limit = sqrt(6 / (fan_in + fan_out)) = sqrt(6 / (3*3*10 + 3*3*20)) = sqrt(6 / 270)
    w = initializers.GlorotUniform(seed=0)((3, 3, 10, 20), dtype="float64")
    limit = math.sqrt(6 / 270)
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.99 * limit


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    kernel=st.lists(st.integers(1, 5), min_size=0, max_size=3),
    channels=st.tuples(st.integers(1, 96), st.integers(1, 96)),
    scale=st.floats(0.1, 10),
    mode=st.sampled_from(["fan_in", "fan_out", "fan_avg"]),
    distribution=st.sampled_from(["truncated_normal", "untruncated_normal", "uniform"]),
)
def test_variance_scaling_property(kernel, channels, scale, mode, distribution, moments):
    shape = (*kernel, *channels)
    receptive = math.prod(kernel)
    fan_in, fan_out = receptive * channels[0], receptive * channels[1]
    variance = scale / N_BY_MODE[mode](fan_in, fan_out)
    x = _draws(lambda s: VarianceScaling(scale, mode, distribution, seed=s), shape, at_least=20_000)
    _check_distribution(x, variance, distribution, moments)


def test_normal_is_accepted_as_truncated_normal():
    init = VarianceScaling(distribution="normal", seed=1)
    assert init.distribution == "truncated_normal"
    np.testing.assert_array_equal(init((20, 10)), VarianceScaling(distribution="truncated_normal", seed=1)((20, 10)))


def test_mode_and_distribution_are_case_insensitive():
    init = VarianceScaling(mode="FAN_AVG", distribution="Uniform")
    assert (init.mode, init.distribution) == ("fan_avg", "uniform")


def test_vector_and_scalar_shapes_use_documented_fans():
    # (n,) has fan_in = fan_out = n; () has fans 1 (so the variance is the scale itself).
    assert VarianceScaling(3.0).variance((12,)) == 3.0 / 12
    assert VarianceScaling(3.0).variance(()) == 3.0
    assert VarianceScaling(3.0).variance((0, 5)) == 3.0  # empty kernels: n taken as at least 1
    assert VarianceScaling(3.0)((0, 5)).shape == (0, 5)


def test_config_and_repr():
    init = VarianceScaling(0.5, "fan_out", "uniform", seed=3)
    assert init.get_config() == {"scale": 0.5, "mode": "fan_out", "distribution": "uniform", "seed": 3}
    assert repr(init) == "VarianceScaling(scale=0.5, mode='fan_out', distribution='uniform', seed=3)"
    assert repr(initializers.HeUniform(seed=1)) == "HeUniform(seed=1)"


@pytest.mark.parametrize("scale", [0.0, -1.0])
def test_scale_must_be_positive(scale):
    with pytest.raises(ValueError, match=f"VarianceScaling scale must be > 0.0, got {scale}"):
        VarianceScaling(scale)


def test_unknown_mode_lists_valid_modes():
    with pytest.raises(ValueError, match="mode must be one of 'fan_in', 'fan_out', 'fan_avg'; got 'fan_sum'"):
        VarianceScaling(mode="fan_sum")


def test_unknown_distribution_lists_valid_ones():
    with pytest.raises(ValueError, match="distribution must be one of 'truncated_normal', 'untruncated_normal', "
                                         "'uniform'; got 'laplace'"):
        VarianceScaling(distribution="laplace")


def test_named_variants_take_only_a_seed():
    with pytest.raises(TypeError):
        initializers.HeNormal(scale=3.0)
