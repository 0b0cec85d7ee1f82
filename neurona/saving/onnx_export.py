"""``export_onnx``: a Sequential or functional model as an ONNX graph, one converter function per layer class.

The exporter replays the model's graph (a Sequential model's recorded stack, a
functional model's nodes in run order): each call of a layer becomes the ONNX
nodes of its class's converter ``fn(layer, graph, x, **call_arguments) -> y``, which reads the
tensor named ``x`` (a list of names for a layer called on a list, such as the
merge layers and the ops on symbolic tensors, TensorOp) and returns the name of
its output (or a list of names). A shared layer is converted at each of its
calls; its weights become one initializer each, used by every call (identical
constants are stored once). A nested Sequential or functional model is inlined:
its own graph is replayed on the tensors it is called on. Converters live in a
registry keyed by class name (``register_converter("Conv2D")``), so a new layer
needs only a small function, and a subclass without one uses its nearest base
class's. ``graph.spec(x)`` gives a tensor's symbolic shape and dtype.

Tensors between layers keep Neurona's layout (channels_last, NHWC); converters
of ops that ONNX defines on NCHW (Conv, MaxPool, ...) transpose around them.
Layers run in inference mode: Dropout is the identity, normalization uses its
moving statistics. A model with one input and one output has graph input
``"input"`` and output ``"output"``; with several, they are named by the input
layers' names (or the keys of a dict of inputs) and the output layers' names
(or the keys of a dict of outputs), in ``model.inputs`` / ``model.outputs``
order. The result passes ``onnx.checker.check_model(full_check=True)``.

``onnx`` is an optional dependency: ``pip install "neurona[onnx]"``.
"""

import warnings

import numpy

from .. import nest
from ..arguments import check_bool, check_path
from ..backend.dtypes import as_dtype, is_bfloat16, is_floating
from ..callbacks._arguments import check_count
from ..layers.symbolic import SymbolicTensor
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
    """The converter of ``layer``'s class (or of its nearest base class that has one).

    A layer class defined above ``saving`` (the compression wrappers) names the module that registers its
    converter in its ``onnx_converter_module`` attribute; that module is imported on the first export.
    """
    module = getattr(type(layer), "onnx_converter_module", None)
    if module is not None and type(layer).__name__ not in _converters:
        import importlib

        importlib.import_module(module)
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

    def __init__(self, onnx, dtype, reserved=()):
        self.onnx, self.helper = onnx, onnx.helper
        self.dtype = numpy.dtype(dtype)
        self.nodes, self.initializers = [], []
        self.specs = {}  # tensor name -> (shape, dtype name) of the symbolic tensor it computes
        self._count = 0
        self._reserved = set(reserved)  # the graph's input and output names
        self._constants = {}  # (dtype, shape, bytes) -> name: a weight used by several calls is stored once

    def name(self, hint):
        while True:
            self._count += 1
            name = f"{hint}_{self._count}"
            if name not in self._reserved:
                return name

    def constant(self, hint, value, dtype=None):
        """A constant tensor (float arrays take the model's dtype unless ``dtype`` says otherwise)."""
        array = numpy.ascontiguousarray(numpy.asarray(value))
        array = array.astype(dtype or (self.dtype if is_floating(array.dtype) else array.dtype))
        key = (array.dtype.str, array.shape, array.tobytes())
        if key not in self._constants:
            name = self._constants[key] = self.name(hint)
            self.initializers.append(self.onnx.numpy_helper.from_array(array, name))
        return self._constants[key]

    def spec(self, name):
        """``(shape, dtype)`` of the symbolic tensor the graph tensor ``name`` holds (batch axis first)."""
        return self.specs.get(name, (None, self.dtype.name))

    def node(self, op_type, inputs, hint=None, outputs=1, **attrs):
        """Append a node; returns its output's name (a list of ``outputs`` names when it has several)."""
        names = [self.name(hint or op_type.lower()) for _ in range(outputs)]
        self.nodes.append(self.helper.make_node(op_type, list(inputs), names, name=names[0] + "_node", **attrs))
        return names[0] if outputs == 1 else names


