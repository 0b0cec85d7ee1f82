"""to_categorical and normalize: Keras semantics, property tests and the error messages."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from neurona.utils import normalize, to_categorical


@settings(derandomize=True)
@given(st.integers(1, 12).flatmap(lambda c: st.tuples(st.just(c), st.lists(st.integers(0, c - 1), max_size=40))))
def test_one_hot_properties(case):
    num_classes, labels = case
    out = to_categorical(labels, num_classes)
    assert out.shape == (len(labels), num_classes) and out.dtype == np.float32
    assert set(np.unique(out)) <= {0.0, 1.0}
    np.testing.assert_array_equal(out.sum(axis=1), 1.0)
    np.testing.assert_array_equal(out.argmax(axis=1), labels)


@settings(derandomize=True)
@given(hnp.arrays(np.int64, hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4),
                  elements=st.integers(0, 9)))
def test_inferred_classes_and_shapes(y):
    out = to_categorical(y)
    shape = y.shape[:-1] if y.ndim > 1 and y.shape[-1] == 1 else y.shape
    assert out.shape == shape + (int(y.max()) + 1,)
    np.testing.assert_array_equal(out.argmax(axis=-1), y.reshape(shape))


def test_keras_examples():
    np.testing.assert_array_equal(to_categorical([0, 2, 1], 4), [[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0]])
    assert to_categorical(np.array([[1], [0]])).shape == (2, 2)  # column of labels
    assert to_categorical([1, 0], dtype="int32").dtype == np.int32
    np.testing.assert_array_equal(to_categorical(np.array([2.0, 0.0])), [[0, 0, 1], [1, 0, 0]])
    assert to_categorical(np.zeros(0, dtype=int), 3).shape == (0, 3)


@pytest.mark.parametrize("y, num_classes, error, match", [
    ([0, -3, 1], None, ValueError, "non-negative class labels, got -3 at flat index 1"),
    ([0, 5, 1], 3, ValueError, r"label 5 at flat index 1 is out of range for num_classes=3; expected .*\[0, 2\]"),
    ([0.0, 1.5], None, ValueError, r"integer class labels, got 1\.5 at index \(1,\)"),
    ([0.0, np.nan], None, ValueError, "integer class labels, got nan"),
    (["a"], None, TypeError, "dtype <U1"),
    ([], None, ValueError, "cannot infer num_classes"),
    ([0], 0, ValueError, "num_classes must be a positive integer, got 0"),
    ([0], 2.5, ValueError, "num_classes must be a positive integer, got 2.5"),
])
def test_to_categorical_errors(y, num_classes, error, match):
    with pytest.raises(error, match=match):
        to_categorical(y, num_classes)


def test_normalize_hand_computed():
    np.testing.assert_allclose(normalize(np.array([[3.0, 4.0], [0.0, 0.0]])), [[0.6, 0.8], [0.0, 0.0]])
    np.testing.assert_allclose(normalize(np.array([[3.0, -1.0]]), order=1), [[0.75, -0.25]])
    np.testing.assert_allclose(normalize(np.array([[3.0], [4.0]]), axis=0), [[0.6], [0.8]])
    np.testing.assert_allclose(normalize(np.array([2.0, -8.0]), order=np.inf), [0.25, -1.0])


# Magnitudes below 1e-100 are excluded: their squares underflow, in NumPy's norm as in Keras's.
_ENTRIES = st.floats(-1e3, 1e3, allow_nan=False).filter(lambda v: v == 0 or abs(v) > 1e-100)


@settings(derandomize=True)
@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 6)), elements=_ENTRIES))
def test_normalize_properties(x):
    out = normalize(x)
    norms = np.sqrt(np.sum(x * x, axis=-1))
    nonzero = norms > 0
    assert out.shape == x.shape
    np.testing.assert_allclose(np.linalg.norm(out[nonzero], axis=-1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(out[~nonzero], 0.0)  # zero rows are left as they are
    np.testing.assert_allclose(out[nonzero] * norms[nonzero, None], x[nonzero], rtol=1e-12)


@pytest.mark.parametrize("axis,error,message", [
    (5, ValueError, r"normalize axis 5 is out of range or repeated for x with 2 dimensions \(expected distinct "
                    r"axes in \[-2, 1\]\)"),
    ((1, -1), ValueError, r"normalize axis \(1, -1\) is out of range or repeated"),
    ("0", TypeError, r"normalize axis must be an int or a tuple of two ints, got '0'"),
    (True, TypeError, r"normalize axis must be an int or a tuple of two ints, got True"),
    ((0, 1, 2), TypeError, r"normalize axis must be an int or a tuple of two ints"),
])
def test_normalize_checks_the_axis(axis, error, message):
    # axis=5 used to surface NumPy's AxisError from inside numpy.linalg
    with pytest.raises(error, match=message):
        normalize(np.ones((2, 3)), axis=axis)


@pytest.mark.parametrize("x", ["x", ["a", "b"], [None, 1.0]])
def test_normalize_refuses_non_numeric_input(x):
    # used to be NumPy's "could not convert string to float"
    with pytest.raises(TypeError, match="normalize needs numeric data, got an array of dtype "):
        normalize(x)


def test_normalize_refuses_scalars_and_unknown_orders():
    with pytest.raises(ValueError, match="normalize needs an array with at least one axis, got the scalar 3.0"):
        normalize(3.0)
    with pytest.raises(ValueError, match=r"normalize: invalid order 'bogus' for a norm over 1 axis/axes"):
        normalize(np.ones((2, 3)), order="bogus")


def test_normalize_accepts_numpy_axes_and_two_axes():
    x = np.array([[3.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(normalize(x, axis=np.int64(-1)), [[0.6, 0.8], [0.0, 0.0]])
    np.testing.assert_allclose(normalize(x, axis=(0, 1)), x / 5.0)
