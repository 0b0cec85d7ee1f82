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
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\] for logits with 3 classes, got values in "
                                         r"\[0, 3\]"):
        ops.softmax_cross_entropy(nr.Tensor(np.zeros((2, 3))), np.array([0, 3]), sparse=True)
    with pytest.raises(ValueError, match=r"y_true has shape \(3,\) but logits has shape \(2, 3\)"):
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


def _sparse_ce_gradient(z, labels):
    """(softmax(z) - onehot(labels)) along the last axis, by the definition."""
    p = np.exp(_log_softmax(z))
    return p - np.eye(z.shape[-1])[labels]


VIEWS = {  # a leaf's shape, and a non-contiguous view of it that the logits are taken from
    "transposed": ((4, 6), lambda t: t.T),
    "strided": ((12, 4), lambda t: t[::2]),
    # (N, C, T) data seen as (N, T, C), as sparse_categorical_crossentropy(axis=1) does
    "batch-time-classes": ((3, 4, 5), lambda t: ops.transpose(t, (0, 2, 1))),
    "transposed-3d": ((5, 4, 3), lambda t: t.T),
}


@pytest.mark.parametrize("layout", sorted(VIEWS))
def test_sparse_softmax_cross_entropy_gradient_on_non_contiguous_logits(rng, layout):
    # issue 10, defect 2: the one-hot subtraction was applied to a reshaped copy and lost (off by 1.0)
    shape, view = VIEWS[layout]
    leaf = nr.Tensor(rng.standard_normal(shape), requires_grad=True, dtype="float64")
    z = view(leaf)
    assert not z.data.flags.c_contiguous
    labels = rng.integers(0, z.shape[-1], z.shape[:-1])
    upstream = rng.standard_normal(labels.shape)
    ops.softmax_cross_entropy(z, labels, sparse=True).backward(upstream)
    # the expected gradient by the definition, taken back through the same view by a linear map
    probe = nr.Tensor(np.zeros(shape), requires_grad=True, dtype="float64")
    (view(probe) * (_sparse_ce_gradient(z.numpy(), labels) * upstream[..., None])).sum().backward()
    np.testing.assert_allclose(leaf.grad, probe.grad, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("sparse", [True, False])
def test_softmax_cross_entropy_second_backward_doubles_the_gradient(rng, sparse):
    # issue 10, defect 2: the op edited its saved probabilities in place and handed them out as the gradient,
    # so a second backward(retain_graph=True) came out off by 2.0
    z = nr.Tensor(rng.standard_normal((5, 4)), requires_grad=True, dtype="float64")
    target = rng.integers(0, 4, 5) if sparse else rng.dirichlet(np.ones(4), size=5) * 0.7
    out = ops.softmax_cross_entropy(z, target, sparse=sparse).sum()
    out.backward(retain_graph=True)
    first = z.grad.copy()
    out.backward()
    np.testing.assert_array_equal(z.grad, 2 * first)


def test_sparse_categorical_crossentropy_over_axis_1_matches_the_definition(rng):
    from neurona import losses

    z = rng.standard_normal((3, 4, 5))  # (N, C, T)
    labels = rng.integers(0, 4, (3, 5))
    x = nr.Tensor(z, requires_grad=True, dtype="float64")
    losses.sparse_categorical_crossentropy(labels, x, from_logits=True, axis=1).sum().backward()
    expected = np.moveaxis(_sparse_ce_gradient(np.moveaxis(z, 1, -1), labels), -1, 1)
    np.testing.assert_allclose(x.grad, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("sparse", ["yes", "False", 1, 0, None, np.array([True])])
def test_sparse_must_be_a_bool(sparse):
    # issue 10 bad-input probe, ops item 6: sparse="yes" was taken as true
    with pytest.raises(TypeError, match=r"softmax_cross_entropy: sparse must be True or False, got "):
        ops.softmax_cross_entropy(nr.Tensor(np.zeros((2, 3))), np.array([0, 2]), sparse=sparse)


def test_sparse_accepts_numpy_bools():
    z = nr.Tensor(np.log(np.array([[0.5, 0.25, 0.25], [0.2, 0.2, 0.6]])))
    np.testing.assert_allclose(ops.softmax_cross_entropy(z, np.array([0, 2]), sparse=np.True_).numpy(),
                               -np.log([0.5, 0.6]), rtol=1e-12)
    np.testing.assert_allclose(ops.softmax_cross_entropy(z, np.eye(3)[[0, 2]], sparse=np.False_).numpy(),
                               -np.log([0.5, 0.6]), rtol=1e-12)
