"""ONNX export of ``BinaryWrapper``: the wrapped layer's own converter on its binarized kernel ``H sign(w)``
(the deterministic one: inference is deterministic), stored as float initializers that onnxruntime's Conv and
MatMul read as they are."""

from ..autograd import no_grad
from ..saving.onnx_export import register_converter
from .onnx_pruned import inner_converted


@register_converter("BinaryWrapper")
def binary_wrapper(layer, g, x):
    with no_grad():
        return inner_converted(layer, g, x, layer.binary_kernel())
