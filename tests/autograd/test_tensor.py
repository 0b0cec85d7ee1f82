"""Tensor construction refuses what no op can compute with (issue 10, item 15)."""

import datetime

import numpy as np
import pytest

import neurona as nr


@pytest.mark.parametrize("data, what", [
    (["a", "b"], "text"),
    (np.array([b"x"]), "bytes"),
    (np.array([1, "a", None], dtype=object), "Python objects"),
    (np.array([1 + 2j]), "complex numbers"),
    (np.array([datetime.datetime(2026, 1, 1)], dtype="datetime64[s]"), "datetimes"),
    (np.array([1], dtype="timedelta64[s]"), "time deltas"),
    (np.zeros(2, dtype=[("a", "f4")]), "structured"),
])
def test_non_numeric_data_is_refused_with_its_dtype(data, what):
    with pytest.raises(TypeError, match=what) as info:
        nr.Tensor(data)
    assert str(np.asarray(data).dtype) in str(info.value)


@pytest.mark.parametrize("data", [[True, False], [1, 2], np.arange(3, dtype="uint8"), [0.5], np.float16([1])])
def test_numbers_and_booleans_are_accepted(data):
    assert nr.Tensor(data).shape == np.shape(data)


def test_complex_data_cannot_slip_in_through_an_op():
    with pytest.raises(TypeError, match="complex"):
        nr.Tensor([1.0, 2.0]) * np.array([1j, 2j])


@pytest.mark.parametrize("reduce", [
    lambda t: nr.ops.sum(t), lambda t: nr.ops.mean(t), lambda t: nr.ops.max(t), lambda t: t.sum(axis=0),
    lambda t: nr.ops.softmax_cross_entropy(t, np.array([0.2, 0.8])),
])
def test_full_reductions_hold_0d_arrays_not_numpy_scalars(reduce):
    out = reduce(nr.Tensor(np.array([1.0, 3.0]), requires_grad=True))
    assert type(out.data) is np.ndarray and out.shape == ()
    out.backward()


@pytest.mark.parametrize("dtype, what", [
    (str, "text"), ("U4", "text"), (object, "Python objects"), ("complex64", "complex numbers"),
    ("datetime64[s]", "datetimes"), ("V8", "raw or structured"),
])
def test_a_non_numeric_target_dtype_is_refused_like_non_numeric_data(dtype, what):
    # issue 10 bad-input probe, ops item 2: Tensor([1., 2.], dtype=str) held text
    with pytest.raises(TypeError, match=rf"a Tensor holds booleans, integers or floats; got dtype .*\({what}"):
        nr.Tensor([1.0, 2.0], dtype=dtype)


def test_an_unknown_target_dtype_names_itself():
    with pytest.raises(TypeError, match=r"Tensor: 'notadtype' is not a dtype"):
        nr.Tensor([1.0, 2.0], dtype="notadtype")


@pytest.mark.parametrize("dtype", ["bool", "int16", np.uint8, "float16", np.float64, np.dtype("float32")])
def test_numeric_target_dtypes_are_accepted(dtype):
    assert nr.Tensor([1.0, 0.0], dtype=dtype).dtype == np.dtype(dtype)
