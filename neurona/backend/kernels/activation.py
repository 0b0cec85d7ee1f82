"""Elementwise activation kernels: the ReLU, its gradient mask, and a bias + activation epilogue.

    relu(x)              = max(x, 0)
    relu_grad(g, y)      = g * [y > 0]              (y = relu(x): the derivative of the ReLU, applied to g)
    bias_act(z, b, act)  = act(z + b), in place on z (the epilogue after a matrix product)

The references are one NumPy expression each; the compiled versions do the same operations in one pass
without the boolean temporary. Large NumPy arrays are split along the first axis over the backend's threads
(``backend.parallel``): every element is computed on its own, so the result does not depend on the split.
"""

from .. import parallel
from ..device import xp_of
from . import select

__all__ = ["relu", "relu_grad", "bias_act", "EPILOGUE_ACTIVATIONS"]

EPILOGUE_ACTIVATIONS = (None, "linear", "relu")


def relu(x):
    """``max(x, 0)`` as a new array of ``x``'s shape and dtype (NaN stays NaN, as in ``numpy.maximum``)."""
    xp = xp_of(x)
    out = xp.empty(x.shape, dtype=x.dtype)
    fast = select.compiled("activation", x)
    if fast is None or not x.flags.c_contiguous:
        _over_rows(x, lambda s: xp.maximum(x[s], 0, out=out[s]))
    else:
        _over_rows(x, lambda s: fast.relu(x[s].reshape(-1), out[s].reshape(-1)))
    return out


def relu_grad(g, y):
    """``g * [y > 0]``: the gradient ``g`` passed where the ReLU's output ``y`` is positive, else 0."""
    xp = xp_of(g)
    out = xp.empty(g.shape, dtype=g.dtype)
    fast = select.compiled("activation", g, y)
    if fast is None or not (g.flags.c_contiguous and y.flags.c_contiguous) or g.dtype != y.dtype:
        _over_rows(g, lambda s: xp.multiply(g[s], y[s] > 0, out=out[s]))
    else:
        _over_rows(g, lambda s: fast.relu_grad(g[s].reshape(-1), y[s].reshape(-1), out[s].reshape(-1)))
    return out


def bias_act(z, b=None, activation=None):
    """``activation(z + b)`` computed in place on ``z`` (a 2-D product's output, rows x units); returns ``z``.

    ``b`` is None or a vector of ``z.shape[-1]`` values; ``activation`` is one of ``EPILOGUE_ACTIVATIONS``.
    """
    if activation not in EPILOGUE_ACTIVATIONS:
        raise ValueError(f"bias_act: activation must be one of {EPILOGUE_ACTIVATIONS}, got {activation!r}")
    xp = xp_of(z)
    relu_on = activation == "relu"
    fast = select.compiled("activation", z, *(() if b is None else (b,)))
    if fast is not None and z.ndim == 2 and z.flags.c_contiguous and (b is None or b.dtype == z.dtype):
        bias = b if b is not None else xp.zeros(z.shape[-1], dtype=z.dtype)
        _over_rows(z, lambda s: fast.bias_act(z[s], bias, relu_on))
        return z
    if b is not None:
        z += b
    if relu_on:
        xp.maximum(z, 0, out=z)
    return z


def _over_rows(array, fn):
    """``fn(s)`` over slices of the first axis on the backend's threads (one call for a 0-d array)."""
    if array.ndim == 0:
        fn(Ellipsis)
    else:
        parallel.for_each_chunk(array.shape[0], fn, array)
