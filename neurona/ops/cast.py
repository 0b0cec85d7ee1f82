"""Differentiable dtype and device changes: ``cast`` and ``to_device``.

Changing a tensor's dtype or device inside a graph must not cut it: the
gradient of ``y = cast(x, d)`` is ``dL/dx = cast(dL/dy, x.dtype)`` (the identity
map, expressed back in the input's precision), and the gradient of a device move
moves back. Every dtype change inside a graph goes through ``cast``
(``Tensor.astype``, ``Layer.__call__``'s cast of inputs to the layer dtype, the
losses' cast of targets); a cast to a non-float dtype ends the graph, since
integer and boolean values have no gradient.
"""

from .. import backend
from ..autograd import Function, Tensor
from ..autograd.tensor import check_dtype
from .convert import as_tensor


class Cast(Function):
    """``x`` converted to ``dtype``; backward converts the gradient to ``x``'s dtype."""

    def forward(self, x, dtype=None):
        self.input_dtype = x.dtype
        return x.astype(dtype)  # always a new array: the output never aliases the input

    def backward(self, g):
        return g.astype(self.input_dtype)


class ToDevice(Function):
    """``x`` moved to ``device`` (``"cpu"`` or ``"cuda"``); backward moves the gradient back."""

    def forward(self, x, device=None):
        self.input_device = backend.device_of(x)
        out = backend.to_device(x, device)
        return out.copy() if out is x else out  # a move to the same device still gives a new array

    def backward(self, g):
        return backend.to_device(g, self.input_device)


def cast(x, dtype, copy=False):
    """``x`` as ``dtype``, differentiable for float-to-float casts (Keras's ``ops.cast``).

    Args:
        x: a Tensor (or array-like).
        dtype: the target dtype (``"float16"``, ``"float32"``, ``"float64"``, an integer or bool dtype);
            None means ``backend.floatx()``, as in Keras.
        copy: also copy when ``x`` already has ``dtype`` (``Tensor.astype`` copies, as NumPy's does).

    Raises:
        TypeError: ``dtype`` is not a dtype, or one a Tensor cannot hold (text,
            objects, complex numbers, dates), as the Tensor constructor refuses.

    Returns:
        ``x`` itself when it already has ``dtype`` (unless ``copy``); otherwise a new Tensor. A float
        result of a tensor that requires gradients is part of the graph; a cast
        to an integer or boolean dtype is not (those values have no gradient).
    """
    x = as_tensor(x)
    dtype = check_dtype(backend.floatx() if dtype is None else dtype, "cast")  # None: floatx, as in Keras
    if x.dtype == dtype and not copy:
        return x
    if not backend.is_floating(dtype) or not x.requires_grad:
        return Tensor._wrap(x.data.astype(dtype), False)
    return Cast.apply(x, dtype=dtype)


def device_name(device, owner="to_device"):
    """``"cpu"`` or ``"cuda"`` for a device string; PyTorch's ``"cuda:0"`` names the one GPU Neurona uses."""
    if isinstance(device, str):
        name = device.strip().lower()
        if name in ("cpu", "cuda"):
            return name
        if name == "cuda:0":
            return "cuda"
        if name.startswith("cuda:"):
            raise ValueError(f"{owner}: device {device!r}: Neurona computes on one GPU, 'cuda' (or 'cuda:0')")
    raise ValueError(f"{owner}: unknown device {device!r}; expected 'cpu', 'cuda' or 'cuda:0'")


def is_device(value):
    """Whether ``value`` is a device string (``Tensor.to`` takes a device or a dtype)."""
    return isinstance(value, str) and (value.strip().lower() in ("cpu", "cuda") or value.strip().lower()
                                       .startswith("cuda:"))


def to_device(x, device):
    """``x`` on ``device`` (``"cpu"``, ``"cuda"`` or ``"cuda:0"``), differentiable: the gradient moves back."""
    x = as_tensor(x)
    device = device_name(device)
    if backend.device_of(x.data) == device:
        return x
    return ToDevice.apply(x, device=device)
