"""Case groups for the ops of ``neurona.ops`` and the Tensor operators and methods.

Elementwise arithmetic (with broadcasting, pow's negative and zero bases, kinks and clip bounds), reductions
(ties included), shapes and indexing, matmul, activations and softmax, conv, pooling, normalization and casts.
Each group registers its cases with ``harness.case`` when called.
"""

import numpy as np
import torch
import torch.nn.functional as F

import neurona as nr
from neurona import ops

from .harness import R, case, pos, rn, ties
from .references import pair, tdim, th_conv, th_norm, th_pool, th_softmax


# ---- cases --------------------------------------------------------------------------------------
def elementwise_cases():
    a, b, col, p, q = rn(3, 4), rn(4), rn(3, 1), pos(3, 4), rn(4)
    for name, tfn in [("add", torch.add), ("sub", torch.sub), ("mul", torch.mul), ("div", torch.div)]:
        case(f"ops.{name} (3,4)x(4,)", [a, b], getattr(ops, name), tfn)
        case(f"ops.{name} (3,1)x(4,)", [col, b], getattr(ops, name), tfn)
    for name, fn in [("x + y", lambda x, y: x + y), ("x - y", lambda x, y: x - y), ("x * y", lambda x, y: x * y),
                     ("x / y", lambda x, y: x / y)]:
        case(name, [a, col], fn, fn)
    const = rn(3, 4)
    for name, fn in [("2.5 - x", lambda x: 2.5 - x), ("x - 2.5", lambda x: x - 2.5), ("2.0 / x", lambda x: 2.0 / x),
                     ("3 * x", lambda x: 3 * x), ("x / 4.0", lambda x: x / 4.0), ("-x", lambda x: -x),
                     ("abs(x)", abs), ("x ** 3", lambda x: x**3), ("x ** 2", lambda x: x**2),
                     ("x ** -2", lambda x: x**-2), ("2.0 ** x", lambda x: 2.0**x), ("x + x", lambda x: x + x),
                     ("x * x * x", lambda x: x * x * x)]:
        case(name, [a], fn, fn)
    case("ndarray + x (radd)", [a], lambda x: const + x, lambda x: torch.tensor(const) + x)
    case("ndarray * x (rmul)", [a], lambda x: const * x, lambda x: torch.tensor(const) * x)
    case("x ** 2.5 (x > 0)", [p], lambda x: x**2.5, lambda x: x**2.5)
    case("ops.neg", [a], ops.neg, torch.neg)
    case("ops.pow a>0, b both diff", [p, q], ops.pow, torch.pow)
    case("x ** y a>0", [p, a], lambda x, y: x**y, lambda x, y: x**y)
    neg_base, int_exp = np.array([-2.0, -1.5, -0.5, -3.0, 2.0, -1.0]), np.array([2.0, 3.0, -1.0, 0.0, 1.0, -2.0])
    case("ops.pow negative base, integer exponents (db NaN)", [neg_base, int_exp], ops.pow, torch.pow)
    case("ops.pow negative base, python int 3", [neg_base], lambda x: ops.pow(x, 3), lambda x: x**3)
    zero_base, exps = np.zeros(6), np.array([0.0, 0.5, 1.0, 2.0, -1.0, 3.0])
    case("ops.pow base 0, exponents 0/0.5/1/2/-1/3", [zero_base, exps], ops.pow, torch.pow)
    case("ops.pow exponent 0 (base has 0)", [np.array([0.0, -2.0, 3.0])], lambda x: x**0, lambda x: x**0)
    case("ops.pow base 0 ** 0.5 scalar", [np.zeros(3)], lambda x: x**0.5, lambda x: x**0.5)
    case("ops.exp", [a], ops.exp, torch.exp)
    case("ops.log", [p], ops.log, torch.log)
    case("ops.sqrt", [p], ops.sqrt, torch.sqrt)
    edge = np.array([0.0, 1.0, 2.0, 0.25])
    case("ops.log at 0", [edge], ops.log, torch.log)
    case("ops.sqrt at 0", [edge], ops.sqrt, torch.sqrt)
    case("ops.div by 0 (1/0, -2/0, 0/0)", [np.array([1.0, -2.0, 0.0, 3.0]), np.array([0.0, 0.0, 0.0, 2.0])],
         ops.div, torch.div)
    case("ops.abs", [a], ops.abs, torch.abs)
    kink = np.array([-1.5, 0.0, -0.0, 2.0, 0.0, 1e-300, -1e-300])
    case("ops.abs at 0 (kink)", [kink], ops.abs, torch.abs)
    case("ops.square", [a], ops.square, torch.square)
    case("ops.clip(-0.5, 0.5)", [2 * a], lambda x: ops.clip(x, -0.5, 0.5), lambda x: x.clamp(-0.5, 0.5))
    bounds = np.array([-0.5, 0.5, 0.0, -1.0, 1.0, -0.5, 0.5])
    case("ops.clip at the exact bounds", [bounds], lambda x: ops.clip(x, -0.5, 0.5), lambda x: x.clamp(-0.5, 0.5))
    case("ops.clip min only", [bounds], lambda x: ops.clip(x, min=-0.5), lambda x: x.clamp(min=-0.5))
    case("ops.clip max only", [bounds], lambda x: ops.clip(x, max=0.5), lambda x: x.clamp(max=0.5))
    case("ops.clip min > max", [bounds], lambda x: ops.clip(x, 0.5, -0.5), lambda x: x.clamp(0.5, -0.5))
    case("x.clip / x.square / x.abs methods", [bounds], lambda x: x.clip(-0.5, 0.5).square() + x.abs(),
         lambda x: x.clamp(-0.5, 0.5).square() + x.abs())
    cond = R.random((3, 4)) > 0.5
    case("ops.where (3,4) cond, (3,4), (4,)", [cond, a, b], ops.where, torch.where)
    case("ops.where with scalar b", [cond, a], lambda c, x: ops.where(c, x, 0.0), lambda c, x: torch.where(c, x, 0.0))


