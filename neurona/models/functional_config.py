"""Rebuilding a functional model from its config: the layers, then their calls replayed in order.

The config (``Functional.get_config``, Keras 3's layout) lists every layer
with the calls that fed it (``inbound_nodes``); each argument that is a tensor
is a ``__keras_tensor__`` naming the layer, call and output it came from
(``keras_history``). A call is replayed once every tensor it needs exists, so
the order of the list does not matter; a call that can never be replayed is an
error naming it.
"""

from .. import nest
from ..layers.core.input import InputLayer


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


def rebuild(cls, config, custom_objects=None):
    """``cls(inputs, outputs)`` from a functional config; ``custom_objects`` maps class names to layer classes
    (Keras's argument), looked up before the registry."""
    from ..layers import deserialize

    custom_objects = dict(custom_objects or {})

    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        _fail(f"expected an object with a 'layers' list, got {str(config)[:80]!r}")
    for key in ("input_layers", "output_layers"):
        if key not in config:
            _fail(f"'{key}' is missing")
    tensors, pending = {}, []
    for entry in config["layers"]:
        if not isinstance(entry, dict) or "class_name" not in entry or "config" not in entry:
            _fail(f"each layer must be an object with 'class_name' and 'config', got {str(entry)[:80]!r}")
        custom = custom_objects.get(entry["class_name"])
        layer = custom.from_config(entry["config"]) if custom is not None else deserialize(
            {"class_name": entry["class_name"], "config": entry["config"]})
        if isinstance(layer, InputLayer):
            tensors[(layer.name, 0, 0)] = layer.output
        nodes = entry.get("inbound_nodes", [])
        if not isinstance(nodes, list):
            _fail(f"layer {layer.name!r}: 'inbound_nodes' must be a list, got {type(nodes).__name__}")
        pending.append([layer, nodes, 0])
    resolve = _resolver(tensors)
    while any(index < len(nodes) for _, nodes, index in pending):
        progress = False
        for item in pending:
            layer, nodes, index = item
            while index < len(nodes):
                node = nodes[index]
                if not isinstance(node, dict):
                    _fail(f"layer {layer.name!r}: each inbound node must be an object with 'args' and 'kwargs'")
                try:
                    args = resolve(list(node.get("args", [])))
                    kwargs = resolve(dict(node.get("kwargs", {})))
                except _NotReady:
                    break
                outputs = layer(*args, **kwargs)
                for position, tensor in enumerate(nest.flatten(outputs)):
                    tensors[(layer.name, index, position)] = tensor
                index += 1
                progress = True
            item[2] = index
        if not progress:
            stuck = [f"{layer.name!r} call {index}" for layer, nodes, index in pending if index < len(nodes)]
            _fail(f"the calls {stuck} read tensors that no call produces")
    inputs = _endpoints(config["input_layers"], tensors, "input_layers")
    outputs = _endpoints(config["output_layers"], tensors, "output_layers")
    return cls(inputs, outputs, name=config.get("name"), trainable=config.get("trainable", True))
