"""ONNX converters of the activation layers: ReLU, LeakyReLU, PReLU, ELU, Softmax (see onnx_export.py).

Each writes the layer's own formula (``ops.relu``'s for ReLU's options), so onnxruntime
computes what the layer computes. Softmax over one axis is ONNX's ``Softmax``; over
several, ``exp(x - ReduceLogSumExp(x))``. Opset 17.
"""

from .onnx_export import register_converter


@register_converter("ReLU")
def relu(layer, g, x):
    """``where(x > t, x, 0)`` (``Relu`` when ``t == 0``), clipped to ``[0, max_value]``, minus
    ``negative_slope * relu(t - x)``: ``Relu``, ``LeakyRelu`` or ``Clip`` alone where that is all it is."""
    slope, top, threshold = layer.negative_slope, layer.max_value, layer.threshold
    if top is None and threshold == 0:
        return g.node("LeakyRelu", [x], alpha=slope) if slope else g.node("Relu", [x])
    if threshold:
        t = g.constant(f"{layer.name}_threshold", threshold)
        out = g.node("Where", [g.node("Greater", [x, t]), x, g.constant("zero", 0.0)])
    else:
        out = g.node("Relu", [x])
    if top is not None:
        out = g.node("Clip", [out, g.constant("zero", 0.0), g.constant(f"{layer.name}_max_value", top)])
    if slope:
        below = g.node("Relu", [g.node("Sub", [g.constant(f"{layer.name}_threshold", threshold), x])])
        out = g.node("Sub", [out, g.node("Mul", [below, g.constant(f"{layer.name}_slope", slope)])])
    return out


@register_converter("LeakyReLU")
def leaky_relu(layer, g, x):
    return g.node("LeakyRelu", [x], alpha=layer.negative_slope)


@register_converter("PReLU")
def prelu(layer, g, x):
    """ONNX's ``PRelu``: ``alpha`` (the input's shape without the batch axis) broadcasts over the batch."""
    return g.node("PRelu", [x, g.constant(f"{layer.name}_alpha", layer.alpha.numpy())])


@register_converter("ELU")
def elu(layer, g, x):
    return g.node("Elu", [x], alpha=layer.alpha)


@register_converter("Softmax")
def softmax(layer, g, x):
    if not isinstance(layer.axis, list):
        return g.node("Softmax", [x], axis=layer.axis)
    log_total = g.node("ReduceLogSumExp", [x], axes=list(layer.axis), keepdims=1)
    return g.node("Exp", [g.node("Sub", [x, log_total])])
