"""The masks Keras 3 records in a functional model's JSON, recognized as the ones Neurona propagates itself.

Keras 3.15 computes a layer's output mask (``compute_mask``) with ``keras.ops`` on the symbolic tensors while it
builds a functional model, so those ops become nodes of the graph, and every layer that takes a mask gets it as
a ``mask=`` argument of its call (checked against 3.15.1 with the numpy backend):

- ``Embedding(mask_zero=True)`` on ids ``T``: a ``NotEqual`` node ``not_equal(T, 0)``;
- ``Masking(mask_value=v)`` on ``T``: ``NotEqual`` ``not_equal(T, v)`` then ``Any`` ``any(..., axis=-1)``;

- a merge (``Add``, ``Subtract``, ``Multiply``, ``Average``, ``Maximum``, ``Minimum``) of masked tensors: a
  ``LogicalOr`` node of their masks (Keras's ``Merge.compute_mask``; Neurona's merges take the same union);

and the layers downstream that support masking reference the last node in their ``mask=``. (Keras 3's legacy
``.h5`` writes the same nodes without their ``module``.) Neurona's layers
compute and pass on the same masks themselves (``layers/masking.py``), so a file's ``mask=`` that is one of
these exact chains, started from the input of such an Embedding or Masking layer, says nothing new: it is
dropped with the nodes that computed it. Any other mask (an Input given as ``mask=``, a chain of other ops, one
over another tensor) is not, and config.py refuses it.
"""

from ..errors import FileFormatError

OPS_MODULE = "keras.src.ops."
_TENSOR = "__keras_tensor__"


def _history(value):
    """``(layer, node, tensor)`` of a serialized Keras tensor, or None."""
    if isinstance(value, dict) and value.get("class_name") == _TENSOR:
        history = (value.get("config") or {}).get("keras_history")
        if isinstance(history, (list, tuple)) and len(history) == 3:
            return tuple(history)
    return None


def _call(item):
    """``(args, kwargs)`` of the only call of an entry in Keras 3's layout, or None."""
    nodes = item.get("inbound_nodes")
    if not isinstance(nodes, list) or len(nodes) != 1 or not isinstance(nodes[0], dict):
        return None
    args, kwargs = nodes[0].get("args", []), nodes[0].get("kwargs", {})
    return (args, kwargs) if isinstance(args, list) and isinstance(kwargs, dict) else None


MASK_OPS = ("NotEqual", "Any", "LogicalOr")


def _is_op(item):
    """An op entry: Keras 3 names its module; its legacy .h5 writes none (no Keras layer is called NotEqual,
    Any or LogicalOr, so the class name alone is unambiguous there)."""
    module = item.get("module")
    return str(module).startswith(OPS_MODULE) if module is not None else item.get("class_name") in MASK_OPS


def _mask_sources(layers):
    """``{(tensor history, kind): (mask value, layer name)}`` of the Embedding(mask_zero) and Masking layers'
    inputs."""
    out = {}
    for item in layers:
        config = item.get("config") if isinstance(item.get("config"), dict) else {}
        cls = item.get("class_name")
        if cls == "Embedding" and config.get("mask_zero") is True:
            value, kind = 0, "not_equal"
        elif cls == "Masking":
            value, kind = config.get("mask_value", 0.0), "any"
        else:
            continue
        for node in item.get("inbound_nodes") or []:
            if isinstance(node, dict) and node.get("args") and _history(node["args"][0]) is not None:
                out[(_history(node["args"][0]), kind)] = (value, item.get("name"))
    return out


