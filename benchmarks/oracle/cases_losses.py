"""Case groups for the losses: the fused ``ops.softmax_cross_entropy`` / ``ops.sigmoid_cross_entropy`` and
the per-sample losses and loss classes of ``neurona.losses`` (from logits and from probabilities, clip bounds,
label smoothing, other class axes, logits of +-1000).
"""

import numpy as np
import torch.nn.functional as F

from neurona import losses, ops

from .harness import R, case, pos, rn
from .references import EPS, smooth, th_bce, th_cce_prob, th_scce_prob


# ---- cases --------------------------------------------------------------------------------------
def fused_loss_cases():
    z, y = rn(4, 5, scale=2.0), rn(4, 5)  # targets of any sign, rows not summing to 1
    case("ops.softmax_cross_entropy arbitrary y", [z, y], ops.softmax_cross_entropy,
         lambda a, b: -(b * F.log_softmax(a, -1)).sum(-1))
    z3, y3 = rn(2, 3, 5), R.dirichlet(np.ones(5), (2, 3))
    case("ops.softmax_cross_entropy (2,3,5) distributions", [z3, y3], ops.softmax_cross_entropy,
         lambda a, b: -(b * F.log_softmax(a, -1)).sum(-1))
    zl = np.array([[1000.0, -1000.0, 0.0, 5.0], [-1000.0, -1000.0, -1000.0, -999.0], [1000.0, 1000.0, 999.0, 0.0]])
    yl = R.dirichlet(np.ones(4), 3)
    case("ops.softmax_cross_entropy logits +-1000", [zl, yl], ops.softmax_cross_entropy,
         lambda a, b: -(b * F.log_softmax(a, -1)).sum(-1))
    labels = R.integers(0, 5, 4)
    case("ops.softmax_cross_entropy sparse", [z, labels], lambda a, b: ops.softmax_cross_entropy(a, b, sparse=True),
         lambda a, b: F.cross_entropy(a, b, reduction="none"))
    case("ops.softmax_cross_entropy sparse labels (N, 1)", [z, labels[:, None]],
         lambda a, b: ops.softmax_cross_entropy(a, b, sparse=True),
         lambda a, b: F.cross_entropy(a, b[:, 0], reduction="none"))
    l3 = R.integers(0, 5, (2, 3))
    case("ops.softmax_cross_entropy sparse (2,3,5)", [z3, l3],
         lambda a, b: ops.softmax_cross_entropy(a, b, sparse=True),
         lambda a, b: F.cross_entropy(a.permute(0, 2, 1), b, reduction="none"))
    case("ops.softmax_cross_entropy sparse logits +-1000", [zl, np.array([0, 3, 2])],
         lambda a, b: ops.softmax_cross_entropy(a, b, sparse=True),
         lambda a, b: F.cross_entropy(a, b, reduction="none"))
    yb = R.random((4, 5))
    case("ops.sigmoid_cross_entropy", [z, yb], ops.sigmoid_cross_entropy,
         lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction="none"))
    case("ops.sigmoid_cross_entropy logits +-1000", [zl, R.random(zl.shape)], ops.sigmoid_cross_entropy,
         lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction="none"))
    case("ops.sigmoid_cross_entropy logits 0 (kink of |z|)", [np.zeros(4), R.random(4)], ops.sigmoid_cross_entropy,
         lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction="none"))



