"""More shape ops, with Keras's names: broadcast_to, tile, repeat, flip, pad, swapaxes, moveaxis, ravel, split,
slice.

Two new primitives, ``BroadcastTo`` (its gradient is the upstream gradient,
summed back over the broadcast axes by the engine) and ``Pad`` (constant
padding; the gradient is the upstream gradient without the border). The rest is
composed from reshape, transpose and indexing, whose gradients scatter back:
``repeat`` and the edge, reflect, symmetric and wrap paddings gather with index
arrays, so a repeated element adds up its gradients.
"""

import builtins

from ..arguments import check_int, is_int, is_real, shown
from ..autograd import Function
from ..backend import xp_of
from .convert import as_tensor, normalize_axis
from .shape import _axis, getitem, reshape, transpose


class BroadcastTo(Function):
    """``a`` broadcast to ``shape`` (a new array); backward hands the gradient to the engine, which sums it back."""

    def forward(self, a, shape=None):
        return xp_of(a).broadcast_to(a, shape).copy()  # a writable array of its own, not a read-only view

    def backward(self, g):
        return g


class Pad(Function):
    """``a`` with ``width[i] = (before, after)`` elements of ``value`` around axis i; backward drops the border."""

    def forward(self, a, width=None, value=0):
        self.index = tuple(builtins.slice(before, before + n) for (before, _), n in zip(width, a.shape))
        return xp_of(a).pad(a, width, mode="constant", constant_values=value)

    def backward(self, g):
        return g[self.index]


def _sizes(value, owner, name):
    """``value`` (an int or a sequence of ints, each >= 0) as a tuple of ints."""
    values = (value,) if is_int(value) else tuple(value) if isinstance(value, (tuple, list)) else None
    if values is None or not all(is_int(v) and v >= 0 for v in values):
        raise ValueError(f"{owner}: {name} must be an int >= 0 or a sequence of them, got {value!r}")
    return tuple(int(v) for v in values)


def broadcast_to(x, shape):
    """``x`` repeated along new leading axes and size-1 axes to ``shape``, as NumPy's ``broadcast_to``."""
    x = as_tensor(x)
    shape = _sizes(shape, "broadcast_to", "shape")
    padded = (1,) * (len(shape) - x.ndim) + x.shape
    if len(shape) < x.ndim or any(s != n and s != 1 for s, n in zip(padded, shape)):
        raise ValueError(f"broadcast_to: a tensor of shape {x.shape} does not broadcast to {shape}")
    if x.shape == shape:
        return x
    return BroadcastTo.apply(x, shape=shape)


def tile(x, repeats):
    """``x`` repeated ``repeats[i]`` times along axis i, as NumPy's ``tile`` (composed from broadcast_to).

    With fewer repeats than axes the leading axes repeat once; with more, ``x``
    gets new leading axes of size 1 first.
    """
    x = as_tensor(x)
    repeats = _sizes(repeats, "tile", "repeats")
    rank = builtins.max(x.ndim, len(repeats))
    repeats = (1,) * (rank - len(repeats)) + repeats
    shape = (1,) * (rank - x.ndim) + x.shape
    interleaved = reshape(x, tuple(v for s in shape for v in (1, s)))
    wide = broadcast_to(interleaved, tuple(v for r, s in zip(repeats, shape) for v in (r, s)))
    return reshape(wide, tuple(r * s for r, s in zip(repeats, shape)))


def repeat(x, repeats, axis=None):
    """Each element repeated ``repeats`` times (an int, or one count per element along ``axis``), as NumPy's.

    ``axis=None`` repeats the elements of the flattened tensor.
    """
    x = as_tensor(x)
    if axis is None:
        x, axis = reshape(x, (-1,)), 0
    axis = _axis(axis, x.ndim, "repeat: axis", x.shape)
    counts = _sizes(repeats, "repeat", "repeats")
    n = x.shape[axis]
    if len(counts) not in (1, n):
        raise ValueError(f"repeat: {len(counts)} repeats for an axis of size {n} (expected 1 or {n})")
    xp = xp_of(x.data)
    index = xp.repeat(xp.arange(n), xp.asarray(counts) if len(counts) == n else counts[0])
    return getitem(x, (builtins.slice(None),) * axis + (index,))


def flip(x, axis=None):
    """``x`` with the order of the elements along ``axis`` (an int, a tuple, or None for all) reversed."""
    x = as_tensor(x)
    axes = normalize_axis(axis, x.ndim)
    axes = range(x.ndim) if axes is None else axes
    return getitem(x, tuple(builtins.slice(None, None, -1) if i in axes else builtins.slice(None)
                            for i in range(x.ndim)))


PAD_MODES = ("constant", "edge", "reflect", "symmetric", "wrap")


def pad(x, pad_width, mode="constant", constant_values=None):
    """``x`` with borders: ``pad_width`` is ``(before, after)`` per axis, or one pair or int for all, as NumPy's.

    Args:
        x: a Tensor or array-like.
        pad_width: an int, a pair ``(before, after)``, or one pair per axis; ints >= 0.
        mode: ``"constant"`` (``constant_values``, default 0), ``"edge"`` (repeat the edge
            element), ``"reflect"`` (mirror without the edge), ``"symmetric"`` (mirror with it)
            or ``"wrap"`` (continue from the other side).
        constant_values: the border value of ``"constant"`` mode (a real number).

    Raises:
        ValueError: an unknown mode, ``constant_values`` with another mode, or a bad ``pad_width``.
    """
    x = as_tensor(x)
    if mode not in PAD_MODES:
        raise ValueError(f"pad: mode must be one of {PAD_MODES}, got {mode!r}")
    if constant_values is not None and mode != "constant":
        raise ValueError(f"pad: constant_values only applies to mode='constant', got mode={mode!r}")
    width = _pad_width(pad_width, x.shape)
    if mode == "constant":
        value = 0 if constant_values is None else constant_values
        if not is_real(value):
            raise TypeError(f"pad: constant_values must be a real number, got {shown(value)}")
        return Pad.apply(x, width=width, value=value)
    xp = xp_of(x.data)
    for i, (before, after) in enumerate(width):
        if before or after:
            if x.shape[i] == 0:
                raise ValueError(f"pad: mode={mode!r} cannot pad the empty axis {i} of shape {x.shape}")
            index = xp.pad(xp.arange(x.shape[i]), (before, after), mode=mode)
            x = getitem(x, (builtins.slice(None),) * i + (index,))
    return x


