"""ONNX converters of the built-in layers (registered by class name; see onnx_export.py).

Each converter reads the graph tensor ``x`` (channels_last, as Neurona computes)
and returns its output tensor. ONNX's Conv and pooling ops are channels-first
(NCHW), so they are wrapped in Transpose nodes, and the kernel ``(kh, kw, in,
out)`` is stored as ONNX's ``(out, in, kh, kw)``. Padding is written out
explicitly with Neurona's own "same" split (extra pixel after), so the graph
computes exactly what the layer does. Opset 17 (``ReduceMean`` takes ``axes``
as an attribute).
"""

import math

import numpy

from .. import activations, ops
from .onnx_export import register_converter

# ---- activations -----------------------------------------------------------------------------------
_ACTIVATIONS = {
    "relu": lambda g, x: g.node("Relu", [x]),
    "sigmoid": lambda g, x: g.node("Sigmoid", [x]),
    "tanh": lambda g, x: g.node("Tanh", [x]),
    "softplus": lambda g, x: g.node("Softplus", [x]),
    "softmax": lambda g, x: g.node("Softmax", [x], axis=-1),
    "log_softmax": lambda g, x: g.node("LogSoftmax", [x], axis=-1),
    "elu": lambda g, x: g.node("Elu", [x], alpha=1.0),
    "selu": lambda g, x: g.node("Selu", [x], alpha=ops.activation.SELU_ALPHA, gamma=ops.activation.SELU_SCALE),
    "leaky_relu": lambda g, x: g.node("LeakyRelu", [x], alpha=0.2),  # ops.leaky_relu's default slope
    "gelu": lambda g, x: _gelu(g, x),
    "hard_sigmoid": lambda g, x: g.node("HardSigmoid", [x], alpha=1.0 / 6.0, beta=0.5),
    "relu6": lambda g, x: g.node("Clip", [x, g.constant("zero", 0.0), g.constant("six", 6.0)]),
    "softsign": lambda g, x: g.node("Softsign", [x]),
    "silu": lambda g, x: g.node("Mul", [x, g.node("Sigmoid", [x])]),
    "hard_silu": lambda g, x: g.node("Mul", [x, g.node("HardSigmoid", [x], alpha=1.0 / 6.0, beta=0.5)]),
    "mish": lambda g, x: g.node("Mul", [x, g.node("Tanh", [g.node("Softplus", [x])])]),  # Mish is opset 18
    "exponential": lambda g, x: g.node("Exp", [x]),
    "celu": lambda g, x: g.node("Celu", [x], alpha=1.0),
    "glu": lambda g, x: _glu(g, x),
    "log_sigmoid": lambda g, x: g.node("Neg", [g.node("Softplus", [g.node("Neg", [x])])]),
}


def _gelu(g, x):
    """Exact GELU, ``x * (1 + erf(x / sqrt 2)) / 2`` (the Gelu op only exists from opset 20)."""
    erf = g.node("Erf", [g.node("Div", [x, g.constant("sqrt2", math.sqrt(2.0))])])
    one_plus = g.node("Add", [erf, g.constant("one", 1.0)])
    return g.node("Mul", [g.node("Mul", [x, one_plus]), g.constant("half", 0.5)])


def _glu(g, x):
    """``a * sigmoid(b)`` with ``[a, b]`` the two halves of the last axis (no Glu op in ONNX)."""
    a, b = g.node("Split", [x], outputs=2, axis=-1)
    return g.node("Mul", [a, g.node("Sigmoid", [b])])


def apply_activation(g, fn, x, layer):
    """The nodes of activation function ``fn`` (a registered activation) applied to ``x``."""
    name = activations.serialize(fn)
    if name == "linear":
        return x
    if not isinstance(name, str):  # a custom function or object, saved by name: Python code ONNX cannot hold
        name = name.get("config") if name.get("class_name") == "function" else name.get("class_name")
        raise ValueError(f"export_onnx: layer {layer.name!r} uses the custom activation {name!r}, which has no "
                         f"ONNX converter; supported: linear, {', '.join(sorted(_ACTIVATIONS))}")
    if name not in _ACTIVATIONS:
        raise ValueError(f"export_onnx: layer {layer.name!r} uses activation {name!r}, which has no ONNX "
                         f"converter; supported: linear, {', '.join(sorted(_ACTIVATIONS))}")
    return _ACTIVATIONS[name](g, x)


# ---- core layers -----------------------------------------------------------------------------------
@register_converter("InputLayer")
@register_converter("Dropout")  # inference mode: the identity
@register_converter("RandomAugmentation")  # RandomFlip, RandomRotation, ...: active in training only
def identity(layer, g, x):
    return x


