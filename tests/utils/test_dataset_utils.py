"""split_dataset: sizes as in Keras's rescaling rule, disjoint and complete parts, structures, seeds, errors."""

import numpy as np
import pytest

import neurona as nr
from neurona.utils import split_dataset

X = np.arange(100).reshape(50, 2)
Y = np.arange(50)


@pytest.mark.parametrize("left, right, sizes", [
    (0.8, None, (40, 10)), (None, 0.3, (35, 15)), (12, None, (12, 38)), (None, 7, (43, 7)),
    (0.5, 0.2, (25, 10)), (10, 5, (10, 5)), (0.25, 10, (12, 10)),  # round(12.5) == 12, as Python rounds
])
def test_sizes(left, right, sizes):
    a, b = split_dataset(X, left_size=left, right_size=right)
    assert (len(a), len(b)) == sizes
    # without shuffling the left part is the head and the right part the tail, as in Keras
    np.testing.assert_array_equal(a, X[:sizes[0]])
    np.testing.assert_array_equal(b, X[50 - sizes[1]:])


def test_tuple_shuffled_parts_are_disjoint_complete_and_aligned():
    (xa, ya), (xb, yb) = split_dataset((X, Y), left_size=0.7, shuffle=True, seed=3)
    assert xa.shape == (35, 2) and xb.shape == (15, 2) and ya.shape == (35,) and yb.shape == (15,)
    np.testing.assert_array_equal(xa[:, 0] // 2, ya)  # each sample keeps its label
    np.testing.assert_array_equal(xb[:, 0] // 2, yb)
    assert set(ya) | set(yb) == set(Y) and not set(ya) & set(yb)
    assert not np.array_equal(ya, np.sort(ya))  # shuffled
    (_, ya2), _ = split_dataset([X, Y], left_size=0.7, shuffle=True, seed=3)
    np.testing.assert_array_equal(ya2, ya)  # a seed repeats the permutation (and a list comes back as a tuple)
    (_, ya3), _ = split_dataset((X, Y), left_size=0.7, shuffle=True, seed=4)
    assert not np.array_equal(ya3, ya)
    nr.seed(5)
    (_, u1), _ = split_dataset((X, Y), left_size=0.7, shuffle=True)
    nr.seed(5)
    (_, u2), _ = split_dataset((X, Y), left_size=0.7, shuffle=True)
    np.testing.assert_array_equal(u1, u2)  # seed=None follows nr.seed


def test_dict_and_tensor_inputs_and_copies():
    left, right = split_dataset({"x": X, "y": Y}, right_size=5)
    assert set(left) == {"x", "y"} and left["x"].shape == (45, 2) and right["y"].tolist() == [45, 46, 47, 48, 49]
    a, b = split_dataset(nr.Tensor(X.astype("float32")), left_size=0.5)
    assert isinstance(a, np.ndarray) and a.shape == (25, 2)
    a[:] = -1
    assert X.min() >= 0  # new arrays, not views of the input


@pytest.mark.parametrize("kwargs, error, match", [
    ({}, ValueError, "give left_size or right_size"),
    ({"left_size": 0}, ValueError, r"left_size as a count must be in \[1, 49\] .* got 0"),
    ({"left_size": 50}, ValueError, "left_size as a count"),
    ({"right_size": 1.0}, ValueError, r"right_size as a fraction must be in \(0, 1\), got 1.0"),
    ({"left_size": 0.6, "right_size": 0.6}, ValueError, "the fractions left_size \\+ right_size = 1.2 exceed 1"),
    ({"left_size": 30, "right_size": 30}, ValueError, "give 30 \\+ 30 samples, more than the dataset's 50"),
    ({"left_size": 0.001}, ValueError, "leave the left part empty"),
    ({"left_size": "half"}, TypeError, r"left_size must be an int, a float or None, got 'half' \(str\)"),
    ({"left_size": True}, TypeError, "left_size must be an int, a float or None"),
    ({"left_size": 0.5, "shuffle": 1}, TypeError, "split_dataset: shuffle must be True or False"),
    ({"left_size": 0.5, "shuffle": True, "seed": -1}, ValueError, "seed must be None or a non-negative integer"),
])
def test_size_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        split_dataset(X, **kwargs)


@pytest.mark.parametrize("dataset, error, match", [
    ((X, Y[:10]), ValueError, r"same number of samples .* got lengths \[50, 10\]"),
    ("text", TypeError, "dataset must be a NumPy array, or a non-empty tuple, list or dict of arrays, got str"),
    ((), TypeError, "got tuple \\(empty\\)"),
    ([1, 2, 3], ValueError, r"dataset\[0\] must be an array of samples"),
])
def test_dataset_errors(dataset, error, match):
    with pytest.raises(error, match=match):
        split_dataset(dataset, left_size=0.5)
