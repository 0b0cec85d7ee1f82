"""Rebuilding a functional model from its config: the layers, then their calls replayed in order.

The config (``Functional.get_config``, Keras 3's layout) lists every layer
with the calls that fed it (``inbound_nodes``); each argument that is a tensor
is a ``__keras_tensor__`` naming the layer, call and output it came from
(``keras_history``). A call is replayed once every tensor it needs exists, so
the order of the list does not matter; a call that can never be replayed is an
error naming it.

Tensors are keyed by the name each entry was saved under (its ``"name"``), as
Keras does: a custom layer whose ``get_config`` returns only its own arguments
(no ``name``) gets a new default name when rebuilt, and is renamed to the saved
one, so that the calls find it, ``get_layer`` gives it and its weights are
found by name. Layer classes are looked up by ``neurona.layers.deserialize``:
custom objects first (``custom_objects``, ``CustomObjectScope``), then the
registry.
"""

import inspect

from .. import nest
from ..layers.core.input import InputLayer
from ..registry import CustomObjectScope, check_custom_objects


def _fail(message):
    raise ValueError(f"functional model config: {message}")


def _is_history(value):
    return isinstance(value, (list, tuple)) and len(value) == 3 and isinstance(value[0], str)


class _NotReady(Exception):
    """A call's argument comes from a call not replayed yet."""


def _resolver(tensors):
    def resolve(value):
        if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
            history = (value.get("config") or {}).get("keras_history")
            if not _is_history(history):
                _fail(f"a tensor argument has keras_history {history!r}; expected [layer name, node, tensor]")
            key = tuple(history)
            if key not in tensors:
                raise _NotReady(key)
            return tensors[key]
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [resolve(v) for v in value]
        return value

    return resolve


def _endpoints(structure, tensors, what):
    def lookup(history):
        key = tuple(history)
        if key not in tensors:
            _fail(f"{what} names {list(history)}, which no layer call produced")
        return tensors[key]

    if _is_history(structure):
        return lookup(structure)
    if isinstance(structure, dict):
        return {k: _endpoints(v, tensors, what) for k, v in structure.items()}
    if isinstance(structure, list) and structure:
        return [_endpoints(v, tensors, what) for v in structure]
    _fail(f"{what} is {structure!r:.80}; expected [layer name, node, tensor] or a list or dict of them")


def revivable_as_functional(cls):
    """Whether ``cls`` (a Model subclass) rebuilds from a functional config as ``cls(inputs, outputs, name=)``:
    its constructor takes ``*args, **kwargs`` (the inherited one does), or takes ``inputs, outputs`` (and
    ``name``, ``trainable``) and nothing else but ``**kwargs`` (Keras's rule is ``(inputs, outputs, name)`` exactly, or
    ``(*args, **kwargs)``). Any other argument would come back as its default, or be missing: such a class
    must define ``get_config``/``from_config`` itself, and saving checks that it does."""
    try:
        params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    except (TypeError, ValueError):
        return False
    kinds = {p.kind for p in params}
    if inspect.Parameter.VAR_POSITIONAL in kinds and inspect.Parameter.VAR_KEYWORD in kinds:
        return True
    named = [p.name for p in params if p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)]
    # name and trainable are in the config; dtype is the base Model's own keyword (None: the default policy)
    return named[:2] == ["inputs", "outputs"] and set(named[2:]) <= {"name", "trainable", "dtype"}


def _saved_name(entry, layer):
    """The name the entry was saved under (Keras keys tensors by it), else the rebuilt layer's."""
    if "name" not in entry:
        return layer.name
    name = entry["name"]
    if not isinstance(name, str) or not name or "/" in name:
        _fail(f"a {entry['class_name']!r:.80} layer is saved under the name {name!r:.80}; expected a non-empty "
              "string without '/'")
    return name


def rebuild(cls, config, custom_objects=None):
    """``cls(inputs, outputs)`` from a functional config; ``custom_objects`` maps class names to classes
    (Keras's argument), found before the scopes and the registry."""
    with CustomObjectScope(check_custom_objects(custom_objects, f"{cls.__name__}.from_config")):
        return _rebuild(cls, config)


def _rebuild(cls, config):
    from ..layers import deserialize

    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        _fail(f"expected an object with a 'layers' list, got {str(config)[:80]!r}")
    for key in ("input_layers", "output_layers"):
        if key not in config:
            _fail(f"'{key}' is missing")
    tensors, pending, names = {}, [], set()
    for entry in config["layers"]:
        if not isinstance(entry, dict) or "class_name" not in entry or "config" not in entry:
            _fail(f"each layer must be an object with 'class_name' and 'config', got {str(entry)[:80]!r}")
        layer = deserialize(entry)
        name = _saved_name(entry, layer)
        if name in names:
            _fail(f"two layers are saved under the name {name!r}; layer names must be unique within a model")
        names.add(name)
        if layer.name != name:
            layer.name = name  # a get_config without "name": the saved name, which the calls and weights use
        if isinstance(layer, InputLayer):
            tensors[(name, 0, 0)] = layer.output
        nodes = entry.get("inbound_nodes", [])
        if not isinstance(nodes, list):
            _fail(f"layer {name!r}: 'inbound_nodes' must be a list, got {type(nodes).__name__}")
        pending.append([layer, nodes, 0, name])
    resolve = _resolver(tensors)
    while any(index < len(nodes) for _, nodes, index, _ in pending):
        progress = False
        for item in pending:
            layer, nodes, index, name = item
            while index < len(nodes):
                node = nodes[index]
                if not isinstance(node, dict):
                    _fail(f"layer {name!r}: each inbound node must be an object with 'args' and 'kwargs'")
                try:
                    args = resolve(list(node.get("args", [])))
                    kwargs = resolve(dict(node.get("kwargs", {})))
                except _NotReady:
                    break
                outputs = layer(*args, **kwargs)
                for position, tensor in enumerate(nest.flatten(outputs)):
                    tensors[(name, index, position)] = tensor
                index += 1
                progress = True
            item[2] = index
        if not progress:
            stuck = [f"{name!r} call {index}" for _, nodes, index, name in pending if index < len(nodes)]
            _fail(f"the calls {stuck} read tensors that no call produces")
    inputs = _endpoints(config["input_layers"], tensors, "input_layers")
    outputs = _endpoints(config["output_layers"], tensors, "output_layers")
    return cls(inputs, outputs, name=config.get("name"), trainable=config.get("trainable", True))
