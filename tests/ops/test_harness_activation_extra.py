"""Keras 3's relu options, celu, glu and log_sigmoid through the op harness.

The references are written from the documented piecewise formulas (``keras.layers.ReLU``'s docstring, the
papers), not from the composition the code uses; tests/ops/test_activation_options.py compares against real
Keras and PyTorch as well.
"""

import numpy as np
from _harness.op_harness import Arg, OpCase, OpHarness

from neurona import ops


def _relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """max_value at and above it; x above the threshold; negative_slope * (x - threshold) at or below it."""
    top = np.inf if max_value is None else max_value
    return np.where(x >= top, top, np.where(x > threshold, x, negative_slope * (x - threshold)))


def _celu(x, alpha=1.0):
    return np.maximum(0.0, x) + np.minimum(0.0, alpha * (np.exp(x / alpha) - 1))


def _glu(x, axis=-1):
    n = x.shape[axis] // 2
    a, b = np.take(x, np.arange(n), axis=axis), np.take(x, np.arange(n, 2 * n), axis=axis)
    return a / (1 + np.exp(-b))


def _log_sigmoid(x):
    return -np.logaddexp(0.0, -x)


def _relu_case(low=-3.0, high=3.0, **params):
    kinks = (params.get("threshold", 0.0), 0.0) + ((params["max_value"],) if params.get("max_value") else ())
    return OpCase(ops.relu, (Arg((3, 5), low, high, avoid=kinks),), _relu, params=params)


CASES = [
    _relu_case(negative_slope=0.1),
    _relu_case(max_value=1.5),
    _relu_case(max_value=6.0, low=-2.0, high=8.0),
    _relu_case(threshold=0.5),
    _relu_case(negative_slope=0.2, max_value=2.0),
    _relu_case(negative_slope=0.3, threshold=0.5),
    _relu_case(negative_slope=0.25, max_value=2.0, threshold=1.0),
    OpCase(ops.celu, (Arg((3, 4), -3.0, 3.0, avoid=(0.0,)),), _celu),
    *[OpCase(ops.celu, (Arg((3, 4), -3.0, 3.0, avoid=(0.0,)),), _celu, params=dict(alpha=a)) for a in (0.5, 2.0)],
    OpCase(ops.glu, (Arg((3, 6)),), _glu),
    OpCase(ops.glu, (Arg((4, 3, 2)),), _glu, params=dict(axis=0)),
    OpCase(ops.glu, (Arg((2, 4, 3)),), _glu, params=dict(axis=1)),
    OpCase(ops.log_sigmoid, (Arg((3, 4), -4.0, 4.0),), _log_sigmoid),
    # log(sigmoid(x)) taken literally gives -inf below -745 and loses every digit above 37
    OpCase(ops.log_sigmoid, (Arg.fixed([[-800.0, -40.0, 0.0], [40.0, 800.0, 3.0]]),), _log_sigmoid,
           label="saturated", gradcheck=False,
           reference_grad=lambda x, g: (g * np.exp(-np.logaddexp(0.0, x)),)),  # d/dx = sigmoid(-x)
]


class TestActivationExtraHarness(OpHarness):
    cases = CASES
