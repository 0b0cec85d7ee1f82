"""The keras.ops functions of neurona.ops through the op harness: NumPy references, gradchecks, layouts, edges.

Every differentiable name that ``neurona.ops`` adds for Keras programs has at
least one gradchecked case here (the coverage test in test_harness_coverage.py
finds them); edge cases (ties, zeros, kinks) state PyTorch's gradient.
"""

import math

import numpy as np
from _harness.op_harness import Arg, OpCase, OpHarness

from neurona import ops

X, POS, UNIT = Arg((3, 4)), Arg((3, 4), 0.5, 2.0), Arg((3, 4), 0.05, 0.95)


def _dilated(x, rates):
    """``x`` spread over a zero array: element ``i`` of axis ``a`` at position ``i * rates[a]``."""
    rates = {axis % x.ndim: rate for axis, rate in rates.items()}
    shape = tuple((n - 1) * rates.get(axis, 1) + 1 for axis, n in enumerate(x.shape))
    out = np.zeros(shape, x.dtype)
    out[tuple(slice(None, None, rates.get(axis, 1)) for axis in range(x.ndim))] = x
    return out


def _case(op, args, reference, label=None, **fields):
    return OpCase(op, args, reference, label=label, **fields)


# References by the textbook formulas (no shift by the max: float64 holds exp of
# inputs up to about 700, and these cases stay within +-30), so that they do not
# share the stabilized implementation they check.
_erf = np.vectorize(math.erf, otypes=[np.float64])


def _logsumexp(x, axis=None, keepdims=False):
    return np.log(np.sum(np.exp(np.asarray(x, np.float64)), axis=axis, keepdims=keepdims))


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _cumprod_grad(x, g, axis=1):
    """d/dx_i of sum_j g_j cumprod(x)_j = sum_{j >= i} g_j prod_{k <= j, k != i} x_k, by brute force."""
    grad = np.zeros_like(x)
    for index in np.ndindex(*[n for i, n in enumerate(x.shape) if i != axis]):
        row = [slice(None) if i == axis else index[i - (i > axis)] for i in range(x.ndim)]
        xs, gs = x[tuple(row)], g[tuple(row)]
        out = np.zeros_like(xs)
        for i in range(xs.size):
            for j in range(i, xs.size):
                out[i] += gs[j] * np.prod(np.delete(xs[: j + 1], i))
        grad[tuple(row)] = out
    return (grad,)


def _share(wins, ties):
    """The part of the gradient an operand of maximum/minimum gets: all where it wins, half at ties."""
    return wins + 0.5 * ties


