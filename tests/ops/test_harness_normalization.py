"""Fused normalization ops through the op harness, against the two-pass NumPy formula."""

import numpy as np
from _harness.op_harness import Arg, OpCase, OpHarness

from neurona import ops


def _normalized(x, axes, epsilon):
    axes = tuple(a % x.ndim for a in ((axes,) if isinstance(axes, int) else axes))
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)  # biased, as in Keras and the paper
    return (x - mean) / np.sqrt(var + epsilon), axes


def batch_norm_reference(x, gamma=None, beta=None, axes=None, epsilon=1e-3, **unused):
    """gamma and beta hold one value per position of the kept axes; they are placed back along them."""
    axes = tuple(range(x.ndim - 1)) if axes is None else axes
    x_hat, axes = _normalized(x, axes, epsilon)
    kept = tuple(1 if i in axes else s for i, s in enumerate(x.shape))
    gamma = 1.0 if gamma is None else gamma.reshape(kept)
    beta = 0.0 if beta is None else beta.reshape(kept)
    return gamma * x_hat + beta


def standardize_reference(x, gamma=None, beta=None, axes=-1, epsilon=1e-3):
    """gamma and beta broadcast against x."""
    x_hat, _ = _normalized(x, axes, epsilon)
    return (1.0 if gamma is None else gamma) * x_hat + (0.0 if beta is None else beta)


def _sum_to(a, shape):
    """``a`` summed over the axes along which an array of ``shape`` was broadcast to it."""
    lead = a.ndim - len(shape)
    a = a.sum(axis=tuple(range(lead)))
    return a.sum(axis=tuple(i for i, s in enumerate(shape) if s == 1), keepdims=True).reshape(shape)


def _closed_form_grads(x, gamma, g, axes, epsilon):
    """Ioffe & Szegedy (2015): with dx_hat = g gamma and means over the reduced axes,
    dx = (dx_hat - mean(dx_hat) - x_hat mean(dx_hat x_hat)) / sqrt(var + epsilon); d gamma = g x_hat; d beta = g."""
    x_hat, axes = _normalized(x, axes, epsilon)
    var = x.var(axis=axes, keepdims=True)
    d_hat = g * gamma
    dx = (d_hat - d_hat.mean(axis=axes, keepdims=True) - x_hat * (d_hat * x_hat).mean(axis=axes, keepdims=True))
    return dx / np.sqrt(var + epsilon), g * x_hat, g


def batch_norm_grad(x, gamma, beta, g, axes=None, epsilon=1e-3, **unused):
    axes = tuple(range(x.ndim - 1)) if axes is None else tuple(a % x.ndim for a in axes)
    kept = tuple(1 if i in axes else s for i, s in enumerate(x.shape))
    dx, d_gamma, d_beta = _closed_form_grads(x, gamma.reshape(kept), g, axes, epsilon)
    return dx, d_gamma.sum(axis=axes).reshape(gamma.shape), d_beta.sum(axis=axes).reshape(beta.shape)


def standardize_grad(x, gamma, beta, g, axes=-1, epsilon=1e-3):
    dx, d_gamma, d_beta = _closed_form_grads(x, gamma, g, axes, epsilon)
    return dx, _sum_to(d_gamma, gamma.shape), _sum_to(d_beta, beta.shape)


def _batch_norm(x, gamma=None, beta=None, **params):
    return ops.batch_normalization(x, gamma, beta, **params)


def _batch_norm_moving(x, gamma, beta, **params):
    # fresh moving statistics on every call: updating them in place must leave the output and gradients alone
    shape = gamma.shape
    return ops.batch_normalization(x, gamma, beta, moving_mean=np.zeros(shape), moving_variance=np.ones(shape),
                                   **params)


def _standardize(x, gamma=None, beta=None, **params):
    return ops.standardize(x, gamma=gamma, beta=beta, **params)


def _bn(x_shape, param_shape, label=None, data=None, **params):
    x = Arg.fixed(data) if data is not None else Arg(x_shape)
    return OpCase(ops.batch_normalization, (x, Arg(param_shape, 0.5, 1.5), Arg(param_shape)), batch_norm_reference,
                  call=_batch_norm, params=params, label=label, reference_grad=batch_norm_grad)


def _std(x_shape, param_shape, label=None, data=None, **params):
    x = Arg.fixed(data) if data is not None else Arg(x_shape)
    return OpCase(ops.standardize, (x, Arg(param_shape, 0.5, 1.5), Arg(param_shape)), standardize_reference,
                  call=_standardize, params=params, label=label, reference_grad=standardize_grad)


CASES = [
    _bn((5, 3), (3,)),
    _bn((2, 3, 3, 2), (2,), label="NHWC"),
    _bn((4, 3, 2), (3, 2), axes=(0,), epsilon=0.1),
    _bn((3, 2, 4), (2,), axes=(0, -1)),
    _bn((3, 4), (4,), label="constant_columns", data=np.tile([[0.0, 1.5, -2.0, 0.25]], (3, 1))),  # var = 0: eps only
    OpCase(ops.batch_normalization, (Arg((4, 3)),), batch_norm_reference, call=_batch_norm, label="no_gamma_beta"),
    OpCase(ops.batch_normalization, (Arg((4, 3)), Arg((3,), 0.5, 1.5), Arg((3,))), batch_norm_reference,
           call=_batch_norm_moving, params=dict(momentum=0.9), label="moving_statistics,momentum=0.9",
           reference_grad=batch_norm_grad),
    _std((3, 4), (4,)),
    _std((2, 3, 4), (3, 4), axes=(1, 2), epsilon=1e-5),
    _std((2, 3, 4), (1, 4), axes=(0, -2)),
    _std((2, 2, 2, 3, 2), (3, 1), label="groups", axes=(1, 2, 4)),  # group normalization's reduction
    # large enough for the statistics to be spread along the short inner axis first (normalization._spread)
    _std((2, 4, 4, 3, 2), (3, 2), label="groups,spread", axes=(1, 2, 4)),
    _std((3, 4), (4,), label="zeros", data=np.zeros((3, 4))),
    OpCase(ops.standardize, (Arg((3, 5)),), standardize_reference, call=_standardize, label="no_gamma_beta"),
]


class TestNormalizationHarness(OpHarness):
    cases = CASES
