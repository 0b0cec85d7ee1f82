"""Case groups for the keras.ops names of ``neurona.ops``: Keras's arithmetic names, the new elementwise math,
reductions and orderings (zeros in products, ties in maxima), einsum and the products built on it, norms (the zero
vector, singular values), shape ops and gathers, and the nn functions and cross-entropies of ``keras.ops``.
"""

import math

import numpy as np
import torch
import torch.nn.functional as F

from neurona import ops

from .harness import R, case, pos, rn, ties

EPS = 1e-7  # keras.ops' clip of probabilities (backend.epsilon())


def _index_pad(v, width, mode):
    """A padding through an index gather (NumPy pads the indices, torch gathers and scatters the gradient)."""
    for axis, w in enumerate(width):
        idx = torch.tensor(np.pad(np.arange(v.shape[axis]), w, mode=mode))
        v = v.index_select(axis, idx)
    return v


def keras_math_cases():
    a, b, col, p = rn(3, 4), rn(4), rn(3, 1), pos(3, 4)
    for name, tfn in [("subtract", torch.sub), ("multiply", torch.mul), ("divide", torch.div),
                      ("true_divide", torch.true_divide), ("maximum", torch.maximum), ("minimum", torch.minimum)]:
        case(f"ops.{name} (3,4)x(4,)", [a, b], getattr(ops, name), tfn)
    case("ops.power a>0", [p, col], ops.power, torch.pow)
    case("ops.negative", [a], ops.negative, torch.neg)
    case("ops.absolute at 0 (kink)", [np.array([-1.0, 0.0, 2.0])], ops.absolute, torch.abs)
    t1, t2 = ties(4, 5), ties(4, 5)
    case("ops.maximum ties (half each)", [t1, t2], ops.maximum, torch.maximum)
    case("ops.minimum ties (half each)", [t1, t2], ops.minimum, torch.minimum)
    unary = [("expm1", torch.expm1, a), ("log1p", torch.log1p, p), ("log2", torch.log2, p),
             ("log10", torch.log10, p), ("rsqrt", torch.rsqrt, p), ("reciprocal", torch.reciprocal, p + 0.1),
             ("sin", torch.sin, a), ("cos", torch.cos, a), ("tan", torch.tan, a / 2), ("sinh", torch.sinh, a),
             ("cosh", torch.cosh, a), ("arctan", torch.atan, 2 * a), ("erf", torch.erf, a),
             ("sign", torch.sign, a), ("floor", torch.floor, 3 * a), ("ceil", torch.ceil, 3 * a),
             ("round", torch.round, 3 * a)]
    for name, tfn, x in unary:
        case(f"ops.{name}", [x], getattr(ops, name), tfn)
    case("ops.sign at 0", [np.array([-2.0, 0.0, 3.0])], ops.sign, torch.sign)
    case("ops.round decimals=1", [3 * a], lambda v: ops.round(v, 1), lambda v: torch.round(v, decimals=1))
    case("ops.floor_divide (gradient 0; torch: floor(a / b))", [3 * a, p], ops.floor_divide,
         lambda x, y: torch.floor(x / y))
    case("ops.mod", [3 * a, p], ops.mod, torch.remainder)
    case("ops.mod negative divisor", [3 * a, -p], ops.mod, torch.remainder)


