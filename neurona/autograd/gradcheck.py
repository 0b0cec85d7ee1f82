"""Gradient checking by central finite differences in float64.

For a function ``fn(*inputs) -> Tensor`` the check compares, for every input
that requires a gradient, the gradient computed by backpropagation with

    dL/dx_i ~= (L(x + eps e_i) - L(x - eps e_i)) / (2 eps),

where ``L = sum(w * fn(*inputs))`` projects the output on a fixed random
direction ``w`` (so one backward pass checks the whole vector-Jacobian product,
as in Chainer's ``check_backward``). Central differences have truncation error
O(eps^2) and round-off error O(1e-16 / eps); with eps = 1e-6 in float64 both are
far below the tolerance.

The error reported per input is the largest absolute difference divided by the
gradient's scale: ``max|g_bp - g_fd| / max(max|g_bp|, max|g_fd|)``. A gradient
that is zero both ways (scale below ``ATOL``) passes.
"""

import numpy

from .. import backend
from . import engine
from .tensor import Tensor

EPS = 1e-6  # finite-difference step
RTOL = 1e-6  # largest accepted relative error (issue: < 1e-6 in float64)
ATOL = 1e-10  # gradients smaller than this everywhere count as zero


class GradcheckError(AssertionError):
    """Raised when a backpropagated gradient disagrees with finite differences."""


def _as_input(value):
    if isinstance(value, Tensor):
        data, requires = value.data, value.requires_grad
    else:
        data = backend.get_xp().asarray(value)
        requires = data.dtype.kind == "f"
    if data.dtype.kind == "f":
        data = data.astype("float64")  # always a fresh float64 copy: we perturb it in place
    return Tensor(data, requires_grad=requires)


def numerical_grad(fn, inputs, index, weights, eps=EPS):
    """Central-difference gradient of ``sum(weights * fn(*inputs))`` w.r.t. ``inputs[index]``."""
    x = inputs[index].data
    grad = numpy.zeros(x.shape, dtype="float64")
    flat = x.reshape(-1)  # a view: writing it perturbs the input
    with engine.no_grad():
        for i in range(flat.size):
            original = flat[i].item()
            flat[i] = original + eps
            plus = float((fn(*inputs).data * weights).sum())
            flat[i] = original - eps
            minus = float((fn(*inputs).data * weights).sum())
            flat[i] = original
            grad.reshape(-1)[i] = (plus - minus) / (2 * eps)
    return grad


def gradcheck(fn, *inputs, eps=EPS, rtol=RTOL, atol=ATOL, seed=0, raise_exception=True):
    """Check ``fn``'s backpropagated gradients against central finite differences.

    Args:
        fn: callable taking Tensors and returning a Tensor.
        *inputs: Tensors or arrays. Float arrays, and Tensors with
            ``requires_grad=True``, are checked; they are copied to float64.
        eps: finite-difference step.
        rtol: largest accepted error relative to the gradient's scale.
        atol: gradients below this scale in both computations count as equal.
        seed: seed of the random projection of the output.
        raise_exception: raise GradcheckError on failure (else return False).

    Returns:
        True when every checked gradient agrees.

    Example:
        >>> import neurona as nr
        >>> nr.gradcheck(lambda x: (x * x).sum(), nr.Tensor([1.0, 2.0], requires_grad=True))
        True
    """
    tensors = [_as_input(v) for v in inputs]
    checked = [i for i, t in enumerate(tensors) if t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires a gradient (pass float arrays or requires_grad=True tensors)")
    out = fn(*tensors)
    if not isinstance(out, Tensor) or not out.requires_grad:
        raise ValueError("gradcheck: fn must return a Tensor computed from the inputs")
    weights = numpy.random.default_rng(seed).standard_normal(out.shape)
    xp = backend.xp_of(out.data)
    weights = xp.asarray(weights, dtype=out.data.dtype)
    out.backward(weights)
    failures = []
    for i in checked:
        analytic = backend.asnumpy(tensors[i].grad) if tensors[i].grad is not None else numpy.zeros(tensors[i].shape)
        numeric = numerical_grad(fn, tensors, i, weights, eps)
        diff = numpy.abs(analytic - numeric)
        scale = max(numpy.abs(analytic).max(initial=0.0), numpy.abs(numeric).max(initial=0.0))
        if scale < atol:
            continue
        error = diff.max(initial=0.0) / scale
        if not error < rtol:
            worst = numpy.unravel_index(int(diff.argmax()), diff.shape) if diff.size else ()
            failures.append(
                f"input {i} (shape {tensors[i].shape}): relative error {error:.3e} > {rtol:.0e}; worst at "
                f"{tuple(int(k) for k in worst)}: backprop {analytic[worst]:.10g} vs finite difference "
                f"{numeric[worst]:.10g}"
            )
    if failures:
        if raise_exception:
            raise GradcheckError("gradcheck failed:\n  " + "\n  ".join(failures))
        return False
    return True