def _graph_of(model):
    """``(flat inputs, nodes in run order, flat outputs)`` of a Sequential or functional model."""
    from ..models import Functional, Sequential  # saving sits above models

    if isinstance(model, Functional):
        return model.inputs, model._nodes, model.outputs
    if isinstance(model, Sequential) and model._graph is not None:
        inputs, outputs, nodes = model._graph
        return [inputs], nodes, [outputs]
    if isinstance(model, Sequential):
        raise ValueError(f"export_onnx: model {model.name!r} is not built; build it or call it on data first")
    raise ValueError(f"export_onnx: model {model.name!r} is a subclassed {type(model).__name__}, whose graph is "
                     "in its Python code; only Sequential and functional models (and models nested in them) can "
                     "be exported")


def _convert(layer, graph, x, kwargs):
    """Run ``layer``'s converter on ``x``; the call's other arguments (an RNN's ``initial_state``, attention's
    ``use_causal_mask`` ...) go to converters that take them by name, and are refused by the others."""
    import inspect

    fn = converter_for(layer)
    if kwargs:
        taken = inspect.signature(fn).parameters
        extra = sorted(key for key in kwargs if key not in taken and not any(
            p.kind is p.VAR_KEYWORD for p in taken.values()))
        if extra:
            raise ValueError(f"export_onnx: layer {layer.name!r} ({type(layer).__name__}) is called with "
                             f"{', '.join(f'{key}=' for key in extra)}, which its ONNX converter does not take")
    return fn(layer, graph, x, **kwargs)


def _emit(model, graph, input_names):
    """Append the nodes of ``model``'s graph, reading the tensors ``input_names``; returns its output names."""
    from ..models import Functional, Sequential

    inputs, nodes, outputs = _graph_of(model)
    names = {id(t): name for t, name in zip(inputs, input_names)}

    def name_of(value):
        return names[id(value)] if isinstance(value, SymbolicTensor) else value

    for node in nodes:
        layer, args = node.layer, nest.map_structure(name_of, list(node.args))
        if isinstance(layer, (Functional, Sequential)):  # a nested model: its graph, inlined
            given = args[0]
            flat = layer._flat_values(given) if isinstance(layer, Functional) else [given]
            results = _emit(layer, graph, flat)
        else:
            # inference mode; mask=None is no mask (the ones layers make are refused where they are made)
            kwargs = {key: nest.map_structure(name_of, value) for key, value in node.kwargs.items()
                      if key != "training" and not (key == "mask" and value is None)}
            results = _convert(layer, graph, args[0] if len(args) == 1 else args, kwargs)
        results = results if isinstance(results, (list, tuple)) else [results]
        if len(results) != len(node.flat_outputs):
            raise ValueError(f"export_onnx: the converter of layer {layer.name!r} ({type(layer).__name__}) "
                             f"returned {len(results)} tensors, the layer returns {len(node.flat_outputs)}")
        for symbolic, result in zip(node.flat_outputs, results):
            names[id(symbolic)] = result
            graph.specs.setdefault(result, (symbolic.shape, symbolic.dtype))
    return [names[id(t)] for t in outputs]


def _endpoint_names(structure, flat, default, label):
    """The graph's input (or output) names: ``default`` for one, else dict keys or layer names made unique."""
    if len(flat) == 1:
        return [default]
    if isinstance(structure, dict):
        return [str(key) for key in sorted(structure)]  # nest.flatten's order
    out = []
    for tensor in flat:
        name = label(tensor)
        candidate, n = name, 1
        while candidate in out:
            candidate, n = f"{name}_{n}", n + 1
        out.append(candidate)
    return out


def _value_info(onnx, graph, name, symbolic):
    dtype = graph.dtype if is_floating(symbolic.dtype) else numpy.dtype(symbolic.dtype)
    shape = ["batch" if i == 0 else d for i, d in enumerate(symbolic.shape)]
    return onnx.helper.make_tensor_value_info(name, onnx.helper.np_dtype_to_tensor_dtype(dtype), shape)


# ops onnxruntime's CPU provider has no float64 kernel for (1.32, probed on single-op graphs): a float64 graph
# using them is valid ONNX that onnxruntime refuses to run
NO_DOUBLE_KERNEL_IN_ONNXRUNTIME = ("AveragePool", "Conv", "Elu", "Erf", "GRU", "HardSigmoid", "LSTM", "RNN", "Selu",
                                   "Softplus", "Softsign")
DTYPES = ("float32", "float64")


def _graph_dtype(model, dtype):
    """The float dtype of the graph: ``dtype`` when given, else the model's weights' (or its layers'); float32
    for bfloat16 weights (onnxruntime's CPU provider has almost no bfloat16 kernels)."""
    found = _own_graph_dtype(model, dtype)
    return numpy.dtype(numpy.float32) if is_bfloat16(found) else found


