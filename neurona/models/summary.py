"""The text table printed by ``model.summary()``.

One row per layer: name and type, output shape, parameter count, the
initializer of its first weight, and for functional models the layers each
call reads from (Keras's "Connected to", ``name[call][output]``).
``expand_nested`` also lists the layers of nested models, indented;
``show_trainable`` adds Keras's "Trainable" column: ``Y`` for a layer whose
weights train, ``N`` for a frozen one, ``-`` for a layer without weights.

Below the table, an "Initialization advice:" block lists each layer whose
kernel initializer mismatches its activation (``initializers.advice``), e.g.
``dense_3: relu with GlorotUniform -> suggest he_normal: <reason>``, nested
models' layers included (named ``inner/dense_1``); nothing when none does.
"""

from ..arguments import check_bool
from ..initializers.advice import activation_name, check_initializer, check_recurrent_initializer
from ..layers import Activation


def _initializer_name(layer):
    """The kernel's (or first weight's) initializer, e.g. ``HeNormal``; ``-`` for layers without weights."""
    weights = layer.weights
    if not weights:
        return "-"
    trainable = [w for w in weights if w.trainable]  # a wrapper's own state (quantization ranges) comes first
    init = (trainable or weights)[0].initializer
    if init is None:
        return "?"
    config = init.get_config() if hasattr(init, "get_config") else {}
    seed = config.get("seed")
    return type(init).__name__ + (f"(seed={seed})" if seed is not None else "")


def _shape_text(shape):
    if isinstance(shape, dict):
        return "{" + ", ".join(f"{k}: {_shape_text(v)}" for k, v in shape.items()) + "}"
    if isinstance(shape, list):
        return "[" + ", ".join(_shape_text(s) for s in shape) + "]"
    return "?" if shape is None else "(" + ", ".join("None" if s is None else str(s) for s in shape) + \
        ("," if len(shape) == 1 else "") + ")"


def _connections(model, layer):
    """``name[call][output]`` of every tensor the layer's calls in ``model`` read."""
    nodes = getattr(model, "_nodes", None)
    if nodes is None:
        return None
    index = model._node_index()
    sources = [f"{t.node.layer.name}[{index.get(id(t.node), 0)}][{t.index}]"
               for node in nodes if node.layer is layer for t in node.inputs]
    return ", ".join(sources) or "-"


def _trainable_mark(layer):
    """``Y`` (its weights train), ``N`` (frozen) or ``-`` (no weights), as Keras's "Trainable" column."""
    if not layer.weights:
        return "-"
    return "Y" if layer.trainable else "N"


def _rows(model, expand_nested, depth=0):
    rows = []
    for layer in model.layers:
        connected = _connections(model, layer) if depth == 0 else None
        name = ("  " * depth) + f"{layer.name} ({type(layer).__name__})"
        rows.append((name, _shape_text(layer.output_shape), f"{layer.count_params():,}", _initializer_name(layer),
                     connected, _trainable_mark(layer)))
        if expand_nested and _is_model(layer):
            rows.extend(_rows(layer, expand_nested, depth + 1))
    return rows


def _is_model(layer):
    return hasattr(layer, "layers") and hasattr(layer, "compile")


def _feeding_activation(layer, following):
    """The activation a kernel layer feeds: its own, or, when that is linear and the next layer (in
    ``model.layers`` order) is an ``Activation`` layer, that layer's (Keras's ``Dense`` + ``Activation`` style)."""
    own = layer.activation
    if isinstance(following, Activation) and activation_name(own) == "linear":
        return following.activation
    return own


def advice_lines(model, prefix=""):
    """``"  name: relu with GlorotUniform -> suggest he_normal: <reason>"`` for each mismatched layer of
    ``model`` and of the models nested in it."""
    lines, layers = [], list(model.layers)
    for layer, following in zip(layers, layers[1:] + [None]):
        if _is_model(layer):
            lines += advice_lines(layer, f"{prefix}{layer.name}/")
        elif hasattr(layer, "kernel_initializer") and hasattr(layer, "activation"):
            try:
                mismatch = check_initializer(_feeding_activation(layer, following), layer.kernel_initializer)
            except (TypeError, ValueError):  # a user layer's own attributes the rules cannot read: no advice
                mismatch = None
            if mismatch is not None:
                lines.append(f"  {prefix}{layer.name}: {mismatch}")
            recurrent = getattr(layer, "recurrent_initializer", None)
            if recurrent is not None:
                try:
                    mismatch = check_recurrent_initializer(layer.activation, recurrent)
                except (TypeError, ValueError):
                    mismatch = None
                if mismatch is not None:
                    lines.append(f"  {prefix}{layer.name} (recurrent kernel): {mismatch}")
    return lines


def summary_text(model, expand_nested=False, show_trainable=False):
    """Layer, output shape, parameter count and initializer of each layer, the totals, then the
    initialization advice when a layer's initializer mismatches its activation (``advice_lines``).

    Args:
        expand_nested: also list the layers of nested models, indented.
        show_trainable: add a "Trainable" column (``Y``, ``N``, or ``-`` for a layer without weights).

    Raises:
        TypeError: ``show_trainable`` is not a bool.
    """
    show_trainable = check_bool(show_trainable, "summary", "show_trainable")
    rows = _rows(model, expand_nested)
    functional = getattr(model, "_nodes", None) is not None
    header = ("Layer (type)", "Output Shape", "Param #", "Initializer") + (("Connected to",) if functional else ()) \
        + (("Trainable",) if show_trainable else ())
    rows = [row[:4] + ((row[4] or "",) if functional else ()) + ((row[5],) if show_trainable else ())
            for row in rows]
    widths = [max(len(r[i]) for r in [header, *rows]) + 2 for i in range(len(header))]
    total = sum(widths)

    def line(cells):
        return "".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()

    trainable = sum(int(w.size) for w in model.trainable_weights)
    everything = model.count_params()
    out = [f'Model: "{model.name}"', "=" * total, line(header), "=" * total]
    for row in rows:
        out += [line(row), "-" * total]
    if not model.built:
        out.append("(not built yet: output shapes and weights appear once the input shape is known)")
    out += [f"Total params: {everything:,}", f"Trainable params: {trainable:,}",
            f"Non-trainable params: {everything - trainable:,}", "=" * total]
    advice = advice_lines(model)
    if advice:
        out += ["Initialization advice:", *advice]
    return "\n".join(out)
