"""Automatic tracking: the layers and weights a layer holds in its attributes.

A subclassed layer or model assigns its parts to attributes, ``self.dense =
Dense(64)``, ``self.blocks = [Block(), Block()]``, ``self.heads = {"a": ...}``,
``self.scale = nr.Variable(...)``; Keras tracks them and so do we. Nothing is
wrapped: ``Layer.__setattr__`` only notes which attributes may hold layers or
variables (``note_attribute``), and those are read when asked for, so a list
filled after the assignment (``self.blocks.append(...)``) is seen too. Order is
the order in which the attributes were first assigned, then list and dict order.
"""

from ..autograd import Variable

# attributes that point at layers a layer does not own (the graph around it), or at its own bookkeeping
UNTRACKED = frozenset({"_uncacheable", "_weights_cache", "_layers_cache", "_walk_cache", "_metrics_cache",
                       "_inbound_nodes",
                       "_weights", "_fixed", "_regularized", "_losses", "_tracked_names",
                       "_graph", "_built_input_shape", "_built_output_shape", "_input_shape", "compiled_metrics"})
Layer = None  # set by base.py once the class exists (base.py imports this module first)

# Weights and sub-layer lists are cached per layer and recomputed when anything that could change them changed:
# an attribute holding layers or variables assigned or deleted, a weight added, or a list or dict held in an
# attribute mutated (they are stored, at any depth, as the TrackedList / TrackedDict below, as Keras wraps them).
# A layer holding another kind of container (an OrderedDict, a deque) is never cached.
version = 0


def changed():
    """Invalidate every layer's cached weights and sub-layers."""
    global version
    version += 1


def _mutator(base, name, wraps_values):
    method = getattr(base, name)

    def mutate(self, *args, **kwargs):
        changed()
        if wraps_values:  # a list or dict put inside is tracked too
            args = tuple(tracked_value(a) if not isinstance(a, (int, slice)) else a for a in args)
        return method(self, *args, **kwargs)

    mutate.__name__ = name
    return mutate


class TrackedList(list):
    """A list held by a layer: a plain list that says when it changes (``append``, ``del`` ...)."""


class TrackedDict(dict):
    """A dict held by a layer: a plain dict that says when it changes."""


for _name in ("append", "insert", "__setitem__"):
    setattr(TrackedList, _name, _mutator(list, _name, True))
for _name in ("extend", "pop", "remove", "clear", "sort", "reverse", "__delitem__", "__iadd__", "__imul__"):
    setattr(TrackedList, _name, _mutator(list, _name, False))
for _name in ("__setitem__", "setdefault"):
    setattr(TrackedDict, _name, _mutator(dict, _name, True))
for _name in ("__delitem__", "pop", "popitem", "clear", "update", "__ior__"):
    setattr(TrackedDict, _name, _mutator(dict, _name, False))


def tracked_value(value):
    """What a layer stores for ``value``: lists and dicts (at any depth) as their tracked kinds, the rest as is."""
    if type(value) is list:
        return TrackedList(tracked_value(item) for item in value)
    if type(value) is dict:
        return TrackedDict((key, tracked_value(item)) for key, item in value.items())
    return value


def _untracked_container(value):
    """A container whose changes nothing reports (an OrderedDict, a deque, a list subclass ...)."""
    if isinstance(value, (TrackedList, TrackedDict)):
        return any(_untracked_container(item) for item in (value.values() if isinstance(value, dict) else value))
    if isinstance(value, tuple):
        return any(_untracked_container(item) for item in value)
    return isinstance(value, (list, dict))


def cached(layer, key, compute):
    """``compute()``, remembered on ``layer`` until the next ``changed()`` (never for a layer that holds a
    container whose changes nothing reports)."""
    if layer.__dict__.get("_uncacheable"):
        return compute()
    entry = layer.__dict__.get(key)
    if entry is None or entry[0] != version:
        entry = (version, compute())
        layer.__dict__[key] = entry
    return entry[1]


def note_attribute(layer, name, value):
    """Remember whether attribute ``name`` may hold layers or variables (called by ``Layer.__setattr__``)."""
    if name in UNTRACKED:
        return
    names = layer.__dict__.get("_tracked_names")
    if names is None:
        names = {}
        object.__setattr__(layer, "_tracked_names", names)
    if _may_hold(value):
        names[name] = None
        if _untracked_container(value):
            object.__setattr__(layer, "_uncacheable", True)
        changed()
    elif name in names:  # it held layers or variables before: no more
        del names[name]
        changed()


def _may_hold(value):
    """Whether ``value`` is, or may come to hold, a layer or variable (a tuple cannot change: look inside), or is a
    metric (``Model.metrics`` caches the metrics held by layers; metrics sit above layers, so they are known by
    their methods, ``update_state`` and ``reset_state``)."""
    if isinstance(value, tuple):
        return any(_may_hold(item) for item in value)
    return isinstance(value, (Layer, Variable, list, dict)) or (
        hasattr(type(value), "update_state") and hasattr(type(value), "reset_state"))


def forget_attribute(layer, name):
    layer.__dict__.get("_tracked_names", {}).pop(name, None)
    changed()


def _walk(value, seen):
    if id(value) in seen:
        return
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
    attributes = layer.__dict__
    for name in list(attributes.get("_tracked_names", ())):
        if name in attributes:  # (a property's setter stores nothing under its own name)
            yield from _walk(attributes[name], seen)


def sublayers(layer):
    """The layers directly held by ``layer`` (not their own sub-layers), in tracking order."""
    return cached(layer, "_layers_cache", lambda: [item for item in tracked(layer) if isinstance(item, Layer)])


def attribute_variables(layer):
    """Variables assigned directly to ``layer``'s attributes (``self.w = nr.Variable(...)``)."""
    return [item for item in tracked(layer) if isinstance(item, Variable)]


def walk_layers(layer):
    """``layer``'s sub-layers at every depth, each once, parents before children."""
    return cached(layer, "_walk_cache", lambda: _walk_layers(layer))


def _walk_layers(layer):
    out, seen, stack = [], {id(layer)}, list(reversed(sublayers(layer)))
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        out.append(current)
        stack.extend(reversed(sublayers(current)))
    return out
