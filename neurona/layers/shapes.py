"""Shapes and inputs as ``Layer.__call__`` and ``build`` read them: shapes checked and mapped over structures,
inputs made Tensors.

A layer's input may be one tensor or a list/tuple/dict of them, so its shape is
a shape or the same structure of shapes; these helpers walk both alike.
"""

from .. import nest
from ..arguments import is_int
from ..autograd import Tensor


def normalize_shape(shape, what="input_shape"):
    """A shape as a tuple of ints or None (None = unknown size), with a clear error otherwise.

    Entries must be Python or NumPy integers (or None): ``int()`` would silently
    truncate ``2.5`` to 2 and parse ``"3"``, so floats, strings and bools are refused.
    """
    if is_int(shape):
        shape = (shape,)
    try:
        entries = tuple(shape)
    except TypeError:
        raise ValueError(f"{what} must be a tuple of ints (or None), got {shape!r}") from None
    if isinstance(shape, str) or not all(s is None or is_int(s) for s in entries):
        raise ValueError(f"{what} must be a tuple of ints (or None), got {shape!r}")
    if any(s is not None and s <= 0 for s in entries):
        raise ValueError(f"{what} must have positive sizes, got {shape!r}")
    return tuple(None if s is None else int(s) for s in entries)


def shape_structure(inputs):
    """The shapes of a structure of tensors (Tensors, arrays or SymbolicTensors), batch axis first."""
    return nest.map_structure(lambda t: tuple(t.shape), inputs)


def is_shape(value):
    """Whether ``value`` is one shape (a tuple or list of ints and None), not a structure of shapes."""
    return isinstance(value, (tuple, list)) and all(s is None or is_int(s) for s in value)


def _leaf_tensor(value):
    """One input as a Tensor (arrays and nested lists of numbers are wrapped; Tensors pass)."""
    return value if isinstance(value, Tensor) else Tensor(value)


def _tensor_like(value):
    return isinstance(value, Tensor) or (hasattr(value, "shape") and hasattr(value, "dtype"))


def to_tensors(inputs):
    """``inputs`` as a Tensor, or the same structure of Tensors when it is a (nested) structure holding arrays.

    A list of numbers (``[1.0, 2.0]``) is one input; a list of arrays or Tensors is several (``None`` entries,
    for optional inputs, stay None).
    """
    if isinstance(inputs, (list, tuple, dict)) and any(_tensor_like(leaf) for leaf in nest.flatten(inputs)):
        return nest.map_structure(lambda leaf: None if leaf is None else _leaf_tensor(leaf), inputs)
    return _leaf_tensor(inputs)


def as_shape_structure(shape):
    return tuple(shape) if is_shape(shape) else shape


def map_shapes(fn, shapes):
    """``fn`` applied to each shape of a shape or a structure of shapes."""
    if is_shape(shapes):
        return fn(shapes)
    if isinstance(shapes, dict):
        return {key: map_shapes(fn, value) for key, value in shapes.items()}
    return type(shapes)(map_shapes(fn, s) for s in shapes) if isinstance(shapes, tuple) else [
        map_shapes(fn, s) for s in shapes]