def reduction_cases():
    x, t = rn(2, 3, 4), ties(3, 4, 5)
    names = [("sum", torch.sum), ("mean", torch.mean), ("max", torch.amax), ("min", torch.amin)]
    for axis in (None, 1, -1, (0, 2), (-1, 0)):
        for keepdims in (False, True):
            for name, tfn in names:
                case(f"ops.{name}(axis={axis}, keepdims={keepdims})", [x],
                     lambda v, n=name, a=axis, k=keepdims: getattr(ops, n)(v, axis=a, keepdims=k),
                     lambda v, f=tfn, a=axis, k=keepdims: f(v, dim=tdim(a, v.ndim), keepdim=k))
    for axis in (None, 1, (0, 2), -1):
        for name, tfn in names[2:]:
            case(f"ops.{name} ties axis={axis} vs torch.a{name}", [t],
                 lambda v, n=name, a=axis: getattr(ops, n)(v, axis=a),
                 lambda v, f=tfn, a=axis: f(v, dim=tdim(a, v.ndim)))
    claim = "reduction.Max: 'the gradient is shared equally among tied maxima (as in TensorFlow)'"
    case("ops.max ties axis=1 vs torch.max(dim=1).values", [t], lambda v: ops.max(v, axis=1),
         lambda v: torch.max(v, dim=1).values, convention=claim)
    case("ops.min ties axis=1 vs torch.min(dim=1).values", [t], lambda v: ops.min(v, axis=1),
         lambda v: torch.min(v, dim=1).values, convention=claim)
    case("ops.max ties axis=None vs torch.max()", [t], ops.max, torch.max)
    case("ops.max all-equal", [np.full((2, 3), 1.5)], lambda v: ops.max(v, axis=-1), lambda v: v.amax(-1))
    case("x.sum(axis=1) / x.mean(axis=(0,2), keepdims=True)", [x],
         lambda v: v.sum(axis=1).sum() * v.mean(axis=(0, 2), keepdims=True),
         lambda v: v.sum(dim=1).sum() * v.mean(dim=(0, 2), keepdim=True))
    case("x.max(axis=-1) + x.min()", [t], lambda v: v.max(axis=-1) + v.min(), lambda v: v.amax(-1) + v.amin())
    s = np.array(1.25)
    case("ops.sum 0-d axis=0", [s], lambda v: ops.sum(v, axis=0), lambda v: torch.sum(v, dim=0))
    case("ops.max 0-d axis=-1", [s], lambda v: ops.max(v, axis=-1), lambda v: torch.amax(v, dim=-1))


