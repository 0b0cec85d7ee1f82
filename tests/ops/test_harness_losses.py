"""Fused losses through the op harness: soft targets that do not sum to 1, sparse labels, saturated logits."""

import numpy as np
from _harness.op_harness import Arg, OpCase, OpHarness

from neurona import ops


def _log_softmax(z):
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _dense(z, y):
    return -(y * _log_softmax(z)).sum(axis=-1)


def _dense_grad(z, y, g):
    """d/dz sum_c -y_c log softmax(z)_c = softmax(z) sum_c y_c - y; d/dy = -log softmax(z)."""
    g = g[..., None]
    return g * (np.exp(_log_softmax(z)) * y.sum(axis=-1, keepdims=True) - y), -g * _log_softmax(z)


def _picked(z, labels):
    """Row-wise entries ``z[..., labels]`` by a loop over the rows."""
    flat, rows = z.reshape(-1, z.shape[-1]), labels.reshape(-1)
    return np.array([flat[r, c] for r, c in enumerate(rows)]).reshape(labels.shape)


def _sparse(z, labels, sparse=True):
    labels = labels.reshape(z.shape[:-1])
    return -_picked(_log_softmax(z), labels)


def _sparse_grad(z, labels, g, sparse=True):
    labels = labels.reshape(z.shape[:-1])
    one_hot = np.eye(z.shape[-1])[labels]
    return g[..., None] * (np.exp(_log_softmax(z)) - one_hot), None


def _binary(z, y):
    """-(y log sigmoid(z) + (1 - y) log(1 - sigmoid(z))), with log sigmoid(z) = -log(1 + e^-z)."""
    return y * np.log1p(np.exp(-z)) + (1 - y) * np.log1p(np.exp(z))


def _binary_grad(z, y, g):
    return g * (1 / (1 + np.exp(-z)) - y), -g * z


ONE_HOT_SCALED = 0.7 * np.eye(5)[[1, 0, 4, 4]]  # label smoothing-like targets whose rows sum to 0.7
DISTRIBUTIONS = np.random.default_rng(3).dirichlet(np.ones(5), size=4)  # rows that do sum to 1

CASES = [
    # positive targets in [0.1, 1): rows sum to anything between 0.5 and 5, so the sum(y) factor of d/dz shows
    OpCase(ops.softmax_cross_entropy, (Arg((4, 5)), Arg((4, 5), 0.1, 1.0)), _dense, label="soft_unnormalized",
           reference_grad=_dense_grad),
    OpCase(ops.softmax_cross_entropy, (Arg((2, 3, 4)), Arg((2, 3, 4), 0.1, 1.0)), _dense, label="3-d",
           reference_grad=_dense_grad),
    OpCase(ops.softmax_cross_entropy, (Arg((4, 5)), Arg.fixed(ONE_HOT_SCALED)), _dense, label="one_hot*0.7",
           reference_grad=_dense_grad),
    OpCase(ops.softmax_cross_entropy, (Arg((4, 5)), Arg.fixed(DISTRIBUTIONS)), _dense, label="distributions",
           reference_grad=_dense_grad),
    OpCase(ops.softmax_cross_entropy, (Arg((4, 5), -30.0, 30.0), Arg((4, 5), 0.1, 1.0)), _dense,
           label="large_logits", reference_grad=_dense_grad),
    OpCase(ops.softmax_cross_entropy, (Arg((4, 5)), Arg((4,), 0, 5, kind="int")), _sparse,
           params=dict(sparse=True), reference_grad=_sparse_grad),
    OpCase(ops.softmax_cross_entropy, (Arg((2, 3, 4)), Arg((2, 3), 0, 4, kind="int")), _sparse,
           params=dict(sparse=True), label="sparse=True,3-d", reference_grad=_sparse_grad),
    OpCase(ops.softmax_cross_entropy, (Arg((4, 3)), Arg.fixed([[2], [0], [2], [1]], dtype=np.int64)), _sparse,
           params=dict(sparse=True), label="sparse=True,labels(4,1)", reference_grad=_sparse_grad),
    OpCase(ops.sigmoid_cross_entropy, (Arg((3, 4), -4.0, 4.0), Arg((3, 4), 0.0, 1.0)), _binary, label="soft",
           reference_grad=_binary_grad),
    # logits exactly 0 and saturated ones, hard targets 0 and 1
    OpCase(ops.sigmoid_cross_entropy, (Arg.fixed([[0.0, 0.0, 30.0, -30.0], [12.5, -12.5, 0.0, 3.0]]),
                                       Arg.fixed([[0.0, 1.0, 1.0, 0.0], [0.0, 1.0, 0.5, 1.0]])),
           _binary, label="edges", reference_grad=_binary_grad),
]


class TestLossHarness(OpHarness):
    cases = CASES
