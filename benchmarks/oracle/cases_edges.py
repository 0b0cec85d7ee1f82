"""Case groups for partial differentiation, edge inputs and conventions, and the non-gradient state checks.

``partial_and_edge_cases`` differentiates only some inputs and covers empty, large (threaded) and -inf inputs;
``convention_cases`` compares with direct PyTorch calls where Neurona follows Keras or NumPy instead;
``state_checks`` returns verdict lines for batch norm's moving statistics and integer casts.
"""

import numpy as np
import torch
import torch.nn.functional as F

import neurona as nr
from neurona import losses, ops

from .harness import TOL, R, case, compare, pos, rn, ties
from .references import pair, th_conv, th_norm, th_pool


# ---- cases --------------------------------------------------------------------------------------
def partial_and_edge_cases():
    """Only some inputs differentiable (the needs_input_grad branches), empty and large arrays, -inf logits."""
    a, b, w = rn(3, 4), rn(4), rn(3, 3, 2, 4)
    for name in ("sub", "div", "mul", "pow", "matmul", "where"):
        for d in ([0], [1]):
            if name == "matmul":
                case(f"ops.matmul diff={d}", [a, rn(4, 2)], ops.matmul, torch.matmul, diff=d)
            elif name == "where":
                case(f"ops.where diff={[i + 1 for i in d]}", [a > 0, a, b], ops.where, torch.where,
                     diff=[i + 1 for i in d])
            else:
                args = [pos(3, 4), b] if name == "pow" else [a, b]
                case(f"ops.{name} diff={d}", args, getattr(ops, name), getattr(torch, name), diff=d)
    case("ops.pow (3,4) ** (4,) broadcast", [pos(3, 4), b], ops.pow, torch.pow)
    case("ops.mul 0-d x (3,)", [np.array(1.5), rn(3)], ops.mul, torch.mul)
    case("ops.matmul (1,3,4) @ (2,4,5) batch broadcast", [rn(1, 3, 4), rn(2, 4, 5)], ops.matmul, torch.matmul)
    x = rn(2, 6, 6, 2)
    for d in ([0], [1], [0, 2], [1, 2]):
        case(f"ops.conv2d bias diff={d}", [x, w[:, :, :, :3].copy(), rn(3)],
             lambda x, w, b: ops.conv2d(x, w, strides=2, padding="same", bias=b),
             lambda x, w, b: th_conv(x, w, b, strides=(2, 2), padding="same"), diff=d)
    case("ops.conv2d 3x3 kernel 'same' on a 2x2 image", [rn(2, 2, 2, 2), rn(3, 3, 2, 3)],
         lambda x, w: ops.conv2d(x, w, padding="same"), lambda x, w: th_conv(x, w, padding="same"))
    case("ops.conv2d strides=3 > kernel 2 (skipped pixels)", [rn(2, 8, 7, 2), rn(2, 2, 2, 3)],
         lambda x, w: ops.conv2d(x, w, strides=3), lambda x, w: th_conv(x, w, strides=(3, 3)))
    case("ops.conv2d strides=2 dilation=2 'same'", [rn(2, 9, 8, 2), rn(3, 2, 2, 3)],
         lambda x, w: ops.conv2d(x, w, strides=2, padding="same", dilation_rate=2),
         lambda x, w: th_conv(x, w, strides=(2, 2), padding="same", dilation=(2, 2)))
    case("ops.conv2d (32,16,16,4) 3x3x4x32 'same' relu (threads)", [rn(32, 16, 16, 4), rn(3, 3, 4, 32), rn(32)],
         lambda x, w, b: ops.conv2d(x, w, padding="same", bias=b, activation="relu"),
         lambda x, w, b: th_conv(x, w, b, padding="same", relu=True))
    pools = [("3 strides=1 'same'", (3, 1, "same")), ("3 strides=3 'same' (padded, pool == strides)", (3, 3, "same")),
             ("2 strides=3 (gaps)", (2, 3, "valid"))]
    for name, args in pools:
        case(f"ops.max_pool2d {name}", [ties(2, 7, 7, 2)], lambda v, a=args: ops.max_pool2d(v, *a),
             lambda v, a=args: th_pool(v, "max", pair(a[0]), pair(a[1]), a[2]))
        case(f"ops.avg_pool2d {name}", [rn(2, 7, 7, 2)], lambda v, a=args: ops.avg_pool2d(v, *a),
             lambda v, a=args: th_pool(v, "avg", pair(a[0]), pair(a[1]), a[2]))
    case("ops.max_pool2d (64,32,32,4) tiled (threads)", [rn(64, 32, 32, 4)], ops.max_pool2d,
         lambda v: th_pool(v, "max", (2, 2), (2, 2)))
    case("ops.relu (600, 500) (threads)", [rn(600, 500)], ops.relu, torch.relu)
    case("ops.matmul (600,70) @ (70,500) (threads)", [rn(600, 70), rn(70, 500)], ops.matmul, torch.matmul)
    case("ops.batch_normalization (64,16,16,8) (threads)", [rn(64, 16, 16, 8), rn(8), rn(8)],
         lambda x, g, b: ops.batch_normalization(x, g, b, epsilon=1e-5),
         lambda x, g, b: th_norm(x, g, b, (0, 1, 2), 1e-5))
    case("ops.batch_normalization diff=[1, 2] (x constant)", [rn(6, 4), rn(4), rn(4)],
         lambda x, g, b: ops.batch_normalization(x, g, b), lambda x, g, b: th_norm(x, g, b, (0,), 1e-3), diff=[1, 2])
    case("ops.standardize diff=[0] (gamma, beta constant)", [rn(3, 6), rn(6), rn(6)],
         lambda x, g, b: ops.standardize(x, -1, g, b), lambda x, g, b: th_norm(x, g, b, (-1,), 1e-3, False), diff=[0])
    case("ops.softmax_cross_entropy diff=[1] (target only)", [rn(4, 5), rn(4, 5)], ops.softmax_cross_entropy,
         lambda z, y: -(y * F.log_softmax(z, -1)).sum(-1), diff=[1])
    case("ops.sigmoid_cross_entropy diff=[1] (target only)", [rn(4, 5), R.random((4, 5))], ops.sigmoid_cross_entropy,
         lambda z, y: F.binary_cross_entropy_with_logits(z, y, reduction="none"), diff=[1])
    case("ops.concatenate with a constant", [rn(2, 3), rn(2, 2)], lambda x, y: ops.concatenate([x, y], axis=1),
         lambda x, y: torch.cat([x, y], 1), diff=[0])
    inf = np.array([[0.0, -np.inf, 1.0], [2.0, 2.0, -np.inf]])
    case("ops.softmax with -inf logits (masking)", [inf], ops.softmax, lambda v: F.softmax(v, -1))
    case("ops.log_softmax with -inf logits (masking)", [inf], ops.log_softmax, lambda v: F.log_softmax(v, -1))
    case("ops.softmax over an axis of size 1", [rn(3, 1)], ops.softmax, lambda v: F.softmax(v, -1))
    case("ops.log_softmax over an axis of size 1", [rn(3, 1)], ops.log_softmax, lambda v: F.log_softmax(v, -1))
    empty = np.zeros((0, 3))
    case("ops.sum of (0, 3) axis=0", [empty], lambda v: ops.sum(v, axis=0), lambda v: v.sum(0))
    case("ops.mean of (0, 3) axis=1", [empty], lambda v: ops.mean(v, axis=1), lambda v: v.mean(1))
    case("ops.mean of (0, 3) axis=0 (NaN)", [empty], lambda v: ops.mean(v, axis=0), lambda v: v.mean(0))
    case("ops.matmul (3,0) @ (0,2)", [np.zeros((3, 0)), np.zeros((0, 2))], ops.matmul, torch.matmul)
    case("getitem x[2:2] (empty slice)", [rn(4, 3)], lambda v: v[2:2], lambda v: v[2:2])
    case("getitem x[[-1, -1, 0]] (negative, repeated)", [rn(4, 3)], lambda v: v[[-1, -1, 0]],
         lambda v: v[torch.tensor([-1, -1, 0])])
    case("getitem x[:, Tensor([1, 1])]", [rn(4, 3)], lambda v: v[:, nr.Tensor(np.array([1, 1]))],
         lambda v: v[:, torch.tensor([1, 1])])
    case("getitem x[..., None, 1:]", [rn(4, 3)], lambda v: v[..., None, 1:], lambda v: v[..., None, 1:])
    z = rn(2, 3, 4, 5)
    case("ops.softmax_cross_entropy sparse (2,3,4,5)", [z, R.integers(0, 5, (2, 3, 4))],
         lambda a, b: ops.softmax_cross_entropy(a, b, sparse=True),
         lambda a, b: F.cross_entropy(a.movedim(-1, 1), b, reduction="none"))
    case("losses.binary_crossentropy from_logits 1-D y_pred", [R.random(5), rn(5)],
         lambda t, p: losses.binary_crossentropy(t, p, from_logits=True),
         lambda t, p: F.binary_cross_entropy_with_logits(p, t, reduction="none").mean(-1))
    case("losses.categorical_crossentropy one-hot int targets", [np.eye(5, dtype=np.int64)[[1, 0, 4]], rn(3, 5)],
         lambda t, p: losses.categorical_crossentropy(t, p, from_logits=True),
         lambda t, p: -(t * F.log_softmax(p, -1)).sum(-1))