def shape_cases():
    x, y, z = rn(2, 3, 4), rn(2, 3, 1), rn(2, 3, 2)
    case("ops.reshape (4, -1)", [x], lambda v: ops.reshape(v, (4, -1)), lambda v: v.reshape(4, -1))
    case("x.reshape(6, 4)", [x], lambda v: v.reshape(6, 4), lambda v: v.reshape(6, 4))
    case("ops.transpose (2, 0, 1)", [x], lambda v: ops.transpose(v, (2, 0, 1)), lambda v: v.permute(2, 0, 1))
    case("ops.transpose negative axes (-1, 0, 1)", [x], lambda v: ops.transpose(v, (-1, 0, 1)),
         lambda v: v.permute(2, 0, 1))
    case("ops.transpose default / x.T", [x], lambda v: ops.transpose(v) * v.T, lambda v: v.permute(2, 1, 0) ** 2)
    case("x.transpose(1, 0, 2)", [x], lambda v: v.transpose(1, 0, 2), lambda v: v.permute(1, 0, 2))
    case("ops.flatten / x.flatten()", [x], lambda v: ops.flatten(v) + v.flatten(), lambda v: 2 * v.flatten(1))
    case("ops.flatten start_axis=2", [rn(2, 3, 4, 2)], lambda v: ops.flatten(v, 2), lambda v: v.flatten(2))
    case("ops.flatten 1-D -> (N, 1)", [rn(5)], ops.flatten, lambda v: v.reshape(-1, 1))
    w = rn(2, 1, 3, 1)
    case("ops.squeeze all", [w], ops.squeeze, torch.squeeze)
    case("ops.squeeze axis=1 / x.squeeze(-1)", [w], lambda v: ops.squeeze(v, 1) * v.squeeze(-1).sum(),
         lambda v: v.squeeze(1) * v.squeeze(-1).sum())
    for axis in (0, 2, -1):
        case(f"ops.expand_dims axis={axis}", [x], lambda v, a=axis: ops.expand_dims(v, a),
             lambda v, a=axis: v.unsqueeze(a))
    case("x.expand_dims(1)", [x], lambda v: v.expand_dims(1), lambda v: v.unsqueeze(1))
    case("ops.concatenate axis=-1", [y, z, x], lambda *v: ops.concatenate(v, axis=-1), lambda *v: torch.cat(v, -1))
    case("ops.concatenate axis=0", [x, x * 2], lambda *v: ops.concatenate(v), lambda *v: torch.cat(v, 0))
    for axis in (0, 1, -1):
        case(f"ops.stack axis={axis}", [x, rn(2, 3, 4)], lambda *v, a=axis: ops.stack(v, axis=a),
             lambda *v, a=axis: torch.stack(v, a))
    g = rn(4, 5, 3)
    basic = [("x[1:, ::2]", np.s_[1:, ::2]), ("x[..., 1]", np.s_[..., 1]),
             ("x[None, 0, :, 1:3]", np.s_[None, 0, :, 1:3]),
             ("x[-1]", -1), ("x[1:3, -2:, :1]", np.s_[1:3, -2:, :1])]
    for name, index in basic:
        case(f"getitem {name}", [g], lambda v, i=index: v[i], lambda v, i=index: v[i])
        case(f"ops.getitem {name}", [g], lambda v, i=index: ops.getitem(v, i), lambda v, i=index: v[i])
    case("getitem x[::-1]", [g], lambda v: v[::-1], lambda v: torch.flip(v, (0,)))
    rows, cols = np.array([1, 1, 0]), np.array([2, 2, 0])
    advanced = [("x[[0, 2, 0, 0]] (repeated)", [0, 2, 0, 0], torch.tensor([0, 2, 0, 0])),
                ("x[rows, :, cols] (repeated pairs)", (rows, slice(None), cols),
                 (torch.tensor(rows), slice(None), torch.tensor(cols))),
                ("x[:, [4, 4, 0]]", (slice(None), [4, 4, 0]), (slice(None), torch.tensor([4, 4, 0]))),
                ("x[1, [0, 0, 3], 1:]", (1, [0, 0, 3], slice(1, None)), (1, torch.tensor([0, 0, 3]), slice(1, None))),
                ("x[[[0, 1], [1, 0]]] (2-D index)", np.array([[0, 1], [1, 0]]), torch.tensor([[0, 1], [1, 0]])),
                ("x[np.int64(2)]", np.int64(2), 2),
                ("x[mask] (boolean)", g > 0, torch.tensor(g > 0)),
                ("x[mask2d] (boolean over 2 axes)", g[..., 0] > 0, torch.tensor(g[..., 0] > 0))]
    for name, index, tindex in advanced:
        case(f"getitem {name}", [g], lambda v, i=index: v[i], lambda v, i=tindex: v[i])
    idx = np.array([3, 3, 1])
    case("getitem x[Tensor([3, 3, 1])]", [g], lambda v: v[nr.Tensor(idx)], lambda v: v[torch.tensor(idx)])