MATH = [
    _case(ops.subtract, (X, Arg((4,))), np.subtract),
    _case(ops.multiply, (X, Arg((3, 1))), np.multiply),
    _case(ops.divide, (X, Arg((4,), 0.5, 2.0)), np.divide),
    _case(ops.true_divide, (Arg(()), POS), np.true_divide),
    _case(ops.negative, (X,), np.negative),
    _case(ops.power, (POS, Arg((4,), -1.5, 1.5)), np.power),
    _case(ops.absolute, (Arg((3, 4), avoid=(0.0,)),), np.abs),
    _case(ops.maximum, (X, Arg((4,))), np.maximum),
    _case(ops.minimum, (X, Arg((3, 1))), np.minimum),
    # ties: each operand gets half the gradient (PyTorch's maximum/minimum)
    _case(ops.maximum, (Arg.fixed([1.0, 2.0, -1.0, 0.5]), Arg.fixed([1.0, 3.0, -2.0, 0.5])), np.maximum, "ties",
          gradcheck=False, reference_grad=lambda a, b, g: (g * _share(a > b, a == b), g * _share(b > a, a == b))),
    _case(ops.minimum, (Arg.fixed([1.0, 2.0, -1.0]), Arg.fixed([1.0, 3.0, -2.0])), np.minimum, "ties",
          gradcheck=False, reference_grad=lambda a, b, g: (g * _share(a < b, a == b), g * _share(b < a, a == b))),
    _case(ops.expm1, (X,), np.expm1),
    _case(ops.log1p, (Arg((3, 4), -0.5, 2.0),), np.log1p),
    _case(ops.log2, (Arg((3, 4), 0.2, 3.0),), np.log2),
    _case(ops.log10, (Arg((3, 4), 0.2, 3.0),), np.log10),
    _case(ops.rsqrt, (Arg((3, 4), 0.2, 3.0),), lambda x: 1 / np.sqrt(x)),
    _case(ops.reciprocal, (Arg((2, 3), 0.5, 2.0),), np.reciprocal),
    _case(ops.sin, (X,), np.sin),
    _case(ops.cos, (X,), np.cos),
    _case(ops.tan, (Arg((3, 4), -1.2, 1.2),), np.tan),
    _case(ops.sinh, (X,), np.sinh),
    _case(ops.cosh, (X,), np.cosh),
    _case(ops.arctan, (Arg((3, 4), -3.0, 3.0),), np.arctan),
    _case(ops.erf, (X,), _erf),
    # piecewise constant: gradient 0 (away from the jumps, where finite differences are 0 too)
    _case(ops.sign, (Arg((3, 4), avoid=(0.0,)),), np.sign),
    _case(ops.floor, (Arg((3, 4), avoid=(-2.0, -1.0, 0.0, 1.0, 2.0)),), np.floor),
    _case(ops.ceil, (Arg((3, 4), avoid=(-2.0, -1.0, 0.0, 1.0, 2.0)),), np.ceil),
    _case(ops.round, (Arg((3, 4), avoid=(-1.5, -0.5, 0.5, 1.5)),), np.round),
    _case(ops.round, (Arg((3, 4), -20.0, 20.0, avoid=tuple(range(-15, 20, 10))),), np.round,
          params=dict(decimals=-1)),
    _case(ops.floor_divide, (Arg((3, 4), -1.9, 1.9, avoid=(0.0,)), Arg((4,), 2.05, 2.5)), np.floor_divide),
    _case(ops.mod, (Arg((3, 4), 0.1, 0.9), Arg((4,), 1.0, 2.0)), np.mod),
    _case(ops.mod, (Arg((3, 4), -1.9, -1.1), Arg((3, 4), 1.0, 1.05)), np.mod, "negative"),
]

