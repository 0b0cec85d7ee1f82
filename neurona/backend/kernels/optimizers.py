"""Optimizer update kernels: each optimizer's rule, applied in place to a variable and its slots.

With gradient ``g``, each kernel updates ``var`` and the slots in place (the optimizers' docstrings give the
papers; ``alpha`` is Adam's step size with both bias corrections folded in)::

    sgd_update       var <- var - lr g                                          (no momentum slot)
                     m <- mu m - lr g;  var <- var + m       (Nesterov: var <- var + mu m - lr g)
    adam_update      m <- m + (1 - beta_1)(g - m);  v <- v + (1 - beta_2)(g^2 - v)
                     v_hat <- max(v_hat, v) (AMSGrad);  var <- var - alpha m / (sqrt(v or v_hat) + epsilon)
    rmsprop_update   v <- rho v + (1 - rho) g^2;  a <- rho a + (1 - rho) g (centered)
                     d = lr g / sqrt(v - a^2 + epsilon)  (centered; else sqrt(v + epsilon))
                     b <- momentum b + d; var <- var - b  (momentum; else var <- var - d)
    adagrad_update   s <- s + g^2;  var <- var - lr g / sqrt(s + epsilon)
    adadelta_update  E[g^2] <- rho E[g^2] + (1 - rho) g^2
                     dx = -sqrt(E[dx^2] + epsilon) / sqrt(E[g^2] + epsilon) g
                     E[dx^2] <- rho E[dx^2] + (1 - rho) dx^2;  var <- var + lr dx

The references below are that arithmetic written with the array module of the inputs (NumPy or CuPy), with
temporaries; the compiled kernels (``kernels.compiled.optimizers``, numba) do it in one pass without them.

Precision: every operation runs in the arrays' dtype. A Python float combined with a float32 array is float32
(NumPy 2, NEP 50); the compiled kernels receive their scalars already converted to the arrays' dtype, and
``1 - beta`` is computed as a Python float and then converted, in both. So both do the same float32 (or float64)
operations in the same order and agree bit for bit; the grouping (``alpha * (m / (...))``, ``lr * (g / ...)``)
is the one the optimizers had before these kernels, so training results did not change either.

Threads: every element is updated on its own, so a large variable is updated in flat slices on the backend's
threads (``backend.parallel``); any split gives the same bits.
"""

import numpy

from .. import parallel
from ..device import xp_of
from . import select

__all__ = ["sgd_update", "adam_update", "rmsprop_update", "adagrad_update", "adadelta_update"]

def sgd_update(var, grad, m, lr, momentum=0.0, nesterov=False):
    """Gradient descent, with heavy-ball (Polyak 1964) or Nesterov (Sutskever et al. 2013) momentum.

    ``m`` is the velocity slot, or None for plain descent ``var <- var - lr g``.
    """
    lr, momentum, nesterov = float(lr), float(momentum), bool(nesterov)
    _elementwise("sgd_update", _sgd, ("var", "grad", "m"), (var, grad, m), (lr, momentum, nesterov),
                 (lr, momentum), (m is not None, nesterov))


def adam_update(var, grad, m, v, v_hat, alpha, beta_1, beta_2, epsilon):
    """Adam (Kingma & Ba 2015, Keras 3 form); ``v_hat`` is the AMSGrad maximum (Reddi et al. 2018), or None."""
    alpha, beta_1, beta_2, epsilon = float(alpha), float(beta_1), float(beta_2), float(epsilon)
    _elementwise("adam_update", _adam, ("var", "grad", "m", "v", "v_hat"), (var, grad, m, v, v_hat),
                 (alpha, beta_1, beta_2, epsilon), (alpha, 1.0 - beta_1, 1.0 - beta_2, epsilon), (v_hat is not None,))


def rmsprop_update(var, grad, v, a, b, lr, rho, momentum, epsilon):
    """RMSprop (Tieleman & Hinton 2012); ``a`` is the centered variant's mean gradient (Graves 2013) and ``b``
    the momentum slot, each None when not used."""
    lr, rho, momentum, epsilon = float(lr), float(rho), float(momentum), float(epsilon)
    _elementwise("rmsprop_update", _rmsprop, ("var", "grad", "v", "a", "b"), (var, grad, v, a, b),
                 (lr, rho, momentum, epsilon), (lr, rho, 1.0 - rho, momentum, epsilon), (a is not None, b is not None))


def adagrad_update(var, grad, s, lr, epsilon):
    """Adagrad (Duchi, Hazan & Singer 2011), diagonal form: ``s`` is the sum of squared gradients."""
    lr, epsilon = float(lr), float(epsilon)
    _elementwise("adagrad_update", _adagrad, ("var", "grad", "s"), (var, grad, s), (lr, epsilon), (lr, epsilon), ())