def linalg_cases():
    pairs = [((3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)), ((2, 1, 3, 4), (5, 4, 2)),
             ((2, 3, 4), (4, 5)), ((4,), (2, 4, 3))]
    for sa, sb in pairs:
        case(f"ops.matmul {sa} @ {sb}", [rn(*sa), rn(*sb)], ops.matmul, torch.matmul)
    case("x @ y", [rn(3, 4), rn(4, 2)], lambda x, y: x @ y, lambda x, y: x @ y)
    const = rn(2, 3)
    case("ndarray @ x (rmatmul)", [rn(3, 4)], lambda x: const @ x, lambda x: torch.tensor(const) @ x)
    case("x.matmul(y)", [rn(3, 4), rn(4, 2)], lambda x, y: x.matmul(y), torch.matmul)
    big = rn(300, 70), rn(70, 90)  # large enough for the row-block split of _product
    case("ops.matmul (300,70) @ (70,90)", list(big), ops.matmul, torch.matmul)


def activation_cases():
    x = rn(3, 4, 5, scale=2.0)
    kink = np.array([-1.5, 0.0, -0.0, 2.0, 1e-300, -1e-300, -1e-3])
    large = np.array([[1000.0, -1000.0, 0.0, 3.0], [-1000.0, -1000.0, -1000.0, -999.0], [1000.0, 1000.0, 999.0, 0.0]])
    unary = [("relu", ops.relu, torch.relu), ("leaky_relu(alpha=0.3)", lambda v: ops.leaky_relu(v, alpha=0.3),
                                              lambda v: F.leaky_relu(v, 0.3)),
             ("elu(alpha=0.7)", lambda v: ops.elu(v, alpha=0.7), lambda v: F.elu(v, 0.7)),
             ("elu", ops.elu, F.elu), ("selu", ops.selu, F.selu), ("gelu", ops.gelu, F.gelu),
             ("gelu(approximate=True)", lambda v: ops.gelu(v, approximate=True),
              lambda v: F.gelu(v, approximate="tanh")),
             ("sigmoid", ops.sigmoid, torch.sigmoid), ("tanh", ops.tanh, torch.tanh),
             ("softplus", ops.softplus, F.softplus)]
    for name, fn, tfn in unary:
        case(f"ops.{name}", [x], fn, tfn)
        case(f"ops.{name} at 0 (kink)", [kink], fn, tfn)
    for name, fn, tfn in unary[7:] + [("relu", ops.relu, torch.relu), ("elu", ops.elu, F.elu)]:
        case(f"ops.{name} logits +-1000", [large], fn, tfn)
    case("ops.softplus logits +-1000 vs logaddexp(0, x)", [large], ops.softplus,
         lambda v: torch.logaddexp(torch.zeros_like(v), v))
    near = np.array([19.0, 20.5, 21.0, 25.0, 30.0, -30.0])
    case("ops.softplus near F.softplus's threshold 20 vs logaddexp", [near], ops.softplus,
         lambda v: torch.logaddexp(torch.zeros_like(v), v))
    case("ops.softplus near F.softplus's threshold 20 vs F.softplus", [near], ops.softplus, F.softplus,
         convention="activation.Softplus: 'log(1 + e^x) computed as logaddexp(0, x); derivative sigmoid(x)' "
                    "(F.softplus returns x, derivative 1, above threshold=20)")
    case("ops.leaky_relu default alpha vs F.leaky_relu default", [x], ops.leaky_relu, F.leaky_relu,
         convention="ops.leaky_relu: \"Keras's default slope is 0.2 (PyTorch's 0.01)\"")
    for axis in (-1, 0, 1):
        case(f"ops.softmax axis={axis}", [x], lambda v, a=axis: ops.softmax(v, axis=a),
             lambda v, a=axis: F.softmax(v, a))
        case(f"ops.log_softmax axis={axis}", [x], lambda v, a=axis: ops.log_softmax(v, axis=a),
             lambda v, a=axis: F.log_softmax(v, a))
    for axis in ((0, 2), None, (-1, 1)):
        case(f"ops.softmax axis={axis}", [x], lambda v, a=axis: ops.softmax(v, axis=a),
             lambda v, a=axis: th_softmax(v, tdim(a, v.ndim)))
        case(f"ops.log_softmax axis={axis}", [x], lambda v, a=axis: ops.log_softmax(v, axis=a),
             lambda v, a=axis: th_softmax(v, tdim(a, v.ndim), log=True))
    for axis in (-1, 0):
        case(f"ops.softmax logits +-1000 axis={axis}", [large], lambda v, a=axis: ops.softmax(v, axis=a),
             lambda v, a=axis: F.softmax(v, a))
        case(f"ops.log_softmax logits +-1000 axis={axis}", [large], lambda v, a=axis: ops.log_softmax(v, axis=a),
             lambda v, a=axis: F.log_softmax(v, a))
    methods = [("relu", torch.relu), ("sigmoid", torch.sigmoid), ("tanh", torch.tanh), ("exp", torch.exp)]
    for name, tfn in methods:
        case(f"x.{name}()", [x], lambda v, n=name: getattr(v, n)(), tfn)
    case("x.softmax(1) / x.log_softmax()", [x], lambda v: v.softmax(1) * v.log_softmax(),
         lambda v: F.softmax(v, 1) * F.log_softmax(v, -1))
    case("x.log() / x.sqrt()", [pos(3, 4)], lambda v: v.log() + v.sqrt(), lambda v: v.log() + v.sqrt())



