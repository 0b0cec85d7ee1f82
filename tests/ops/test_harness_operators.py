"""Tensor operators and methods through the op harness (they call the public wrappers of neurona.ops)."""

import numpy as np
import pytest
from _harness.op_harness import Arg, OpCase, OpHarness

import neurona as nr
from neurona import ops

X, POS, COL = Arg((3, 4)), Arg((3, 4), 0.5, 2.0), Arg((3, 1), 0.5, 2.0)


def _case(op, method, call, reference, args=(X,), label=None, **fields):
    return OpCase(op, args, reference, call=call, method=method, label=label or "", **fields)


def _softmax(x):
    e = np.exp(x)
    return e / e.sum(axis=-1, keepdims=True)


CASES = [
    _case(ops.add, "__add__", lambda a, b: a + b, np.add, (X, COL), "a+b(3,1)"),
    _case(ops.add, "__add__", lambda a: a + 2.0, lambda a: a + 2.0, label="a+2.0"),
    _case(ops.add, "__radd__", lambda a: 2.0 + a, lambda a: 2.0 + a, label="2.0+a"),
    _case(ops.sub, "__sub__", lambda a, b: a - b, np.subtract, (X, Arg((4,))), "a-b(4,)"),
    _case(ops.sub, "__rsub__", lambda a: 1.5 - a, lambda a: 1.5 - a, label="1.5-a"),
    _case(ops.mul, "__mul__", lambda a, b: a * b, np.multiply, (X, Arg(())), "a*b()"),
    _case(ops.mul, "__rmul__", lambda a: 3 * a, lambda a: 3 * a, label="3*a"),
    _case(ops.div, "__truediv__", lambda a, b: a / b, np.divide, (X, COL), "a/b(3,1)"),
    _case(ops.div, "__rtruediv__", lambda b: 1.0 / b, lambda b: 1.0 / b, (POS,), "1.0/b"),
    _case(ops.pow, "__pow__", lambda a: a**2, lambda a: a * a, label="a**2"),
    _case(ops.pow, "__pow__", lambda a, b: a**b, np.power, (POS, Arg((4,))), "a**b(4,)"),
    _case(ops.pow, "__rpow__", lambda b: 2.0**b, lambda b: np.exp2(b), label="2.0**b"),
    _case(ops.matmul, "__matmul__", lambda a, b: a @ b, lambda a, b: np.einsum("ij,jk->ik", a, b),
          (X, Arg((4, 2))), "a@b"),
    # ndarray @ Tensor: NumPy defers to Tensor (higher __array_priority__), so b's gradient still flows
    _case(ops.matmul, "__rmatmul__", lambda b: np.arange(6.0).reshape(2, 3).astype(b.dtype) @ b,
          lambda b: np.einsum("ij,jk->ik", np.arange(6.0).reshape(2, 3), b), label="ndarray@b"),
    _case(ops.matmul, "matmul", lambda a, b: a.matmul(b), lambda a, b: np.einsum("ij,j->i", a, b),
          (X, Arg((4,))), "a.matmul(b(4,))"),
    _case(ops.neg, "__neg__", lambda a: -a, np.negative, label="-a"),
    _case(ops.abs, "__abs__", lambda a: abs(a), np.abs, (Arg((3, 4), avoid=(0.0,)),), "abs(a)"),
    _case(ops.abs, "abs", lambda a: a.abs(), np.abs, (Arg((3, 4), avoid=(0.0,)),), "a.abs()"),
    _case(ops.getitem, "__getitem__", lambda a: a[1:, ::2], lambda a: a[1:, ::2], label="a[1:,::2]"),
    _case(ops.getitem, "__getitem__", lambda a: a[[2, 0, 2]], lambda a: a[[2, 0, 2]], label="a[[2,0,2]]"),
    _case(ops.sum, "sum", lambda a: a.sum(axis=1), lambda a: a.sum(axis=1), label="a.sum(axis=1)"),
    _case(ops.mean, "mean", lambda a: a.mean(), lambda a: a.mean(), label="a.mean()"),
    _case(ops.max, "max", lambda a: a.max(axis=0), lambda a: a.max(axis=0), (Arg((3, 4), kind="distinct"),),
          "a.max(axis=0)"),
    _case(ops.min, "min", lambda a: a.min(keepdims=True), lambda a: a.min(keepdims=True),
          (Arg((3, 4), kind="distinct"),), "a.min(keepdims=True)"),
    _case(ops.reshape, "reshape", lambda a: a.reshape(2, 6), lambda a: a.reshape(2, 6), label="a.reshape(2,6)"),
    _case(ops.reshape, "reshape", lambda a: a.reshape((4, -1)), lambda a: a.reshape(4, -1),
          label="a.reshape((4,-1))"),
    _case(ops.transpose, "transpose", lambda a: a.transpose(), lambda a: a.T, label="a.transpose()"),
    _case(ops.transpose, "transpose", lambda a: a.transpose(1, 2, 0), lambda a: a.transpose(1, 2, 0),
          (Arg((2, 3, 4)),), "a.transpose(1,2,0)"),
    _case(ops.transpose, "T", lambda a: a.T, lambda a: a.T, label="a.T"),
    _case(ops.flatten, "flatten", lambda a: a.flatten(), lambda a: a.reshape(2, 12), (Arg((2, 3, 4)),),
          "a.flatten()"),
    _case(ops.squeeze, "squeeze", lambda a: a.squeeze(), lambda a: a.reshape(3, 2), (Arg((3, 1, 2)),),
          "a.squeeze()"),
    _case(ops.expand_dims, "expand_dims", lambda a: a.expand_dims(1), lambda a: a[:, None], label="a.expand_dims(1)"),
    _case(ops.exp, "exp", lambda a: a.exp(), np.exp, label="a.exp()"),
    _case(ops.log, "log", lambda a: a.log(), np.log, (POS,), "a.log()"),
    _case(ops.sqrt, "sqrt", lambda a: a.sqrt(), np.sqrt, (POS,), "a.sqrt()"),
    _case(ops.square, "square", lambda a: a.square(), np.square, label="a.square()"),
    _case(ops.clip, "clip", lambda a: a.clip(-0.5, 0.5), lambda a: np.clip(a, -0.5, 0.5),
          (Arg((3, 4), avoid=(-0.5, 0.5)),), "a.clip(-0.5,0.5)"),
    _case(ops.relu, "relu", lambda a: a.relu(), lambda a: np.maximum(a, 0), (Arg((3, 4), avoid=(0.0,)),),
          "a.relu()"),
    _case(ops.sigmoid, "sigmoid", lambda a: a.sigmoid(), lambda a: 1 / (1 + np.exp(-a)), label="a.sigmoid()"),
    _case(ops.tanh, "tanh", lambda a: a.tanh(), np.tanh, label="a.tanh()"),
    _case(ops.softmax, "softmax", lambda a: a.softmax(), _softmax, label="a.softmax()"),
    _case(ops.log_softmax, "log_softmax", lambda a: a.log_softmax(), lambda a: np.log(_softmax(a)),
          label="a.log_softmax()"),
    # edges through the methods: exact clip bounds (the gradient passes, bounds included), tied maxima (shared)
    _case(ops.clip, "clip", lambda a: a.clip(-0.5, 0.5), lambda a: np.clip(a, -0.5, 0.5),
          (Arg.fixed([[-0.5, 0.5, 0.75], [-1.0, 0.0, 0.5]]),), "a.clip(-0.5,0.5),at_bounds", gradcheck=False,
          reference_grad=lambda a, g: (g * ((a >= -0.5) & (a <= 0.5)),)),
    _case(ops.max, "max", lambda a: a.max(), lambda a: a.max(), (Arg.fixed([[1.0, 3.0, 3.0], [3.0, -2.0, 0.0]]),),
          "a.max(),ties", gradcheck=False, reference_grad=lambda a, g: (g * (a == 3.0) / 3,)),
]
if hasattr(ops, "cast"):  # the differentiable cast (guarded so that this file also runs on code without it)
    CASES += [
        _case(ops.cast, "astype", lambda a: a.astype("float64"), lambda a: a, label="a.astype(float64)",
              out_dtype="float64"),
        _case(ops.cast, "to", lambda a: a.to("float64"), lambda a: a, label="a.to(float64)", out_dtype="float64"),
        _case(ops.to_device, "to", lambda a: a.to("cpu"), lambda a: a, label="a.to(cpu)"),
    ]


class TestOperatorHarness(OpHarness):
    cases = CASES


COMPARISONS = {"__lt__": np.less, "__le__": np.less_equal, "__gt__": np.greater, "__ge__": np.greater_equal}


@pytest.mark.parametrize("name", sorted(COMPARISONS))
def test_comparisons_are_elementwise_and_not_differentiable(device, name):
    # ties included: 0.5 appears on both sides
    a = nr.Tensor(np.array([[0.5, -1.0, 2.0], [0.5, 0.25, -3.0]]), requires_grad=True)
    b = np.array([0.5, 0.0, 2.5])
    for other in (b, nr.Tensor(b), 0.5):
        out = getattr(a, name)(other)
        np.testing.assert_array_equal(out.numpy(), COMPARISONS[name](a.numpy(), np.asarray(getattr(other, "data",
                                                                                                    other))))
        assert out.dtype == np.bool_ and not out.requires_grad
