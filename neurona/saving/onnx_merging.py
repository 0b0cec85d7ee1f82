"""ONNX converters of the layers of functional graphs: merge layers, ops on symbolic tensors, Identity, Lambda.

A merge layer's converter gets the list of its inputs' names. Elementwise merges
(Add, Subtract, Multiply, Average, Maximum, Minimum) first give a lower-rank
input size-1 axes right after its batch axis (``Unsqueeze``), Keras's rule, so
that ONNX's NumPy-style broadcasting then computes what the layer computes;
the reductions run pairwise in input order, as the layers do. ``Dot`` is an
``Einsum`` with the layer's own equation. A ``TensorOp`` (``x + y``,
``x[:, 0]`` on symbolic tensors) is converted when its op is arithmetic
(add, subtract, multiply, divide, power, negative, abs, matmul) or indexing
with constant ints, slices, ``None`` and ``...``.
"""

import numpy

from .. import activations, backend
from ..layers import tensor_op
from .onnx_export import register_converter
from .onnx_layers import apply_activation

INT64_MAX = numpy.iinfo(numpy.int64).max


def _ints(g, hint, values):
    return g.constant(hint, numpy.array(values, dtype=numpy.int64))


def _aligned(layer, g, names):
    """The inputs with size-1 axes inserted after the batch axis up to the largest rank (Keras's merge rule)."""
    ranks = [len(g.spec(x)[0]) for x in names]
    rank = max(ranks)
    return [x if r == rank else g.node("Unsqueeze", [x, _ints(g, f"{layer.name}_axes", range(1, 1 + rank - r))])
            for x, r in zip(names, ranks)]


def _pairwise(op):
    def convert(layer, g, x):
        names = _aligned(layer, g, list(x))
        out = names[0]
        for other in names[1:]:
            out = g.node(op, [out, other])
        return out

    return convert


for _class, _op in (("Add", "Add"), ("Subtract", "Sub"), ("Multiply", "Mul"), ("Maximum", "Max"),
                    ("Minimum", "Min")):
    register_converter(_class)(_pairwise(_op))


@register_converter("Average")
def average(layer, g, x):
    total = _pairwise("Add")(layer, g, x)
    return g.node("Div", [total, g.constant("count", float(len(x)))])


@register_converter("Concatenate")
def concatenate(layer, g, x):
    return g.node("Concat", list(x), axis=layer.axis)


def _l2_normalize(g, x, axis):
    """``x / max(||x||_2, epsilon)`` along ``axis``, as ``ops.normalize`` computes it."""
    norm = g.node("Sqrt", [g.node("ReduceSum", [g.node("Mul", [x, x]), _ints(g, "axis", [axis])], keepdims=1)])
    return g.node("Div", [x, g.node("Max", [norm, g.constant("epsilon", backend.epsilon())])])


@register_converter("Dot")
def dot(layer, g, x):
    """The batched dot product as ``Einsum`` (letter ``a`` is the batch axis), ``(batch, 1)`` when only the
    batch axis is left, as the layer returns."""
    first, second = x
    shapes = [g.spec(first)[0], g.spec(second)[0]]
    p, q = layer._resolved_axes(shapes)
    if layer.normalize:
        first, second = _l2_normalize(g, first, p), _l2_normalize(g, second, q)
    letters = iter("bcdefghijklmnopqrstuvwxyz")
    sx = ["a"] + [next(letters) for _ in range(len(shapes[0]) - 1)]
    sy = ["a"] + [next(letters) for _ in range(len(shapes[1]) - 1)]
    sy[q] = sx[p]
    out = [c for i, c in enumerate(sx) if i != p] + [c for i, c in enumerate(sy) if i not in (0, q)]
    y = g.node("Einsum", [first, second], equation=f"{''.join(sx)},{''.join(sy)}->{''.join(out)}")
    return g.node("Unsqueeze", [y, _ints(g, "axis", [1])]) if len(out) == 1 else y


@register_converter("Identity")
def identity(layer, g, x):
    return x


# ---- ops on symbolic tensors (TensorOp) ------------------------------------------------------------
_BINARY = {"add": "Add", "subtract": "Sub", "sub": "Sub", "multiply": "Mul", "mul": "Mul", "divide": "Div",
           "div": "Div", "true_divide": "Div", "power": "Pow", "pow": "Pow", "matmul": "MatMul"}
_UNARY = {"negative": "Neg", "neg": "Neg", "abs": "Abs", "absolute": "Abs"}


def _operand(g, value, like):
    """A tensor name, or a constant in the dtype of the tensor operand ``like``."""
    if isinstance(value, str):
        return value
    dtype = g.spec(like)[1]
    return g.constant("operand", numpy.asarray(value, dtype=g.dtype if numpy.dtype(dtype).kind == "f" else dtype))


