"""ONNX export of ``QuantizeWrapper``: the QDQ form (QuantizeLinear / DequantizeLinear pairs around float ops).

onnxruntime reads a ``DequantizeLinear -> Conv/MatMul -> QuantizeLinear`` pattern whose inputs are int8/uint8
codes as one integer op (QLinearConv, QLinearMatMul, MatMulInteger) and runs it with its int8 kernels; other
runtimes run the float ops on the dequantized values. Either way the graph computes what Neurona simulates:

- the input: ``QuantizeLinear(x, s_x, z_x) -> DequantizeLinear`` (uint8 codes; a ``Clip`` to the grid's range
  first when the codes are narrower than 8 bits, since QuantizeLinear saturates at 0 and 255);
  dynamic quantization uses ``DynamicQuantizeLinear`` (8 bits: the same range rule as Neurona's);
- the kernel: int8 codes per output channel stored as the initializer, ``DequantizeLinear(codes, s_w, 0,
  axis=channel)``; the bias: int32 codes on the scale ``s_x * s_w``;
- the output, when quantized: a second QuantizeLinear -> DequantizeLinear pair.

The wrapped layer's own converter writes the op: it is handed a graph whose ``constant`` returns the
dequantized kernel and bias instead of float initializers.
"""

import numpy

from ..saving.onnx_export import converter_for, register_converter
from . import grid
from .quantize_wrapper import INT32_CODES


class _QuantizedWeights:
    """A view of the graph whose ``constant`` stores the wrapped layer's kernel and bias as integer codes."""

    def __init__(self, graph, wrapper, input_scale):
        self._graph, self._wrapper = graph, wrapper
        self._layer = wrapper.layer
        self._weight_scale = wrapper.weight_scale()
        self._input_scale = input_scale

    def __getattr__(self, name):
        return getattr(self._graph, name)

    def constant(self, hint, value, dtype=None):
        layer, g = self._layer, self._graph
        if hint == f"{layer.name}_kernel":
            value = numpy.asarray(value)
            # Dense writes the kernel as it is ((in, out): channels last); convolutions as ONNX's (out, in, ...)
            axis = value.ndim - 1 if value.shape == tuple(layer.kernel.shape) else 0
            codes = grid.quantize(value.astype(numpy.float32), self._weight_scale, 0,
                                  *grid.weight_codes(self._wrapper.weight_bits), axis=axis)
            return self._dequantized(hint, codes, self._weight_scale, axis)
        if hint == f"{layer.name}_bias" and self._input_scale is not None:
            scale = self._input_scale * self._weight_scale
            codes = grid.quantize(numpy.asarray(value, numpy.float32), scale, 0, *INT32_CODES, axis=0)
            return self._dequantized(hint, codes, scale, 0)
        return g.constant(hint, value, dtype)

    def _dequantized(self, hint, codes, scale, axis):
        g = self._graph
        inputs = [g.constant(f"{hint}_codes", codes), g.constant(f"{hint}_scale", scale.astype(numpy.float32)),
                  g.constant(f"{hint}_zero_point", numpy.zeros(scale.shape, codes.dtype))]
        return g.node("DequantizeLinear", inputs, hint=f"{hint}_dequantized", axis=axis)


def _qdq(g, x, scale, zero_point, bits, hint):
    """``x`` through QuantizeLinear -> DequantizeLinear on the uint8 grid ``(scale, zero_point)``."""
    qmin, qmax = grid.activation_codes(bits)
    if qmax < 255:  # QuantizeLinear saturates to uint8's range: clip to the narrower grid's ends first
        lo, hi = (qmin - zero_point) * scale, (qmax - zero_point) * scale
        x = g.node("Clip", [x, g.constant(f"{hint}_lo", numpy.float32(lo)), g.constant(f"{hint}_hi",
                                                                                     numpy.float32(hi))])
    params = [g.constant(f"{hint}_scale", numpy.float32(scale)), g.constant(f"{hint}_zero_point",
                                                                           numpy.uint8(zero_point))]
    codes = g.node("QuantizeLinear", [x, *params], hint=f"{hint}_codes")
    return g.node("DequantizeLinear", [codes, *params], hint=f"{hint}_dequantized")


@register_converter("QuantizeWrapper")
def quantize_wrapper(layer, g, x):
    if g.dtype != numpy.float32:
        raise ValueError(f"export_onnx: quantized layer {layer.name!r} needs a float32 graph (onnxruntime's "
                         f"QuantizeLinear reads float32), got dtype {g.dtype}")
    name, bits, input_scale = layer.name, layer.activation_bits, None
    if layer.activations == "static":
        input_scale, zero_point = layer.activation_params("input")
        x = _qdq(g, x, input_scale, zero_point, bits, f"{name}_input")
    elif layer.activations == "dynamic":
        return _dynamic_dense(layer, g, x)
    y = converter_for(layer.layer)(layer.layer, _QuantizedWeights(g, layer, input_scale), x)
    if layer.quantize_output:
        y = _qdq(g, y, *layer.activation_params("output"), bits, f"{name}_output")
    return y


def _dynamic_dense(layer, g, x):
    """A dynamically quantized Dense layer as onnxruntime's own dynamic quantizer writes it::

        codes, s_x, z_x = DynamicQuantizeLinear(x)            (uint8, on [min(x, 0), max(x, 0)])
        y = Cast(MatMulInteger(codes, W_codes, z_x, 0)) * (s_x * s_w) + b

    which onnxruntime runs as one integer product (MatMulIntegerToFloat).
    """
    from ..layers import Dense
    from ..saving.onnx_layers import apply_activation

    inner, name = layer.layer, layer.name
    if not isinstance(inner, Dense) or layer.activation_bits != 8:
        raise ValueError(f"export_onnx: dynamic quantization exports Dense layers with 8-bit activations "
                         f"(ONNX's DynamicQuantizeLinear), got layer {name!r}: {type(inner).__name__}, "
                         f"{layer.activation_bits} bits")
    weight_scale = layer.weight_scale()
    kernel_codes = grid.quantize(inner.kernel.numpy(), weight_scale, 0, *grid.weight_codes(layer.weight_bits),
                                 axis=1)
    codes, scale, zero = g.node("DynamicQuantizeLinear", [x], hint=f"{name}_input", outputs=3)
    product = g.node("MatMulInteger", [codes, g.constant(f"{name}_kernel_codes", kernel_codes), zero,
                                       g.constant(f"{name}_kernel_zero_point", numpy.zeros((), numpy.int8))])
    steps = g.node("Mul", [scale, g.constant(f"{name}_kernel_scale", weight_scale.astype(numpy.float32))])
    y = g.node("Mul", [g.node("Cast", [product], to=g.onnx.TensorProto.FLOAT), steps])
    if inner.bias is not None:
        y = g.node("Add", [y, g.constant(f"{name}_bias", inner.bias.numpy())])
    return apply_activation(g, inner.activation, y, inner)
