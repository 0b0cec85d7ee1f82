"""Shape and indexing ops: reshape, transpose, getitem (indexing/slicing), concatenate.

Composed from them: flatten, expand_dims, squeeze, stack.
"""

import operator

from ..autograd import Function, Tensor
from ..backend import get_xp, xp_of
from .convert import as_tensor


def _axis(axis, rank, what, shape):
    """``axis`` as an index in ``[0, rank)``, refusing values outside ``[-rank, rank)`` (no silent wrap-around).

    Args:
        axis: an int (NumPy integers too; not a bool).
        rank: the number of axes ``axis`` may name (``ndim``, or ``ndim + 1`` where a new axis is inserted).
        what: the op and argument, for the error.
        shape: the input's shape, for the error.
    """
    if isinstance(axis, bool):
        raise TypeError(f"{what} must be an int, got {axis!r}")
    try:
        axis = operator.index(axis)
    except TypeError:
        raise TypeError(f"{what} must be an int, got {axis!r}") from None
    if rank == 0:
        raise ValueError(f"{what} {axis} names an axis, but a tensor of shape {shape} has none")
    if not -rank <= axis < rank:
        raise ValueError(f"{what} {axis} is out of range for a tensor of shape {shape} "
                         f"(expected an axis in [{-rank}, {rank - 1}])")
    return axis % rank


class Reshape(Function):
    def forward(self, a, shape=None):
        self.shape = a.shape
        return a.reshape(shape)

    def backward(self, g):
        return g.reshape(self.shape)


class Transpose(Function):
    def forward(self, a, axes=None):
        self.inverse = None if axes is None else tuple(sorted(range(len(axes)), key=axes.__getitem__))
        return a.transpose(axes)

    def backward(self, g):
        return g.transpose(self.inverse)


def _is_basic_index(index):
    """True when ``index`` is made only of ints, slices, None and Ellipsis (so no element repeats)."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, slice)) for p in parts)


class GetItem(Function):
    """``a[index]``. The gradient scatters back; repeated advanced indices add up."""

    def forward(self, a, index=None):
        self.shape, self.dtype, self.index = a.shape, a.dtype, index
        return a[index]

    def backward(self, g):
        xp = xp_of(g)
        grad = xp.zeros(self.shape, dtype=self.dtype)
        if _is_basic_index(self.index):
            grad[self.index] = g
        else:
            xp.add.at(grad, self.index, g)
        return grad


class Concatenate(Function):
    def forward(self, *arrays, axis=0):
        self.axis = axis
        self.bounds = []
        start = 0
        for arr in arrays:
            self.bounds.append((start, start + arr.shape[axis]))
            start += arr.shape[axis]
        return xp_of(*arrays).concatenate(arrays, axis=axis)

    def backward(self, g):
        grads = []
        for (start, stop), needed in zip(self.bounds, self.needs_input_grad):
            index = [slice(None)] * g.ndim
            index[self.axis] = slice(start, stop)
            grads.append(g[tuple(index)] if needed else None)
        return tuple(grads)


def _shape(shape):
    """A new shape as a tuple of ints; floats are refused rather than truncated (2.5 is not a size)."""
    try:
        return (operator.index(shape),)
    except TypeError:
        pass
    try:
        return tuple(operator.index(s) for s in shape)
    except TypeError:
        raise TypeError(f"reshape: the new shape must be an int or a sequence of ints, got {shape!r}") from None


def reshape(a, shape=None, *, newshape=None):
    """``a`` with a new shape (one entry may be -1); ``newshape=`` is Keras's name of ``shape``."""
    if newshape is not None:
        if shape is not None:
            raise TypeError("reshape: give the new shape once, as shape or as Keras's newshape, not both")
        shape = newshape
    if shape is None:
        raise TypeError("reshape: the new shape is missing (expected an int or a sequence of ints)")
    a = as_tensor(a)
    shape = _shape(shape)
    try:
        return Reshape.apply(a, shape=a.data.reshape(shape).shape)
    except ValueError:
        raise ValueError(f"cannot reshape a tensor of shape {a.shape} ({a.size} elements) into {shape}") from None


def transpose(a, axes=None):
    """Permute axes (reverse them when ``axes`` is None)."""
    a = as_tensor(a)
    if axes is not None:
        axes = tuple(_axis(ax, a.ndim, "transpose: axis", a.shape) for ax in axes)
        if sorted(axes) != list(range(a.ndim)):
            raise ValueError(f"axes {axes} are not a permutation of the {a.ndim} axes of shape {a.shape}")
    else:
        axes = tuple(reversed(range(a.ndim)))
    return Transpose.apply(a, axes=axes)