@register_converter("Dense")
def dense(layer, g, x):
    y = g.node("MatMul", [x, g.constant(f"{layer.name}_kernel", layer.kernel.numpy())])
    if layer.bias is not None:
        y = g.node("Add", [y, g.constant(f"{layer.name}_bias", layer.bias.numpy())])
    return apply_activation(g, layer.activation, y, layer)


@register_converter("Activation")
def activation(layer, g, x):
    return apply_activation(g, layer.activation, x, layer)


@register_converter("Flatten")
def flatten(layer, g, x):
    return g.node("Flatten", [x], axis=1)  # row-major over the NHWC sample, as Neurona's reshape


@register_converter("Reshape")
def reshape(layer, g, x):
    shape = numpy.array([0, *layer.target_shape], dtype=numpy.int64)  # 0 keeps the batch size
    return g.node("Reshape", [x, g.constant(f"{layer.name}_shape", shape)])


# ---- convolution and pooling -------------------------------------------------------------------------
def _channels_last_shape(layer):
    shape = tuple(layer.input_shape)
    return shape if getattr(layer, "data_format", "channels_last") == "channels_last" else \
        (shape[0], *shape[2:], shape[1])


def _to_channels_first(g, x, rank, layer=None):
    if layer is not None and getattr(layer, "data_format", "channels_last") == "channels_first":
        return x  # already ONNX's layout
    return g.node("Transpose", [x], perm=[0, rank + 1, *range(1, rank + 1)])


def _to_channels_last(g, x, rank, layer=None):
    if layer is not None and getattr(layer, "data_format", "channels_last") == "channels_first":
        return x
    return g.node("Transpose", [x], perm=[0, *range(2, rank + 2), 1])


def _pads(layer, kernel, strides, dilation):
    """ONNX ``pads`` (all befores, then all afters) for the layer's padding on its known input size."""
    if layer.padding == "valid":
        return [0] * (2 * len(kernel))
    if layer.padding == "causal":  # Conv1D: (kernel - 1) * dilation steps before, none after
        return [(kernel[0] - 1) * dilation[0], 0]
    spatial = _channels_last_shape(layer)[1:-1]
    if any(s is None for s in spatial):
        raise ValueError(f"export_onnx: layer {layer.name!r} uses 'same' padding on inputs of unknown size "
                         f"{layer.input_shape}; build the model for a fixed input size")
    pairs = [ops.convolution.same_padding(n, k, s, d) for n, k, s, d in zip(spatial, kernel, strides, dilation)]
    return [p[0] for p in pairs] + [p[1] for p in pairs]


@register_converter("BaseConv")
def conv(layer, g, x):
    rank = layer.rank
    kernel = layer.kernel.numpy()  # (*kernel_size, in, out) -> ONNX (out, in, *kernel_size)
    weight = numpy.transpose(kernel, (rank + 1, rank, *range(rank)))
    inputs = [_to_channels_first(g, x, rank, layer), g.constant(f"{layer.name}_kernel", weight)]
    if layer.bias is not None:
        inputs.append(g.constant(f"{layer.name}_bias", layer.bias.numpy()))
    y = g.node("Conv", inputs, kernel_shape=list(layer.kernel_size), strides=list(layer.strides),
               dilations=list(layer.dilation_rate), group=getattr(layer, "groups", 1),
               pads=_pads(layer, layer.kernel_size, layer.strides, layer.dilation_rate))
    out = apply_activation(g, layer.activation, _to_channels_last(g, y, rank), layer)  # on channels last, as the layer
    if getattr(layer, "data_format", "channels_last") == "channels_first":
        return _to_channels_first(g, out, rank)
    return out


def _depthwise_node(g, layer, x, kernel):
    """ONNX Conv with one group per channel for a ``(k_h, k_w, C, M)`` depthwise kernel (weight ``(C M, 1, kh,
    kw)``, output channel ``c M + m``, as the layer orders them), on NCHW ``x``."""
    kh, kw, channels, multiplier = kernel.shape
    weight = numpy.transpose(kernel.reshape(kh, kw, 1, channels * multiplier), (3, 2, 0, 1))
    return g.node("Conv", [x, g.constant(f"{layer.name}_depthwise", weight)], kernel_shape=[kh, kw],
                  strides=list(layer.strides), dilations=list(layer.dilation_rate), group=channels,
                  pads=_pads(layer, layer.kernel_size, layer.strides, layer.dilation_rate))