def conv_cases():
    configs = [("valid", (6, 7, 3), (3, 2, 3, 4), {}),
               ("strides=2 'same' (asymmetric pad)", (7, 6, 3), (3, 3, 3, 2), dict(strides=2, padding="same")),
               ("strides=(2,1) 'same' dilation=(1,2)", (7, 8, 2), (2, 3, 2, 3),
                dict(strides=(2, 1), padding="same", dilation_rate=(1, 2))),
               ("explicit padding ((1,0),(2,1)) dilation=2", (6, 6, 2), (2, 2, 2, 3),
                dict(padding=((1, 0), (2, 1)), dilation_rate=2)),
               ("16 channels (copy path) 'same'", (6, 6, 16), (3, 3, 16, 5), dict(padding="same"))]
    for name, xs, ws, kw in configs:
        th_kw = dict(strides=pair(kw.get("strides", 1)), padding=kw.get("padding", "valid"),
                     dilation=pair(kw.get("dilation_rate", 1)))
        case(f"ops.conv2d {name}", [rn(2, *xs), rn(*ws)], lambda x, w, k=kw: ops.conv2d(x, w, **k),
             lambda x, w, k=th_kw: th_conv(x, w, **k))
    x, w, b = rn(17, 5, 5, 3), rn(3, 3, 3, 4), rn(4)  # 17 images: several pieces
    case("ops.conv2d bias + relu, 17 images", [x, w, b], lambda x, w, b: ops.conv2d(x, w, bias=b, activation="relu"),
         lambda x, w, b: th_conv(x, w, b, relu=True))
    case("ops.conv2d bias + relu at 0 (kink)", [np.zeros((2, 4, 4, 3)), w, np.zeros(4)],
         lambda x, w, b: ops.conv2d(x, w, bias=b, activation="relu"), lambda x, w, b: th_conv(x, w, b, relu=True))
    case("ops.conv2d strides=(1,2) bias", [rn(2, 5, 7, 3), w, b],
         lambda x, w, b: ops.conv2d(x, w, strides=(1, 2), padding="same", bias=b),
         lambda x, w, b: th_conv(x, w, b, strides=(1, 2), padding="same"))
    x1, w1, b1 = rn(2, 9, 3), rn(3, 3, 4), rn(4)
    case("ops.conv1d valid", [x1, w1], ops.conv1d, lambda x, w: th_conv(x, w, strides=(1,), dilation=(1,)))
    case("ops.conv1d strides=2 'same' dilation=2 bias", [x1, w1, b1],
         lambda x, w, b: ops.conv1d(x, w, strides=2, padding="same", dilation_rate=2, bias=b),
         lambda x, w, b: th_conv(x, w, b, strides=(2,), padding="same", dilation=(2,)))
    case("ops.conv1d explicit padding (2, 1) relu", [x1, w1, b1],
         lambda x, w, b: ops.conv1d(x, w, padding=(2, 1), bias=b, activation="relu"),
         lambda x, w, b: th_conv(x, w, b, strides=(1,), padding=[(2, 1)], dilation=(1,), relu=True))