def keras_reduction_cases():
    x, t = rn(2, 3, 4), ties(3, 4)
    zeros = np.array([[0.5, 0.0, 2.0, 1.5], [0.0, 0.0, 3.0, -1.0], [1.5, -2.0, 0.5, 0.0]])
    for axis in (None, 1, (0, 2)):
        dims = None if axis is None else axis
        case(f"ops.prod axis={axis}", [x], lambda v, a=axis: ops.prod(v, axis=a),
             lambda v, d=dims: v.prod() if d is None else v.prod(d) if isinstance(d, int) else v.prod(2).prod(0))
        case(f"ops.var axis={axis}", [x], lambda v, a=axis: ops.var(v, axis=a),
             lambda v, d=dims: torch.var(v, dim=d, correction=0))
        case(f"ops.std axis={axis} keepdims", [x], lambda v, a=axis: ops.std(v, axis=a, keepdims=True),
             lambda v, d=dims: torch.std(v, dim=d, correction=0, keepdim=True))
        case(f"ops.logsumexp axis={axis}", [x], lambda v, a=axis: ops.logsumexp(v, axis=a),
             lambda v, d=dims: torch.logsumexp(v, dim=tuple(range(v.ndim)) if d is None else d))
    case("ops.prod with zeros (one, two per row)", [zeros], lambda v: ops.prod(v, axis=1), lambda v: v.prod(1))
    case("ops.logsumexp -inf and +-1000", [np.array([[-np.inf, 0.0, 1.0], [1000.0, -1000.0, 999.0]])],
         lambda v: ops.logsumexp(v, axis=1), lambda v: torch.logsumexp(v, 1))
    case("ops.amax ties axis=0", [t], lambda v: ops.amax(v, axis=0), lambda v: torch.amax(v, 0))
    case("ops.amin ties", [t], ops.amin, torch.amin)
    case("ops.max initial=0.5", [t], lambda v: ops.max(v, axis=1, initial=0.5),
         lambda v: torch.maximum(torch.amax(v, 1), torch.tensor(0.5, dtype=v.dtype)))
    for axis in (0, 1):
        case(f"ops.cumsum axis={axis}", [x], lambda v, a=axis: ops.cumsum(v, axis=a), lambda v, a=axis: v.cumsum(a))
        case(f"ops.cumprod axis={axis}", [x], lambda v, a=axis: ops.cumprod(v, axis=a), lambda v, a=axis: v.cumprod(a))
    case("ops.cumsum axis=None", [x], ops.cumsum, lambda v: v.flatten().cumsum(0))
    case("ops.cumprod with zeros", [zeros], lambda v: ops.cumprod(v, axis=1), lambda v: v.cumprod(1))
    case("ops.cumprod with zeros axis=0", [zeros.T.copy()], lambda v: ops.cumprod(v, axis=0), lambda v: v.cumprod(0))
    case("ops.sort axis=-1", [x], ops.sort, lambda v: torch.sort(v, -1).values)
    case("ops.sort axis=0", [x], lambda v: ops.sort(v, axis=0), lambda v: torch.sort(v, 0).values)
    case("ops.top_k k=2", [rn(3, 5)], lambda v: ops.top_k(v, 2)[0], lambda v: torch.topk(v, 2).values)
    m = rn(3, 4)
    for o, tfn in [(None, lambda v: torch.linalg.vector_norm(v)), ("fro", lambda v: torch.linalg.matrix_norm(v)),
                   ("nuc", lambda v: torch.linalg.matrix_norm(v, "nuc")),
                   (2, lambda v: torch.linalg.matrix_norm(v, 2)), (-2, lambda v: torch.linalg.matrix_norm(v, -2)),
                   (1, lambda v: torch.linalg.matrix_norm(v, 1)),
                   (math.inf, lambda v: torch.linalg.matrix_norm(v, math.inf))]:
        case(f"ops.norm matrix ord={o}", [m], lambda v, o=o: ops.norm(v, ord=o), tfn)
    for o in (1, 2, 3, 0.5, math.inf, -math.inf):
        case(f"ops.norm vector ord={o} axis=-1", [m], lambda v, o=o: ops.norm(v, ord=o, axis=-1),
             lambda v, o=o: torch.linalg.vector_norm(v, o, dim=-1))
    case("ops.norm 'nuc' axis=(2, 0) batched", [x], lambda v: ops.norm(v, ord="nuc", axis=(2, 0)),
         lambda v: torch.linalg.matrix_norm(v, "nuc", dim=(2, 0)))
    zero_rows = np.array([[0.0, 0.0, 0.0], [3.0, 0.0, -4.0]])
    for o in (2, 3):
        case(f"ops.norm ord={o} of a zero row (subgradient 0)", [zero_rows], lambda v, o=o: ops.norm(v, o, axis=1),
             lambda v, o=o: torch.linalg.vector_norm(v, o, dim=1))


