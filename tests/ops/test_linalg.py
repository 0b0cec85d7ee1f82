"""Matrix multiplication, including batched and 1-D operands."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import neurona as nr
from neurona import ops

SHAPES = [((3, 4), (4, 2)), ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,)), ((2, 3, 4), (4, 5)),
          ((2, 3, 4), (2, 4, 5)), ((1, 3, 4), (2, 4, 2))]


@pytest.mark.parametrize("shapes", SHAPES)
def test_matmul(device, rng, shapes):
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    np.testing.assert_allclose((nr.Tensor(a) @ nr.Tensor(b)).numpy(), a @ b, rtol=1e-12)
    assert nr.gradcheck(ops.matmul, a, b)


def test_matmul_mismatch_names_shapes():
    with pytest.raises(ValueError, match=r"\(3, 4\) @ \(5, 2\)"):
        ops.matmul(nr.Tensor(np.ones((3, 4))), nr.Tensor(np.ones((5, 2))))


def test_matmul_closed_form_gradient(rng):
    a = nr.Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    b = nr.Tensor(rng.standard_normal((4, 2)), requires_grad=True)
    (a @ b).sum().backward()
    np.testing.assert_allclose(a.grad, np.ones((3, 2)) @ b.data.T)
    np.testing.assert_allclose(b.grad, a.data.T @ np.ones((3, 2)))


def test_input_without_grad_gets_none(rng):
    x = nr.Tensor(rng.standard_normal((3, 4)))
    w = nr.Tensor(rng.standard_normal((4, 2)), requires_grad=True)
    (x @ w).sum().backward()
    assert x.grad is None and w.grad is not None


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 4), k=st.integers(1, 4), m=st.integers(1, 4), batch=st.sampled_from([(), (2,), (1,), (2, 1)]))
def test_matmul_gradcheck_random_shapes(n, k, m, batch):
    rng = np.random.default_rng(n * 100 + k * 10 + m)
    assert nr.gradcheck(ops.matmul, rng.standard_normal(batch + (n, k)), rng.standard_normal((k, m)))
