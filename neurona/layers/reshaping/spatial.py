"""What the reshaping layers share: Keras's standardization of ``padding``/``cropping``/``size`` arguments, the
rank check, and the spatial axes of a ``data_format``."""

from ...arguments import is_int, shown
from ...ops.image import check_data_format

__all__ = ["check_data_format", "int_pair", "int_pairs", "spatial_axes", "check_rank"]


def int_pair(value, owner, name, low=0):
    """``value`` as a pair of ints ``>= low``: an int ``n`` is ``(n, n)`` (Keras's ``standardize_tuple``)."""
    pair = (value, value) if is_int(value) else value
    if not isinstance(pair, (tuple, list)) or len(pair) != 2 or not all(is_int(v) and v >= low for v in pair):
        raise ValueError(f"{owner}: {name} must be an int >= {low} or a pair of them, got {shown(value)}")
    return tuple(int(v) for v in pair)


def int_pairs(value, owner, name):
    """A 2D layer's ``padding``/``cropping``: an int (all four sides), a pair ``(height, width)`` (symmetric), or a
    pair of pairs ``((top, bottom), (left, right))``; ints >= 0."""
    if is_int(value):
        value = (value, value)
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValueError(f"{owner}: {name} must be an int, a pair (height, width) or a pair of pairs "
                         f"((top, bottom), (left, right)), got {shown(value)}")
    return tuple(int_pair(v, owner, f"{name} entry {i}") for i, v in enumerate(value))


def spatial_axes(rank, data_format):
    """The axes of the ``rank`` spatial dimensions in a batch of ``data_format``."""
    first = 2 if data_format == "channels_first" else 1
    return tuple(range(first, first + rank))


def check_rank(layer, input_shape, rank):
    """Raise a ValueError naming the layer unless inputs of ``input_shape`` have rank ``rank``."""
    if len(input_shape) != rank:
        raise ValueError(f"layer {layer.name!r} ({type(layer).__name__}) expects inputs of rank {rank} (batch axis "
                         f"included), got shape {tuple(input_shape)}")
