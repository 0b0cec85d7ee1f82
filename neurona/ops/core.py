"""Conversions and facts, with Keras's names: convert_to_tensor, array, convert_to_numpy, copy, shape, size,
ndim, stop_gradient.

``copy`` is differentiable (the gradient passes unchanged) and so is a
float-to-float ``convert_to_tensor(x, dtype)`` of a Tensor (it is ``cast``);
``stop_gradient`` cuts the graph. Python data converts as in Keras: integers
become int32 (int64 when a value needs it), floats ``backend.floatx()``, bools
bool; NumPy arrays and Tensors keep their dtype.
"""

from .. import backend
from ..arguments import shown
from ..autograd import Tensor
from ..autograd.tensor import check_dtype
from .cast import cast
from .convert import as_tensor

_INT32 = (-(2**31), 2**31 - 1)


def convert_to_tensor(x, dtype=None, sparse=None, ragged=None):
    """``x`` (a Tensor, NumPy or CuPy array, number or nested list) as a Tensor, of ``dtype`` when given.

    A Tensor comes back as it is (or cast, differentiably, to ``dtype``).

    Raises:
        ValueError: ``sparse`` or ``ragged`` is True (Neurona has neither kind of tensor).
        TypeError: the values are not numbers, or ``dtype`` is no Tensor dtype.
    """
    for flag, name in ((sparse, "sparse"), (ragged, "ragged")):
        if flag:
            raise ValueError(f"convert_to_tensor: {name}=True is not supported (Neurona has no {name} tensors)")
    if isinstance(x, Tensor):
        return x if dtype is None else cast(x, dtype)
    if dtype is not None:
        return Tensor(x, dtype=check_dtype(dtype, "convert_to_tensor"))
    if hasattr(x, "dtype"):  # arrays and NumPy scalars keep their dtype
        return Tensor(x)
    try:
        data = backend.get_xp().asarray(x)
    except (TypeError, ValueError):  # ragged lists, objects
        raise TypeError(f"convert_to_tensor: expected numbers or (nested) lists of numbers, got {shown(x)}") from None
    if data.dtype.kind == "i" and (data.size == 0 or _INT32[0] <= int(data.min()) and int(data.max()) <= _INT32[1]):
        data = data.astype("int32")
    return Tensor(data, dtype=backend.floatx() if data.dtype.kind == "f" else None)


def array(x, dtype=None):
    """Keras's name for ``convert_to_tensor(x, dtype)``."""
    return convert_to_tensor(x, dtype=dtype)


def convert_to_numpy(x):
    """The values of ``x`` as a NumPy array (copied from the GPU if needed; a Tensor's own array otherwise)."""
    if isinstance(x, Tensor):
        return backend.asnumpy(x.data)
    return backend.asnumpy(x) if hasattr(x, "shape") and hasattr(x, "dtype") else backend.asnumpy(as_tensor(x).data)


def copy(x):
    """A new tensor with ``x``'s values; differentiable (the gradient passes through unchanged)."""
    x = as_tensor(x)
    return cast(x, x.dtype, copy=True)


def _facts(x):
    return x if hasattr(x, "shape") and hasattr(x, "ndim") else as_tensor(x)


def shape(x):
    """``x``'s shape as a tuple of Python ints."""
    return tuple(int(s) for s in _facts(x).shape)


def size(x):
    """The number of elements of ``x``, a Python int."""
    n = 1
    for s in shape(x):
        n *= s
    return n


def ndim(x):
    """The number of axes of ``x``, a Python int."""
    return int(_facts(x).ndim)


def stop_gradient(variable):
    """``variable``'s values cut from the graph: no gradient flows back through the result."""
    return as_tensor(variable).detach()
