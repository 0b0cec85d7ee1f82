"""The Keras 3 losses of more_functions (and sparse ignore_class) through the op harness: forward against
independent NumPy references in float64 and float32, every layout, gradcheck in float64, retained graphs."""

import numpy as np
from _harness.op_harness import Arg, OpCase, OpHarness

from neurona import losses

EPS = 1e-7
RNG = np.random.default_rng(21)
SIGNS = np.where(RNG.random((4, 3)) < 0.5, -1.0, 1.0)
BITS = (SIGNS + 1) / 2
ONE_HOT = np.eye(4)[[0, 3, 1, 2, 3]]
DISTRIBUTIONS = RNG.dirichlet(np.full(4, 5.0), size=5)  # no entry near 0, where log t curves sharply
LABELS = np.array([[0], [-1], [2], [1], [-1]])  # -1: ignored


def _huber(t, p, delta=1.0):
    e = np.abs(p - t)
    return np.mean(np.where(e <= delta, 0.5 * e**2, delta * e - 0.5 * delta**2), axis=-1)


def _log_cosh(t, p):
    return np.mean(np.log(np.cosh(p - t)), axis=-1)


def _mape(t, p):
    return 100 * np.mean(np.abs(t - p) / np.maximum(np.abs(t), EPS), axis=-1)


def _msle(t, p):
    return np.mean((np.log1p(p) - np.log1p(t)) ** 2, axis=-1)


def _cosine(t, p, axis=-1):
    return -np.sum(t * p, axis=axis) / (np.linalg.norm(t, axis=axis) * np.linalg.norm(p, axis=axis))


def _kl(t, p):
    return np.sum(t * np.log(t / p), axis=-1)


def _poisson(t, p):
    return np.mean(p - t * np.log(p + EPS), axis=-1)


def _hinge(t, p):
    t = 2 * t - 1 if np.isin(t, (0, 1)).all() else t
    return np.mean(np.maximum(1 - t * p, 0), axis=-1)


def _squared_hinge(t, p):
    t = 2 * t - 1 if np.isin(t, (0, 1)).all() else t
    return np.mean(np.maximum(1 - t * p, 0) ** 2, axis=-1)


def _categorical_hinge(t, p):
    return np.maximum(np.max((1 - t) * p, axis=-1) - np.sum(t * p, axis=-1) + 1, 0)


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _binary_focal(t, p, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0):
    t = t * (1 - label_smoothing) + 0.5 * label_smoothing
    p = _sigmoid(p) if from_logits else p
    bce = -(t * np.log(p) + (1 - t) * np.log(1 - p))
    p_t = t * p + (1 - t) * (1 - p)
    weight = t * alpha + (1 - t) * (1 - alpha) if apply_class_balancing else 1.0
    return np.mean(weight * (1 - p_t) ** gamma * bce, axis=-1)


def _categorical_focal(t, p, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0):
    t = t * (1 - label_smoothing) + label_smoothing / t.shape[-1]
    p = np.exp(p) / np.exp(p).sum(-1, keepdims=True) if from_logits else p / p.sum(-1, keepdims=True)
    return np.sum(np.asarray(alpha) * (1 - p) ** gamma * -t * np.log(p), axis=-1)


def _dice(t, p, axis=None):
    return 1 - 2 * np.sum(t * p, axis=axis) / (np.sum(t, axis=axis) + np.sum(p, axis=axis) + EPS)


def _sparse_ignoring(labels, z, from_logits=True, ignore_class=-1):
    labels = labels.reshape(-1)
    probs = np.exp(z) / np.exp(z).sum(-1, keepdims=True) if from_logits else z / z.sum(-1, keepdims=True)
    picked = np.array([probs[i, c] if c != ignore_class else 1.0 for i, c in enumerate(labels)])
    return -np.log(picked)