ZEROS = [[0.5, 0.0, 2.0, 1.5], [0.0, 0.0, 3.0, -1.0], [1.5, -2.0, 0.5, 0.0]]  # one, two and a last zero per row
REDUCTIONS = [
    _case(ops.prod, (Arg((3, 4), 0.5, 1.5),), lambda x, axis: np.prod(x, axis=axis), params=dict(axis=1)),
    _case(ops.prod, (Arg((2, 3, 2), 0.5, 1.5),), lambda x, axis, keepdims: np.prod(x, axis=axis, keepdims=keepdims),
          params=dict(axis=(0, 2), keepdims=True)),
    _case(ops.prod, (Arg.fixed(ZEROS),), lambda x, axis: np.prod(x, axis=axis), params=dict(axis=1), label="zeros"),
    _case(ops.prod, (Arg.fixed(ZEROS),), np.prod, label="zeros,axis=None"),
    _case(ops.var, (X,), lambda x, axis: np.var(x, axis=axis), params=dict(axis=-1)),
    _case(ops.std, (Arg((2, 3, 4)),), lambda x, axis, keepdims: np.std(x, axis=axis, keepdims=keepdims),
          params=dict(axis=(0, 2), keepdims=True)),
    _case(ops.amax, (Arg((3, 4), kind="distinct"),), lambda x, axis: np.max(x, axis=axis), params=dict(axis=0)),
    _case(ops.amin, (Arg((3, 4), kind="distinct"),), np.min),
    _case(ops.max, (Arg((3, 4), kind="distinct"),), lambda x, axis, initial: np.max(x, axis=axis, initial=initial),
          params=dict(axis=1, initial=0.0), label="initial=0.0"),
    _case(ops.logsumexp, (X,), lambda x, axis: _logsumexp(x, axis=axis), params=dict(axis=-1)),
    _case(ops.logsumexp, (Arg((2, 3, 4), -30.0, 30.0),), lambda x, axis, keepdims: _logsumexp(
        x, axis=axis, keepdims=keepdims), params=dict(axis=(0, 2), keepdims=True)),
    _case(ops.logsumexp, (X,), _logsumexp, label="axis=None"),
    _case(ops.cumsum, (X,), lambda x, axis: np.cumsum(x, axis=axis), params=dict(axis=1)),
    _case(ops.cumsum, (Arg((2, 3)),), np.cumsum, label="axis=None"),
    _case(ops.cumprod, (Arg((3, 4), 0.5, 1.5),), lambda x, axis: np.cumprod(x, axis=axis), params=dict(axis=1)),
    _case(ops.cumprod, (Arg((3, 4), 0.5, 1.5),), lambda x, axis: np.cumprod(x, axis=axis), params=dict(axis=0)),
    # zeros: the products are polynomials, so finite differences hold; also against brute force
    _case(ops.cumprod, (Arg.fixed(ZEROS),), lambda x, axis: np.cumprod(x, axis=axis), params=dict(axis=1),
          label="zeros", reference_grad=_cumprod_grad),
    _case(ops.cumprod, (Arg.fixed(np.array(ZEROS).T.copy()),), lambda x, axis: np.cumprod(x, axis=axis),
          params=dict(axis=0), label="zeros,axis=0", reference_grad=lambda x, g, axis: _cumprod_grad(x, g, axis)),
    _case(ops.sort, (Arg((3, 5), kind="distinct"),), lambda x: np.sort(x, axis=-1)),
    _case(ops.sort, (Arg((3, 5), kind="distinct"),), lambda x, axis: np.sort(x, axis=axis), params=dict(axis=0)),
    _case(ops.top_k, (Arg((3, 6), kind="distinct"),), lambda x: -np.sort(-x, axis=-1)[:, :2],
          call=lambda x: ops.top_k(x, 2)[0], label="k=2"),
    _case(ops.norm, (X,), lambda x: np.linalg.norm(x)),
    _case(ops.norm, (Arg((3, 4), avoid=(0.0,)),), lambda x, ord, axis: np.linalg.norm(x, ord=ord, axis=axis),
          params=dict(ord=1, axis=-1)),
    _case(ops.norm, (Arg((3, 4), avoid=(0.0,)),), lambda x, ord, axis, keepdims: np.linalg.norm(
        x, ord=ord, axis=axis, keepdims=keepdims), params=dict(ord=3, axis=0, keepdims=True)),
    _case(ops.norm, (Arg((3, 4), 0.1, 2.0, kind="distinct"),), lambda x, ord, axis: np.linalg.norm(
        x, ord=ord, axis=axis), params=dict(ord=math.inf, axis=1)),
    *[_case(ops.norm, (Arg((3, 4), avoid=(0.0,)),), lambda x, ord: np.linalg.norm(x, ord=ord), params=dict(ord=o))
      for o in ("fro", "nuc", 2, -2, 1, -1, math.inf)],
    _case(ops.norm, (Arg((2, 3, 4)),), lambda x, ord, axis: np.linalg.norm(x, ord=ord, axis=axis),
          params=dict(ord="nuc", axis=(2, 0))),
    # the zero vector: PyTorch's subgradient 0 where the formula is 0/0
    _case(ops.norm, (Arg.fixed([[0.0, 0.0, 0.0], [3.0, 0.0, -4.0]]),), lambda x, axis: np.linalg.norm(x, axis=axis),
          params=dict(axis=-1), label="axis=-1,zero_row", gradcheck=False,
          reference_grad=lambda x, g, axis: (np.array([[0.0, 0.0, 0.0], [0.6, 0.0, -0.8]]) * g.reshape(2, 1),)),
]

