"""Tensors made from nothing or from another's shape, with Keras's names: ones, zeros, full, ones_like,
zeros_like, full_like, eye, identity, arange, linspace.

None of them is differentiable (their values depend on no input's values), so
each returns a Tensor with ``requires_grad=False`` on the current device. The
default dtype is Keras's: ``backend.floatx()`` (float32) for the filled shapes;
``arange`` of integers gives int32, as Keras's does.
"""

import builtins

from .. import backend
from ..arguments import check_bool, check_int, is_int, is_real, shown
from ..autograd import Tensor
from ..autograd.tensor import check_dtype
from ..backend import xp_of
from .convert import as_tensor


def _dtype(dtype, owner, default=None):
    """``dtype`` checked as a Tensor dtype; None gives ``default`` (``floatx`` unless given)."""
    return check_dtype((default or backend.floatx()) if dtype is None else dtype, owner)


def _shape(shape, owner):
    """``shape`` (an int or a sequence of ints >= 0) as a tuple."""
    sizes = (shape,) if is_int(shape) else tuple(shape) if isinstance(shape, (tuple, list)) else None
    if sizes is None or not builtins.all(is_int(s) and s >= 0 for s in sizes):
        raise ValueError(f"{owner}: shape must be an int >= 0 or a sequence of them, got {shape!r}")
    return tuple(int(s) for s in sizes)


def _wrap(data):
    return Tensor._wrap(data, False)


def _fill(value, owner):
    """A fill value: a real number or bool, or an array-like or Tensor of them (it broadcasts to the shape)."""
    if isinstance(value, Tensor):
        return value.data
    if is_real(value) or isinstance(value, bool):
        return value
    try:
        array = backend.get_xp().asarray(value)
    except (TypeError, ValueError):
        array = None
    if array is None or array.dtype.kind not in "biuf":
        raise TypeError(f"{owner}: fill_value must be a number or an array of numbers, got {shown(value)}")
    return array


def ones(shape, dtype=None):
    """A tensor of ``shape`` filled with ones (``floatx`` unless ``dtype``)."""
    return _wrap(backend.get_xp().ones(_shape(shape, "ones"), dtype=_dtype(dtype, "ones")))


def zeros(shape, dtype=None):
    """A tensor of ``shape`` filled with zeros (``floatx`` unless ``dtype``)."""
    return _wrap(backend.get_xp().zeros(_shape(shape, "zeros"), dtype=_dtype(dtype, "zeros")))


def full(shape, fill_value, dtype=None):
    """A tensor of ``shape`` filled with ``fill_value`` (a number, or values that broadcast to ``shape``)."""
    return _wrap(backend.get_xp().full(_shape(shape, "full"), _fill(fill_value, "full"),
                                       dtype=_dtype(dtype, "full")))


def ones_like(x, dtype=None):
    """Ones with ``x``'s shape and dtype (or ``dtype``)."""
    x = as_tensor(x)
    return _wrap(xp_of(x.data).ones(x.shape, dtype=_dtype(dtype, "ones_like", x.dtype)))


def zeros_like(x, dtype=None):
    """Zeros with ``x``'s shape and dtype (or ``dtype``)."""
    x = as_tensor(x)
    return _wrap(xp_of(x.data).zeros(x.shape, dtype=_dtype(dtype, "zeros_like", x.dtype)))


def full_like(x, fill_value, dtype=None):
    """``fill_value`` with ``x``'s shape and dtype (or ``dtype``); ``full_like(int_x, 1.5)`` holds 1, as NumPy."""
    x = as_tensor(x)
    return _wrap(xp_of(x.data).full(x.shape, _fill(fill_value, "full_like"),
                                    dtype=_dtype(dtype, "full_like", x.dtype)))


def eye(N, M=None, k=0, dtype=None):
    """An ``N`` x ``M`` matrix (``M = N`` by default) with ones on the ``k``-th diagonal and zeros elsewhere."""
    n = check_int(N, "eye", "N", low=0)
    m = n if M is None else check_int(M, "eye", "M", low=0)
    return _wrap(backend.get_xp().eye(n, m, k=check_int(k, "eye", "k"), dtype=_dtype(dtype, "eye")))


def identity(n, dtype=None):
    """The ``n`` x ``n`` identity matrix."""
    return eye(check_int(n, "identity", "n", low=0), dtype=dtype)


def _number(value, owner, name):
    if isinstance(value, Tensor):
        if value.size != 1:
            raise ValueError(f"{owner}: {name} must be one number, got a tensor of shape {value.shape}")
        value = value.data.reshape(()).item()
    if not is_real(value):
        raise TypeError(f"{owner}: {name} must be a real number, got {shown(value)}")
    return value


def arange(start, stop=None, step=None, dtype=None):
    """Evenly spaced values in ``[start, stop)``, ``step`` apart; ``arange(n)`` is ``0, 1, ..., n - 1``.

    The dtype follows Keras: int32 when every argument is an integer, otherwise
    ``floatx`` (unless ``dtype`` says).

    Raises:
        ValueError: ``step`` is 0.
    """
    if stop is None:
        start, stop = 0, start
    start, stop = _number(start, "arange", "start"), _number(stop, "arange", "stop")
    step = 1 if step is None else _number(step, "arange", "step")
    if step == 0:
        raise ValueError("arange: step must not be 0")
    default = "int32" if builtins.all(is_int(v) for v in (start, stop, step)) else None
    return _wrap(backend.get_xp().arange(start, stop, step, dtype=_dtype(dtype, "arange", default)))


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """``num`` evenly spaced values from ``start`` to ``stop`` (included unless ``endpoint=False``), as NumPy's.

    ``start`` and ``stop`` may be arrays (the values then run along ``axis``).
    With ``retstep`` the result is ``(values, step)``. Float values in ``floatx``
    unless ``dtype`` says.
    """
    num = check_int(num, "linspace", "num", low=0)
    endpoint = check_bool(endpoint, "linspace", "endpoint")
    retstep = check_bool(retstep, "linspace", "retstep")
    xp = backend.get_xp()
    start, stop = (v.data if isinstance(v, Tensor) else v for v in (start, stop))
    values, step = xp.linspace(start, stop, num=num, endpoint=endpoint, retstep=True, axis=axis)
    values = _wrap(values.astype(_dtype(dtype, "linspace")))
    return (values, step) if retstep else values
