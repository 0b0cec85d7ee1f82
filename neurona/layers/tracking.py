"""Automatic tracking: the layers and weights a layer holds in its attributes.

A subclassed layer or model assigns its parts to attributes, ``self.dense =
Dense(64)``, ``self.blocks = [Block(), Block()]``, ``self.heads = {"a": ...}``,
``self.scale = nr.Variable(...)``; Keras tracks them and so do we. Nothing is
wrapped: the attributes are read when asked for, so a list filled after the
assignment (``self.blocks.append(...)``) is seen too. Order is the order in
which the attributes were first assigned, then list and dict order.
"""

from ..autograd import Variable

# attributes that point at layers a layer does not own (the graph around it), or at its own bookkeeping
UNTRACKED = frozenset({"_inbound_nodes", "_weights", "_fixed", "_regularized", "_losses", "_probe_cache"})


def _walk(value, seen):
    if id(value) in seen:
        return
    from .base import Layer  # tracking sits beside base.py, which imports it

    if isinstance(value, (Layer, Variable)):
        seen.add(id(value))
        yield value
    elif isinstance(value, (list, tuple)):
        seen.add(id(value))
        for item in value:
            yield from _walk(item, seen)
    elif isinstance(value, dict):
        seen.add(id(value))
        for item in value.values():
            yield from _walk(item, seen)


def tracked(layer):
    """Every Layer and Variable found in ``layer``'s attributes (nested lists, tuples and dicts walked)."""
    seen = {id(layer)}
    for name, value in vars(layer).items():
        if name not in UNTRACKED:
            yield from _walk(value, seen)


def sublayers(layer):
    """The layers directly held by ``layer`` (not their own sub-layers), in tracking order."""
    from .base import Layer

    return [item for item in tracked(layer) if isinstance(item, Layer)]


def attribute_variables(layer):
    """Variables assigned directly to ``layer``'s attributes (``self.w = nr.Variable(...)``)."""
    return [item for item in tracked(layer) if isinstance(item, Variable)]


def walk_layers(layer):
    """``layer``'s sub-layers at every depth, each once, parents before children."""
    out, seen, stack = [], {id(layer)}, list(reversed(sublayers(layer)))
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        out.append(current)
        stack.extend(reversed(sublayers(current)))
    return out