LINALG = [
    _case(ops.einsum, (Arg((3, 4)), Arg((4, 5))), lambda a, b: a @ b, call=lambda a, b: ops.einsum("ij,jk->ik", a, b),
          label="ij,jk->ik"),
    *[_case(ops.einsum, tuple(Arg(s) for s in shapes), lambda *a, s=spec: np.einsum(s, *a),
            call=lambda *a, s=spec: ops.einsum(s, *a), label=spec)
      for spec, shapes in [("bij,bjk->bik", ((2, 3, 4), (2, 4, 5))), ("...ij,...jk->...ik", ((2, 1, 3, 4), (5, 4, 2))),
                           ("ii->i", ((4, 4),)), ("ii", ((3, 3),)), ("ij->", ((3, 4),)), ("i,i", ((5,), (5,))),
                           ("ij,j", ((3, 4), (4,))), ("iij->ji", ((3, 3, 2),)), ("ij,ij->ij", ((1, 3), (2, 3))),
                           ("ij,jk,kl->il", ((2, 3), (3, 4), (4, 2))), ("ij,jk", ((2, 3), (3, 4))), ("ba", ((2, 3),)),
                           ("ij,k->i", ((3, 4), (2,))), ("i...->...", ((3, 2, 2),)), ("bhqd,bhkd->bhqk",
                                                                                      ((2, 2, 3, 4), (2, 2, 5, 4)))]],
    _case(ops.tensordot, (Arg((3, 4)), Arg((4, 5))), lambda a, b, axes: np.tensordot(a, b, axes), params=dict(axes=1)),
    _case(ops.tensordot, (Arg((3, 4, 2)), Arg((4, 3, 5))), lambda a, b, axes: np.tensordot(a, b, axes),
          params=dict(axes=([1, 0], [0, 1]))),
    _case(ops.tensordot, (Arg((2, 3)), Arg((3,))), lambda a, b, axes: np.tensordot(a, b, axes), params=dict(axes=0)),
    _case(ops.dot, (Arg((3, 4)), Arg((4,))), np.dot, "(3,4)x(4,)"),
    _case(ops.dot, (Arg((2, 3, 4)), Arg((5, 4, 2))), np.dot, "(2,3,4)x(5,4,2)"),
    _case(ops.dot, (Arg(()), Arg((2, 3))), np.dot, "()x(2,3)"),
    _case(ops.outer, (Arg((3,)), Arg((4,))), np.outer),
    _case(ops.outer, (Arg((2, 2)), Arg((3,))), np.outer, "flattened"),
]

