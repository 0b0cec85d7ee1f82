"""Reductions: sum, mean, max, min."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import neurona as nr
from neurona import ops

AXES = [None, 0, 1, -1, (0, 2), (0, 1, 2)]


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min"])
@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions_forward_and_gradcheck(device, name, axis, keepdims):
    # distinct values (a permutation): max/min have a unique arg and finite differences are exact
    x = np.random.default_rng(0).permutation(24).reshape(2, 3, 4) / 7.0
    op = getattr(ops, name)
    out = op(nr.Tensor(x), axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(out.numpy(), getattr(np, name)(x, axis=axis, keepdims=keepdims), rtol=1e-12)
    assert nr.gradcheck(lambda t: op(t, axis=axis, keepdims=keepdims), x)


def test_max_splits_gradient_among_ties():
    x = nr.Tensor(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]), requires_grad=True)
    ops.max(x, axis=1).sum().backward()
    np.testing.assert_allclose(x.grad, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])


def test_mean_of_sum_equals_closed_form_gradient():
    x = nr.Tensor(np.ones((4, 5)), requires_grad=True)
    x.mean().backward()
    np.testing.assert_allclose(x.grad, np.full((4, 5), 1 / 20))


def test_bad_axis_names_the_rank():
    with pytest.raises(ValueError, match="out of range for a tensor of rank 2"):
        ops.sum(nr.Tensor(np.ones((2, 2))), axis=3)


@settings(max_examples=25, deadline=None)
@given(
    # distinct values at least 0.25 apart, so the max never changes within the finite-difference step
    x=hnp.arrays(np.int64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
                 elements=st.integers(-40, 40), unique=True).map(lambda a: a / 4.0),
    data=st.data(),
)
def test_sum_and_max_gradcheck_random_shapes(x, data):
    axis = data.draw(st.none() | st.integers(0, x.ndim - 1))
    assert nr.gradcheck(lambda t: ops.sum(t, axis=axis), x)
    assert nr.gradcheck(lambda t: ops.max(t, axis=axis), x)


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min"])
@pytest.mark.parametrize("axis", [0, -1, (0,), None])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions_of_a_0d_tensor_accept_axis_0_and_minus_1(name, axis, keepdims):
    # issue 10, defect 4: three different errors (AxisError, ValueError, IndexError); PyTorch returns the value
    x = nr.Tensor(np.array(2.5), requires_grad=True, dtype="float64")
    out = getattr(ops, name)(x, axis=axis, keepdims=keepdims)
    assert out.shape == () and out.item() == 2.5
    out.backward()
    assert x.grad == 1.0


@pytest.mark.parametrize("axis, error", [(1, ValueError), (-2, ValueError), ((0, 0), ValueError),
                                         (1.5, TypeError), ("0", TypeError)])
def test_reductions_of_a_0d_tensor_refuse_other_axes_with_one_message(axis, error):
    x = nr.Tensor(np.array(2.5))
    for name in ("sum", "mean", "max", "min"):
        with pytest.raises(error, match="axis"):
            getattr(ops, name)(x, axis=axis)


def test_reductions_accept_numpy_integer_axes_and_refuse_duplicates(rng):
    x = rng.standard_normal((3, 4))
    np.testing.assert_allclose(ops.sum(nr.Tensor(x), axis=np.int64(1)).numpy(), x.sum(1))
    with pytest.raises(ValueError, match="twice"):
        ops.sum(nr.Tensor(x), axis=(1, -1))
