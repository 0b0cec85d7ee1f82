"""``export_onnx``: a Sequential model as an ONNX graph, one converter function per layer class.

The exporter walks the layers in order; each layer class has a converter
``fn(layer, graph, x) -> y`` that appends ONNX nodes reading the tensor named
``x`` and returns the name of its output. Converters live in a registry keyed
by class name (``register_converter("Conv2D")``), so a new layer needs only a
small function, and a subclass without one uses its nearest base class's.
Tensors between layers keep Neurona's layout (channels_last, NHWC); converters
of ops that ONNX defines on NCHW (Conv, MaxPool, ...) transpose around them.
Layers run in inference mode: Dropout is the identity, normalization uses its
moving statistics. The result passes ``onnx.checker.check_model(full_check=True)``.

``onnx`` is an optional dependency: ``pip install "neurona[onnx]"``.
"""

import numpy

from ..arguments import check_bool, check_path
from ..callbacks._arguments import check_count
from .atomic import atomic_file

DEFAULT_OPSET = 17
_converters = {}


def register_converter(class_name):
    """Decorator registering ``fn(layer, graph, x) -> y`` as the ONNX converter of layers of ``class_name``."""
    name = class_name if isinstance(class_name, str) else class_name.__name__

    def add(fn):
        _converters[name] = fn
        return fn

    return add


def converter_for(layer):
    """The converter of ``layer``'s class (or of its nearest base class that has one)."""
    for cls in type(layer).__mro__:
        if cls.__name__ in _converters:
            return _converters[cls.__name__]
    raise ValueError(f"export_onnx: no ONNX converter for layer {layer.name!r} ({type(layer).__name__}); "
                     f"converters exist for {sorted(_converters)}. Register one with "
                     f"@neurona.saving.register_converter({type(layer).__name__!r})")


def _onnx():
    try:
        import onnx
    except ImportError:
        raise ImportError('export_onnx needs the onnx package: pip install "neurona[onnx]"') from None
    return onnx


class Graph:
    """Collects the nodes and constant tensors of the graph being built; names every tensor uniquely."""

    def __init__(self, onnx, dtype):
        self.onnx, self.helper = onnx, onnx.helper
        self.dtype = numpy.dtype(dtype)
        self.nodes, self.initializers = [], []
        self._count = 0

    def name(self, hint):
        self._count += 1
        return f"{hint}_{self._count}"

    def constant(self, hint, value, dtype=None):
        """A constant tensor (float arrays take the model's dtype unless ``dtype`` says otherwise)."""
        array = numpy.asarray(value)
        array = array.astype(dtype or (self.dtype if array.dtype.kind == "f" else array.dtype))
        name = self.name(hint)
        self.initializers.append(self.onnx.numpy_helper.from_array(numpy.ascontiguousarray(array), name))
        return name

    def node(self, op_type, inputs, hint=None, **attrs):
        """Append a node with one output; returns the output's name."""
        out = self.name(hint or op_type.lower())
        self.nodes.append(self.helper.make_node(op_type, list(inputs), [out], name=out + "_node", **attrs))
        return out


def export_onnx(model, path, opset=DEFAULT_OPSET, check=True):
    """Write ``model`` (inference mode) to the ONNX file ``path`` (atomically) and return the ONNX ModelProto.

    The graph has one input ``"input"`` of shape ``(batch, *model.input_shape[1:])``
    (the batch size is symbolic) and one output ``"output"``.

    Args:
        model: a built Sequential model whose layers all have converters.
        path: the ``.onnx`` file to write.
        opset: the ONNX operator set version (17 by default, run by onnxruntime >= 1.14).
        check: run ``onnx.checker.check_model(full_check=True)`` (also infers and checks shapes).

    Raises:
        TypeError: ``path`` is not a path (str or os.PathLike), or ``check`` is not a bool.
        ImportError: onnx is not installed.
        ValueError: the model is not built, or a layer has no converter.
    """
    path = check_path(path, "export_onnx", "path")
    check = check_bool(check, "export_onnx", "check")
    opset = check_count(opset, "export_onnx", "opset", low=1)
    onnx = _onnx()
    if not model.built or model.input_shape is None:
        raise ValueError(f"export_onnx: model {model.name!r} is not built; build it or call it on data first")
    from . import onnx_layers  # noqa: F401 - registers the built-in converters

    dtype = model.weights[0].dtype if model.weights else numpy.dtype(model.layers[0].dtype)
    graph = Graph(onnx, dtype)
    x = "input"
    for layer in model.layers:
        x = converter_for(layer)(layer, graph, x)
    graph.nodes.append(onnx.helper.make_node("Identity", [x], ["output"], name="output_node"))
    elem = onnx.helper.np_dtype_to_tensor_dtype(graph.dtype)
    shape = ["batch", *model.input_shape[1:]]
    inputs = [onnx.helper.make_tensor_value_info("input", elem, [s if s is not None else None for s in shape])]
    out_shape = ["batch", *model.output_shape[1:]]
    outputs = [onnx.helper.make_tensor_value_info("output", elem, out_shape)]
    proto = onnx.helper.make_model(
        onnx.helper.make_graph(graph.nodes, model.name, inputs, outputs, graph.initializers),
        opset_imports=[onnx.helper.make_opsetid("", opset)], producer_name="neurona")
    if check:
        onnx.checker.check_model(proto, full_check=True)
    data = proto.SerializeToString()
    with atomic_file(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
    return proto
