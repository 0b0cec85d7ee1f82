"""Fused loss primitives: softmax cross-entropy and sigmoid cross-entropy on logits."""

import numpy as np
import pytest

import neurona as nr
from neurona import ops


def _log_softmax(z):
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def test_softmax_cross_entropy_dense_targets(device, rng):
    z, y = rng.standard_normal((5, 4)), rng.dirichlet(np.ones(4), size=5)
    out = ops.softmax_cross_entropy(nr.Tensor(z), nr.Tensor(y))
    np.testing.assert_allclose(out.numpy(), -(y * _log_softmax(z)).sum(-1), rtol=1e-12)
    assert nr.gradcheck(ops.softmax_cross_entropy, z, y)  # w.r.t. logits and targets


@pytest.mark.parametrize("shape", [(6, 3), (2, 3, 5)])
def test_softmax_cross_entropy_sparse_labels(device, rng, shape):
    z = rng.standard_normal(shape)
    labels = rng.integers(0, shape[-1], shape[:-1])
    out = ops.softmax_cross_entropy(nr.Tensor(z), labels, sparse=True)
    expected = -np.take_along_axis(_log_softmax(z), labels[..., None], -1)[..., 0]
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    assert nr.gradcheck(lambda t: ops.softmax_cross_entropy(t, labels, sparse=True), z)


def test_sparse_and_one_hot_agree_and_gradient_is_softmax_minus_y(rng):
    z = nr.Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    labels = np.array([0, 2, 1, 2])
    one_hot = np.eye(3)[labels]
    dense = ops.softmax_cross_entropy(z, one_hot)
    sparse = ops.softmax_cross_entropy(z, labels, sparse=True)
    np.testing.assert_allclose(dense.numpy(), sparse.numpy(), rtol=1e-12)
    sparse.sum().backward()
    softmax = np.exp(_log_softmax(z.data))
    np.testing.assert_allclose(z.grad, softmax - one_hot, rtol=1e-12)


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    z = nr.Tensor(np.array([[1e4, 0.0, -1e4]]), requires_grad=True)
    loss = ops.softmax_cross_entropy(z, np.array([1]), sparse=True)
    np.testing.assert_allclose(loss.numpy(), [1e4])
    loss.sum().backward()
    np.testing.assert_allclose(z.grad, [[1.0, -1.0, 0.0]])


def test_sparse_labels_out_of_range_are_rejected():
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\], got values in \[0, 3\]"):
        ops.softmax_cross_entropy(nr.Tensor(np.zeros((2, 3))), np.array([0, 3]), sparse=True)
    with pytest.raises(ValueError, match="do not match logits"):
        ops.softmax_cross_entropy(nr.Tensor(np.zeros((2, 3))), np.array([0, 1, 2]), sparse=True)


def test_sigmoid_cross_entropy(device, rng):
    z, y = rng.standard_normal((4, 3)), rng.random((4, 3))
    p = 1 / (1 + np.exp(-z))
    out = ops.sigmoid_cross_entropy(nr.Tensor(z), nr.Tensor(y))
    np.testing.assert_allclose(out.numpy(), -(y * np.log(p) + (1 - y) * np.log(1 - p)), rtol=1e-10)
    assert nr.gradcheck(ops.sigmoid_cross_entropy, z, y)


def test_sigmoid_cross_entropy_is_stable_for_huge_logits():
    z = nr.Tensor(np.array([800.0, -800.0]), requires_grad=True)
    loss = ops.sigmoid_cross_entropy(z, np.array([0.0, 1.0]))
    np.testing.assert_allclose(loss.numpy(), [800.0, 800.0])
    loss.sum().backward()
    np.testing.assert_allclose(z.grad, [1.0, -1.0])