def pooling_cases():
    configs = [("2 (tiled)", (6, 6, 3), 2, None, "valid"), ("2 (tiled, remainder)", (5, 7, 3), 2, None, "valid"),
               ("3 strides=2 (overlap)", (7, 7, 2), 3, 2, "valid"), ("3 strides=2 'same'", (7, 6, 2), 3, 2, "same"),
               ("(2,3) strides=(1,2) 'same'", (5, 6, 2), (2, 3), (1, 2), "same"),
               ("2 'same' odd size", (5, 5, 2), 2, None, "same")]
    for name, xs, pool, strides, padding in configs:
        p, s = pair(pool), pair(pool if strides is None else strides)
        for data, tag in ((rn(2, *xs), ""), (ties(2, *xs), " ties")):
            case(f"ops.max_pool2d {name}{tag}", [data], lambda v, a=(pool, strides, padding): ops.max_pool2d(v, *a),
                 lambda v, a=(p, s, padding): th_pool(v, "max", *a))
        case(f"ops.avg_pool2d {name}", [rn(2, *xs)], lambda v, a=(pool, strides, padding): ops.avg_pool2d(v, *a),
             lambda v, a=(p, s, padding): th_pool(v, "avg", *a))
    case("ops.max_pool2d all-equal windows", [np.zeros((1, 4, 4, 2))], ops.max_pool2d,
         lambda v: th_pool(v, "max", (2, 2), (2, 2)))
    for name, pool, strides, padding in (("2", 2, None, "valid"), ("3 strides=2 'same'", 3, 2, "same"),
                                          ("3 strides=1", 3, 1, "valid")):
        s = pool if strides is None else strides
        for kind in ("max", "avg"):
            fn = getattr(ops, f"{kind}_pool1d")
            case(f"ops.{kind}_pool1d {name}", [rn(2, 9, 3)], lambda v, f=fn, a=(pool, strides, padding): f(v, *a),
                 lambda v, k=kind, a=((pool,), (s,), padding): th_pool(v, k, *a))
        case(f"ops.max_pool1d {name} ties", [ties(2, 9, 3)],
             lambda v, a=(pool, strides, padding): ops.max_pool1d(v, *a),
             lambda v, a=((pool,), (s,), padding): th_pool(v, "max", *a))


