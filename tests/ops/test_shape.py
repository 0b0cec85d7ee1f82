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


# an axis outside [-rank, rank) used to wrap around silently (transpose (3, 0) of a matrix was (1, 0), concatenate
# axis=5 of matrices joined along axis 1) and 0-d tensors raised ZeroDivisionError; a new axis (expand_dims,
# stack) may be one past the last
AXIS_ERRORS = [
    (lambda m, s: ops.transpose(m, (3, 0)), r"transpose: axis 3 is out of range for a tensor of shape \(2, 3\) "
                                            r"\(expected an axis in \[-2, 1\]\)"),
    (lambda m, s: ops.expand_dims(m, 5), r"expand_dims: axis 5 .* \(expected an axis in \[-3, 2\]\)"),
    (lambda m, s: ops.expand_dims(m, -4), r"expand_dims: axis -4 .* \[-3, 2\]"),
    (lambda m, s: ops.squeeze(m, 7), r"squeeze: axis 7 .* \[-2, 1\]"),
    (lambda m, s: ops.concatenate([m, m], axis=5), r"concatenate: axis 5 .* \[-2, 1\]"),
    (lambda m, s: ops.concatenate([m, m], axis=-3), r"concatenate: axis -3"),
    (lambda m, s: ops.stack([m, m], axis=4), r"stack: axis 4 .* \[-3, 2\]"),
    (lambda m, s: ops.flatten(m, 5), r"flatten: start_axis 5 .* \[-2, 2\]"),
    (lambda m, s: ops.concatenate([s, s]), r"0-d tensors have no axis to join along"),
    (lambda m, s: ops.transpose(s, (0,)), r"transpose: axis 0 names an axis, but a tensor of shape \(\) has none"),
    (lambda m, s: ops.squeeze(s, 1), r"squeeze: axis 1 is out of range for a tensor of shape \(\)"),
]


@pytest.mark.parametrize("call,message", AXIS_ERRORS, ids=range(len(AXIS_ERRORS)))
def test_out_of_range_axes_are_refused_with_the_valid_range(call, message):
    with pytest.raises(ValueError, match=message):
        call(nr.Tensor(np.ones((2, 3))), nr.Tensor(np.array(2.0)))


def test_non_integer_axes_and_sizes_are_refused_not_truncated():
    m = nr.Tensor(np.ones((2, 3)))
    with pytest.raises(TypeError, match=r"reshape: the new shape must be an int or a sequence of ints, got \(2.5, 2\)"):
        ops.reshape(m, (2.5, 2))  # used to become (2, 2) and then fail on the element count, or worse succeed
    with pytest.raises(TypeError, match="expand_dims: axis must be an int, got 1.0"):
        ops.expand_dims(m, 1.0)
    with pytest.raises(TypeError, match="transpose: axis must be an int, got True"):
        ops.transpose(m, (True, 0))


def test_valid_edge_axes_still_work():
    m, s = nr.Tensor(np.ones((2, 3))), nr.Tensor(np.array(2.0), requires_grad=True)
    assert ops.expand_dims(m, 2).shape == (2, 3, 1) and ops.expand_dims(m, -3).shape == (1, 2, 3)
    assert ops.stack([m, m], axis=2).shape == (2, 3, 2) and ops.stack([m, m], axis=-3).shape == (2, 2, 3)
    assert ops.flatten(m, 2).shape == (2, 3, 1) and ops.flatten(nr.Tensor(np.ones(3))).shape == (3, 1)
    assert ops.reshape(m, np.int64(6)).shape == (6,) and m.reshape(np.int64(3), 2).shape == (3, 2)
    out = ops.squeeze(s, -1)  # as in PyTorch (and the reductions), a 0-d tensor takes axis 0 and -1
    assert out.shape == () and ops.squeeze(s, 0).shape == ()
    out.backward()
    assert s.grad == 1.0