def keras_linalg_cases():
    specs = [("ij,jk->ik", (3, 4), (4, 5)), ("bij,bjk->bik", (2, 3, 4), (2, 4, 5)),
             ("...ij,...jk->...ik", (2, 1, 3, 4), (5, 4, 2)), ("ij,ij->ij", (1, 3), (2, 3)), ("i,j->ij", (3,), (4,)),
             ("ij,k->i", (3, 4), (2,)), ("bhqd,bhkd->bhqk", (2, 2, 3, 4), (2, 2, 5, 4)), ("ij,jk", (2, 3), (3, 4))]
    for spec, sa, sb in specs:
        case(f"ops.einsum {spec}", [rn(*sa), rn(*sb)], lambda x, y, s=spec: ops.einsum(s, x, y),
             lambda x, y, s=spec: torch.einsum(s, x, y))
    for spec, shape in [("ii->i", (4, 4)), ("ii", (3, 3)), ("iij->ji", (3, 3, 2)), ("i...->...", (3, 2, 2)),
                        ("ij->", (3, 4)), ("ba", (2, 3))]:
        case(f"ops.einsum {spec}", [rn(*shape)], lambda x, s=spec: ops.einsum(s, x),
             lambda x, s=spec: torch.einsum(s, x))
    case("ops.einsum ij,jk,kl->il (3 operands)", [rn(2, 3), rn(3, 4), rn(4, 2)],
         lambda *v: ops.einsum("ij,jk,kl->il", *v), lambda *v: torch.einsum("ij,jk,kl->il", *v))
    case("ops.tensordot axes=1", [rn(3, 4), rn(4, 5)], lambda x, y: ops.tensordot(x, y, 1),
         lambda x, y: torch.tensordot(x, y, 1))
    case("ops.tensordot axes=([1, 0], [0, 1])", [rn(3, 4, 2), rn(4, 3, 5)],
         lambda x, y: ops.tensordot(x, y, ([1, 0], [0, 1])), lambda x, y: torch.tensordot(x, y, ([1, 0], [0, 1])))
    case("ops.dot (3,4)x(4,)", [rn(3, 4), rn(4)], ops.dot, torch.matmul)
    case("ops.dot (2,3,4)x(5,4,2)", [rn(2, 3, 4), rn(5, 4, 2)], ops.dot,
         lambda x, y: torch.tensordot(x, y, ([2], [1])))
    case("ops.outer", [rn(3), rn(4)], ops.outer, torch.outer)