def recorded_masks(layers):
    """``{name: the Embedding and Masking layers it comes from}`` of the op entries of ``layers`` (a Keras 3
    functional config's) that compute a mask Neurona propagates itself (module docstring)."""
    sources = _mask_sources(layers)
    # NotEqual name -> "not_equal" (Embedding's) or "any" (Masking's); Any -> its input; LogicalOr -> its two
    not_equal, reductions, unions = {}, {}, {}
    for item in layers:
        if not isinstance(item, dict) or not _is_op(item):
            continue
        call, config = _call(item), item.get("config") if isinstance(item.get("config"), dict) else {}
        if call is None or call[1]:
            continue
        args = call[0]
        if item.get("class_name") == "NotEqual" and len(args) == 2 and _history(args[0]) is not None:
            for kind in ("not_equal", "any"):
                value, source = sources.get((_history(args[0]), kind), (object(), None))
                if value == args[1]:
                    not_equal[item.get("name")] = (kind, source)
        elif item.get("class_name") == "Any" and len(args) == 1 and config.get("axis") == -1 \
                and not config.get("keepdims") and _history(args[0]) is not None:
            reductions[item.get("name")] = _history(args[0])
        elif item.get("class_name") == "LogicalOr" and len(args) == 2 and all(_history(a) for a in args):
            unions[item.get("name")] = [_history(a) for a in args]
    masks = {name: {source} for name, (kind, source) in not_equal.items() if kind == "not_equal"}
    for name, (inner, node, tensor) in reductions.items():
        kind, source = not_equal.get(inner, (None, None))
        if kind == "any" and (node, tensor) == (0, 0):
            masks[name] = masks[inner] = {source}
    grew = True
    while grew:  # a merge's mask: the union of two masks already recognized
        grew = False
        for name, parts in unions.items():
            if name not in masks and all(p[0] in masks and p[1:] == (0, 0) for p in parts):
                masks[name] = set().union(*(masks[p[0]] for p in parts))
                grew = True
    return masks


def ancestors(layers):
    """``{layer name: the names of every layer upstream of it}`` in a Keras 3 functional config."""
    parents = {}
    for item in layers:
        if not isinstance(item, dict):
            continue
        found = parents.setdefault(item.get("name"), set())
        for node in item.get("inbound_nodes") or []:
            stack = [node]
            while stack:
                value = stack.pop()
                history = _history(value)
                if history is not None:
                    found.add(history[0])
                elif isinstance(value, dict):
                    stack.extend(value.values())
                elif isinstance(value, list):
                    stack.extend(value)
    out = {}
    for name in parents:
        seen, stack = set(), list(parents[name])
        while stack:
            parent = stack.pop()
            if parent not in seen:
                seen.add(parent)
                stack.extend(parents.get(parent, ()))
        out[name] = seen
    return out


def mask_argument(value, masks, where, upstream):
    """Whether a call's ``mask=`` is only references to ``masks`` (or None) whose Embedding or Masking layers are
    ``upstream`` of the call's input (so Neurona's propagation brings the same mask there): then it is dropped.
    Any other tensor there raises ``FileFormatError``, since Neurona would compute another mask there."""
    values = value if isinstance(value, list) else [value]
    for item in values:
        if item is None:
            continue
        history = _history(item)
        if history is None or history[0] not in masks or not masks[history[0]] <= upstream:
            raise FileFormatError(f"{where}: its call is given mask={str(item)[:120]}, which is not a mask Neurona "
                                  "computes itself (Embedding(mask_zero=True) and Masking pass theirs on to the "
                                  "layers after them); rebuild the model in code to pass other masks")
    return True


def check_mask_ops(layers, masks, where):
    """Raise ``FileFormatError`` naming the layer when a layer's ``mask=`` comes from ops Neurona does not
    recognize (a Concatenate's or an Attention's mask, a mask written by hand): before the ops themselves are
    refused with a message about symbolic operations the user never wrote."""
    ops = {item.get("name"): item for item in layers if isinstance(item, dict) and _is_op(item)}
    for item in layers:
        if not isinstance(item, dict) or _is_op(item):
            continue
        for node in item.get("inbound_nodes") or []:
            mask = node.get("kwargs", {}).get("mask") if isinstance(node, dict) else None
            for value in mask if isinstance(mask, list) else [mask]:
                history = _history(value)
                if history is not None and history[0] in ops and history[0] not in masks:
                    op = ops[history[0]]
                    raise FileFormatError(
                        f"{where(item)}: its mask comes from Keras's op {op.get('class_name')!r} "
                        f"({history[0]!r}), one Neurona does not recognize as a mask it computes itself (it "
                        "recognizes those of Embedding(mask_zero=True), Masking and the elementwise merges; "
                        "Keras writes others for Concatenate and the attention layers); rebuild the model in "
                        "code, or without the mask")
