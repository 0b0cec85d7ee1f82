"""Orthogonal: W^T W = gain^2 I (tall) or W W^T = gain^2 I (wide), Haar distribution, errors."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import neurona as nr
from neurona.initializers import Orthogonal, calculate_gain


def _as_matrix(w):
    return np.asarray(w, dtype=np.float64).reshape(-1, w.shape[-1])


@pytest.mark.parametrize("shape", [(64, 64), (100, 30), (30, 100), (3, 3, 16, 32), (5, 8, 4), (2, 2, 2, 3, 50)])
@pytest.mark.parametrize("gain", [1.0, 0.5, calculate_gain("relu")])
def test_rows_or_columns_are_orthonormal_times_gain(shape, gain):
    m = _as_matrix(Orthogonal(gain=gain, seed=0)(shape, dtype="float64"))
    rows, cols = m.shape
    gram = m.T @ m if rows >= cols else m @ m.T
    np.testing.assert_allclose(gram, gain**2 * np.eye(min(rows, cols)), atol=1e-12)


def test_float32_result_is_orthogonal_to_float32_precision():
    m = _as_matrix(Orthogonal(seed=1)((3, 3, 32, 64)))
    np.testing.assert_allclose(m.T @ m, np.eye(64), atol=1e-5)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(shape=st.lists(st.integers(1, 12), min_size=2, max_size=4), gain=st.floats(0.1, 3), seed=st.integers(0, 2**31))
def test_orthogonality_property(shape, gain, seed):
    m = _as_matrix(Orthogonal(gain=gain, seed=seed)(tuple(shape), dtype="float64"))
    rows, cols = m.shape
    gram = m.T @ m if rows >= cols else m @ m.T
    np.testing.assert_allclose(gram, gain**2 * np.eye(min(rows, cols)), atol=1e-10 * max(1.0, gain**2))


@pytest.mark.parametrize("shape", [(16, 16), (24, 10), (10, 24)])
def test_sign_correction_makes_the_distribution_sign_symmetric(shape):
    # For a Haar-distributed Q, -Q is as likely as Q, so the trace has mean 0 and variance at most 1.
    # Skipping the sign(diag R) correction biases the diagonal (the trace of a 16x16 draw averages about -2.3).
    nr.seed(0)
    init = Orthogonal()
    traces = np.array([np.trace(init(shape, dtype="float64")) for _ in range(200)])
    assert abs(traces.mean()) < 6 / math.sqrt(traces.size)
    firsts = np.array([init(shape, dtype="float64")[0, 0] for _ in range(200)])
    assert 0.3 < (firsts > 0).mean() < 0.7


def test_entries_have_variance_gain_squared_over_rows():
    # Each column of an n x k Haar matrix is a uniform unit vector in R^n: entries have mean 0 and mean square
    # exactly 1/n (times gain^2), the variance Saxe et al. compare with the 1/fan_in of LeCun's initialization.
    w = Orthogonal(gain=2.0, seed=3)((400, 100), dtype="float64")
    assert abs(w.mean()) < 6 * math.sqrt(4.0 / 400 / w.size)
    assert (w**2).mean() == pytest.approx(4.0 / 400, rel=1e-12)


def test_seeded_draws_repeat_and_differ_across_seeds():
    a = Orthogonal(seed=5)((20, 20))
    np.testing.assert_array_equal(a, Orthogonal(seed=5)((20, 20)))
    assert not np.allclose(a, Orthogonal(seed=6)((20, 20)))


@pytest.mark.parametrize("shape", [(), (7,)])
def test_needs_at_least_two_dimensions(shape):
    with pytest.raises(ValueError, match=rf"Orthogonal initializer needs a shape with at least 2 dimensions, "
                                         rf"got \({shape[0] if shape else ''}"):
        Orthogonal()(shape)


def test_empty_shape_gives_empty_array():
    assert Orthogonal(seed=0)((0, 5)).shape == (0, 5)
    assert Orthogonal(seed=0)((3, 3, 4, 0)).shape == (3, 3, 4, 0)


def test_config_round_trip_reproduces_draws():
    init = Orthogonal(gain=1.5, seed=4)
    assert init.get_config() == {"gain": 1.5, "seed": 4}
    np.testing.assert_array_equal(init((6, 9)), Orthogonal.from_config(init.get_config())((6, 9)))