def convention_cases():
    """Where Neurona follows Keras/NumPy and a direct PyTorch call differs (or agrees, shown as PASS)."""
    x = rn(2, 3, 4)
    case("x.flatten() vs torch x.flatten()", [x], lambda v: v.flatten(), lambda v: v.flatten(),
         convention="ops.flatten: 'Merge all axes from start_axis on into one ((N, ...) -> (N, prod) by default)'")
    case("x.transpose(0, 1) on 3-D vs torch x.transpose(0, 1)", [x], lambda v: v.transpose(0, 1),
         lambda v: v.transpose(0, 1), convention="Tensor.transpose(*axes): a full permutation, as in NumPy")
    case("ops.squeeze(axis of size 3) vs torch (no-op)", [x], lambda v: ops.squeeze(v, 1), lambda v: v.squeeze(1),
         convention="ops.squeeze raises 'cannot squeeze axis 1 of size 3' (NumPy/Keras), torch returns x unchanged")
    case("ops.stack of 0-d tensors", [np.array(1.0), np.array(2.0)], lambda *v: ops.stack(v), lambda *v: torch.stack(v))
    x4, w = rn(2, 6, 5, 2), rn(2, 4, 2, 3)
    case("ops.conv2d 'same' even kernel vs F.conv2d(padding='same')", [x4, w],
         lambda x, w: ops.conv2d(x, w, padding="same"),
         lambda x, w: F.conv2d(x.permute(0, 3, 1, 2), w.permute(3, 2, 0, 1), padding="same").permute(0, 2, 3, 1))
    x7 = rn(2, 7, 7, 2)
    case("ops.avg_pool2d 3/1 'same' vs F.avg_pool2d(padding=1, count_include_pad=False)", [x7],
         lambda v: ops.avg_pool2d(v, 3, 1, "same"),
         lambda v: F.avg_pool2d(v.permute(0, 3, 1, 2), 3, 1, 1, count_include_pad=False).permute(0, 2, 3, 1))
    case("ops.avg_pool2d 3/1 'same' vs F.avg_pool2d(padding=1) default", [x7],
         lambda v: ops.avg_pool2d(v, 3, 1, "same"),
         lambda v: F.avg_pool2d(v.permute(0, 3, 1, 2), 3, 1, 1).permute(0, 2, 3, 1),
         convention="ops.pooling: \"with 'same' padding ... average pooling divides by the number of real "
                    "(unpadded) cells in each window, as Keras does\"")
    case("ops.max_pool2d 3/1 'same' ties vs F.max_pool2d(padding=1)", [ties(2, 7, 7, 2)],
         lambda v: ops.max_pool2d(v, 3, 1, "same"),
         lambda v: F.max_pool2d(v.permute(0, 3, 1, 2), 3, 1, 1).permute(0, 2, 3, 1))
    labels = R.integers(0, 5, 4)
    case("losses.categorical_crossentropy label_smoothing=0.1 vs F.cross_entropy(label_smoothing=0.1)",
         [labels, rn(4, 5)], lambda t, p: losses.categorical_crossentropy(np.eye(5)[t.numpy()], p, from_logits=True,
                                                                          label_smoothing=0.1),
         lambda t, p: F.cross_entropy(p, t, label_smoothing=0.1, reduction="none"))
    doc = ("losses.functions: 'for categorical losses p is renormalized to sum to 1 over the class axis, then "
           "clipped to [EPSILON, 1 - EPSILON]' (as Keras; the renormalization adds sum(y) / sum(p) to d/dp)")
    probs, soft = R.dirichlet(np.ones(5), 4), R.dirichlet(np.ones(5), 4)
    case("losses.categorical_crossentropy normalized p vs -(y * log p).sum(-1)", [soft, probs],
         losses.categorical_crossentropy, lambda t, p: -(t * torch.log(p)).sum(-1), convention=doc)
    case("losses.sparse_categorical_crossentropy normalized p vs F.nll_loss(log p)", [labels, probs],
         losses.sparse_categorical_crossentropy, lambda t, p: F.nll_loss(torch.log(p), t, reduction="none"),
         convention=doc)
    target, prob = R.random((4, 3)), R.uniform(0.01, 0.99, (4, 3))
    case("losses.binary_crossentropy vs F.binary_cross_entropy", [target, prob], losses.binary_crossentropy,
         lambda t, p: F.binary_cross_entropy(p, t, reduction="none").mean(-1))
    edges = np.array([[1e-9, 1e-7, 0.5, 1 - 1e-9, 1e-3]])
    case("losses.binary_crossentropy p near 0 and 1 vs F.binary_cross_entropy", [R.random(edges.shape), edges],
         losses.binary_crossentropy, lambda t, p: F.binary_cross_entropy(p, t, reduction="none").mean(-1),
         convention="losses.functions: 'clipped to [EPSILON, 1 - EPSILON] ... clipped entries get no gradient' "
                    "(F.binary_cross_entropy clamps log(p) at -100 instead)")
    x32 = rn(3, 4).astype(np.float32)
    case("float32 + float64 tensors -> float64", [x32, rn(3, 4)], ops.add, torch.add, tol=1e-7)
    case("float32 tensor * 2.5 stays float32", [x32], lambda v: v * 2.5, lambda v: v * 2.5, tol=0.0)
    case("float32 tensor * 0-d float64 ndarray", [x32], lambda v: v * np.array(2.5),
         lambda v: v * torch.tensor(2.5, dtype=torch.float64), tol=0.0,
         convention="convert.as_tensor: 'Python numbers take like's float dtype' (a 0-d array promotes, as in NumPy; "
                    "torch keeps float32 for 0-d tensors)")


