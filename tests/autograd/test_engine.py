"""The backpropagation engine: graph order, accumulation, broadcasting, no_grad, freeing."""

import numpy as np
import pytest

import neurona as nr
from neurona.autograd import Function, Tensor, unbroadcast


def test_chain_rule_on_a_shared_subexpression():
    # f = (x*y + x)^2 with x used twice: df/dx = 2(xy + x)(y + 1), df/dy = 2(xy + x) x
    x, y = Tensor(3.0, requires_grad=True), Tensor(-2.0, requires_grad=True)
    u = x * y + x
    (u * u).backward()
    assert x.grad == pytest.approx(2 * (3 * -2 + 3) * (-2 + 1))
    assert y.grad == pytest.approx(2 * (3 * -2 + 3) * 3)


def test_gradients_accumulate_across_backward_calls():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad, [3 + 2, 3 + 4])
    x.zero_grad()
    assert x.grad is None


def test_leaves_never_share_a_gradient_array():
    # Add returns the same upstream array for both inputs; accumulating into one must not change the other
    a, b = Tensor(np.zeros(3), requires_grad=True), Tensor(np.zeros(3), requires_grad=True)
    (a + b).sum().backward()
    (a * 2).sum().backward()
    np.testing.assert_allclose(a.grad, [3, 3, 3])
    np.testing.assert_allclose(b.grad, [1, 1, 1])


def test_broadcast_gradients_are_summed_back():
    x = Tensor(np.ones((4, 3)), requires_grad=True)
    b = Tensor(np.ones(3), requires_grad=True)
    c = Tensor(np.ones((4, 1)), requires_grad=True)
    (x * b + c).sum().backward()
    np.testing.assert_allclose(b.grad, [4, 4, 4])
    np.testing.assert_allclose(c.grad, [[3]] * 4)


@pytest.mark.parametrize("grad_shape,shape,axes", [((2, 3), (3,), (0,)), ((2, 3, 4), (3, 1), (0, 2)),
                                                   ((5,), (), (0,)), ((2, 2), (2, 2), ())])
def test_unbroadcast_sums_exactly_the_broadcast_axes(grad_shape, shape, axes):
    g = np.arange(np.prod(grad_shape), dtype=float).reshape(grad_shape)
    out = unbroadcast(g, shape)
    assert out.shape == shape
    np.testing.assert_allclose(out.sum(), g.sum())
    np.testing.assert_allclose(out, g.sum(axis=axes).reshape(shape) if axes else g)


def test_deep_graph_has_no_recursion_limit():
    x = Tensor(1.0, requires_grad=True, dtype="float64")
    y = x
    for _ in range(20000):
        y = y * 1.0001
    y.backward()
    assert x.grad == pytest.approx(1.0001**20000, rel=1e-9)


def test_no_grad_records_nothing_and_restores():
    x = Tensor(np.ones(2), requires_grad=True)
    with nr.no_grad():
        y = x * 2
        with nr.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.is_leaf
    assert z.requires_grad and not z.is_leaf
    assert (x * 2).requires_grad

    @nr.no_grad()
    def infer(t):
        return t * 3

    assert not infer(x).requires_grad


def test_graph_is_freed_after_backward_unless_retained():
    x = Tensor(2.0, requires_grad=True)
    y = x * x
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad == pytest.approx(8.0)
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_backward_errors_are_explicit():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor(1.0).backward()
    with pytest.raises(RuntimeError, match="scalar output"):
        (Tensor(np.ones(3), requires_grad=True) * 2).backward()
    with pytest.raises(ValueError, match="does not match tensor shape"):
        (Tensor(np.ones(3), requires_grad=True) * 2).backward(np.ones(2))


def test_non_scalar_backward_with_explicit_grad():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x * x).backward(np.array([1.0, 10.0]))
    np.testing.assert_allclose(x.grad, [2.0, 40.0])


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match="floating-point"):
        Tensor(np.array([1, 2]), requires_grad=True)


def test_float32_stays_float32():
    x = Tensor([1.0, 2.0], requires_grad=True)
    assert x.dtype == np.float32
    (x * x).sum().backward()
    assert x.grad.dtype == np.float32


class _WrongSquare(Function):
    """x^2 with a deliberately wrong derivative (x instead of 2x)."""

    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, g):
        return g * self.x


def test_gradcheck_catches_a_wrong_backward():
    x = np.array([0.5, -1.5, 2.0])
    with pytest.raises(nr.GradcheckError, match="input 0"):
        nr.gradcheck(lambda t: _WrongSquare.apply(t), x)
    assert nr.gradcheck(lambda t: _WrongSquare.apply(t), x, raise_exception=False) is False


def test_gradcheck_checks_only_inputs_that_require_grad():
    w = Tensor(np.ones(2), requires_grad=False)
    assert nr.gradcheck(lambda a, b: a * b, np.array([1.0, 2.0]), w)
    with pytest.raises(ValueError, match="no input requires"):
        nr.gradcheck(lambda a: a * 2, Tensor(np.ones(2)))


def test_a_leaf_reached_along_several_paths_doubles_exactly_on_a_second_backward():
    # the oracle sweep (benchmarks/torch_gradient_oracle.py) found a one-rounding-step drift: contributions were
    # added into .grad as they arrived, so the second pass summed them in another order. PyTorch doubles exactly.
    x = nr.Tensor(np.array([0.10490012, -1.3, 2.7]), requires_grad=True, dtype="float64")
    y = (nr.ops.exp(x) * x * x + x.sum() * x.mean()).sum()
    y.backward(retain_graph=True)
    first = x.grad.copy()
    y.backward()
    assert np.array_equal(x.grad, 2 * first)


def test_backward_takes_a_tensor_as_the_upstream_gradient():
    x = nr.Tensor(np.array([1.0, 2.0]), requires_grad=True, dtype="float64")
    upstream = nr.Tensor(np.array([3.0, 5.0]), dtype="float64")
    (x * 2).backward(upstream)
    np.testing.assert_array_equal(x.grad, [6.0, 10.0])
    assert upstream.numpy().tolist() == [3.0, 5.0]  # the caller's array is never the one the engine adds into
    x.grad = None
    raw = np.array([1.0, 1.0])
    (x + 0).backward(raw)
    x.grad += 1
    assert raw.tolist() == [1.0, 1.0]


def test_the_gradient_of_a_0d_leaf_is_an_array():
    x = nr.Tensor(np.array(3.0), requires_grad=True, dtype="float64")
    (x * x).backward()
    assert type(x.grad) is np.ndarray and x.grad.shape == () and x.grad == 6.0
    x.grad[...] = 0  # writable in place, as every other .grad