@register_converter("DepthwiseConv2D")
def depthwise_conv(layer, g, x):
    if type(layer).__name__ == "SeparableConv2D":
        y = _depthwise_node(g, layer, _to_channels_first(g, x, 2, layer), layer.depthwise_kernel.numpy())
        pointwise = numpy.transpose(layer.pointwise_kernel.numpy(), (3, 2, 0, 1))
        y = g.node("Conv", [y, g.constant(f"{layer.name}_pointwise", pointwise)], kernel_shape=[1, 1])
    else:
        y = _depthwise_node(g, layer, _to_channels_first(g, x, 2, layer), layer.kernel.numpy())
    y = _to_channels_last(g, y, 2)
    if layer.bias is not None:
        y = g.node("Add", [y, g.constant(f"{layer.name}_bias", layer.bias.numpy())])
    out = apply_activation(g, layer.activation, y, layer)
    return _to_channels_first(g, out, 2) if layer.data_format == "channels_first" else out


@register_converter("BaseConvTranspose")
def conv_transpose(layer, g, x):
    """ONNX ConvTranspose: its full output ``(n - 1) s + k_d`` cropped by ``k_d - 1 - left`` before and ``k_d - 1 -
    right`` after (Keras's padding of the dilated input), or extended by ``output_padding`` where Keras pads more."""
    rank = layer.rank
    begins, ends, extra = [], [], []
    for k, d, (left, right) in zip(layer.kernel_size, layer.dilation_rate, layer._paddings()):
        extent = (k - 1) * d + 1
        begins.append(extent - 1 - left)
        ends.append(max(extent - 1 - right, 0))
        extra.append(max(right - (extent - 1), 0))
    kernel = layer.kernel.numpy()  # (*kernel_size, filters, in) -> ONNX (in, filters, *kernel_size)
    weight = numpy.transpose(kernel, (rank + 1, rank, *range(rank)))
    inputs = [_to_channels_first(g, x, rank, layer), g.constant(f"{layer.name}_kernel", weight)]
    if layer.bias is not None:
        inputs.append(g.constant(f"{layer.name}_bias", layer.bias.numpy()))
    y = g.node("ConvTranspose", inputs, kernel_shape=list(layer.kernel_size), strides=list(layer.strides),
               dilations=list(layer.dilation_rate), pads=begins + ends, output_padding=extra)
    out = apply_activation(g, layer.activation, _to_channels_last(g, y, rank), layer)
    return _to_channels_first(g, out, rank) if layer.data_format == "channels_first" else out


@register_converter("BasePooling")
def pooling(layer, g, x):
    rank = layer.rank
    op = "MaxPool" if layer.mode == "max" else "AveragePool"  # AveragePool excludes padding, as Neurona does
    y = g.node(op, [_to_channels_first(g, x, rank, layer)], kernel_shape=list(layer.pool_size),
               strides=list(layer.strides), pads=_pads(layer, layer.pool_size, layer.strides, (1,) * rank))
    return _to_channels_last(g, y, rank, layer)


@register_converter("BaseGlobalPooling")
def global_pooling(layer, g, x):
    op = "ReduceMean" if layer.mode == "average" else "ReduceMax"
    first = getattr(layer, "data_format", "channels_last") == "channels_first"
    axes = list(range(2, layer.rank + 2)) if first else list(range(1, layer.rank + 1))
    return g.node(op, [x], axes=axes, keepdims=int(layer.keepdims))


# ---- normalization (inference mode) ------------------------------------------------------------------
@register_converter("BatchNormalization")
def batch_normalization(layer, g, x):
    """``x * a + b`` with ``a = gamma / sqrt(moving_variance + epsilon)``, ``b = beta - moving_mean * a``,
    the same arithmetic as the layer at inference."""
    dtype = layer.moving_variance.dtype
    a = numpy.float32(1.0).astype(dtype) / numpy.sqrt(layer.moving_variance.numpy() + dtype.type(layer.epsilon))
    if layer.gamma is not None:
        a = a * layer.gamma.numpy()
    b = -(layer.moving_mean.numpy() * a)
    if layer.beta is not None:
        b = b + layer.beta.numpy()
    shape = layer._broadcast
    y = g.node("Mul", [x, g.constant(f"{layer.name}_scale", a.reshape(shape))])
    return g.node("Add", [y, g.constant(f"{layer.name}_shift", b.reshape(shape))])


