"""Shape ops: reshape, transpose, indexing/slicing, concatenate and the ops composed from them."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import neurona as nr
from neurona import ops


@pytest.fixture
def x(rng):
    return rng.standard_normal((2, 3, 4))


@pytest.mark.parametrize("shape", [(6, 4), (24,), (4, -1), (2, 12, 1)])
def test_reshape(device, x, shape):
    np.testing.assert_array_equal(ops.reshape(nr.Tensor(x), shape).numpy(), x.reshape(shape))
    assert nr.gradcheck(lambda t: ops.reshape(t, shape), x)


def test_reshape_error_names_both_shapes():
    with pytest.raises(ValueError, match=r"shape \(2, 3\) \(6 elements\) into \(4,\)"):
        ops.reshape(nr.Tensor(np.ones((2, 3))), (4,))


@pytest.mark.parametrize("axes", [None, (0, 2, 1), (2, 0, 1), (-1, 0, 1)])
def test_transpose(device, x, axes):
    np.testing.assert_array_equal(ops.transpose(nr.Tensor(x), axes).numpy(), np.transpose(x, axes))
    assert nr.gradcheck(lambda t: ops.transpose(t, axes), x)


def test_transpose_rejects_non_permutation():
    with pytest.raises(ValueError, match="not a permutation"):
        ops.transpose(nr.Tensor(np.ones((2, 3))), (0, 0))


INDICES = [
    1, -1, slice(None, None, 2), (slice(None), 1), (Ellipsis, 2), (None, 0), (1, slice(1, 3), slice(None, None, -1)),
    np.array([0, 1, 1]), (np.array([0, 1, 0]), np.array([2, 0, 2])), np.ones((2, 3, 4), dtype=bool),
]


@pytest.mark.parametrize("index", INDICES, ids=range(len(INDICES)))
def test_getitem_basic_and_advanced(device, x, index):
    np.testing.assert_array_equal(nr.Tensor(x)[index].numpy(), x[index])
    assert nr.gradcheck(lambda t: t[index], x)


def test_getitem_repeated_indices_accumulate():
    t = nr.Tensor(np.arange(3.0), requires_grad=True)
    t[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(t.grad, [3.0, 0.0, 1.0])


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenate(device, rng, axis):
    shapes = {0: [(1, 3), (2, 3)], 1: [(2, 1), (2, 4)], -1: [(2, 2), (2, 3)]}[axis]
    arrays = [rng.standard_normal(s) for s in shapes]
    np.testing.assert_array_equal(
        ops.concatenate([nr.Tensor(a) for a in arrays], axis=axis).numpy(), np.concatenate(arrays, axis=axis)
    )
    assert nr.gradcheck(lambda a, b: ops.concatenate([a, b], axis=axis), *arrays)


def test_concatenate_mismatch_names_shapes():
    with pytest.raises(ValueError, match=r"\[\(2, 3\), \(3, 4\)\]"):
        ops.concatenate([nr.Tensor(np.ones((2, 3))), nr.Tensor(np.ones((3, 4)))], axis=0)


def test_composed_shape_ops(device, x):
    t = nr.Tensor(x)
    assert ops.flatten(t).shape == (2, 12)
    assert ops.expand_dims(t, 1).shape == (2, 1, 3, 4)
    assert ops.squeeze(ops.expand_dims(t, -1)).shape == (2, 3, 4)
    np.testing.assert_array_equal(ops.stack([t, t], axis=1).numpy(), np.stack([x, x], axis=1))
    assert nr.gradcheck(lambda a, b: ops.stack([a, b], axis=-1), x, x + 1)
    with pytest.raises(ValueError, match="cannot squeeze axis 0 of size 2"):
        ops.squeeze(t, 0)


def test_tensor_methods(x):
    t = nr.Tensor(x)
    assert t.reshape(6, 4).shape == (6, 4)
    assert t.reshape((4, 6)).shape == (4, 6)
    assert t.transpose(2, 0, 1).shape == (4, 2, 3)
    assert t.T.shape == (4, 3, 2)


@settings(max_examples=20, deadline=None)
@given(x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=4, max_side=3), elements=st.floats(-5, 5)),
       data=st.data())
def test_transpose_gradcheck_random_permutations(x, data):
    axes = tuple(data.draw(st.permutations(range(x.ndim))))
    assert nr.gradcheck(lambda t: ops.transpose(t, axes) * 1.0, x)
