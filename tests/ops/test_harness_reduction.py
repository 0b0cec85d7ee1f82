"""Reductions through the op harness: every axis form, keepdims, 0-d inputs, and ties of max and min."""

import numpy as np
from _harness.op_harness import Arg, OpCase, OpHarness

from neurona import ops

# (shape, params): None, int, negative, tuple, tuple with a negative axis, keepdims; 0-d inputs take axis 0 and -1
# as in PyTorch (they reduce over nothing)
AXES = [
    ((2, 3, 4), dict()), ((2, 3, 4), dict(axis=1)), ((2, 3, 4), dict(axis=-1)), ((2, 3, 4), dict(axis=(0, 2))),
    ((2, 3, 4), dict(axis=(0, -1), keepdims=True)), ((2, 3, 4), dict(axis=1, keepdims=True)),
    ((2, 3, 4), dict(axis=None, keepdims=True)), ((5,), dict(axis=0)),
    ((), dict()), ((), dict(axis=0)), ((), dict(axis=-1)), ((), dict(axis=-1, keepdims=True)),
]


def _numpy_axis(shape, axis):
    """The reference's axis: a 0-d array has no axes to reduce, whatever PyTorch-style axis it was given."""
    return None if not shape else axis


def _label(shape, params):
    text = ",".join(f"{k}={v}".replace(" ", "") for k, v in params.items())
    return f"{shape}".replace(" ", "") + ("," + text if text else "")


def _reference(reduce):
    def reference(x, axis=None, keepdims=False):
        return reduce(x, axis=_numpy_axis(x.shape, axis), keepdims=keepdims)
    return reference


def _shared_among_ties(pick):
    """The max (min) gradient as documented in reduction.py: each extremum's share is g / (number of ties)."""
    def grad(x, g, axis=None, keepdims=False):
        axis = _numpy_axis(x.shape, axis)
        extreme = pick(x, axis=axis, keepdims=True)
        hit = x == extreme
        kept_g = g.reshape(extreme.shape)  # g with the reduced axes as size 1
        return (hit * kept_g / hit.sum(axis=axis, keepdims=True),)
    return grad


# ties in every row, in a whole column and across the array (the maximum 3 three times, the minimum -1 twice)
TIES = [[3.0, 3.0, 0.0, -1.0], [2.0, 2.0, 2.0, 2.0], [-1.0, 3.0, 0.5, 0.5]]

CASES = []
for op, numpy_op in ((ops.sum, np.sum), (ops.mean, np.mean)):
    CASES += [OpCase(op, (Arg(shape),), _reference(numpy_op), params=params, label=_label(shape, params))
              for shape, params in AXES]
for op, numpy_op in ((ops.max, np.max), (ops.min, np.min)):
    # distinct values: a unique extremum per reduction, so finite differences see a smooth function
    CASES += [OpCase(op, (Arg(shape, kind="distinct"),), _reference(numpy_op), params=params,
                     label=_label(shape, params)) for shape, params in AXES]
    CASES += [OpCase(op, (Arg.fixed(TIES),), _reference(numpy_op), params=params, label=_label("ties", params),
                     reference_grad=_shared_among_ties(numpy_op), gradcheck=False)
              for params in (dict(), dict(axis=1), dict(axis=0, keepdims=True), dict(axis=(0, 1)))]


class TestReductionHarness(OpHarness):
    cases = CASES
