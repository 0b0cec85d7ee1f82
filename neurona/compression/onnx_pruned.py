"""ONNX export of ``PruneWrapper``: the wrapped layer's own converter on its masked kernel (ONNX has no sparse
initializers that onnxruntime's dense ops read, so the zeros are stored as zeros)."""

from ..saving.onnx_export import converter_for, register_converter
from .wrapper import substituted


@register_converter("PruneWrapper")
def prune_wrapper(layer, g, x):
    with substituted(layer.layer, kernel=layer.layer.kernel * layer.mask):
        return converter_for(layer.layer)(layer.layer, g, x)