def _own_graph_dtype(model, dtype):
    if dtype is not None:
        if str(dtype) not in DTYPES:
            raise ValueError(f"export_onnx: dtype must be one of {', '.join(DTYPES)} or None (the model's own), "
                             f"got {dtype!r}")
        return numpy.dtype(str(dtype))
    if model.weights:
        return numpy.dtype(model.weights[0].dtype)
    from ..layers import InputLayer

    floats = [as_dtype(layer.dtype) for layer in getattr(model, "layers", ()) if not isinstance(layer, InputLayer)
              and is_floating(layer.dtype)]
    return floats[0] if floats else as_dtype(model.dtype)


def _warn_without_double_kernels(nodes, dtype):
    if dtype != numpy.float64:
        return
    missing = sorted({node.op_type for node in nodes} & set(NO_DOUBLE_KERNEL_IN_ONNXRUNTIME))
    if missing:
        warnings.warn(f"export_onnx: this float64 graph uses {', '.join(missing)}, which onnxruntime's CPU "
                      "provider runs in float32 only (its session will fail with NOT_IMPLEMENTED); other runtimes "
                      "may run it. Pass dtype='float32' for a float32 graph onnxruntime runs", stacklevel=3)


def export_onnx(model, path, opset=DEFAULT_OPSET, check=True, dtype=None):
    """Write ``model`` (inference mode) to the ONNX file ``path`` (atomically) and return the ONNX ModelProto.

    The graph's inputs have shape ``(batch, *input_shape[1:])`` (the batch size is symbolic); a
    model with one input and one output has them named ``"input"`` and ``"output"``, otherwise by
    the input and output layers' names (see the module docstring).

    Args:
        model: a built Sequential or functional model (nested models allowed) whose layers all have
            converters.
        path: the ``.onnx`` file to write.
        opset: the ONNX operator set version (17 by default, run by onnxruntime >= 1.14).
        check: run ``onnx.checker.check_model(full_check=True)`` (also infers and checks shapes).
        dtype: the graph's float dtype, ``"float32"`` or ``"float64"`` (weights and float inputs cast to it);
            None: the model's own (its weights', else its layers'). A float64 graph with ops onnxruntime
            has no float64 kernel for (``NO_DOUBLE_KERNEL_IN_ONNXRUNTIME``: Conv, the recurrent ops, ...) is
            written with a warning.

    Raises:
        TypeError: ``path`` is not a path (str or os.PathLike), or ``check`` is not a bool.
        ImportError: onnx is not installed.
        ValueError: the model is not built or is subclassed, a layer has no converter, or ``dtype`` is not
            one of the above.
    """
    path = check_path(path, "export_onnx", "path")
    check = check_bool(check, "export_onnx", "check")
    opset = check_count(opset, "export_onnx", "opset", low=1)
    onnx = _onnx()
    if not model.built or model.input_shape is None:
        raise ValueError(f"export_onnx: model {model.name!r} is not built; build it or call it on data first")
    from . import onnx_activation_layers, onnx_attention, onnx_layers, onnx_merging, onnx_reshaping  # noqa: F401

    inputs, _, outputs = _graph_of(model)
    input_names = _endpoint_names(getattr(model, "input", None), inputs, "input", lambda t: t.layer.name)
    output_names = _endpoint_names(getattr(model, "output", None), outputs, "output", lambda t: t.layer.name)
    graph = Graph(onnx, _graph_dtype(model, dtype), reserved=input_names + output_names)
    for name, tensor in zip(input_names, inputs):
        graph.specs[name] = (tensor.shape, tensor.dtype)
    results = _emit(model, graph, input_names)
    for result, name in zip(results, output_names):
        graph.nodes.append(onnx.helper.make_node("Identity", [result], [name], name=f"{name}_node"))
    proto = onnx.helper.make_model(
        onnx.helper.make_graph(graph.nodes, model.name, [_value_info(onnx, graph, n, t) for n, t in
                                                         zip(input_names, inputs)],
                               [_value_info(onnx, graph, n, t) for n, t in zip(output_names, outputs)],
                               graph.initializers),
        opset_imports=[onnx.helper.make_opsetid("", opset)], producer_name="neurona")
    if check:
        onnx.checker.check_model(proto, full_check=True)
    _warn_without_double_kernels(graph.nodes, graph.dtype)
    data = proto.SerializeToString()
    with atomic_file(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
    return proto
