"""Activations through the op harness: non-default slopes and axes, and the subgradients at the kink x = 0."""

import math

import numpy as np
from _harness.op_harness import Arg, OpCase, OpHarness

from neurona import ops

# Klambauer et al. (2017), eq. 14, typed in again rather than imported from the code under test
SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
_erf = np.vectorize(math.erf)
# the kink at 0 exactly, and values on both sides of it
AT_ZERO = [[0.0, -1.5, 0.75, 0.0], [2.0, 0.0, -0.25, -3.0]]


def _relu(x):
    return np.where(x > 0, x, 0.0)


def _leaky(x, alpha=0.2):
    return np.where(x > 0, x, alpha * x)


def _elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * (np.exp(np.minimum(x, 0)) - 1))


def _gelu(x, approximate=False):
    if approximate:
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
    return 0.5 * x * (1 + _erf(x / math.sqrt(2)))


def _softmax(x, axis=-1):
    e = np.exp(x - 1000.0 * (x.max() > 500))  # a constant shift keeps e^1000 finite: softmax is shift-invariant
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax(x, axis=-1):
    return np.log(_softmax(x, axis))


def _at_zero(op, reference, derivative, **params):
    """A case on the kink, against ``derivative`` written with PyTorch's choice at 0 (relu 0, leaky_relu and elu
    alpha: the x <= 0 branch)."""
    return OpCase(op, (Arg.fixed(AT_ZERO),), reference, params=params, gradcheck=False,
                  reference_grad=lambda x, g, **kwargs: (g * derivative(x),),
                  label=",".join([f"{k}={v}" for k, v in params.items()] + ["at_zero"]))


CASES = [
    OpCase(ops.relu, (Arg((3, 4), avoid=(0.0,)),), _relu),
    OpCase(ops.relu, (Arg((2, 3, 2), avoid=(0.0,)),), _relu, label="3-d"),
    OpCase(ops.leaky_relu, (Arg((3, 4), avoid=(0.0,)),), _leaky),
    *[OpCase(ops.leaky_relu, (Arg((3, 4), avoid=(0.0,)),), _leaky, params=dict(alpha=alpha)) for alpha in (0.1, 0.01)],
    OpCase(ops.elu, (Arg((3, 4), avoid=(0.0,)),), _elu),
    OpCase(ops.elu, (Arg((3, 4), avoid=(0.0,)),), _elu, params=dict(alpha=0.7)),
    OpCase(ops.selu, (Arg((3, 4), avoid=(0.0,)),), lambda x: SELU_SCALE * _elu(x, SELU_ALPHA)),
    OpCase(ops.gelu, (Arg((3, 4), -3.0, 3.0),), _gelu),
    OpCase(ops.gelu, (Arg((3, 4), -3.0, 3.0),), _gelu, params=dict(approximate=True)),
    OpCase(ops.sigmoid, (Arg((3, 4), -4.0, 4.0),), lambda x: 1 / (1 + np.exp(-x))),
    # saturated: outputs within 1e-5 of 0 and 1, where central differences lose digits to rounding; the derivative
    # s (1 - s) is written as e^-|x| / (1 + e^-|x|)^2, which has no cancellation
    OpCase(ops.sigmoid, (Arg((2, 3), -40.0, 40.0),), lambda x: 1 / (1 + np.exp(-x)), label="saturated",
           gradcheck=False, reference_grad=lambda x, g: (g * np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x))) ** 2,)),
    OpCase(ops.tanh, (Arg((3, 4)),), np.tanh),
    OpCase(ops.softplus, (Arg((3, 4), -4.0, 4.0),), lambda x: np.log1p(np.exp(x))),
    OpCase(ops.softplus, (Arg((2, 3), -40.0, 40.0),), lambda x: np.log1p(np.exp(x)), label="saturated"),
    *[OpCase(ops.softmax, (Arg((2, 3, 4)),), _softmax, params=params) for params in (dict(), dict(axis=0),
                                                                                     dict(axis=1))],
    # logits near 1000: e^x overflows unless the op shifts by the maximum (finite differences lose digits there)
    OpCase(ops.softmax, (Arg((2, 4), 995.0, 1005.0),), _softmax, label="large_logits", gradcheck=False),
    *[OpCase(ops.log_softmax, (Arg((2, 3, 4)),), _log_softmax, params=params) for params in (dict(), dict(axis=0))],
    OpCase(ops.log_softmax, (Arg((2, 4), 995.0, 1005.0),), _log_softmax, label="large_logits", gradcheck=False),
    _at_zero(ops.relu, _relu, lambda x: np.where(x > 0, 1.0, 0.0)),
    _at_zero(ops.leaky_relu, _leaky, lambda x: np.where(x > 0, 1.0, 0.2)),
    _at_zero(ops.leaky_relu, _leaky, lambda x: np.where(x > 0, 1.0, 0.1), alpha=0.1),
    _at_zero(ops.elu, _elu, lambda x: np.where(x > 0, 1.0, 0.7 * np.exp(x)), alpha=0.7),
    _at_zero(ops.selu, lambda x: SELU_SCALE * _elu(x, SELU_ALPHA),
             lambda x: SELU_SCALE * np.where(x > 0, 1.0, SELU_ALPHA * np.exp(x))),
]


class TestActivationHarness(OpHarness):
    cases = CASES