SHAPES = [
    _case(ops.broadcast_to, (Arg((3, 1)),), lambda x, shape: np.broadcast_to(x, shape), params=dict(shape=(2, 3, 4))),
    _case(ops.tile, (Arg((2, 3)),), lambda x, repeats: np.tile(x, repeats), params=dict(repeats=(2, 1))),
    _case(ops.tile, (Arg((2, 3)),), lambda x, repeats: np.tile(x, repeats), params=dict(repeats=(2, 1, 2))),
    _case(ops.tile, (Arg((2, 3)),), lambda x, repeats: np.tile(x, repeats), params=dict(repeats=3)),
    _case(ops.repeat, (X,), lambda x, repeats, axis: np.repeat(x, repeats, axis), params=dict(repeats=2, axis=1)),
    _case(ops.repeat, (X,), lambda x, repeats, axis: np.repeat(x, repeats, axis), params=dict(repeats=[0, 2, 1],
                                                                                               axis=0)),
    _case(ops.repeat, (Arg((2, 2)),), lambda x, repeats: np.repeat(x, repeats), params=dict(repeats=2)),
    _case(ops.flip, (Arg((2, 3, 4)),), np.flip),
    # rate - 1 zeros between neighbours (a transposed convolution's input): an independent reference by slicing
    _case(ops.dilate, (Arg((2, 3, 4)),), lambda x, rates: _dilated(x, rates), params=dict(rates={1: 2, 2: 3})),
    _case(ops.dilate, (Arg((1, 4)),), lambda x, rates: _dilated(x, rates), params=dict(rates={-1: 2})),
    _case(ops.flip, (Arg((2, 3, 4)),), lambda x, axis: np.flip(x, axis), params=dict(axis=(0, 2))),
    _case(ops.pad, (X,), lambda x, pad_width: np.pad(x, pad_width), params=dict(pad_width=1)),
    _case(ops.pad, (X,), lambda x, pad_width, constant_values: np.pad(x, pad_width, constant_values=constant_values),
          params=dict(pad_width=((1, 0), (2, 1)), constant_values=0.5)),
    *[_case(ops.pad, (X,), lambda x, pad_width, mode: np.pad(x, pad_width, mode=mode),
            params=dict(pad_width=((2, 1), (0, 3)), mode=m)) for m in ("edge", "reflect", "symmetric", "wrap")],
    _case(ops.swapaxes, (Arg((2, 3, 4)),), lambda x, axis1, axis2: np.swapaxes(x, axis1, axis2),
          params=dict(axis1=0, axis2=-1)),
    _case(ops.moveaxis, (Arg((2, 3, 4)),), lambda x, source, destination: np.moveaxis(x, source, destination),
          params=dict(source=0, destination=-1)),
    _case(ops.moveaxis, (Arg((2, 3, 4)),), lambda x, source, destination: np.moveaxis(x, source, destination),
          params=dict(source=[0, 1], destination=[2, 0])),
    _case(ops.ravel, (Arg((2, 3, 2)),), np.ravel),
    _case(ops.split, (Arg((3, 6)),), lambda x: np.split(x, [1, 4], axis=1)[1],
          call=lambda x: ops.split(x, [1, 4], axis=1)[1], label="[1,4],axis=1"),
    _case(ops.split, (Arg((4, 3)),), lambda x: np.split(x, 2)[1], call=lambda x: ops.split(x, 2)[1], label="2"),
    _case(ops.slice, (Arg((4, 5)),), lambda x, start_indices, shape: x[1:3, 2:5],
          params=dict(start_indices=(1, 2), shape=(2, 3))),
    _case(ops.take, (X,), lambda x, indices, axis: np.take(x, indices, axis),
          params=dict(indices=[2, 0, 2, -1], axis=1)),
    _case(ops.take, (X,), lambda x, indices: np.take(x, indices), params=dict(indices=[[0, 11], [5, 5]])),
    _case(ops.take_along_axis, (X,), lambda x, indices, axis: np.take_along_axis(x, np.array(indices), axis),
          params=dict(indices=[[0, 3, 3], [1, 1, 0], [2, 0, 1]], axis=1)),
    _case(ops.take_along_axis, (X,), lambda x, indices, axis: np.take_along_axis(x, np.array(indices), axis),
          params=dict(indices=[[0, 2, 2, 1]], axis=0), label="broadcast,axis=0"),
    _case(ops.diag, (Arg((3,)),), lambda x, k: np.diag(x, k), params=dict(k=1), label="vector,k=1"),
    _case(ops.diag, (Arg((3,)),), lambda x, k: np.diag(x, k), params=dict(k=-2), label="vector,k=-2"),
    _case(ops.diag, (X,), np.diag, label="matrix"),
    _case(ops.diag, (X,), lambda x, k: np.diag(x, k), params=dict(k=1), label="matrix,k=1"),
    _case(ops.tril, (X,), np.tril),
    _case(ops.tril, (Arg((2, 3, 4)),), lambda x, k: np.tril(x, k), params=dict(k=-1)),
    _case(ops.triu, (X,), lambda x, k: np.triu(x, k), params=dict(k=1)),
    _case(ops.copy, (X,), np.copy),
    _case(ops.convert_to_tensor, (X,), lambda x, dtype: x, params=dict(dtype="float64"), out_dtype="float64"),
    _case(ops.array, (X,), lambda x, dtype: x, params=dict(dtype="float64"), out_dtype="float64"),
]


def _bce(t, p):
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return -(t * np.log(p) + (1 - t) * np.log(1 - p))


def _cce(t, p, axis=-1):
    p = np.clip(p / p.sum(axis=axis, keepdims=True), 1e-7, 1 - 1e-7)
    return -(t * np.log(p)).sum(axis=axis)