@register_converter("TensorOp")
def tensor_operation(layer, g, x):
    names = list(x) if isinstance(x, (list, tuple)) else [x]
    args, kwargs = tensor_op._decode(layer.arguments, names)  # the documented {"__tensor__": i} encoding
    fn = layer.function
    if fn in _BINARY and len(args) == 2 and not kwargs:
        tensor = args[0] if isinstance(args[0], str) else args[1]
        return g.node(_BINARY[fn], [_operand(g, args[0], tensor), _operand(g, args[1], tensor)])
    if fn in _UNARY and len(args) == 1 and not kwargs and isinstance(args[0], str):
        return g.node(_UNARY[fn], [args[0]])
    if fn == "getitem" and len(args) == 2 and not kwargs and isinstance(args[0], str):
        return _getitem(layer, g, args[0], args[1])
    raise ValueError(f"export_onnx: layer {layer.name!r} (TensorOp) applies neurona.ops.{fn} with arguments "
                     f"{layer.arguments!r:.120}, which has no ONNX converter; supported: "
                     f"{sorted(set(_BINARY) | set(_UNARY))} of tensors and constants, and getitem with "
                     "constant ints, slices, None and ...")


def _index_items(layer, key, rank):
    """The indexing key as a list of ints, slices and None covering every axis (``...`` expanded)."""
    items = list(key) if isinstance(key, tuple) else [key]
    for item in items:
        if not (item is None or item is Ellipsis or isinstance(item, slice) or type(item) is int):
            raise ValueError(f"export_onnx: layer {layer.name!r} (TensorOp) indexes with {item!r}; only constant "
                             "ints, slices, None and ... have an ONNX converter")
    used = sum(1 for item in items if item is not None and item is not Ellipsis)
    if used > rank or sum(1 for item in items if item is Ellipsis) > 1:
        raise ValueError(f"export_onnx: layer {layer.name!r} (TensorOp): index {key!r} does not fit a tensor of "
                         f"rank {rank}")
    if Ellipsis in items:
        at = items.index(Ellipsis)
        return items[:at] + [slice(None)] * (rank - used) + items[at + 1:]
    return items + [slice(None)] * (rank - used)


def _getitem(layer, g, x, key):
    """Basic indexing: one ``Slice`` over the sliced axes, ``Squeeze`` for ints, ``Unsqueeze`` for None."""
    rank = len(g.spec(x)[0])
    starts, ends, axes, steps, squeeze, unsqueeze = [], [], [], [], [], []
    axis = position = 0
    for item in _index_items(layer, key, rank):
        if item is None:
            unsqueeze.append(position)
            position += 1
            continue
        if isinstance(item, int):
            starts.append(item)
            ends.append(INT64_MAX if item == -1 else item + 1)
            axes.append(axis)
            steps.append(1)
            squeeze.append(axis)
        elif item != slice(None) and item != slice(None, None, 1):
            step = 1 if item.step is None else item.step
            starts.append(item.start if item.start is not None else (0 if step > 0 else INT64_MAX))
            ends.append(item.stop if item.stop is not None else (INT64_MAX if step > 0 else -INT64_MAX))
            axes.append(axis)
            steps.append(step)
            position += 1
        else:
            position += 1
        axis += 1
    y = x
    if axes:
        y = g.node("Slice", [y, _ints(g, "starts", starts), _ints(g, "ends", ends), _ints(g, "axes", axes),
                             _ints(g, "steps", steps)])
    if squeeze:
        y = g.node("Squeeze", [y, _ints(g, "axes", squeeze)])
    if unsqueeze:
        y = g.node("Unsqueeze", [y, _ints(g, "axes", unsqueeze)])
    return y if y != x else g.node("Identity", [x])


# ---- Lambda ---------------------------------------------------------------------------------------
@register_converter("Lambda")
def lambda_layer(layer, g, x):
    """A Lambda of a ``neurona.activations`` function (without ``arguments``); other functions are Python
    code that ONNX cannot hold."""
    name = None
    if not layer.arguments:
        try:
            name = activations.serialize(layer.function)
        except (TypeError, ValueError):
            name = None
        name = name if isinstance(name, str) else None  # a custom function (saved by name) is not an activation
    if name is None or not isinstance(x, str):
        raise ValueError(f"export_onnx: layer {layer.name!r} (Lambda) calls {layer.function!r}, which has no ONNX "
                         "converter (only a Lambda of a neurona.activations function is converted); use a layer "
                         "with a converter, or register one with @neurona.saving.register_converter('Lambda')")
    return apply_activation(g, layer.function, x, layer)
