"""Zeros, Ones, Constant, Identity: exact values, any dtype, clear errors."""

import re

import numpy as np
import pytest

from neurona.backend import asnumpy
from neurona.initializers import Constant, Identity, Ones, Zeros


@pytest.mark.parametrize("shape", [(), (4,), (3, 5), (3, 3, 2, 4)])
def test_zeros_and_ones_fill_every_entry(shape, device):
    np.testing.assert_array_equal(asnumpy(Zeros()(shape)), np.zeros(shape, np.float32))
    np.testing.assert_array_equal(asnumpy(Ones()(shape)), np.ones(shape, np.float32))


@pytest.mark.parametrize("value", [0.25, -3.0, 7, np.float32(1.5)])
def test_constant_fills_with_its_value(value, device):
    out = asnumpy(Constant(value)((2, 3, 4), dtype="float64"))
    np.testing.assert_array_equal(out, np.full((2, 3, 4), float(value)))


def test_constant_default_is_zero():
    np.testing.assert_array_equal(Constant()((3,)), np.zeros(3, np.float32))


def test_constants_accept_integer_dtypes():
    out = Constant(7)((2, 2), dtype="int64")
    assert out.dtype == np.int64 and (out == 7).all()
    assert Ones()((3,), dtype="int32").tolist() == [1, 1, 1]


def test_constant_keeps_int_value_in_config():
    assert Constant(3).get_config() == {"value": 3}
    assert Constant(np.float64(0.5)).get_config() == {"value": 0.5}
    assert type(Constant(np.float64(0.5)).get_config()["value"]) is float


@pytest.mark.parametrize("value, error", [("1", TypeError), (None, TypeError), ([1, 2], TypeError),
                                          (float("inf"), ValueError), (float("nan"), ValueError)])
def test_constant_rejects_non_scalar_or_non_finite(value, error):
    with pytest.raises(error, match="Constant value must be"):
        Constant(value)


@pytest.mark.parametrize("shape", [(4, 4), (3, 5), (5, 3)])
def test_identity_is_gain_times_eye(shape, device):
    out = asnumpy(Identity(gain=2.5)(shape))
    expected = np.zeros(shape, np.float32)
    for i in range(min(shape)):
        expected[i, i] = 2.5
    np.testing.assert_array_equal(out, expected)


def test_identity_matrix_maps_vectors_to_themselves():
    w = Identity()((6, 6), dtype="float64")
    x = np.arange(6.0)
    np.testing.assert_array_equal(x @ w, x)


@pytest.mark.parametrize("shape", [(4,), (), (3, 3, 3)])
def test_identity_rejects_non_matrix_shapes(shape):
    message = f"Identity initializer needs a 2-D (rows, cols) shape, got {shape}"
    with pytest.raises(ValueError, match=re.escape(message)):
        Identity()(shape)


def test_identity_gain_must_be_a_number():
    with pytest.raises(TypeError, match="Identity gain must be a real number, got 'big'"):
        Identity(gain="big")
