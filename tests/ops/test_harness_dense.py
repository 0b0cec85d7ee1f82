"""The fused dense op ``act(x @ w + b)`` through the op harness, against einsum and the chain rule written out."""

import numpy as np
from _harness.op_harness import Arg, OpCase, OpHarness

from neurona import ops


def dense_reference(x, w, b=None, activation=None):
    """y = x @ w (an einsum over the last axis of x) + b, then max(., 0) for the ReLU."""
    out = np.einsum("...i,io->...o", x, w) + (0.0 if b is None else b)
    return np.maximum(out, 0.0) if activation == "relu" else out


def dense_reference_grad(x, w, *rest, activation=None):
    """d = g masked where the ReLU's output is <= 0 (relu'(0) = 0, PyTorch's); dx = d w^T, dw = x^T d, db = sum d."""
    b, g = (rest[0], rest[1]) if len(rest) == 2 else (None, rest[0])
    if activation == "relu":
        g = g * (dense_reference(x, w, b, activation) > 0)
    dx = np.einsum("...o,io->...i", g, w)
    dw = np.einsum("ni,no->io", x.reshape(-1, x.shape[-1]), g.reshape(-1, g.shape[-1]))
    return (dx, dw) if b is None else (dx, dw, g.reshape(-1, g.shape[-1]).sum(axis=0))


def _with_bias(x, w, b, **params):
    return ops.dense(x, w, bias=b, **params)


# an input whose first rows are zero: with a zero bias their outputs are exactly 0 and the ReLU passes no gradient
ZERO_ROWS = np.random.default_rng(5).uniform(-1, 1, (4, 3))
ZERO_ROWS[:2] = 0.0

CASES = [
    OpCase(ops.dense, (Arg((4, 3)), Arg((3, 5))), dense_reference, reference_grad=dense_reference_grad),
    OpCase(ops.dense, (Arg((4, 3)), Arg((3, 5)), Arg((5,))), dense_reference, call=_with_bias, label="bias",
           reference_grad=dense_reference_grad),
    OpCase(ops.dense, (Arg((4, 3)), Arg((3, 5)), Arg((5,))), dense_reference, call=_with_bias,
           params=dict(activation="relu"), label="bias,relu", reference_grad=dense_reference_grad),
    OpCase(ops.dense, (Arg((2, 3, 4)), Arg((4, 2)), Arg((2,))), dense_reference, call=_with_bias,
           params=dict(activation="relu"), label="rank3,bias,relu", reference_grad=dense_reference_grad),
    OpCase(ops.dense, (Arg((3, 4)), Arg((4, 2))), dense_reference, params=dict(activation="linear"),
           label="linear", reference_grad=dense_reference_grad),
    OpCase(ops.dense, (Arg.fixed(ZERO_ROWS), Arg((3, 2)), Arg.fixed(np.zeros(2))), dense_reference, call=_with_bias,
           params=dict(activation="relu"), label="relu,zero_outputs", gradcheck=False,
           reference_grad=dense_reference_grad),
]


class TestDenseHarness(OpHarness):
    cases = CASES