def state_checks():
    """Non-gradient facts: moving statistics of batch norm, and casts to integers leaving the graph."""
    out = []
    x = np.random.default_rng(1).standard_normal((6, 3)) * 2.0 + 1.0
    mm, mv = np.full(3, 0.5), np.full(3, 2.0)
    ops.batch_normalization(nr.Tensor(x, requires_grad=True), moving_mean=mm, moving_variance=mv, momentum=0.9)
    tm, tv = torch.full((3,), 0.5, dtype=torch.float64), torch.full((3,), 2.0, dtype=torch.float64)
    F.batch_norm(torch.tensor(x), tm, tv, training=True, momentum=0.1)  # torch's momentum is 1 - Keras's
    err_m = compare(mm, tm.numpy())[0]
    err_v = compare(mv, 2.0 * 0.9 + 0.1 * x.var(0))[0]  # the biased batch variance, as documented
    err_tv = compare(mv, tv.numpy())[0]
    out.append(("PASS" if err_m <= TOL else "FAIL", "batch_normalization moving_mean vs F.batch_norm", err_m, ""))
    out.append(("PASS" if err_v <= TOL else "FAIL", "batch_normalization moving_variance (biased var)", err_v, ""))
    out.append(("PASS" if err_tv <= TOL else "CONVENTION", "batch_normalization moving_variance vs F.batch_norm",
                err_tv,
                "neurona documents: 'the variance is the biased one, as in Keras' (PyTorch's running_var is unbiased)"))
    t = ops.cast(nr.Tensor(x, requires_grad=True), "int64")
    out.append(("PASS" if not t.requires_grad else "FAIL", "ops.cast to int64 leaves the graph", 0.0, ""))
    return out
