"""Every layer of a model by its path, the way the model's weights file and random states address it.

A model holds layers, which may hold layers (a nested Sequential or functional
model, a frozen pretrained base, a custom layer made of layers, a subclassed
model's attributes). Files address each one by a path of ``/``-joined
segments; the model itself is the empty path ``""``. A segment is what stays
the same when the model is rebuilt, in another process or beside the original:

- inside a Sequential or functional model rebuilt from its config (the saved
  model itself, and the graph models its config holds), the layer's name, which
  the config keeps: ``"base/dense_1"`` is layer ``dense_1`` of the nested model
  ``base``;
- inside anything built by code (a subclassed model, a custom layer, and all
  that their constructors create, a Sequential too), names are drawn from
  counters and differ between two instances, so, as in Keras, a layer held in
  an attribute is the attribute's name (``"encoder"``) and the layers held in a
  list, tuple or dict attribute (or listed by such a graph model) are named by
  class with a counter per container (``"blocks/dense"``, ``"blocks/dense_1"``).

``walk(model)`` lists ``(path, layer)`` parents first, each container's layers
in tracking order (for Sequential and functional models: their ``layers``). A
layer reached twice (shared between a nested model and the outer one) is
listed at each path, so that a model rebuilt from its config, where the two
uses may become two layers, finds its weights at every path. A layer that
holds one of its ancestors is not walked into again.
"""

from ..layers.tracking import UNTRACKED
from ..registry import snake_case


def _child_path(path, segment):
    return f"{path}/{segment}" if path else segment


def _check_name(layer, path):
    name = layer.name
    if not isinstance(name, str) or not name or "/" in name or name in (".", ".."):
        where = f" inside {path!r}" if path else ""
        raise ValueError(f"cannot save layer {name!r} ({type(layer).__name__}){where}: its name must be a "
                         "non-empty string without '/' (it becomes a path in the weights file); rename the layer")


def _is_graph(layer):
    from ..models import Functional, Sequential  # saving sits above models

    return isinstance(layer, (Functional, Sequential))


def _by_name(layer, path):
    """A graph model's layers by name, refusing two different ones of the same name (their paths would be one)."""
    out, by_name = [], {}
    for child in layer._sublayers():
        _check_name(child, path)
        other = by_name.get(child.name)
        if other is not None and other is not child:
            raise ValueError(f"cannot save {type(layer).__name__} {layer.name!r}: it holds two different layers "
                             f"named {child.name!r} ({type(other).__name__} and {type(child).__name__}); layers "
                             "inside one model need distinct names: give each its own name=")
        by_name[child.name] = child
        out.append((child.name, child))
    return out


def by_class(items, prefix):
    """``[(segment, layer)]`` for layers in a container: snake_case class name with a counter (Keras's rule)."""
    counts, out = {}, []
    for layer in items:
        base = snake_case(type(layer).__name__)
        count = counts.get(base, 0)
        counts[base] = count + 1
        out.append((f"{prefix}{base}" if count == 0 else f"{prefix}{base}_{count}", layer))
    return out


def _container_layers(value, seen):
    """The layers in a list, tuple or dict attribute, nested containers included, as tracking walks them."""
    from ..layers import Layer

    out, stack = [], [value]
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        if isinstance(item, Layer):
            seen.add(id(item))
            out.append(item)
        elif isinstance(item, (list, tuple, dict)):
            seen.add(id(item))
            stack.extend(reversed(list(item.values() if isinstance(item, dict) else item)))
    return out


def _by_attribute(layer):
    """A layer built by code: ``[(segment, layer)]`` by attribute name, containers' layers by class."""
    from ..autograd import Variable
    from ..layers import Layer

    out, seen = [], {id(layer)}
    for attr, value in vars(layer).items():
        if attr in UNTRACKED or id(value) in seen:
            continue
        if isinstance(value, Layer):
            seen.add(id(value))
            out.append((attr, value))
        elif isinstance(value, (list, tuple, dict)):
            out.extend(by_class(_container_layers(value, seen), f"{attr}/"))
        elif isinstance(value, Variable):
            seen.add(id(value))
    return out


def children(layer, path="", named=True):
    """``[(segment, layer)]`` for the layers ``layer`` holds directly (see the module docstring).

    Args:
        named: whether ``layer`` was rebuilt from a config (so a graph model's layers keep their names).
    """
    if _is_graph(layer):
        return _by_name(layer, path) if named else by_class(layer._sublayers(), "")
    return _by_attribute(layer)


def walk(model):
    """``[(path, layer)]`` for ``model`` (path ``""``) and every layer inside it, parents first."""
    out, stack = [], [("", model, frozenset(), True)]
    while stack:
        path, layer, ancestors, named = stack.pop()
        out.append((path, layer))
        inner = ancestors | {id(layer)}
        kids = [(segment, child) for segment, child in children(layer, path, named) if id(child) not in inner]
        keep_names = named and _is_graph(layer)
        stack.extend((_child_path(path, segment), child, inner, keep_names) for segment, child in reversed(kids))
    return out


def weight_key(layer, var):
    """The name a layer gave a weight (``"kernel"`` for the variable ``"dense/kernel"`` of layer ``dense``)."""
    prefix = layer.name + "/"
    return var.name[len(prefix):] if var.name and var.name.startswith(prefix) else (var.name or "").rsplit("/")[-1]


def own_weights(layer, path):
    """``{key: variable}`` for the weights ``layer`` holds itself (not those of its sub-layers)."""
    weights = {}
    for var in layer._own_weights():
        key = weight_key(layer, var)
        if not key or key in weights:
            raise ValueError(f"cannot save layer {path or layer.name!r} ({type(layer).__name__}): two of its "
                             f"weights are both named {key!r}; give each add_weight() call its own name")
        weights[key] = var
    return weights


def weight_entries(model):
    """``[(path, layer, {key: variable})]`` for every layer (the model included) holding weights of its own.

    Raises:
        ValueError: two weights of one layer share a name, or a weight has the name of a sub-layer of the
            same layer (both would be one HDF5 name).
    """
    out, walked = [], walk(model)
    for path, layer in walked:
        weights = own_weights(layer, path)
        if not weights:
            continue
        prefix = f"{path}/" if path else ""
        groups = {p[len(prefix):].split("/")[0] for p, _ in walked if p.startswith(prefix) and p != path}
        clash = sorted(set(weights) & groups)
        if clash:
            raise ValueError(f"cannot save layer {path or layer.name!r} ({type(layer).__name__}): its weight "
                             f"{clash[0]!r} has the name of one of its sub-layers; rename one of them")
        out.append((path, layer, weights))
    return out


def owners(entries):
    """``{id(variable): (path, key)}``, the first place ``weight_entries`` lists each variable."""
    found = {}
    for path, _, weights in entries:
        for key, var in weights.items():
            found.setdefault(id(var), (path, key))
    return found


def describe(path):
    """A path for messages: ``'base/dense'``, or ``the model itself`` for ``""``."""
    return repr(path) if path else "the model itself"