def _sparse(labels, p, axis=-1):
    p = np.moveaxis(p, axis, -1)
    logp = np.log(np.clip(p / p.sum(axis=-1, keepdims=True), 1e-7, 1 - 1e-7))
    return -np.take_along_axis(logp, labels[..., None], axis=-1)[..., 0]


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


NN = [
    _case(ops.relu6, (Arg((3, 4), -2.0, 8.0, avoid=(0.0, 6.0)),), lambda x: np.clip(x, 0, 6)),
    _case(ops.relu6, (Arg.fixed([-1.0, 0.0, 3.0, 6.0, 7.0]),), lambda x: np.clip(x, 0, 6), label="at_bounds",
          gradcheck=False, reference_grad=lambda x, g: (g * ((x > 0) & (x < 6)),)),
    _case(ops.hard_sigmoid, (Arg((3, 4), -4.0, 4.0, avoid=(-3.0, 3.0)),), lambda x: np.clip(x / 6 + 0.5, 0, 1)),
    _case(ops.softsign, (X,), lambda x: x / (1 + np.abs(x))),
    _case(ops.silu, (X,), lambda x: x * _sigmoid(x)),
    _case(ops.swish, (X,), lambda x: x * _sigmoid(x)),
    _case(ops.hard_silu, (Arg((3, 4), -4.0, 4.0, avoid=(-3.0, 3.0)),), lambda x: x * np.clip(x / 6 + 0.5, 0, 1)),
    _case(ops.mish, (X,), lambda x: x * np.tanh(np.log1p(np.exp(x)))),
    _case(ops.normalize, (X,), lambda x: x / np.linalg.norm(x, axis=-1, keepdims=True)),
    _case(ops.normalize, (Arg((3, 4), avoid=(0.0,)),), lambda x, axis, order: x / np.linalg.norm(
        x, ord=order, axis=axis, keepdims=True), params=dict(axis=0, order=1)),
    _case(ops.moments, (Arg((2, 3, 4)),), lambda x: np.var(x, axis=(0, 2)), call=lambda x: ops.moments(x, (0, 2))[1],
          label="variance"),
    _case(ops.moments, (Arg((2, 3, 4)),), lambda x: x.mean(axis=1, keepdims=True),
          call=lambda x: ops.moments(x, [1], keepdims=True)[0], label="mean,keepdims"),
    _case(ops.binary_crossentropy, (Arg((3, 4), 0.0, 1.0), UNIT), _bce),
    _case(ops.binary_crossentropy, (Arg((3, 4), 0.0, 1.0), X),
          lambda t, z, from_logits: _bce(t, _sigmoid(z)), params=dict(from_logits=True)),
    _case(ops.categorical_crossentropy, (Arg((3, 4), 0.0, 1.0), Arg((3, 4), 0.1, 1.0)), _cce),
    _case(ops.categorical_crossentropy, (Arg((3, 4), 0.0, 1.0), Arg((3, 4), 0.1, 1.0)),
          lambda t, p, axis: _cce(t, p, axis), params=dict(axis=0)),
    _case(ops.categorical_crossentropy, (Arg((3, 4), 0.0, 1.0), X),
          lambda t, z, from_logits, axis: -(t * np.log(_softmax(z, axis))).sum(axis=axis),
          params=dict(from_logits=True, axis=0)),
    _case(ops.sparse_categorical_crossentropy, (Arg((3,), 0, 4, kind="int"), Arg((3, 4), 0.1, 1.0)), _sparse),
    _case(ops.sparse_categorical_crossentropy, (Arg((4,), 0, 3, kind="int"), Arg((3, 4), 0.1, 1.0)),
          lambda t, p, axis: _sparse(t, p, axis), params=dict(axis=0)),
    _case(ops.sparse_categorical_crossentropy, (Arg((3, 1), 0, 4, kind="int"), X),
          lambda t, z, from_logits: -np.log(np.take_along_axis(_softmax(z), t, axis=-1))[:, 0],
          params=dict(from_logits=True)),
]

CASES = MATH + REDUCTIONS + LINALG + SHAPES + NN


class TestKerasOpsHarness(OpHarness):
    cases = CASES
