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