def _index_data(index):
    """Replace Tensors inside an index by their arrays."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(_index_data(i) for i in index)
    if isinstance(index, list):
        return get_xp().asarray(index)
    return index


def getitem(a, index):
    """``a[index]``: basic slicing and NumPy advanced indexing, differentiable."""
    return GetItem.apply(as_tensor(a), index=_index_data(index))


def concatenate(tensors, axis=0):
    """Join tensors along an existing axis."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("concatenate needs at least one tensor")
    ndim = tensors[0].ndim
    if ndim == 0:
        raise ValueError("concatenate: 0-d tensors have no axis to join along (use stack to give them one)")
    axis = _axis(axis, ndim, "concatenate: axis", tensors[0].shape)
    for t in tensors[1:]:
        if t.ndim != ndim or any(s != u for i, (s, u) in enumerate(zip(t.shape, tensors[0].shape)) if i != axis):
            raise ValueError(
                f"concatenate along axis {axis}: shapes {[x.shape for x in tensors]} differ outside that axis"
            )
    return Concatenate.apply(*tensors, axis=axis)


def flatten(a, start_axis=1):
    """Merge all axes from ``start_axis`` on into one (``(N, ...) -> (N, prod)`` by default)."""
    a = as_tensor(a)
    if start_axis != a.ndim:  # start_axis may be ndim: a (N,) tensor flattens to (N, 1), as Keras's Flatten does
        try:
            start_axis = _axis(start_axis, a.ndim, "flatten: start_axis", a.shape)
        except ValueError:
            raise ValueError(f"flatten: start_axis {start_axis} is out of range for a tensor of shape {a.shape} "
                             f"(expected an axis in [{-a.ndim}, {a.ndim}])") from None
    return reshape(a, a.shape[:start_axis] + (-1,))


def expand_dims(a, axis):
    """Insert a size-1 axis at ``axis``, or one at each axis of a tuple (their positions in the result, as NumPy)."""
    a = as_tensor(a)
    if isinstance(axis, (tuple, list)):
        rank = a.ndim + len(axis)
        axes = {_axis(ax, rank, "expand_dims: axis", a.shape) for ax in axis}
        if len(axes) != len(axis):
            raise ValueError(f"expand_dims: axis {tuple(axis)} names an axis twice")
        sizes = iter(a.shape)
        return reshape(a, tuple(1 if i in axes else next(sizes) for i in range(rank)))
    axis = _axis(axis, a.ndim + 1, "expand_dims: axis", a.shape)
    return reshape(a, a.shape[:axis] + (1,) + a.shape[axis:])


def squeeze(a, axis=None):
    """Drop size-1 axes (all of them, the one at ``axis``, or those of a tuple of axes)."""
    a = as_tensor(a)
    if axis is None:
        return reshape(a, tuple(s for s in a.shape if s != 1))
    if isinstance(axis, (tuple, list)):
        axes = {_axis(ax, max(a.ndim, 1), "squeeze: axis", a.shape) for ax in axis}  # 0-d: 0 and -1, as below
        wide = sorted(ax for ax in axes if a.ndim and a.shape[ax] != 1)
        if wide:
            raise ValueError(f"cannot squeeze axes {wide} of sizes {[a.shape[ax] for ax in wide]} (shape {a.shape})")
        return reshape(a, tuple(s for i, s in enumerate(a.shape) if i not in axes))
    if a.ndim == 0:  # as in PyTorch (and the reductions): a 0-d tensor takes axis 0 and -1, with nothing to drop
        _axis(axis, 1, "squeeze: axis", a.shape)
        return reshape(a, ())
    axis = _axis(axis, a.ndim, "squeeze: axis", a.shape)
    if a.shape[axis] != 1:
        raise ValueError(f"cannot squeeze axis {axis} of size {a.shape[axis]} (shape {a.shape})")
    return reshape(a, a.shape[:axis] + a.shape[axis + 1 :])


def stack(x, axis=0):
    """Join the tensors of ``x`` along a new axis (composed: expand_dims then concatenate; Keras's argument
    names)."""
    tensors = [as_tensor(t) for t in x]
    if not tensors:
        raise ValueError("stack needs at least one tensor")
    axis = _axis(axis, tensors[0].ndim + 1, "stack: axis", tensors[0].shape)
    return concatenate([expand_dims(t, axis) for t in tensors], axis=axis)
