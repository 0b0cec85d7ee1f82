"""expected_std / expected_mean: every initializer's theoretical moments, against large draws and closed forms."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurona import initializers
from neurona.backend import asnumpy
from neurona.initializers import (
    Constant,
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    Identity,
    Initializer,
    LecunNormal,
    LecunUniform,
    Ones,
    Orthogonal,
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
    VarianceScaling,
    Zeros,
)
from neurona.initializers.advice import expected_std

DENSE, CONV2D, CONV1D = (400, 500), (3, 3, 64, 128), (5, 96, 160)

RANDOM = [
    RandomNormal(mean=0.3, stddev=0.07, seed=0),
    RandomUniform(-0.2, 0.6, seed=1),
    TruncatedNormal(mean=-0.1, stddev=0.05, seed=2),
    *(cls(seed=3) for cls in (LecunNormal, LecunUniform, GlorotNormal, GlorotUniform, HeNormal, HeUniform)),
    VarianceScaling(1.7, "fan_out", "untruncated_normal", seed=4),
    VarianceScaling(0.4, "fan_avg", "truncated_normal", seed=5),
    Orthogonal(gain=1.3, seed=6),
]


def _draw(init, shape):
    return np.asarray(asnumpy(init(shape, dtype="float64")), dtype=np.float64)


@pytest.mark.parametrize("shape", [DENSE, CONV2D, CONV1D], ids=["dense", "conv2d", "conv1d"])
@pytest.mark.parametrize("init", RANDOM, ids=lambda init: type(init).__name__)
def test_expected_std_and_mean_match_a_large_draw(init, shape):
    x = _draw(init, shape)
    std = init.expected_std(shape)
    # >= 73,728 values: the sample std's relative standard error is at most sqrt((kurtosis - 1) / n) / 2 < 0.4%
    assert x.std() == pytest.approx(std, rel=0.03)
    assert abs(x.mean() - init.expected_mean(shape)) <= 6 * std / math.sqrt(x.size)


@pytest.mark.parametrize("init", [Zeros(), Ones(), Constant(2.5), Constant(-3), Identity(0.7), Identity(-2.0)],
                         ids=repr)
@pytest.mark.parametrize("shape", [(7, 7), (3, 8), (40, 5), (1, 1)])
def test_deterministic_initializers_state_their_exact_moments(init, shape):
    x = _draw(init, shape)
    assert init.expected_std(shape) == pytest.approx(x.std(), abs=1e-12)
    assert init.expected_mean(shape) == pytest.approx(x.mean(), abs=1e-12)


def test_constants_have_no_spread_and_their_value_as_mean():
    assert Zeros().expected_std((3, 3, 8, 4)) == 0.0 and Zeros().expected_mean(5) == 0.0
    assert Ones().expected_mean((2, 3)) == 1.0
    assert Constant(0.25).expected_mean(()) == 0.25 and Constant(0.25).expected_std(()) == 0.0


def test_closed_forms(moments):
    assert RandomUniform(-0.3, 0.5).expected_std((2, 2)) == pytest.approx(0.8 / math.sqrt(12), rel=1e-15)
    assert RandomUniform(-0.3, 0.5).expected_mean((2, 2)) == pytest.approx(0.1)
    assert RandomNormal(stddev=0.02).expected_std((9,)) == 0.02
    # the std of a unit normal truncated to [-2, 2], from erf (conftest), not the library's constant
    truncated_std = moments.truncated_normal_moments(2.0)[0]
    assert TruncatedNormal(stddev=0.1).expected_std((4, 4)) == pytest.approx(0.1 * truncated_std, rel=1e-12)
    assert HeNormal().expected_std((3, 3, 16, 32)) == pytest.approx(math.sqrt(2 / 144))  # fan_in 3 * 3 * 16
    assert GlorotUniform().expected_std((400, 300)) == pytest.approx(math.sqrt(2 / 700))
    assert LecunUniform().expected_std((5, 64, 128)) == pytest.approx(math.sqrt(1 / 320))
    for distribution in ("truncated_normal", "untruncated_normal", "uniform"):
        assert VarianceScaling(3.0, "fan_out", distribution).expected_std((10, 30)) == pytest.approx(math.sqrt(0.1))
    # Identity: k = min(rows, cols) entries gain among N, std |gain| sqrt(p (1 - p)) with p = k / N
    assert Identity(2.0).expected_std((4, 4)) == pytest.approx(2.0 * math.sqrt(0.25 * 0.75))
    assert Identity(2.0).expected_mean((2, 6)) == pytest.approx(2.0 * 2 / 12)
    assert Identity().expected_std((0, 3)) == 0.0 and Orthogonal().expected_std((0, 3)) == 0.0


@pytest.mark.parametrize("shape, rows, cols", [((300, 100), 300, 100), ((100, 300), 100, 300), ((50, 50), 50, 50),
                                               ((3, 3, 16, 32), 144, 32), ((2, 4, 96), 8, 96)])
def test_orthogonal_mean_square_is_exactly_gain_squared_over_the_longer_side(shape, rows, cols):
    init = Orthogonal(gain=1.7, seed=0)
    x = _draw(init, shape)
    assert init.expected_std(shape) == pytest.approx(1.7 / math.sqrt(max(rows, cols)), rel=1e-15)
    # unit-norm rows or columns: the sum of squares is gain^2 * min(rows, cols) on every draw
    assert math.sqrt(np.mean(x**2)) == pytest.approx(init.expected_std(shape), rel=1e-12)
    # and the draw's mean is far too small to move its std away from that
    assert x.std() == pytest.approx(init.expected_std(shape), rel=1e-3)


@settings(max_examples=40, deadline=None)
@given(rows=st.integers(1, 40), cols=st.integers(1, 40), gain=st.floats(-3, 3, allow_nan=False))
def test_identity_moments_equal_those_of_the_matrix(rows, cols, gain):
    x = _draw(Identity(gain), (rows, cols))
    assert Identity(gain).expected_std((rows, cols)) == pytest.approx(x.std(), abs=1e-12)
    assert Identity(gain).expected_mean((rows, cols)) == pytest.approx(x.mean(), abs=1e-12)


@settings(max_examples=25, deadline=None)
@given(dims=st.lists(st.integers(1, 12), min_size=2, max_size=4), gain=st.floats(0.1, 3))
def test_orthogonal_mean_square_for_any_shape(dims, gain):
    shape = tuple(dims)
    init = Orthogonal(gain=gain, seed=1)
    assert math.sqrt(np.mean(_draw(init, shape) ** 2)) == pytest.approx(init.expected_std(shape), rel=1e-10)


def test_shapes_the_initializer_refuses_are_refused():
    with pytest.raises(ValueError, match="2-D"):
        Identity().expected_std((3, 3, 3))
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        Orthogonal().expected_mean((5,))
    for init in (Zeros(), RandomNormal(), HeNormal(), Orthogonal()):
        with pytest.raises(ValueError, match="non-negative ints"):
            init.expected_std((-1, 4))
    with pytest.raises(TypeError, match="shape must be a tuple"):
        RandomUniform().expected_mean(3.5)


class _NoMoments(Initializer):
    def generate(self, shape, dtype):
        return np.full(shape, 0.5)


def test_a_subclass_without_moments_says_so():
    with pytest.raises(NotImplementedError, match="_NoMoments does not state the standard deviation"):
        _NoMoments().expected_std((2, 2))
    with pytest.raises(NotImplementedError, match="_NoMoments does not state the mean"):
        _NoMoments().expected_mean((2, 2))


def test_the_module_helper_resolves_names_and_says_none_when_it_cannot_tell():
    assert expected_std("he_normal", (784, 10)) == pytest.approx(math.sqrt(2 / 784))
    assert expected_std("kaiming_uniform", (784, 10)) == pytest.approx(math.sqrt(2 / 784))
    assert expected_std(GlorotNormal, (20, 30)) == pytest.approx(math.sqrt(2 / 50))
    assert expected_std(initializers.serialize(RandomNormal(stddev=0.3)), (2,)) == 0.3
    assert expected_std(lambda shape, dtype=None: np.zeros(shape), (3, 3)) is None
    assert expected_std(_NoMoments(), (3, 3)) is None
    assert expected_std(None, (3, 3)) is None
    with pytest.raises(ValueError, match="unknown initializer 'he_nromal'"):
        expected_std("he_nromal", (3, 3))
    with pytest.raises(ValueError, match="non-negative ints"):
        expected_std(lambda shape, dtype=None: np.zeros(shape), (3, -3))
