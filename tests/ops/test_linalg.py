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


@pytest.mark.parametrize("threads", ["2", "3"])
def test_row_blocks_on_threads_equal_one_product(monkeypatch, rng, threads):
    """Large 2-D products are split into row blocks across threads: the same bits as one product."""
    from neurona.backend import parallel
    from neurona.backend.kernels import linalg

    a, b = rng.standard_normal((13, 9)).astype(np.float32), rng.standard_normal((9, 5)).astype(np.float32)
    g = rng.standard_normal((13, 5)).astype(np.float32)

    def run():
        at, bt = nr.Tensor(a, requires_grad=True), nr.Tensor(b, requires_grad=True)
        out = ops.matmul(at, bt)
        out.backward(nr.Tensor(g))
        return out.numpy(), at.grad, bt.grad

    whole = run()
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", 1)
    monkeypatch.setattr(linalg, "SPLIT_MACS", 1)
    monkeypatch.setenv("NEURONA_NUM_THREADS", threads)
    for got, want, ref in zip(run(), whole, (a @ b, g @ b.T, a.T @ g)):
        np.testing.assert_array_equal(got, want)
        np.testing.assert_allclose(got, ref, rtol=1e-5)
