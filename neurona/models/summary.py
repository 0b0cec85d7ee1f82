"""The text table printed by ``model.summary()``."""


def _initializer_name(layer):
    """The kernel's (or first weight's) initializer, e.g. ``HeNormal``; ``-`` for layers without weights."""
    weights = layer.weights
    if not weights:
        return "-"
    init = weights[0].initializer
    if init is None:
        return "?"
    config = init.get_config() if hasattr(init, "get_config") else {}
    seed = config.get("seed")
    return type(init).__name__ + (f"(seed={seed})" if seed is not None else "")


def _shape_text(shape):
    return "?" if shape is None else "(" + ", ".join("None" if s is None else str(s) for s in shape) + \
        ("," if len(shape) == 1 else "") + ")"


def summary_text(model):
    """Layer, output shape, parameter count and initializer of each layer, then the totals."""
    header = ("Layer (type)", "Output Shape", "Param #", "Initializer")
    rows = [(f"{layer.name} ({type(layer).__name__})", _shape_text(layer.output_shape),
             f"{layer.count_params():,}", _initializer_name(layer)) for layer in model.layers]
    widths = [max(len(r[i]) for r in [header, *rows]) + 2 for i in range(4)]
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
    return "\n".join(out)