def keras_shape_cases():
    x, m = rn(2, 3, 4), rn(3, 4)
    case("ops.broadcast_to (3,1)->(2,3,4)", [rn(3, 1)], lambda v: ops.broadcast_to(v, (2, 3, 4)),
         lambda v: torch.broadcast_to(v, (2, 3, 4)))
    for reps in ((2, 1), 3, (2, 1, 2)):
        case(f"ops.tile {reps}", [m], lambda v, r=reps: ops.tile(v, r),
             lambda v, r=reps: torch.tile(v, r if isinstance(r, tuple) else (r,)))
    case("ops.repeat 2 axis=1", [m], lambda v: ops.repeat(v, 2, axis=1), lambda v: v.repeat_interleave(2, 1))
    case("ops.repeat [0, 2, 1] axis=0", [m], lambda v: ops.repeat(v, [0, 2, 1], axis=0),
         lambda v: v.repeat_interleave(torch.tensor([0, 2, 1]), 0))
    case("ops.flip axis=(0, 2)", [x], lambda v: ops.flip(v, (0, 2)), lambda v: torch.flip(v, (0, 2)))
    case("ops.pad constant 0.5", [m], lambda v: ops.pad(v, ((1, 0), (2, 1)), constant_values=0.5),
         lambda v: F.pad(v, (2, 1, 1, 0), value=0.5))
    for mode in ("edge", "reflect", "symmetric", "wrap"):
        case(f"ops.pad {mode}", [m], lambda v, k=mode: ops.pad(v, ((2, 1), (0, 3)), mode=k),
             lambda v, k=mode: _index_pad(v, ((2, 1), (0, 3)), k))
    case("ops.swapaxes 0, -1", [x], lambda v: ops.swapaxes(v, 0, -1), lambda v: torch.swapaxes(v, 0, -1))
    case("ops.moveaxis [0, 1] -> [2, 0]", [x], lambda v: ops.moveaxis(v, [0, 1], [2, 0]),
         lambda v: torch.movedim(v, (0, 1), (2, 0)))
    case("ops.ravel", [x], ops.ravel, torch.ravel)
    case("ops.split [1, 3] axis=2 (middle piece)", [x], lambda v: ops.split(v, [1, 3], axis=2)[1],
         lambda v: torch.tensor_split(v, [1, 3], dim=2)[1])
    case("ops.slice", [x], lambda v: ops.slice(v, (1, 0, 2), (1, 2, 2)), lambda v: v[1:2, 0:2, 2:4])
    case("ops.take axis=1 repeated", [m], lambda v: ops.take(v, [2, 0, 2, -1], axis=1),
         lambda v: v.index_select(1, torch.tensor([2, 0, 2, 3])))
    case("ops.take flattened", [m], lambda v: ops.take(v, [[0, 11], [5, 5]]),
         lambda v: torch.take(v, torch.tensor([[0, 11], [5, 5]])))
    idx = np.array([[0, 3, 3], [1, 1, 0], [2, 0, 1]])
    case("ops.take_along_axis axis=1", [m], lambda v: ops.take_along_axis(v, idx, axis=1),
         lambda v: torch.take_along_dim(v, torch.tensor(idx), 1))
    for k in (0, 1, -2):
        case(f"ops.diag vector k={k}", [rn(3)], lambda v, k=k: ops.diag(v, k), lambda v, k=k: torch.diag(v, k))
        case(f"ops.diag matrix k={k}", [m], lambda v, k=k: ops.diag(v, k), lambda v, k=k: torch.diag(v, k))
        case(f"ops.tril k={k}", [x], lambda v, k=k: ops.tril(v, k), lambda v, k=k: torch.tril(v, k))
        case(f"ops.triu k={k}", [x], lambda v, k=k: ops.triu(v, k), lambda v, k=k: torch.triu(v, k))
    case("ops.copy", [m], lambda v: ops.copy(v) * v, lambda v: v.clone() * v)
    case("ops.convert_to_tensor float32", [m], lambda v: ops.convert_to_tensor(v, "float32"),
         lambda v: v.to(torch.float32), tol=0.0)
    case("ops.array float32", [m], lambda v: ops.array(v, "float32"), lambda v: v.to(torch.float32), tol=0.0)