def normalization_cases():
    x2, g2, b2 = rn(6, 4, scale=3.0) + 5.0, rn(4), rn(4)
    case("ops.batch_normalization (6,4) vs manual", [x2, g2, b2],
         lambda x, g, b: ops.batch_normalization(x, g, b, epsilon=1e-5), lambda x, g, b: th_norm(x, g, b, (0,), 1e-5))
    case("ops.batch_normalization (6,4) vs F.batch_norm", [x2, g2, b2],
         lambda x, g, b: ops.batch_normalization(x, g, b, epsilon=1e-5),
         lambda x, g, b: F.batch_norm(x, None, None, g, b, training=True, eps=1e-5))
    x4, g, b = rn(3, 4, 5, 2), rn(2), rn(2)
    case("ops.batch_normalization NHWC vs F.batch_norm", [x4, g, b],
         lambda x, g, b: ops.batch_normalization(x, g, b, epsilon=1e-5),
         lambda x, g, b: F.batch_norm(x.permute(0, 3, 1, 2), None, None, g, b, training=True, eps=1e-5)
         .permute(0, 2, 3, 1))
    x3, g3, b3 = rn(4, 3, 5), rn(3), rn(3)
    case("ops.batch_normalization axes=(0, 2)", [x3, g3, b3],
         lambda x, g, b: ops.batch_normalization(x, g, b, axes=(0, 2), epsilon=1e-4),
         lambda x, g, b: th_norm(x, g, b, (0, 2), 1e-4))
    case("ops.batch_normalization gamma=beta=None", [x4], lambda x: ops.batch_normalization(x, epsilon=1e-5),
         lambda x: th_norm(x, None, None, (0, 1, 2), 1e-5))
    case("ops.batch_normalization constant input (var 0)", [np.full((5, 3), 2.0), g3, b3],
         ops.batch_normalization, lambda x, g, b: th_norm(x, g, b, (0,), 1e-3))
    case("ops.batch_normalization default epsilon vs F.batch_norm default", [rn(6, 4, scale=0.05), g2, b2],
         ops.batch_normalization, lambda x, g, b: F.batch_norm(x, None, None, g, b, training=True),
         convention="ops.batch_normalization(epsilon=1e-3) (Keras's default; PyTorch's eps is 1e-5)")
    xs, gs, bs = rn(3, 4, 6), rn(6), rn(6)
    case("ops.standardize axes=-1 vs F.layer_norm", [xs, gs, bs],
         lambda x, g, b: ops.standardize(x, -1, g, b, epsilon=1e-5), lambda x, g, b: F.layer_norm(x, (6,), g, b, 1e-5))
    case("ops.standardize axes=(1, 2) gamma (4, 6)", [xs, rn(4, 6), rn(6)],
         lambda x, g, b: ops.standardize(x, (1, 2), g, b, epsilon=1e-4),
         lambda x, g, b: th_norm(x, g, b, (1, 2), 1e-4, kept_params=False))
    case("ops.standardize gamma=beta=None", [xs], lambda x: ops.standardize(x, axes=(0, 2)),
         lambda x: th_norm(x, None, None, (0, 2), 1e-3, kept_params=False))
    xg = rn(2, 3, 3, 4, 2)  # group norm of channels-last data: 4 groups of 2 channels
    case("ops.standardize group-norm axes=(1, 2, 4) gamma (4, 2)", [xg, rn(4, 2), rn(4, 2)],
         lambda x, g, b: ops.standardize(x, (1, 2, 4), g, b, epsilon=1e-5),
         lambda x, g, b: th_norm(x, g, b, (1, 2, 4), 1e-5, kept_params=False))
    case("ops.standardize constant rows", [np.full((3, 5), -1.0), gs[:5], bs[:5]],
         lambda x, g, b: ops.standardize(x, -1, g, b), lambda x, g, b: th_norm(x, g, b, (-1,), 1e-3, False))


def cast_cases():
    x = rn(3, 4)
    case("x.astype('float32')", [x], lambda v: v.astype("float32"), lambda v: v.to(torch.float32), tol=0.0)
    case("ops.cast float64 -> float16", [x], lambda v: ops.cast(v, "float16"), lambda v: v.to(torch.float16), tol=0.0)
    case("ops.cast float32 -> float64", [x.astype(np.float32)], lambda v: ops.cast(v, "float64"),
         lambda v: v.to(torch.float64), tol=0.0)
    case("ops.cast same dtype (identity)", [x], lambda v: ops.cast(v, "float64") * 2, lambda v: v * 2, tol=0.0)
    case("ops.cast float64 -> int64 (no graph)", [x * 3], lambda v: ops.cast(v, "int64"),
         lambda v: v.to(torch.int64), tol=0.0)
    case("x.to('float32') * 3", [x], lambda v: v.to("float32") * 3, lambda v: v.to(torch.float32) * 3, tol=0.0)
    case("ops.to_device 'cpu'", [x], lambda v: ops.to_device(v, "cpu") * v, lambda v: v * v)
    case("float32 graph: (x32 * x32).sum() cast to float64", [x.astype(np.float32)],
         lambda v: ops.cast(ops.sum(v * v), "float64"), lambda v: (v * v).sum().to(torch.float64), tol=1e-6)
