"""Nested structures of tensors: lists, tuples and dicts of leaves, as Keras's ``tree`` utilities treat them.

A model with several inputs takes a list (or a dict keyed by input name) of arrays; a layer such as
``Concatenate`` takes a list of tensors. These helpers walk such structures: a leaf is anything that is not a
list, tuple or dict. Dicts are walked in sorted key order, so that flattening is stable whatever order the
keys were inserted in (Keras's rule).
"""


def is_nested(value):
    """Whether ``value`` is a list, tuple or dict (a structure rather than a leaf)."""
    return isinstance(value, (list, tuple, dict))


def flatten(structure):
    """The leaves of ``structure``, depth first (dict values in sorted key order)."""
    if isinstance(structure, dict):
        return [leaf for key in sorted(structure) for leaf in flatten(structure[key])]
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten(item)]
    return [structure]


def map_structure(fn, structure):
    """The same structure with ``fn(leaf)`` in place of every leaf (tuples stay tuples, lists lists)."""
    if isinstance(structure, dict):
        return {key: map_structure(fn, value) for key, value in structure.items()}
    if isinstance(structure, (list, tuple)):
        mapped = [map_structure(fn, item) for item in structure]
        return mapped if isinstance(structure, list) else type(structure)(mapped) if not _is_namedtuple(
            structure) else type(structure)(*mapped)
    return fn(structure)


def pack_like(structure, leaves):
    """Put ``leaves`` (in ``flatten`` order) back into the shape of ``structure``."""
    leaves = iter(leaves)
    if isinstance(structure, dict):
        # flatten walks sorted keys: refill in that order, then keep the dict's own key order
        filled = {key: pack_like(structure[key], _take(leaves, len(flatten(structure[key]))))
                  for key in sorted(structure)}
        return {key: filled[key] for key in structure}
    if isinstance(structure, (list, tuple)):
        items = [pack_like(item, _take(leaves, len(flatten(item)))) for item in structure]
        if isinstance(structure, list):
            return items
        return type(structure)(*items) if _is_namedtuple(structure) else type(structure)(items)
    return next(leaves)


def _take(iterator, n):
    return [next(iterator) for _ in range(n)]


def _is_namedtuple(value):
    return isinstance(value, tuple) and hasattr(value, "_fields")