def loss_cases():
    yt, yp = rn(4, 3), rn(4, 3)
    case("losses.mean_squared_error (y_true differentiable too)", [yt, yp], losses.mean_squared_error,
         lambda t, p: ((p - t) ** 2).mean(-1))
    case("losses.mean_squared_error labels (4,) vs pred (4, 1)", [yt[:, 0], yp[:, :1]], losses.mean_squared_error,
         lambda t, p: ((p - t[:, None]) ** 2).mean(-1))
    case("losses.mean_absolute_error", [yt, yp], losses.mean_absolute_error, lambda t, p: (p - t).abs().mean(-1))
    same = yp.copy()
    same[::2] = yt[::2]
    case("losses.mean_absolute_error at y_pred == y_true (kink)", [yt, same], losses.mean_absolute_error,
         lambda t, p: (p - t).abs().mean(-1))
    prob, target = R.uniform(0.01, 0.99, (4, 3)), R.random((4, 3))
    case("losses.binary_crossentropy probabilities", [target, prob], losses.binary_crossentropy, th_bce)
    edges = np.array([[0.0, EPS, 1 - EPS, 1.0, 0.5, 1e-9]])
    case("losses.binary_crossentropy p at 0, EPS, 1-EPS, 1 (clip bounds)", [R.random(edges.shape), edges],
         losses.binary_crossentropy, th_bce)
    z = rn(4, 3, scale=3.0)
    case("losses.binary_crossentropy from_logits", [target, z],
         lambda t, p: losses.binary_crossentropy(t, p, from_logits=True),
         lambda t, p: F.binary_cross_entropy_with_logits(p, t, reduction="none").mean(-1))
    case("losses.binary_crossentropy from_logits label_smoothing=0.1 axis=0", [target, z],
         lambda t, p: losses.binary_crossentropy(t, p, from_logits=True, label_smoothing=0.1, axis=0),
         lambda t, p: F.binary_cross_entropy_with_logits(p, smooth(t, 0.1, 2), reduction="none").mean(0))
    case("losses.binary_crossentropy probabilities label_smoothing=0.2", [target, prob],
         lambda t, p: losses.binary_crossentropy(t, p, label_smoothing=0.2), lambda t, p: th_bce(smooth(t, 0.2, 2), p))
    zl = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 999.0, 3.0]])
    case("losses.binary_crossentropy of ops.sigmoid (fused) logits +-1000", [R.random(zl.shape), zl],
         lambda t, p: losses.binary_crossentropy(t, ops.sigmoid(p)),
         lambda t, p: F.binary_cross_entropy_with_logits(p, t, reduction="none").mean(-1))
    logits, soft = rn(4, 5, scale=2.0), R.random((4, 5))  # soft targets whose rows do not sum to 1
    ref = lambda t, p, axis=-1: -(t * F.log_softmax(p, axis)).sum(axis)  # noqa: E731
    case("losses.categorical_crossentropy from_logits soft targets", [soft, logits],
         lambda t, p: losses.categorical_crossentropy(t, p, from_logits=True), ref)
    z3, y3 = rn(2, 4, 3), R.random((2, 4, 3))
    case("losses.categorical_crossentropy from_logits label_smoothing=0.2 axis=1", [y3, z3],
         lambda t, p: losses.categorical_crossentropy(t, p, from_logits=True, label_smoothing=0.2, axis=1),
         lambda t, p: ref(smooth(t, 0.2, 4), p, 1))
    case("losses.categorical_crossentropy probabilities (unnormalized)", [soft, pos(4, 5)],
         losses.categorical_crossentropy, th_cce_prob)
    case("losses.categorical_crossentropy probabilities label_smoothing=0.1 axis=1", [y3, pos(2, 4, 3)],
         lambda t, p: losses.categorical_crossentropy(t, p, label_smoothing=0.1, axis=1),
         lambda t, p: th_cce_prob(smooth(t, 0.1, 4), p, 1))
    case("losses.categorical_crossentropy of ops.softmax(axis=1) (fused) axis=1", [y3, z3],
         lambda t, p: losses.categorical_crossentropy(t, ops.softmax(p, axis=1), axis=1), lambda t, p: ref(t, p, 1))
    case("losses.categorical_crossentropy from_logits +-1000", [R.random((2, 3)), zl],
         lambda t, p: losses.categorical_crossentropy(t, p, from_logits=True), ref)
    labels = R.integers(0, 5, 4)
    case("losses.sparse_categorical_crossentropy from_logits", [labels, logits],
         lambda t, p: losses.sparse_categorical_crossentropy(t, p, from_logits=True),
         lambda t, p: F.cross_entropy(p, t, reduction="none"))
    zn, ln = rn(2, 5, 3), R.integers(0, 5, (2, 3))
    case("losses.sparse_categorical_crossentropy from_logits axis=1 (N,C,T)", [ln, zn],
         lambda t, p: losses.sparse_categorical_crossentropy(t, p, from_logits=True, axis=1),
         lambda t, p: F.cross_entropy(p, t, reduction="none"))
    case("losses.sparse_categorical_crossentropy of ops.softmax(axis=1) axis=1", [ln, zn],
         lambda t, p: losses.sparse_categorical_crossentropy(t, ops.softmax(p, axis=1), axis=1),
         lambda t, p: F.cross_entropy(p, t, reduction="none"))
    case("losses.sparse_categorical_crossentropy probabilities axis=1", [ln, pos(2, 5, 3)],
         lambda t, p: losses.sparse_categorical_crossentropy(t, p, axis=1), lambda t, p: th_scce_prob(t, p, 1))
    case("losses.sparse_categorical_crossentropy float labels (N, 1)", [labels[:, None].astype(np.float64), logits],
         lambda t, p: losses.sparse_categorical_crossentropy(t, p, from_logits=True),
         lambda t, p: F.cross_entropy(p, t[:, 0].long(), reduction="none"), diff=[1])
    case("losses.sparse_categorical_crossentropy from_logits +-1000", [np.array([1, 0]), zl],
         lambda t, p: losses.sparse_categorical_crossentropy(t, p, from_logits=True),
         lambda t, p: F.cross_entropy(p, t, reduction="none"))
    case("losses.CategoricalCrossentropy(from_logits, label_smoothing=0.1)", [soft, logits],
         lambda t, p: losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)(t, p),
         lambda t, p: ref(smooth(t, 0.1, 5), p).mean())
    case("losses.SparseCategoricalCrossentropy(from_logits, axis=1)", [ln, zn],
         lambda t, p: losses.SparseCategoricalCrossentropy(from_logits=True, axis=1)(t, p),
         lambda t, p: F.cross_entropy(p, t))
    case("losses.BinaryCrossentropy() / MeanSquaredError()", [target, prob],
         lambda t, p: losses.BinaryCrossentropy()(t, p) + losses.MeanSquaredError()(t, p),
         lambda t, p: th_bce(t, p).mean() + ((p - t) ** 2).mean())