POSITIVE = dict(low=0.1, high=3.0)
UNIT = dict(low=0.05, high=0.95)
CASES = [
    OpCase(losses.huber, (Arg((4, 3)), Arg((4, 3))), _huber, label="delta=1"),
    OpCase(losses.huber, (Arg((4, 3), -3, 3), Arg((4, 3), -3, 3)), _huber, params=dict(delta=0.5)),
    OpCase(losses.log_cosh, (Arg((2, 4, 3), -4, 4), Arg((2, 4, 3), -4, 4)), _log_cosh),
    OpCase(losses.mean_absolute_percentage_error, (Arg((4, 3), **POSITIVE), Arg((4, 3), -2, 2)), _mape),
    OpCase(losses.mean_squared_logarithmic_error, (Arg((4, 3), **POSITIVE), Arg((4, 3), **POSITIVE)), _msle),
    OpCase(losses.cosine_similarity, (Arg((4, 3)), Arg((4, 3))), _cosine),
    OpCase(losses.cosine_similarity, (Arg((3, 4, 2)), Arg((3, 4, 2))), _cosine, params=dict(axis=1)),
    OpCase(losses.kl_divergence, (Arg((5, 4), **UNIT), Arg((5, 4), **UNIT)), _kl, label="soft"),
    OpCase(losses.kl_divergence, (Arg.fixed(DISTRIBUTIONS), Arg((5, 4), **UNIT)), _kl, label="distributions"),
    OpCase(losses.poisson, (Arg((4, 3), 0, 4), Arg((4, 3), **POSITIVE)), _poisson),
    OpCase(losses.hinge, (Arg.fixed(SIGNS, grad=False), Arg((4, 3), avoid=(-1.0, 1.0))), _hinge, label="signs"),
    OpCase(losses.hinge, (Arg.fixed(BITS, grad=False), Arg((4, 3), avoid=(-1.0, 1.0))), _hinge, label="bits"),
    OpCase(losses.squared_hinge, (Arg.fixed(SIGNS, grad=False), Arg((4, 3), avoid=(-1.0, 1.0))), _squared_hinge,
           label="signs"),
    OpCase(losses.squared_hinge, (Arg.fixed(BITS, grad=False), Arg((4, 3), avoid=(-1.0, 1.0))), _squared_hinge,
           label="bits"),
    OpCase(losses.categorical_hinge, (Arg.fixed(ONE_HOT, grad=False), Arg((5, 4), kind="distinct")),
           _categorical_hinge),
    OpCase(losses.binary_focal_crossentropy, (Arg((4, 3), 0, 1), Arg((4, 3), **UNIT)), _binary_focal),
    OpCase(losses.binary_focal_crossentropy, (Arg((4, 3), 0, 1), Arg((4, 3), **UNIT)), _binary_focal,
           params=dict(apply_class_balancing=True, alpha=0.4, gamma=1.5, label_smoothing=0.1)),
    OpCase(losses.binary_focal_crossentropy, (Arg.fixed(BITS), Arg((4, 3), -3, 3)), _binary_focal,
           params=dict(from_logits=True, gamma=3.0)),
    OpCase(losses.categorical_focal_crossentropy, (Arg.fixed(DISTRIBUTIONS), Arg((5, 4), 0.1, 1.0)),
           _categorical_focal),
    OpCase(losses.categorical_focal_crossentropy, (Arg.fixed(ONE_HOT), Arg((5, 4), -2, 2)), _categorical_focal,
           params=dict(from_logits=True, gamma=1.0, label_smoothing=0.2)),
    OpCase(losses.categorical_focal_crossentropy, (Arg.fixed(ONE_HOT), Arg((5, 4), 0.1, 1.0)), _categorical_focal,
           params=dict(alpha=[0.1, 0.2, 0.3, 0.4]), label="alpha=per_class"),
    OpCase(losses.dice, (Arg((2, 3, 4), 0, 1), Arg((2, 3, 4), 0, 1)), _dice),
    OpCase(losses.dice, (Arg((2, 3, 4), 0, 1), Arg((2, 3, 4), 0, 1)), _dice, params=dict(axis=(1, 2))),
    OpCase(losses.sparse_categorical_crossentropy, (Arg.fixed(LABELS, dtype=np.int64), Arg((5, 3))),
           _sparse_ignoring, params=dict(from_logits=True, ignore_class=-1)),
    OpCase(losses.sparse_categorical_crossentropy, (Arg.fixed(LABELS, dtype=np.int64), Arg((5, 3), 0.1, 1.0)),
           _sparse_ignoring, params=dict(from_logits=False, ignore_class=-1)),
]


class TestMoreLossesHarness(OpHarness):
    cases = CASES
