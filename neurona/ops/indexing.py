"""Gathers, with Keras's names: take, take_along_axis, diag, tril, triu, and the non-differentiable one_hot.

All are composed: an integer index array through ``getitem`` (whose gradient
adds the upstream gradient back at every index it gathered from, repeats
included) and masks through ``where`` (the gradient passes where the mask holds).
"""

import builtins

from .. import backend
from ..arguments import check_bool, check_int, shown
from ..autograd import Tensor
from ..autograd.tensor import check_dtype
from ..backend import xp_of
from .convert import as_tensor
from .elementwise import where
from .shape import _axis, getitem, reshape


def index_array(indices, owner, xp):
    """``indices`` (a Tensor, array or nested list of integers, or floats of whole values) as an int64 array."""
    data = indices.data if isinstance(indices, Tensor) else None
    if data is None:
        try:
            data = xp.asarray(indices)
        except (TypeError, ValueError):
            data = None
    if data is not None and data.dtype.kind == "f" and bool((data == xp.floor(data)).all()):
        data = data.astype("int64")
    if data is None or data.dtype.kind not in "iu":
        raise TypeError(f"{owner}: indices must be integers, got {shown(indices) if data is None else data.dtype}")
    return data.astype("int64", copy=False)


def _check_range(index, n, owner, axis, shape):
    if index.size and (int(index.min()) < -n or int(index.max()) >= n):
        raise ValueError(f"{owner}: indices must lie in [{-n}, {n - 1}] for axis {axis} of size {n} (shape {shape}), "
                         f"got values in [{int(index.min())}, {int(index.max())}]")


def take(x, indices, axis=None):
    """The elements of ``x`` at ``indices`` along ``axis`` (of the flattened ``x`` when None), as NumPy's ``take``.

    The result has shape ``x.shape[:axis] + indices.shape + x.shape[axis + 1:]``;
    negative indices count from the end.

    Raises:
        TypeError: ``indices`` are not integers.
        ValueError: an index lies outside the axis.
    """
    x = as_tensor(x)
    index = index_array(indices, "take", xp_of(x.data))
    if axis is None:
        x, axis = reshape(x, (-1,)), 0
    axis = _axis(axis, x.ndim, "take: axis", x.shape)
    _check_range(index, x.shape[axis], "take", axis, x.shape)
    return getitem(x, (builtins.slice(None),) * axis + (index,))


def take_along_axis(x, indices, axis=None):
    """``out[..., i, ...] = x[..., indices[..., i, ...], ...]`` along ``axis``, as NumPy's ``take_along_axis``.

    ``indices`` has ``x``'s rank; along the other axes the two broadcast. With
    ``axis=None`` both are flattened first.

    Raises:
        TypeError: ``indices`` are not integers.
        ValueError: the ranks differ, the other axes do not broadcast, or an index lies outside the axis.
    """
    x = as_tensor(x)
    xp = xp_of(x.data)
    index = index_array(indices, "take_along_axis", xp)
    if axis is None:
        x, axis, index = reshape(x, (-1,)), 0, index.reshape(-1)
    axis = _axis(axis, x.ndim, "take_along_axis: axis", x.shape)
    if index.ndim != x.ndim:
        raise ValueError(f"take_along_axis: indices of shape {index.shape} need the rank of x, shape {x.shape}")
    if any(a != b and 1 not in (a, b) for i, (a, b) in enumerate(zip(x.shape, index.shape)) if i != axis):
        raise ValueError(f"take_along_axis: x of shape {x.shape} and indices of shape {index.shape} do not "
                         f"broadcast outside axis {axis}")
    _check_range(index, x.shape[axis], "take_along_axis", axis, x.shape)
    grid = tuple(index if i == axis else xp.arange(n).reshape((-1,) + (1,) * (x.ndim - 1 - i))
                 for i, n in enumerate(x.shape))
    return getitem(x, grid)


def diag(x, k=0):
    """The ``k``-th diagonal of a matrix, or a square matrix with a vector on its ``k``-th diagonal.

    ``k > 0`` is above the main diagonal, ``k < 0`` below, as NumPy's ``diag``.
    """
    x = as_tensor(x)
    k = check_int(k, "diag", "k")
    xp = xp_of(x.data)
    if x.ndim == 2:
        rows, cols = x.shape
        length = builtins.max(0, builtins.min(rows - builtins.max(-k, 0), cols - builtins.max(k, 0)))
        r = xp.arange(length) + builtins.max(-k, 0)
        return getitem(x, (r, r + k))
    if x.ndim != 1:
        raise ValueError(f"diag: expected a vector (to build a matrix) or a matrix (to read a diagonal), got shape "
                         f"{x.shape}")
    m = x.shape[0] + builtins.abs(k)
    if x.shape[0] == 0:
        return Tensor._wrap(xp.zeros((m, m), dtype=x.dtype), False)
    r, c = xp.arange(m)[:, None], xp.arange(m)[None, :]
    source = xp.clip(r if k >= 0 else c, 0, x.shape[0] - 1)  # which element of x lands at (r, c)
    return where(c - r == k, getitem(x, xp.broadcast_to(source, (m, m))), 0)


def _triangle(x, k, owner, lower):
    x = as_tensor(x)
    k = check_int(k, owner, "k")
    if x.ndim < 2:
        raise ValueError(f"{owner}: expected a tensor of rank >= 2 (matrices in the last two axes), got shape "
                         f"{x.shape}")
    xp = xp_of(x.data)
    n, m = x.shape[-2:]
    mask = xp.tri(n, m, k, dtype=bool) if lower else ~xp.tri(n, m, k - 1, dtype=bool)
    return where(mask, x, 0)


def tril(x, k=0):
    """``x`` with the elements above its ``k``-th diagonal set to 0 (the last two axes are the matrix)."""
    return _triangle(x, k, "tril", lower=True)


def triu(x, k=0):
    """``x`` with the elements below its ``k``-th diagonal set to 0 (the last two axes are the matrix)."""
    return _triangle(x, k, "triu", lower=False)


def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """Integer labels as one-hot vectors along a new axis ``axis`` of size ``num_classes`` (not differentiable).

    A negative label gives a row of zeros, as in Keras.

    Args:
        x: integer labels (floats of whole values are accepted), any shape.
        num_classes: the number of classes, an int >= 1.
        axis: where the class axis goes in the result (-1: last).
        dtype: the result's dtype; ``backend.floatx()`` by default.
        sparse: must be False (Neurona has no sparse tensors).

    Raises:
        ValueError: a label is ``>= num_classes``, or ``sparse`` is True.
    """
    xp = backend.get_xp() if not isinstance(x, Tensor) else xp_of(x.data)
    labels = index_array(x, "one_hot", xp)
    classes = check_int(num_classes, "one_hot", "num_classes", low=1)
    if check_bool(sparse, "one_hot", "sparse"):
        raise ValueError("one_hot: sparse=True is not supported (Neurona has no sparse tensors)")
    dtype = check_dtype(backend.floatx() if dtype is None else dtype, "one_hot")
    if labels.size and int(labels.max()) >= classes:
        raise ValueError(f"one_hot: labels must be < num_classes={classes}, got a label {int(labels.max())}")
    axis = _axis(axis, labels.ndim + 1, "one_hot: axis", labels.shape)
    out = (labels[..., None] == xp.arange(classes)).astype(dtype)
    return Tensor._wrap(xp.moveaxis(out, -1, axis) if axis != labels.ndim else out, False)