def adadelta_update(var, grad, eg, edx, lr, rho, epsilon):
    """Adadelta (Zeiler 2012, Algorithm 1) with Keras's learning-rate factor: ``eg`` is E[g^2], ``edx`` E[dx^2]."""
    lr, rho, epsilon = float(lr), float(rho), float(epsilon)
    _elementwise("adadelta_update", _adadelta, ("var", "grad", "eg", "edx"), (var, grad, eg, edx),
                 (lr, rho, epsilon), (lr, rho, 1.0 - rho, epsilon), ())


# ---- references --------------------------------------------------------------------------------------------
def _sgd(var, grad, m, lr, momentum, nesterov):
    if m is None:
        var -= lr * grad
        return
    m[...] = momentum * m - lr * grad
    var += (momentum * m - lr * grad) if nesterov else m


def _adam(var, grad, m, v, v_hat, alpha, beta_1, beta_2, epsilon):
    xp = xp_of(var)
    m += (1.0 - beta_1) * (grad - m)
    v += (1.0 - beta_2) * (xp.square(grad) - v)
    if v_hat is not None:
        v = xp.maximum(v_hat, v, out=v_hat)
    var -= alpha * (m / (xp.sqrt(v) + epsilon))


def _rmsprop(var, grad, v, a, b, lr, rho, momentum, epsilon):
    xp = xp_of(var)
    v[...] = rho * v + (1.0 - rho) * xp.square(grad)
    if a is not None:
        a[...] = rho * a + (1.0 - rho) * grad
        d = lr * (grad / xp.sqrt(v - xp.square(a) + epsilon))
    else:
        d = lr * (grad / xp.sqrt(v + epsilon))
    if b is not None:
        b[...] = momentum * b + d
        d = b
    var -= d


def _adagrad(var, grad, s, lr, epsilon):
    xp = xp_of(var)
    s += xp.square(grad)
    var -= lr * (grad / xp.sqrt(s + epsilon))


def _adadelta(var, grad, eg, edx, lr, rho, epsilon):
    xp = xp_of(var)
    eg[...] = rho * eg + (1.0 - rho) * xp.square(grad)
    step = xp.sqrt(edx + epsilon) * grad / xp.sqrt(eg + epsilon)  # -dx
    edx[...] = rho * edx + (1.0 - rho) * xp.square(step)
    var -= lr * step


# ---- dispatch ----------------------------------------------------------------------------------------------
# an empty array per dtype that stands for a missing slot in the compiled kernels' arguments (a flag says so)
_ABSENT = {numpy.dtype(numpy.float32): numpy.empty(0, numpy.float32),
           numpy.dtype(numpy.float64): numpy.empty(0, numpy.float64)}


def _elementwise(kernel, reference, names, arrays, args, scalars, flags):
    """Run one rule over ``arrays`` (the variable, its gradient, then its slots, None for an absent one) in place.

    The compiled kernel, with ``scalars`` (converted to the arrays' dtype) and ``flags``, runs when ``select``
    allows it and the variable and its slots are writable C-contiguous NumPy arrays of one float dtype (the
    gradient is copied to that layout if it is not); the reference runs otherwise, with ``args``. Both go over
    flat slices on the backend's threads when the in-place arrays are C-contiguous (flat views of them write
    through); else the reference gets the whole arrays at once.
    """
    var, grad = arrays[0], arrays[1]
    shape = var.shape
    for name, array in zip(names[1:], arrays[1:]):
        if array is not None and array.shape != shape:
            raise ValueError(f"{kernel}: {name} has shape {tuple(array.shape)}, expected the variable's shape "
                             f"{tuple(shape)}")
    in_place = [a for a in arrays if a is not None]
    del in_place[1]  # the gradient is only read
    contiguous = all(a.flags.c_contiguous for a in in_place)
    fast = select.compiled("optimizers", grad, *in_place) if contiguous else None
    absent = _ABSENT.get(var.dtype)
    if (fast is not None and absent is not None and grad.dtype == var.dtype
            and all(a.dtype == var.dtype and a.flags.writeable for a in in_place)):
        run = getattr(fast, kernel[:-len("_update")])
        # as NumPy combines a Python float with a float32 array: the scalar rounded to float32 first (NEP 50)
        params = numpy.array(scalars, dtype=var.dtype)
        flat = [absent if a is None else a.reshape(-1) for a in arrays]  # grad: a C-contiguous copy if needed
        _over_slices(flat, lambda parts: run(*parts, params, *flags))
    elif contiguous:
        flat = [None if a is None else a.reshape(-1) for a in arrays]
        _over_slices(flat, lambda parts: reference(*parts, *args))
    else:
        reference(*arrays, *args)


def _over_slices(flat, fn):
    """``fn(parts)`` for slices of the flat arrays (None stays None, an empty placeholder stays empty) on the
    backend's threads; every element is updated on its own, so any split gives the same result."""
    var = flat[0]
    if var.size < parallel.MIN_ELEMENTS:  # for_each_chunk would make one call anyway; this saves its 1.5 us
        fn(flat)
        return
    parallel.for_each_chunk(var.size, lambda s: fn([a if a is None or not a.size else a[s] for a in flat]), var)