def _pad_width(pad_width, shape):
    """``pad_width`` as one ``(before, after)`` pair of ints >= 0 per axis of ``shape``."""
    if hasattr(pad_width, "tolist"):  # a NumPy array or Tensor-like of widths
        pad_width = pad_width.tolist()
    flat = isinstance(pad_width, (tuple, list)) and builtins.all(is_int(p) for p in pad_width)
    if is_int(pad_width):
        pairs = [(pad_width,)]
    elif flat:
        pairs = [tuple(pad_width)]  # (n,) or (before, after): the same for every axis
    elif isinstance(pad_width, (tuple, list)) and builtins.all(isinstance(p, (tuple, list)) for p in pad_width):
        pairs = [tuple(p) for p in pad_width]
    else:
        pairs = None
    ok = (pairs is not None and len(pairs) in (1, len(shape))
          and builtins.all(len(p) in (1, 2) and builtins.all(is_int(v) and v >= 0 for v in p) for p in pairs))
    if not ok:
        raise ValueError(f"pad: pad_width must be an int >= 0, a pair (before, after) or one pair per axis of the "
                         f"shape {shape}, got {pad_width!r}")
    pairs = [(int(p[0]), int(p[-1])) for p in pairs]
    return tuple(pairs * len(shape) if len(pairs) == 1 else pairs)


def swapaxes(x, axis1, axis2):
    """``x`` with axes ``axis1`` and ``axis2`` interchanged."""
    x = as_tensor(x)
    a = _axis(axis1, x.ndim, "swapaxes: axis1", x.shape)
    b = _axis(axis2, x.ndim, "swapaxes: axis2", x.shape)
    order = list(range(x.ndim))
    order[a], order[b] = order[b], order[a]
    return transpose(x, tuple(order))


def moveaxis(x, source, destination):
    """``x`` with the axes ``source`` (an int or a sequence) moved to ``destination``, the others kept in order."""
    x = as_tensor(x)
    source = [source] if is_int(source) else list(source)
    destination = [destination] if is_int(destination) else list(destination)
    if len(source) != len(destination):
        raise ValueError(f"moveaxis: {len(source)} source axes but {len(destination)} destinations")
    source = [_axis(a, x.ndim, "moveaxis: source", x.shape) for a in source]
    destination = [_axis(a, x.ndim, "moveaxis: destination", x.shape) for a in destination]
    if len(set(source)) != len(source) or len(set(destination)) != len(destination):
        raise ValueError(f"moveaxis: repeated axes in source {source} or destination {destination}")
    order = [i for i in range(x.ndim) if i not in source]
    for dest, src in sorted(zip(destination, source)):
        order.insert(dest, src)
    return transpose(x, tuple(order))


def ravel(x):
    """``x`` flattened to one axis (C order)."""
    return reshape(x, (-1,))


def split(x, indices_or_sections, axis=0):
    """``x`` cut along ``axis`` into a list of tensors, as NumPy's ``split``.

    ``indices_or_sections`` is a number of equal parts (it must divide the axis)
    or the sorted indices at which to cut.
    """
    x = as_tensor(x)
    axis = _axis(axis, x.ndim, "split: axis", x.shape)
    n = x.shape[axis]
    if is_int(indices_or_sections):
        parts = check_int(indices_or_sections, "split", "indices_or_sections", low=1)
        if n % parts:
            raise ValueError(f"split: {parts} equal sections do not divide axis {axis} of size {n} (shape {x.shape})")
        cuts = [n // parts * i for i in range(1, parts)]
    else:
        cuts = [check_int(c, "split", "indices_or_sections", low=0) for c in indices_or_sections]
    bounds = [0] + cuts + [n]
    lead = (builtins.slice(None),) * axis
    return [getitem(x, lead + (builtins.slice(builtins.min(a, n), builtins.min(builtins.max(a, b), n)),))
            for a, b in zip(bounds[:-1], bounds[1:])]


def slice(inputs, start_indices, shape):
    """The block of ``inputs`` that starts at ``start_indices`` and has ``shape`` (one entry per axis each).

    Raises:
        ValueError: the lengths differ from the rank, or the block does not lie inside ``inputs``.
    """
    x = as_tensor(inputs)
    starts = _sizes(start_indices, "slice", "start_indices")
    sizes = _sizes(shape, "slice", "shape")
    if len(starts) != x.ndim or len(sizes) != x.ndim:
        raise ValueError(f"slice: start_indices {starts} and shape {sizes} need one entry per axis of the input's "
                         f"shape {x.shape}")
    outside = [i for i, (s, k, n) in enumerate(zip(starts, sizes, x.shape)) if s + k > n]
    if outside:
        raise ValueError(f"slice: a block of shape {sizes} at {starts} leaves the input's shape {x.shape} "
                         f"along axes {outside}")
    return getitem(x, tuple(builtins.slice(s, s + k) for s, k in zip(starts, sizes)))
