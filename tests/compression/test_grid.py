"""The integer grids: round trips within half a step, ranges holding zero, code types."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurona.compression import grid


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**16), bits=st.integers(2, 8), spread=st.floats(1e-3, 1e3),
       shift=st.floats(-2.0, 2.0))
def test_affine_round_trip_is_within_half_a_step_inside_the_range(seed, bits, spread, shift):
    x = (np.random.default_rng(seed).uniform(-1, 1, size=500) + shift) * spread
    scale, zero_point = grid.affine_params(x.min(), x.max(), bits)
    qmin, qmax = grid.activation_codes(bits)
    codes = grid.quantize(x, scale, zero_point, qmin, qmax)
    back = grid.dequantize(codes, scale, zero_point, dtype="float64")
    assert codes.dtype == np.uint8 and codes.min() >= qmin and codes.max() <= qmax
    # half a step, plus the float rounding of x / scale near the ends of the range
    assert np.abs(back - x).max() <= scale / 2 * (1 + 1e-9) + 1e-12 * np.abs(x).max()
    assert grid.dequantize(grid.quantize(np.zeros(1), scale, zero_point, qmin, qmax), scale, zero_point)[0] == 0.0


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**16), bits=st.integers(2, 8))
def test_symmetric_per_channel_round_trip_and_sign_symmetry(seed, bits):
    w = np.random.default_rng(seed).normal(size=(3, 3, 4, 6)) * np.arange(1, 7)
    scale = grid.symmetric_scale(np.abs(w).reshape(-1, 6).max(axis=0), bits)
    qmin, qmax = grid.weight_codes(bits)
    codes = grid.quantize(w, scale, 0, qmin, qmax, axis=3)
    assert codes.dtype == np.int8 and codes.min() >= qmin and codes.max() <= qmax == -qmin
    back = grid.dequantize(codes, scale, 0, axis=3, dtype="float64")
    assert (np.abs(back - w) <= scale / 2 * (1 + 1e-9)).all()
    np.testing.assert_array_equal(grid.quantize(-w, scale, 0, qmin, qmax, axis=3), -codes)
    assert (np.abs(codes).reshape(-1, 6).max(axis=0) == qmax).all()  # each channel's largest weight uses the top


def test_ranges_are_widened_to_hold_zero_and_degenerate_ones_stay_usable():
    assert grid.affine_params(2.0, 4.0, 8) == (4.0 / 255, 0)
    scale, zero_point = grid.affine_params(-4.0, -2.0, 8)
    assert scale == 4.0 / 255 and zero_point == 255
    assert grid.affine_params(0.0, 0.0, 8) == (1.0, 0)
    assert grid.symmetric_scale([0.0, 1.27], 8).tolist() == [1.0, 0.01]
    with pytest.raises(ValueError, match="finite lo <= hi"):
        grid.affine_params(1.0, -1.0, 8)
    for bad in (1, 9, 8.0, True, "8"):
        with pytest.raises(ValueError, match="integer from 2 to 8"):
            grid.check_bits(bad, "weight_bits")
    assert grid.code_dtype(-(2**31 - 1), 2**31 - 1) == np.int32
