"""ONNX export of ``PruneWrapper``: the wrapped layer's own converter on its masked kernel (ONNX has no sparse
initializers that onnxruntime's dense ops read, so the zeros are stored as zeros)."""

from ..saving.onnx_export import converter_for, register_converter
from .wrapper import substituted


def inner_converted(wrapper, g, x, kernel):
    """The wrapped layer written by its own converter with ``kernel`` in place of its kernel."""
    with substituted(wrapper.layer, kernel=kernel):
        return converter_for(wrapper.layer)(wrapper.layer, g, x)


@register_converter("PruneWrapper")
def prune_wrapper(layer, g, x):
    return inner_converted(layer, g, x, layer.layer.kernel * layer.mask)
