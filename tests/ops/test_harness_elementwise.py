"""Elementwise ops and casts through the op harness: NumPy references, broadcasting, kinks and bounds."""

import numpy as np
from _harness.op_harness import Arg, OpCase, OpHarness

from neurona import ops

# pairs of shapes that broadcast against each other: rank changes, size-1 axes, 0-d operands (engine unbroadcast)
BROADCAST_PAIRS = [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 3, 4), (3, 1)), ((5,), ()), ((), (2, 2))]
BINARY = [(ops.add, np.add), (ops.sub, np.subtract), (ops.mul, np.multiply), (ops.div, np.divide)]


def _shapes(pair):
    return "x".join(str(s).replace(" ", "") for s in pair)


def _binary_cases():
    for op, reference in BINARY:
        for a, b in BROADCAST_PAIRS:
            # the divisor stays in [0.5, 2): away from the pole at 0
            yield OpCase(op, (Arg(a), Arg(b, 0.5, 2.0)), lambda x, y, f=reference: f(x, y), label=_shapes((a, b)))


def _pow_edge_grad(a, b, g):
    """PyTorch's pow_backward: d/da = 0 where b = 0; d/db = 0 where a = 0 and b >= 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        da = np.where(b == 0, 0.0, b * a ** np.where(b == 0, 1.0, b - 1))
        db = np.where((a == 0) & (b >= 0), 0.0, a**b * np.log(np.where(a == 0, 1.0, a)))
    return g * da, g * db


def _clip_grad(lo, hi):
    """PyTorch's clamp: the gradient passes where lo <= x <= hi, both bounds included."""
    def grad(x, g, **params):
        inside = np.ones(x.shape, dtype=bool)
        if lo is not None:
            inside &= x >= lo
        if hi is not None:
            inside &= x <= hi
        return (np.where(inside, g, 0.0),)
    return grad


def _cast_cases():
    """cast and to_device (guarded so that this file also runs on code without them: the coverage test then fails)."""
    if not hasattr(ops, "cast"):
        return []
    return [
        OpCase(ops.cast, (Arg((3, 4)),), lambda x, dtype: x, params=dict(dtype="float64"), out_dtype="float64"),
        # to float32, finite differences in float64 would see float32 rounding: the gradient is the identity cast back
        OpCase(ops.cast, (Arg((3, 4)),), lambda x, dtype: x, params=dict(dtype="float32"), out_dtype="float32",
               gradcheck=False, reference_grad=lambda x, g, dtype: (g,)),
        OpCase(ops.to_device, (Arg((2, 3)),), lambda x, device: x, params=dict(device="cpu")),
    ]


CLIP_BOUNDS = [(-0.5, 0.5), (None, 0.25), (-0.25, None)]
# exact bounds (representable in float32), values beyond them, inside, and zero
AT_BOUNDS = [[-0.5, 0.5, -1.0, 1.0], [0.0, -0.5, 0.5, 0.25], [-0.25, 0.25, 1.5, -1.5]]

CASES = [
    *_binary_cases(),
    OpCase(ops.neg, (Arg((3, 4)),), np.negative),
    OpCase(ops.exp, (Arg((3, 4)),), np.exp),
    OpCase(ops.exp, (Arg(()),), np.exp, label="0-d"),
    OpCase(ops.log, (Arg((3, 4), 0.2, 3.0),), np.log),
    OpCase(ops.sqrt, (Arg((3, 4), 0.2, 3.0),), np.sqrt),
    OpCase(ops.square, (Arg((2, 3, 2)),), lambda x: x * x),
    OpCase(ops.abs, (Arg((3, 4), avoid=(0.0,)),), np.abs),
    OpCase(ops.abs, (Arg.fixed([[-1.5, 0.0, 2.0], [0.0, -0.25, 0.0]]),), np.abs, label="zeros",
           reference_grad=lambda x, g: (g * np.sign(x),), gradcheck=False),  # abs'(0) = 0
    OpCase(ops.pow, (Arg((3, 4), 0.5, 2.0), Arg((3, 4), -1.5, 1.5)), np.power),
    OpCase(ops.pow, (Arg((3, 4), 0.5, 2.0), Arg(())), np.power, label="(3,4)x()"),
    OpCase(ops.pow, (Arg((2, 3)),), lambda a: a**3, call=lambda a: ops.pow(a, 3), label="b=3,negative_base"),
    OpCase(ops.pow, (Arg.fixed([0.0, 0.0, 0.0, 1.5, 2.0, 0.5]), Arg.fixed([0.0, 1.0, 2.0, 0.0, 3.0, 2.0])),
           np.power, label="zero_base_and_exponent", reference_grad=_pow_edge_grad, gradcheck=False),
    *[OpCase(ops.clip, (Arg((4, 5), avoid=tuple(b for b in (lo, hi) if b is not None)),),
             lambda x, min, max: np.clip(x, min, max), params=dict(min=lo, max=hi)) for lo, hi in CLIP_BOUNDS],
    *[OpCase(ops.clip, (Arg.fixed(AT_BOUNDS),), lambda x, min, max: np.clip(x, min, max), params=dict(min=lo, max=hi),
             label=f"min={lo},max={hi},at_bounds", reference_grad=_clip_grad(lo, hi), gradcheck=False)
      for lo, hi in CLIP_BOUNDS],
    # bounds that are Tensors in the graph: they get the gradient of the elements clipped to them (as torch.clamp)
    OpCase(ops.clip, (Arg((4, 5)), Arg((4, 5), high=0.5), Arg((4, 5), low=-0.5)), np.clip, label="tensor_bounds"),
    OpCase(ops.clip, (Arg((4, 5)), Arg((5,), high=0.0), Arg(())), np.clip, label="tensor_bounds_broadcast"),
    OpCase(ops.where, (Arg((3, 4), kind="bool"), Arg((3, 4)), Arg((4,))), np.where, label="(3,4)x(4,)"),
    OpCase(ops.where, (Arg((3, 1), kind="bool"), Arg((3, 4)), Arg(())), np.where, label="cond(3,1),b=()"),
    *_cast_cases(),
]


class TestElementwiseHarness(OpHarness):
    cases = CASES