def _standardize(layer, g, x, axes, broadcast):
    """``gamma * (x - mean) / sqrt(var + epsilon) + beta`` over ``axes`` (biased variance)."""
    centered = g.node("Sub", [x, g.node("ReduceMean", [x], axes=list(axes), keepdims=1)])
    var = g.node("ReduceMean", [g.node("Mul", [centered, centered])], axes=list(axes), keepdims=1)
    std = g.node("Sqrt", [g.node("Add", [var, g.constant(f"{layer.name}_epsilon", layer.epsilon)])])
    y = g.node("Div", [centered, std])
    if layer.gamma is not None:
        y = g.node("Mul", [y, g.constant(f"{layer.name}_gamma", layer.gamma.numpy().reshape(broadcast))])
    if layer.beta is not None:
        y = g.node("Add", [y, g.constant(f"{layer.name}_beta", layer.beta.numpy().reshape(broadcast))])
    return y


@register_converter("LayerNormalization")
def layer_normalization(layer, g, x):
    return _standardize(layer, g, x, layer._axes, layer._broadcast)


@register_converter("GroupNormalization")  # InstanceNormalization is a subclass
def group_normalization(layer, g, x):
    shape = list(layer.input_shape)
    axis, groups = layer._axis, layer._groups
    if any(s is None for s in shape[1:]):
        raise ValueError(f"export_onnx: layer {layer.name!r} needs a fixed input size, got {layer.input_shape}")
    grouped = [0, *shape[1:axis], groups, shape[axis] // groups, *shape[axis + 1:]]
    y = g.node("Reshape", [x, g.constant(f"{layer.name}_grouped", numpy.array(grouped, dtype=numpy.int64))])
    y = _standardize(layer, g, y, layer._axes, layer._broadcast)
    back = numpy.array([0, *shape[1:]], dtype=numpy.int64)
    return g.node("Reshape", [y, g.constant(f"{layer.name}_shape", back)])


@register_converter("Normalization")
def input_normalization(layer, g, x):
    """The preprocessing layer: ``(x - mean) * (1 / std)`` (or ``x * std + mean`` inverted), with
    ``std = max(sqrt(variance), 1e-7)`` computed as the layer computes it."""
    from ..layers.preprocessing.normalization import EPSILON

    mean = layer.mean.numpy().reshape(layer._broadcast)
    std = numpy.maximum(numpy.sqrt(layer.variance.numpy().reshape(layer._broadcast)), EPSILON)
    if layer.invert:
        return g.node("Add", [g.node("Mul", [x, g.constant(f"{layer.name}_std", std)]),
                              g.constant(f"{layer.name}_mean", mean)])
    centered = g.node("Sub", [x, g.constant(f"{layer.name}_mean", mean)])
    return g.node("Mul", [centered, g.constant(f"{layer.name}_inverse_std", 1.0 / std)])


# ---- sequences -------------------------------------------------------------------------------------------
@register_converter("Embedding")
def embedding(layer, g, x):
    """``Gather(embeddings, ids)``: each id picks its row (ids cast to int64, as ONNX's Gather takes them)."""
    if layer.mask_zero:
        raise ValueError(f"export_onnx: layer {layer.name!r} (Embedding) has mask_zero=True, but an ONNX graph "
                         "carries no Keras masks: the layers after it would read the padding as real steps. Export "
                         "a copy built with mask_zero=False if none of them uses the mask")
    ids = g.node("Cast", [x], to=7)  # 7: onnx.TensorProto.INT64
    return g.node("Gather", [g.constant(f"{layer.name}_embeddings", layer.embeddings.numpy()), ids], axis=0)


_ONNX_ACTIVATIONS = {ops.tanh: "Tanh", ops.sigmoid: "Sigmoid", ops.relu: "Relu"}


def _recurrent_activation_names(layer):
    """ONNX's names of the layer's activations, or a ValueError naming the one ONNX's recurrent ops lack."""
    cell = layer.cell
    wanted = [cell.activation] if not hasattr(cell, "recurrent_activation") else [cell.recurrent_activation,
                                                                                   cell.activation]
    names = []
    for fn in wanted:
        if fn not in _ONNX_ACTIVATIONS:
            raise ValueError(f"export_onnx: layer {layer.name!r} ({type(layer).__name__}) uses the activation "
                             f"{activations.serialize(fn)!r}, which ONNX's recurrent operators do not have (they take "
                             f"{sorted(_ONNX_ACTIVATIONS.values())})")
        names.append(_ONNX_ACTIVATIONS[fn])
    return names


def _recurrent(layer, g, x, op_type, w, r, b, activation_names, initial_state=None, **attrs):
    """ONNX's ``RNN`` / ``LSTM`` / ``GRU`` over a batch-first sequence: time-major in and out (layout 0), the
    reverse direction for ``go_backwards`` (whose outputs Keras lists in the order processed). ONNX's ``Y_h``
    (and LSTM's ``Y_c``) are the final states, returned after the output with ``return_state``; an
    ``initial_state`` list feeds ``initial_h`` (and ``initial_c``)."""
    n = layer.cell.units
    states = 2 if op_type == "LSTM" else 1
    time_major = g.node("Transpose", [x], perm=[1, 0, 2])
    inputs = [time_major, g.constant(f"{layer.name}_W", w[None]), g.constant(f"{layer.name}_R", r[None]),
              g.constant(f"{layer.name}_B", b[None])]
    if initial_state is not None:
        given = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
        if len(given) != states or not all(isinstance(s, str) for s in given):
            raise ValueError(f"export_onnx: layer {layer.name!r} ({type(layer).__name__}) takes {states} initial "
                             f"state tensor(s), got initial_state={initial_state!r}")
        inputs += [""] + [g.node("Unsqueeze", [s, g.constant("axis_0", numpy.array([0], numpy.int64))])
                          for s in given]  # no sequence_lens; (1, batch, units) each
    y, *final = g.node(op_type, inputs, outputs=1 + states, hidden_size=n,
                       direction="reverse" if layer.go_backwards else "forward", activations=activation_names,
                       **attrs)
    steps = g.node("Squeeze", [y, g.constant("axis_1", numpy.array([1], numpy.int64))])  # (T, B, n)
    if layer.go_backwards:  # back to the order processed: last step first
        steps = g.node("Slice", [steps, g.constant("minus_one", numpy.array([-1], numpy.int64)),
                                 g.constant("before_start", numpy.array([-(2 ** 62)], numpy.int64)),
                                 g.constant("axis_0", numpy.array([0], numpy.int64)),
                                 g.constant("minus_one", numpy.array([-1], numpy.int64))])
    if layer.return_sequences:
        out = g.node("Transpose", [steps], perm=[1, 0, 2])
    else:  # the last step processed (Graph.constant stores arrays of rank >= 1: gather [-1], then drop that axis)
        last = g.node("Gather", [steps, g.constant("minus_one", numpy.array([-1], numpy.int64))], axis=0)
        out = g.node("Squeeze", [last, g.constant("axis_0", numpy.array([0], numpy.int64))])
    if not layer.return_state:
        return out
    return [out] + [g.node("Squeeze", [state, g.constant("axis_0", numpy.array([0], numpy.int64))])
                    for state in final]  # (1, batch, units) -> (batch, units)


def _bias(cell, width):
    return cell.bias.numpy() if cell.bias is not None else numpy.zeros(width, cell.kernel.dtype)


@register_converter("SimpleRNN")
def simple_rnn(layer, g, x, initial_state=None):
    cell = layer.cell
    kernel, recurrent = cell.kernel.numpy(), cell.recurrent_kernel.numpy()
    b = numpy.concatenate([_bias(cell, cell.units), numpy.zeros(cell.units, kernel.dtype)])
    return _recurrent(layer, g, x, "RNN", kernel.T, recurrent.T, b, _recurrent_activation_names(layer),
                      initial_state)


@register_converter("LSTM")
def lstm(layer, g, x, initial_state=None):
    """Keras's gates [i, f, c, o] become ONNX's [i, o, f, c]."""
    cell, n = layer.cell, layer.cell.units
    order = numpy.r_[0:n, 3 * n:4 * n, n:2 * n, 2 * n:3 * n]
    kernel, recurrent = cell.kernel.numpy()[:, order], cell.recurrent_kernel.numpy()[:, order]
    b = numpy.concatenate([_bias(cell, 4 * n)[order], numpy.zeros(4 * n, kernel.dtype)])
    gate, act = _recurrent_activation_names(layer)
    return _recurrent(layer, g, x, "LSTM", kernel.T, recurrent.T, b, [gate, act, act], initial_state)


@register_converter("GRU")
def gru(layer, g, x, initial_state=None):
    """Keras's gates [z, r, h] are ONNX's; reset_after is ONNX's linear_before_reset."""
    cell, n = layer.cell, layer.cell.units
    kernel, recurrent = cell.kernel.numpy(), cell.recurrent_kernel.numpy()
    if cell.bias is None:
        b = numpy.zeros(6 * n, kernel.dtype)
    elif cell.reset_after:
        b = numpy.concatenate([cell.bias.numpy()[0], cell.bias.numpy()[1]])
    else:
        b = numpy.concatenate([cell.bias.numpy(), numpy.zeros(3 * n, kernel.dtype)])
    gate, act = _recurrent_activation_names(layer)
    return _recurrent(layer, g, x, "GRU", kernel.T, recurrent.T, b, [gate, act], initial_state,
                      linear_before_reset=int(cell.reset_after))
