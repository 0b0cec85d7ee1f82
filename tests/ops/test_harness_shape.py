"""Shape, indexing and matrix-product ops through the op harness."""

import numpy as np
from _harness.op_harness import Arg, OpCase, OpHarness

from neurona import ops


def _scatter_add(shape, rows, g):
    """The gradient of ``x[rows]`` by a loop: every pick adds its g back to the row it read (repeats add up)."""
    grad = np.zeros(shape)
    for k, i in enumerate(rows):
        grad[i] += g[k]
    return grad


REPEATED = np.array([2, 0, 2, 2])  # row 2 read three times: its gradient is the sum of three rows of g
MASK = np.array([[True, False, True, True], [False, False, True, False], [True, True, False, False]])

INDICES = [  # (label, index) for a (3, 4) input
    ("1", 1), ("-1", -1), ("::2", slice(None, None, 2)), (":,1", (slice(None), 1)), ("...,2", (Ellipsis, 2)),
    ("None,0", (None, 0)), ("1:,::-1", (slice(1, None), slice(None, None, -1))),
    ("rows[0,2]", np.array([0, 2])), ("pairs", (np.array([0, 2, 0]), np.array([3, 1, 3]))), ("mask", MASK),
]


def _join(op):
    return lambda *tensors, axis: op(list(tensors), axis=axis)


def _einsum(spec):
    return lambda a, b: np.einsum(spec, a, b)


CASES = [
    *[OpCase(ops.reshape, (Arg((2, 3, 4)),), lambda x, shape: x.reshape(shape), params=dict(shape=shape))
      for shape in [(6, 4), (24,), (4, -1), (2, 12, 1)]],
    OpCase(ops.reshape, (Arg(()),), lambda x, shape: x.reshape(shape), params=dict(shape=(1, 1)), label="0-d"),
    *[OpCase(ops.transpose, (Arg((2, 3, 4)),), lambda x, axes: np.transpose(x, axes), params=dict(axes=axes))
      for axes in [None, (0, 2, 1), (2, 0, 1), (-1, 0, 1)]],
    *[OpCase(ops.getitem, (Arg((3, 4)),), lambda x, index: x[index], params=dict(index=index), label=label)
      for label, index in INDICES],
    OpCase(ops.getitem, (Arg((3, 4)),), lambda x, index: x[index], params=dict(index=REPEATED), label="repeated_rows",
           reference_grad=lambda x, g, index: (_scatter_add(x.shape, index, g),)),
    OpCase(ops.getitem, (Arg((3, 4)),), lambda x, index: x[index], params=dict(index=[1, 1, 0]), label="list[1,1,0]",
           reference_grad=lambda x, g, index: (_scatter_add(x.shape, index, g),)),
    *[OpCase(ops.concatenate, (Arg((2, 1, 3)), Arg((2, 4, 3)), Arg((2, 2, 3))),
             lambda *arrays, axis: np.concatenate(arrays, axis=axis), call=_join(ops.concatenate),
             params=dict(axis=axis)) for axis in (1, -2)],
    OpCase(ops.concatenate, (Arg((1, 3)), Arg((2, 3))), lambda *arrays, axis: np.concatenate(arrays, axis=axis),
           call=_join(ops.concatenate), params=dict(axis=0), label="axis=0,two"),
    *[OpCase(ops.stack, (Arg((2, 3)), Arg((2, 3)), Arg((2, 3))), lambda *arrays, axis: np.stack(arrays, axis=axis),
             call=_join(ops.stack), params=dict(axis=axis)) for axis in (0, 1, -1)],
    *[OpCase(ops.flatten, (Arg((2, 3, 4)),), lambda x, start_axis=1: x.reshape(x.shape[:start_axis] + (-1,)),
             params=params) for params in (dict(), dict(start_axis=2), dict(start_axis=0))],
    *[OpCase(ops.expand_dims, (Arg((2, 3)),), lambda x, axis: np.expand_dims(x, axis), params=dict(axis=axis))
      for axis in (0, 1, -1)],
    *[OpCase(ops.squeeze, (Arg((2, 1, 3, 1)),), lambda x, axis=None: np.squeeze(x, axis), params=params)
      for params in (dict(), dict(axis=1), dict(axis=-1))],
    # 0-d tensors: squeeze takes axis 0 and -1 as in PyTorch; stack gives them an axis
    OpCase(ops.squeeze, (Arg(()),), lambda x, axis: x, params=dict(axis=-1), label="0-d,axis=-1"),
    OpCase(ops.expand_dims, (Arg(()),), lambda x, axis: x.reshape(1), params=dict(axis=0), label="0-d,axis=0"),
    OpCase(ops.flatten, (Arg(()),), lambda x, start_axis: x.reshape(1), params=dict(start_axis=0), label="0-d"),
    OpCase(ops.stack, (Arg(()), Arg(())), lambda *arrays, axis: np.stack(arrays, axis=axis), call=_join(ops.stack),
           params=dict(axis=-1), label="0-d,axis=-1"),
    # matmul against einsum (an independent contraction), NumPy's @ rules: batch broadcasting, 1-D operands
    OpCase(ops.matmul, (Arg((3, 4)), Arg((4, 2))), _einsum("ij,jk->ik"), label="(3,4)@(4,2)"),
    OpCase(ops.matmul, (Arg((2, 3, 4)), Arg((4, 2))), _einsum("...ij,jk->...ik"), label="(2,3,4)@(4,2)"),
    OpCase(ops.matmul, (Arg((2, 1, 3, 4)), Arg((3, 4, 2))), _einsum("...ij,...jk->...ik"),
           label="(2,1,3,4)@(3,4,2)"),
    OpCase(ops.matmul, (Arg((4,)), Arg((4, 3))), _einsum("j,jk->k"), label="(4,)@(4,3)"),
    OpCase(ops.matmul, (Arg((2, 3, 4)), Arg((4,))), _einsum("...ij,j->...i"), label="(2,3,4)@(4,)"),
    OpCase(ops.matmul, (Arg((5,)), Arg((5,))), _einsum("i,i->"), label="(5,)@(5,)"),
]


class TestShapeHarness(OpHarness):
    cases = CASES