def keras_nn_cases():
    x = rn(3, 4, scale=4.0)
    edges = np.array([-3.0, 0.0, 3.0, 6.0, -1e-3, 7.0])
    for name, tfn in [("relu6", F.relu6), ("hard_sigmoid", lambda v: F.relu6(v + 3) / 6), ("softsign", F.softsign),
                      ("silu", F.silu), ("swish", F.silu)]:
        case(f"ops.{name}", [x], getattr(ops, name), tfn)
        case(f"ops.{name} at the kinks", [edges], getattr(ops, name), tfn)
    # F.hardsigmoid's backward scales by 1/6 rounded to float32 even in float64 (a 3e-8 relative difference)
    case("ops.hard_sigmoid vs F.hardsigmoid", [np.concatenate([x.ravel(), edges])], ops.hard_sigmoid, F.hardsigmoid,
         tol=1e-7)
    case("ops.normalize axis=-1", [x], ops.normalize, lambda v: F.normalize(v, dim=-1, eps=EPS))
    case("ops.normalize zero row", [np.array([[0.0, 0.0], [3.0, 4.0]])], ops.normalize,
         lambda v: F.normalize(v, dim=-1, eps=EPS))
    case("ops.normalize order=1 axis=0", [x], lambda v: ops.normalize(v, axis=0, order=1),
         lambda v: F.normalize(v, p=1, dim=0, eps=EPS))
    case("ops.moments variance + mean", [rn(2, 3, 4)], lambda v: ops.add(*ops.moments(v, (0, 2))),
         lambda v: sum(torch.var_mean(v, dim=(0, 2), correction=0)))
    t, prob = R.random((3, 4)), R.uniform(0.05, 0.95, (3, 4))
    case("ops.binary_crossentropy", [t, prob], ops.binary_crossentropy,
         lambda a, b: -(a * torch.log(b.clamp(EPS, 1 - EPS)) + (1 - a) * torch.log(1 - b.clamp(EPS, 1 - EPS))))
    case("ops.binary_crossentropy from_logits", [t, x], lambda a, b: ops.binary_crossentropy(a, b, from_logits=True),
         lambda a, b: F.binary_cross_entropy_with_logits(b, a, reduction="none"))
    dist, positive = R.dirichlet(np.ones(4), 3), R.uniform(0.1, 1.0, (3, 4))

    def th_cce(a, b, axis=-1):
        return -(a * torch.log((b / b.sum(axis, keepdim=True)).clamp(EPS, 1 - EPS))).sum(axis)

    case("ops.categorical_crossentropy", [dist, positive], ops.categorical_crossentropy, th_cce)
    case("ops.categorical_crossentropy axis=0", [dist, positive],
         lambda a, b: ops.categorical_crossentropy(a, b, axis=0), lambda a, b: th_cce(a, b, 0))
    case("ops.categorical_crossentropy from_logits axis=0", [dist, x],
         lambda a, b: ops.categorical_crossentropy(a, b, from_logits=True, axis=0),
         lambda a, b: -(a * F.log_softmax(b, 0)).sum(0))
    labels = R.integers(0, 4, 3)
    case("ops.sparse_categorical_crossentropy", [labels, positive], ops.sparse_categorical_crossentropy,
         lambda a, b: -torch.log((b / b.sum(-1, keepdim=True)).clamp(EPS, 1 - EPS)).gather(-1, a[:, None])[:, 0])
    case("ops.sparse_categorical_crossentropy from_logits", [labels, x],
         lambda a, b: ops.sparse_categorical_crossentropy(a, b, from_logits=True),
         lambda a, b: F.cross_entropy(b, a, reduction="none"))
    case("ops.sparse_categorical_crossentropy from_logits axis=0", [R.integers(0, 3, 4), x],
         lambda a, b: ops.sparse_categorical_crossentropy(a, b, from_logits=True, axis=0),
         lambda a, b: F.cross_entropy(b.T, a, reduction="none"))


def keras_conv_pool_cases():
    """keras.ops.conv / max_pool / average_pool: channels_last through the NHWC references, channels_first
    through PyTorch's own NCHW functions (no transposes on the reference side)."""
    from .references import th_conv, th_pool

    x, w = rn(2, 6, 5, 3), rn(3, 2, 3, 4)
    case("ops.conv 2d 'same' strides=2", [x, w], lambda a, b: ops.conv(a, b, strides=2, padding="same"),
         lambda a, b: th_conv(a, b, strides=(2, 2), padding="same"))
    case("ops.conv 2d channels_first dilation=2", [rn(2, 3, 7, 6), w],
         lambda a, b: ops.conv(a, b, data_format="channels_first", dilation_rate=2),
         lambda a, b: F.conv2d(a, b.permute(3, 2, 0, 1), dilation=2))
    case("ops.conv 1d channels_first strides=2", [rn(2, 3, 9), rn(3, 3, 4)],
         lambda a, b: ops.conv(a, b, strides=2, data_format="channels_first"),
         lambda a, b: F.conv1d(a, b.permute(2, 1, 0), stride=2))
    case("ops.max_pool 2d channels_first", [rn(2, 3, 6, 6)],
         lambda v: ops.max_pool(v, 2, data_format="channels_first"), lambda v: F.max_pool2d(v, 2))
    case("ops.max_pool 1d 'same'", [rn(2, 7, 3)], lambda v: ops.max_pool(v, 3, strides=2, padding="same"),
         lambda v: th_pool(v, "max", (3,), (2,), "same"))
    case("ops.average_pool 2d channels_first", [rn(2, 3, 6, 4)],
         lambda v: ops.average_pool(v, (2, 2), data_format="channels_first"), lambda v: F.avg_pool2d(v, 2))
    case("ops.average_pool 2d 'same'", [rn(2, 5, 5, 2)], lambda v: ops.average_pool(v, 2, padding="same"),
         lambda v: th_pool(v, "avg", (2, 2), (2, 2), "same"))
