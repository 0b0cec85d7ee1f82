"""Keras's architecture JSON <-> Neurona's model entry (``json_config.model_config`` / ``model_from_config``).

Layouts, checked against Keras 3.15.1 (``keras/src/models/functional.py``, ``sequential.py``,
``saving/serialization_lib.py``) and Keras 2 as ``keras/src/legacy/saving`` reads it:

- Keras 3 writes ``{"module", "class_name", "config", "registered_name", "build_config", "compile_config"}``
  (``.keras`` archives hold the same dict as ``config.json``). A Sequential config lists layer entries (no
  ``name`` beside them) and ``build_input_shape``; a functional one (``"Functional"``) lists entries with
  ``name`` and ``inbound_nodes`` (``{"args", "kwargs"}``, tensors as ``__keras_tensor__`` with
  ``keras_history`` ``[layer, node, tensor]``) and ``input_layers``/``output_layers``.
- Node numbers of nested models: Neurona counts a nested model's calls from 0. Keras 3 does too in the calls'
  arguments, but numbers them from 1 in ``input_layers``/``output_layers`` for a nested Functional
  (``Functional.get_config``'s ``kept_nodes = 1``, undone by ``get_tensor``'s ``node_index -= 1``; a nested
  Sequential is not a Functional there). tf.keras 2 gave a nested graph model a first node of its own, so
  it counted from 1 everywhere; since the last call of a layer is always referenced, from_keras finds that
  offset from the references (a nested model referenced at node ``len(inbound_nodes)``).
- Keras 2 writes no ``module``; ``keras_version`` and ``backend`` at the top; ``batch_input_shape`` in the
  first layer's (or InputLayer's) config; ``inbound_nodes`` as lists ``[[["input_1", 0, 0, {}]]]`` (one list
  of ``[layer, node, tensor, kwargs]`` per call); ``input_layers``/``output_layers`` always lists of
  ``[layer, node, tensor]`` (a single one is unpacked here, as Keras 2 models took one array); dtype strings
  or ``Policy`` objects; class ``"Functional"`` or ``"Model"``; Keras 2.0-2.2 Sequential configs are a bare
  list of layers.

What Neurona cannot represent is refused, naming the source, the layer and the option: from_keras raises
``FileFormatError``, to_keras ``ValueError``. Lambda layers (and TensorFlow op layers) are always refused:
nothing from a file is executed, imported or unpickled. The per-layer tables are in layer_options.py.
"""

from ..errors import FileFormatError
from . import layer_options as opts
from .layer_options import refuse
from .recorded_masks import ancestors, check_mask_ops, mask_argument, recorded_masks

MODEL_CLASSES = {"Sequential": "Sequential", "Functional": "Functional", "Model": "Functional"}
_KERAS_MODEL = {"Sequential": ("keras", None), "Functional": ("keras.src.models.functional", "Functional")}
_TENSOR = "__keras_tensor__"
_NEURONA_BASE = ("name", "trainable", "dtype", "activity_regularizer")


def _neurona_module(class_name):
    """The module of Neurona's class (layer or model) of that name, as model_config writes it."""
    from ... import layers, models  # saving sits above layers and models; imported lazily as json_config does

    return getattr(models if class_name in _KERAS_MODEL else layers, class_name).__module__


def _is_neurona_module(module):
    return isinstance(module, str) and (module == "neurona" or module.startswith("neurona."))


def is_keras_config(data):
    """Whether ``data`` is Keras's model JSON (Keras 3 or 2, or a ``.keras`` archive's ``config.json``) rather
    than Neurona's own (tagged ``"format": "neurona.model"``, from ``neurona.`` modules)."""
    if not isinstance(data, dict) or "class_name" not in data or "config" not in data:
        return False
    module = data.get("module")
    if data.get("format") is not None or _is_neurona_module(module):
        return False
    if any(key in data for key in ("keras_version", "backend", "build_config", "compile_config")):
        return True
    if isinstance(module, str):
        return module == "keras" or module.startswith("keras.")
    return data["class_name"] in MODEL_CLASSES  # Keras 2 writes no module; Neurona's model_config always does


# ---- Keras -> Neurona ------------------------------------------------------------------------------------------
def from_keras(data, source):
    """Neurona's model entry (for ``json_config.model_from_config``) of Keras's model JSON ``data``."""
    if not isinstance(data, dict) or not isinstance(data.get("class_name"), str) or "config" not in data:
        raise FileFormatError(f"{source}: expected Keras's model JSON, an object with 'class_name' and 'config', "
                              f"got {str(data)[:80]!r}")
    cls = data["class_name"]
    if cls not in MODEL_CLASSES or not opts.is_keras_origin(data, cls, "models"):
        raise FileFormatError(f"{source}: the model's class is {cls[:80]!r}; Neurona rebuilds Keras's Sequential and "
                              "functional (Functional, Model) models; a subclassed or custom model's code is not in "
                              "its JSON (build it in Neurona and load the weights)")
    config, shape = _model_config(data, source, ())
    return {"module": _neurona_module(MODEL_CLASSES[cls]), "class_name": MODEL_CLASSES[cls], "config": config,
            "registered_name": None, "build_input_shape": shape}


def _where(source, path, name, cls):
    inside = f" in model {'/'.join(path)!r}" if path else ""
    return f"{source}: layer {name!r} ({cls}){inside}"


def _model_config(entry, source, path):
    """``(Neurona config, build input shape)`` of a Keras Sequential or functional model entry."""
    config = entry["config"]
    if entry["class_name"] == "Sequential":
        return _sequential(config, entry, source, path)
    if not isinstance(config, dict):
        raise FileFormatError(f"{source}: model config {str(config)[:80]!r}; expected an object")
    # Keras 2 is told by its calls' layout (lists, not {"args", "kwargs"}), never by a missing "module":
    # Keras 3's legacy .h5 files write Keras 3's layout without modules
    return _functional(config, source, path), None


def _model_options(config, allowed, where):
    for key in config:
        if key not in allowed:
            refuse(where, key, config[key], f"Neurona's models take only {', '.join(sorted(allowed))}")
    opts.dtype_from_keras(config.get("dtype"), where)  # the model's own policy: checked, else unused (its layers
    # carry theirs)


def _sequential(config, entry, source, path):
    if isinstance(config, list):  # Keras 2.0-2.2: the layers alone
        config = {"layers": config}
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise FileFormatError(f"{source}: Sequential config {str(config)[:80]!r}; expected an object with a "
                              "'layers' list")
    name = config.get("name")
    path = path + (str(name),)
    where = f"{source}: Sequential model {name!r}"
    _model_options(config, {"name", "trainable", "dtype", "layers", "build_input_shape"}, where)
    layers = [_layer(item, source, path) for item in config["layers"]]
    out = {"name": name, "layers": layers}
    if config.get("trainable") is False:
        out["trainable"] = False
    shape = config.get("build_input_shape") or (entry.get("build_config") or {}).get("input_shape")
    knows_shape = layers and (layers[0]["class_name"] == "InputLayer" or "input_shape" in layers[0]["config"])
    if knows_shape or not isinstance(shape, list) or not shape:
        return out, None
    return out, [None] + list(shape[1:])  # the batch size Keras may have built for is not part of the model


def _functional(config, source, path):
    name = config.get("name")
    path = path + (str(name),)
    where = f"{source}: functional model {name!r}"
    for key in ("layers", "input_layers", "output_layers"):
        if key not in config:
            raise FileFormatError(f"{where}: '{key}' is missing from its config")
    if not isinstance(config["layers"], list):
        raise FileFormatError(f"{where}: 'layers' is {str(config['layers'])[:80]!r}; expected a list")
    _model_options(config, {"name", "trainable", "layers", "input_layers", "output_layers"}, where)
    legacy = any(isinstance(node, list) for item in config["layers"] if isinstance(item, dict)
                 for node in item.get("inbound_nodes") or [])
    shifts, endpoint_shifts = _node_shifts(config, legacy)
    masks = {} if legacy else recorded_masks(config["layers"])
    upstream = ancestors(config["layers"]) if masks else {}
    if not legacy:
        check_mask_ops(config["layers"], masks, lambda item: _where(source, path, item.get("name"),
                                                                    item.get("class_name")))
    layers = []
    for item in config["layers"]:
        if isinstance(item, dict) and item.get("name") in masks:
            continue  # a mask Keras recorded as ops, which Neurona's layers compute themselves
        entry = _layer(item, source, path)
        nodes = item.get("inbound_nodes", [])
        if not isinstance(nodes, list):
            raise FileFormatError(f"{_where(source, path, entry['name'], entry['class_name'])}: 'inbound_nodes' is "
                                  f"{str(nodes)[:80]!r}; expected a list of calls")
        entry["inbound_nodes"] = [_node(node, shifts, _where(source, path, entry["name"], entry["class_name"]),
                                        masks, _call_options(entry["class_name"]), upstream) for node in nodes]
        layers.append(entry)
    out = {"name": name, "trainable": config.get("trainable") is not False, "layers": layers}
    for key in ("input_layers", "output_layers"):
        value = config[key]
        if legacy and isinstance(value, list) and len(value) == 1 and isinstance(value[0], list):
            value = value[0]  # Keras 2's one-element list: a model of one input (output) took one array
        out[key] = _endpoints(value, endpoint_shifts, f"{where}: '{key}'")
    return out


def _is_history(value):
    return isinstance(value, (list, tuple)) and len(value) in (3, 4) and isinstance(value[0], str)


def _references(value):
    """Every ``[layer, node, tensor]`` a node (either layout) or an endpoint structure refers to."""
    if isinstance(value, dict) and value.get("class_name") == _TENSOR:
        history = (value.get("config") or {}).get("keras_history")
        return [history] if _is_history(history) else []
    if _is_history(value):
        return [value]
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    return [ref for item in items for ref in _references(item)]


def _node_shifts(config, legacy):
    """``({nested model: 1}, {nested model: 1})``: the nested models whose calls the file numbers from 1 in the
    calls' arguments and in ``input_layers``/``output_layers`` (see the module docstring)."""
    if not legacy:
        functional = {item.get("name"): 1 for item in config["layers"]
                      if isinstance(item, dict) and item.get("class_name") in ("Functional", "Model")}
        return {}, functional
    counts = {item["name"]: len(item.get("inbound_nodes") or []) for item in config["layers"]
              if isinstance(item, dict) and item.get("class_name") in MODEL_CLASSES
              and isinstance(item.get("name"), str)}
    highest = {}
    for ref in _references([item.get("inbound_nodes") for item in config["layers"] if isinstance(item, dict)]
                           + [config["input_layers"], config["output_layers"]]):
        if ref[0] in counts and isinstance(ref[1], int):
            highest[ref[0]] = max(highest.get(ref[0], -1), ref[1])
    shifts = {name: 1 for name, count in counts.items() if count and highest.get(name) == count}
    return shifts, shifts


def _history(value, shifts, where):
    if not _is_history(value) or not all(isinstance(i, int) and not isinstance(i, bool) for i in value[1:3]):
        raise FileFormatError(f"{where}: a tensor reference is {str(value)[:80]!r}; expected [layer name, node index, "
                              "tensor index]")
    return [value[0], value[1] - shifts.get(value[0], 0), value[2]]


def _endpoints(value, shifts, where):
    if _is_history(value):
        return _history(value, shifts, where)
    if isinstance(value, list) and value:
        return [_endpoints(item, shifts, where) for item in value]
    if isinstance(value, dict) and value:
        return {key: _endpoints(item, shifts, where) for key, item in value.items()}
    raise FileFormatError(f"{where} is {str(value)[:80]!r}; expected [layer name, node index, tensor index] or a "
                          "list or dict of them")


def _tensor(history, shifts, where, config=None):
    config = {key: value for key, value in (config or {}).items() if key in ("shape", "dtype")}
    return {"class_name": _TENSOR, "config": {**config, "keras_history": _history(history, shifts, where)}}


def _arguments(value, shifts, where):
    """A call's arguments with their tensors translated; any other serialized object is refused."""
    if isinstance(value, dict) and value.get("class_name") == _TENSOR:
        return _tensor((value.get("config") or {}).get("keras_history"), shifts, where, value.get("config"))
    if isinstance(value, dict) and "class_name" in value:
        refuse(where, "inbound_nodes", value, "a call's arguments must be tensors or plain values (Neurona rebuilds "
               "no arrays or objects given to a call)")
    if isinstance(value, dict):
        return {key: _arguments(item, shifts, where) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_arguments(item, shifts, where) for item in value]
    return value


def _input_upstream(node, upstream):
    """The layers upstream of a call's first input (that input's own layer included)."""
    args = node.get("args") or [None]
    first = args[0][0] if isinstance(args[0], list) and args[0] else args[0]
    history = (first.get("config") or {}).get("keras_history") if isinstance(first, dict) else None
    if not _is_history(history):
        return set()
    return {history[0]} | upstream.get(history[0], set())


def _call_options(class_name):
    """The keyword arguments a call of Neurona's layer ``class_name`` takes beside its inputs, ``mask`` and
    ``training`` (an RNN's ``initial_state``, an attention layer's ``use_causal_mask`` ...); none for models."""
    import inspect

    from ... import layers  # saving sits above layers

    cls = getattr(layers, class_name, None) if class_name not in _KERAS_MODEL else None
    if cls is None:
        return ()
    parameters = list(inspect.signature(cls.call).parameters.values())[2:]  # self, the inputs
    return tuple(p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
                 and p.name not in ("mask", "training"))


def _node(node, shifts, where, masks=None, options=(), upstream=None):
    """One call in Neurona's (Keras 3's) layout, from either Keras layout; ``options`` are the layer's call
    arguments beside ``training`` (tensors, like an RNN's ``initial_state``, or plain values)."""
    if isinstance(node, list):  # Keras 2: [[layer, node, tensor, kwargs], ...], one entry per input tensor
        tensors, kwargs = [], {}
        for item in node:
            if not _is_history(item) or (len(item) == 4 and not isinstance(item[3], dict)):
                refuse(where, "inbound_nodes", item, "expected [layer name, node index, tensor index, kwargs]")
            tensors.append(_tensor(item[:3], shifts, where))
            kwargs.update(item[3] if len(item) == 4 else {})
        args = [tensors[0] if len(tensors) == 1 else tensors]
    elif isinstance(node, dict):
        kwargs = node.get("kwargs", {})
        if isinstance(kwargs, dict) and kwargs.get("mask") is not None and mask_argument(
                kwargs["mask"], masks or {}, where, _input_upstream(node, upstream or {})):
            kwargs = {key: value for key, value in kwargs.items() if key != "mask"}
        if isinstance(kwargs, dict) and isinstance(kwargs.get("training"), bool):
            # Keras 3 records the training default of a layer's call in its node and, running the model, hands
            # the layer the model's own training flag instead (functional.py's operation_fn): so does Neurona
            kwargs = {key: value for key, value in kwargs.items() if key != "training"}
        args = _arguments(node.get("args", []), shifts, where)
        kwargs = _arguments(kwargs, shifts, where)
        if not isinstance(args, list) or not isinstance(kwargs, dict):
            refuse(where, "inbound_nodes", node, "expected a call as {'args': [...], 'kwargs': {...}}")
    else:
        refuse(where, "inbound_nodes", node, "expected a call as {'args', 'kwargs'} or Keras 2's list")
    for key, value in list(kwargs.items()):
        if key == "mask" and value is None:
            del kwargs[key]  # Keras passes mask=None to nested models
        elif key in options:
            continue
        elif key != "training" or not (value is None or isinstance(value, bool)):
            takes = ", ".join(("training (true, false or null)",) + options)
            refuse(where, f"call argument {key}", value, f"this layer's call takes {takes}")
    return {"args": args, "kwargs": kwargs}


def _layer(item, source, path):
    """Neurona's layer entry for one Keras layer entry (a nested model's too)."""
    if not isinstance(item, dict) or not isinstance(item.get("class_name"), str) or "config" not in item:
        raise FileFormatError(f"{source}: a layer entry is {str(item)[:80]!r}; expected an object with 'class_name' "
                              "and 'config'")
    cls, config = item["class_name"], item["config"]
    name = item.get("name", config.get("name") if isinstance(config, dict) else None)
    where = _where(source, path, name, cls)
    if cls in opts.CODE_LAYERS:
        raise FileFormatError(f"{where}: a {cls} layer holds Python code (or a TensorFlow op), which Neurona never "
                              "runs from a file; rebuild that part of the model in code and load the weights")
    if isinstance(item.get("module"), str) and item["module"].startswith("keras.src.ops."):
        raise FileFormatError(f"{where}: an operation on symbolic tensors (keras.ops, or +, * ... on Keras tensors); "
                              "Neurona rebuilds only layers from Keras's JSON; use the equivalent merge or "
                              "activation layer in Keras before saving, or rebuild the model in code")
    if not opts.is_keras_origin(item, cls, "models" if cls in MODEL_CLASSES else "layers"):
        raise FileFormatError(f"{where}: a custom class (module {item.get('module')!r}, registered name "
                              f"{item.get('registered_name')!r}); Neurona rebuilds only Keras's own layers it has: "
                              f"{', '.join(sorted(opts.LAYERS))}, InputLayer and nested models")
    if cls in MODEL_CLASSES:
        config, _ = _model_config(item, source, path)
        cls = MODEL_CLASSES[cls]
    elif cls == "InputLayer":
        config = _input_layer(config, where)
    elif cls in opts.LAYERS:
        if not isinstance(config, dict):
            raise FileFormatError(f"{where}: its config is {str(config)[:80]!r}; expected an object")
        config = _layer_options(cls, config, where)
    else:
        raise FileFormatError(f"{where}: Neurona has no {cls[:80]!r} layer; it rebuilds Keras's "
                              f"{', '.join(sorted(opts.LAYERS))}, InputLayer, Sequential and Functional")
    if not isinstance(name, str) or not name:
        raise FileFormatError(f"{where}: expected the layer's name, a non-empty string")
    return {"module": _neurona_module(cls), "class_name": cls, "config": config, "registered_name": None,
            "name": name}


def _input_layer(config, where):
    if not isinstance(config, dict):
        raise FileFormatError(f"{where}: its config is {str(config)[:80]!r}; expected an object")
    shape = config.get("batch_shape", config.get("batch_input_shape"))
    if not isinstance(shape, list) or not shape or not all(s is None or isinstance(s, int) for s in shape):
        refuse(where, "batch_shape", shape, "expected the input's shape with the batch axis first, e.g. [null, 784]")
    for key, value in config.items():
        if key in ("sparse", "ragged", "optional") and value:
            refuse(where, key, value, "Neurona's inputs are dense, regular and required (only false is supported)")
        if key not in ("batch_shape", "batch_input_shape", "dtype", "name", "sparse", "ragged", "optional"):
            refuse(where, key, value, "Neurona's InputLayer takes batch_shape, dtype and name")
    out = {"name": config.get("name"), "shape": shape[1:], "batch_size": shape[0]}
    dtype = opts.dtype_from_keras(config.get("dtype"), where, allowed=opts.INPUT_DTYPES)
    return {**out, "dtype": dtype} if dtype else out


def _layer_options(cls, config, where):
    """Neurona's config for a Keras layer config (``cls`` in ``LAYERS``)."""
    spec, out = opts.LAYERS[cls], {}
    for key, value in config.items():
        if key in ("name", "trainable"):
            out[key] = value
        elif key == "dtype":
            dtype = opts.dtype_from_keras(value, where)
            if dtype is not None:
                out[key] = dtype
        elif key == "batch_input_shape":  # Keras 2: the first layer of a Sequential model carries the input shape
            if not isinstance(value, list) or not value:
                refuse(where, key, value, "expected the input's shape with the batch axis first")
            out["input_shape"] = value[1:]
        elif key == "activity_regularizer":
            regularizer = opts.regularizer_from_keras(value, where, key)
            if regularizer is not None:
                out[key] = regularizer
        elif key in opts.NESTED_LAYERS and key in spec.shared:
            out[key] = None if value is None else _nested_layer(value, where, key)
        elif key in spec.shared:
            out[key] = _shared_option(spec, key, value, where)
        elif key.endswith("_constraint"):
            opts.constraint_from_keras(value, where, key)
        elif key in spec.keras_only or key in spec.read_only:
            default = spec.keras_only.get(key, spec.read_only.get(key))
            if value != default:
                refuse(where, key, value, f"Neurona's {cls} supports only Keras's default {default!r} for it")
        else:
            refuse(where, key, value, f"Neurona's {cls} has no such option; it takes "
                   f"{', '.join(spec.shared + _NEURONA_BASE)}")
    return _AXIS_FROM_KERAS.get(cls, lambda config, where: config)(out, where)


def _nested_layer(item, where, key):
    """A wrapper's layer or an RNN's cell: a whole Keras layer entry, translated as the model's own layers."""
    if isinstance(item, dict) and "name" not in item and isinstance(item.get("config"), dict):
        item = {**item, "name": item["config"].get("name")}
    entry = _layer(item, f"{where}, option {key!r}", ())
    entry.pop("name", None)
    return entry


def _shared_option(spec, key, value, where):
    if key.endswith("_initializer"):
        return opts.initializer_from_keras(value, where, key)
    if key.endswith("_regularizer"):
        return opts.regularizer_from_keras(value, where, key)
    if key in ("activation", "recurrent_activation"):
        return opts.activation_from_keras(value, where, key)
    if key in spec.choices and value not in spec.choices[key]:
        refuse(where, key, value, f"Neurona supports {', '.join(map(repr, spec.choices[key]))}")
    return value


def _normalization_axis(config, where):
    """Keras 3 writes Normalization's axis as a tuple: () for None, (a,) for a."""
    axis = config.get("axis")
    if isinstance(axis, list):
        config["axis"] = None if not axis else axis[0] if len(axis) == 1 else axis
    return config


def _single_axis(config, where):
    """tf.keras 2 wrote BatchNormalization's axis as a list (Keras 3 reads a one-element list as its int)."""
    axis = config.get("axis")
    if isinstance(axis, list):
        if len(axis) != 1:
            refuse(where, "axis", axis, "Neurona's BatchNormalization normalizes along one axis (an int)")
        config["axis"] = axis[0]
    return config


def _attention_axes(config, where):
    """Keras 3 writes the axes its MultiHeadAttention attends over as a list, ``[1]`` for (batch, time,
    features) inputs: Neurona's only case, its ``None``."""
    axes = config.get("attention_axes")
    if axes in ([1], (1,), 1):
        config["attention_axes"] = None
    elif axes is not None:
        refuse(where, "attention_axes", axes, "Neurona's MultiHeadAttention attends over axis 1 of (batch, time, "
               "features) inputs only ([1] or null)")
    return config


_AXIS_FROM_KERAS = {"Normalization": _normalization_axis, "BatchNormalization": _single_axis,
                    "MultiHeadAttention": _attention_axes}


# ---- Neurona -> Keras ------------------------------------------------------------------------------------------
def to_keras(entry):
    """The dict Keras 3's ``model.to_json()`` writes for Neurona's model entry (``json_config.model_config``).

    ``keras.models.model_from_json(json.dumps(to_keras(entry)))`` rebuilds the same layers with the same
    options (Keras-only options written at their defaults, dtypes as ``DTypePolicy`` objects, a first layer's
    ``input_shape`` as an ``InputLayer``). A layer Keras lacks (InstanceNormalization, Lambda, an op on symbolic
    tensors, a custom class) or an option or value it lacks raises ``ValueError`` naming the layer and option.
    Compile settings are not written (Keras's ``compile_config`` holds Keras's own objects).
    """
    cls = entry.get("class_name") if isinstance(entry, dict) else None
    if cls not in _KERAS_MODEL or not _is_neurona_module(entry.get("module")) or entry.get("registered_name"):
        raise ValueError(f"model of class {cls!r:.80}: only Neurona's Sequential and functional models can be written "
                         "as Keras's JSON (a subclassed model's code is not in its config)")
    config, shape = _model_to_keras(entry, (), entry.get("build_input_shape"))
    module, registered = _KERAS_MODEL[cls]
    return {"module": module, "class_name": cls, "config": config, "registered_name": registered,
            "build_config": {"input_shape": shape}}


def _model_to_keras(entry, path, shape=None):
    """``(Keras config, build input shape)`` of a Neurona Sequential or functional model entry."""
    config = entry["config"]
    path = path + (str(config.get("name")),)
    if entry["class_name"] == "Sequential":
        return _sequential_to_keras(config, path, shape)
    shifts = {item["name"]: 1 for item in config["layers"] if item.get("class_name") == "Functional"}
    layers = []
    for item in config["layers"]:
        out = _layer_to_keras(item, path)
        out["name"] = item["name"]
        out["inbound_nodes"] = [{"args": node.get("args", []), "kwargs": _call_kwargs(item, node)}
                                for node in item.get("inbound_nodes", [])]
        layers.append(out)
    endpoints = {key: _shifted_endpoints(config[key], shifts) for key in ("input_layers", "output_layers")}
    return {"name": config.get("name"), "trainable": config.get("trainable", True), "layers": layers,
            **endpoints}, None


def _call_kwargs(item, node):
    """A call's kwargs as Keras 3.15 records them: a nested model called without any gets ``mask=None``."""
    kwargs = dict(node.get("kwargs") or {})
    return {"mask": None} if not kwargs and item.get("class_name") in _KERAS_MODEL else kwargs


def _shifted_endpoints(value, shifts):
    if _is_history(value):
        return [value[0], value[1] + shifts.get(value[0], 0), value[2]]
    if isinstance(value, dict):
        return {key: _shifted_endpoints(item, shifts) for key, item in value.items()}
    return [_shifted_endpoints(item, shifts) for item in value]


def _sequential_to_keras(config, path, shape):
    items = list(config["layers"])
    layers = [_layer_to_keras(item, path, first=index == 0) for index, item in enumerate(items)]
    first = layers[0]["config"] if layers else {}
    if "input_shape" in first:  # Neurona's Layer(input_shape=...) first: Keras 3 wants an InputLayer
        name = _free_name("input_layer", {item.get("name") for item in items})
        dtype = first["dtype"]["config"]["name"] if isinstance(first.get("dtype"), dict) else "float32"
        layers.insert(0, _keras_input([None] + list(first.pop("input_shape")), dtype, name))
    if layers and layers[0]["class_name"] == "InputLayer":
        shape = [None] + list(layers[0]["config"]["batch_shape"][1:])
    out = {"name": config.get("name"), "trainable": config.get("trainable", True),
           "dtype": opts.dtype_policy("float32"), "layers": layers}
    if shape:
        out["build_input_shape"] = shape
    return out, shape


def _free_name(base, taken):
    """``base``, or ``base_1``, ``base_2`` ... the first not ``taken`` (Keras's own naming)."""
    candidates = (base if i == 0 else f"{base}_{i}" for i in range(len(taken) + 1))
    return next(name for name in candidates if name not in taken)


def _keras_input(batch_shape, dtype, name):
    return {"module": "keras.layers", "class_name": "InputLayer",
            "config": {"batch_shape": batch_shape, "dtype": dtype, "sparse": False, "ragged": False, "name": name,
                       "optional": False}, "registered_name": None}


def _layer_to_keras(item, path, first=False):
    """Keras 3's entry for one of Neurona's layer entries (without the functional ``name``/``inbound_nodes``)."""
    cls, config = item.get("class_name"), item.get("config") or {}
    name = item.get("name", config.get("name"))
    where = f"layer {name!r} ({cls}) in model {'/'.join(path)!r}"
    if not _is_neurona_module(item.get("module")) or item.get("registered_name"):
        raise ValueError(f"{where}: a custom class (module {item.get('module')!r}); Keras could not rebuild it from "
                         "the file; only Neurona's built-in layers that Keras has can be written")
    if cls in _KERAS_MODEL:
        keras_config, shape = _model_to_keras(item, path)
        module, registered = _KERAS_MODEL[cls]
        out = {"module": module, "class_name": cls, "config": keras_config, "registered_name": registered}
        return {**out, "build_config": {"input_shape": shape}} if shape else out
    if cls == "InputLayer":
        return _keras_input([config.get("batch_size")] + list(config["shape"]), config.get("dtype") or "float32",
                            config.get("name"))
    if cls in opts.CODE_LAYERS:
        raise ValueError(f"{where}: a Lambda layer cannot be written as Keras's JSON: Keras stores its function as "
                         "Python bytecode, which Neurona never writes (nor runs); write the computation as a "
                         "custom layer, or as layers Keras has")
    if cls not in opts.LAYERS:
        raise ValueError(f"{where}: Keras has no {cls} layer (it is Neurona's own); it cannot be written as Keras's "
                         f"JSON. Keras-compatible layers: {', '.join(sorted(opts.LAYERS))}")
    return {"module": "keras.layers", "class_name": cls,
            "config": _options_to_keras(cls, config, where, first, path), "registered_name": None}


def _options_to_keras(cls, config, where, first, path=()):
    spec, out = opts.LAYERS[cls], {}
    for key, value in config.items():
        if key in ("name", "trainable"):
            out[key] = value
        elif key == "dtype":
            out[key] = opts.dtype_policy(value)
        elif key == "input_shape" and first:
            out[key] = value  # becomes an InputLayer (_sequential_to_keras)
        elif key == "activity_regularizer":
            out[key] = opts.regularizer_to_keras(value, where, key)
        elif key in spec.shared and key.endswith("_initializer"):
            out[key] = opts.initializer_to_keras(value, where, key)
        elif key in spec.shared and key.endswith("_regularizer"):
            out[key] = opts.regularizer_to_keras(value, where, key)
        elif key in ("activation", "recurrent_activation") and key in spec.shared:
            out[key] = opts.activation_to_keras(value, where, key)
        elif key in opts.NESTED_LAYERS and key in spec.shared:
            out[key] = None if value is None else _layer_to_keras(value, (*path, str(config.get("name"))))
        elif key in spec.shared:
            out[key] = value
        elif key in spec.keras_only and value == spec.keras_only[key]:
            pass  # written back below
        elif key in spec.read_only and value == spec.read_only[key]:
            pass  # an older Keras's option at its default, which Keras 3 does not write
        else:
            refuse(where, key, value, f"Keras's {cls} has no such option (an input_shape is only written for the "
                   "first layer of a Sequential model)", ValueError)
    if cls in ("SpatialDropout1D", "SpatialDropout2D"):  # Keras's constructors take no trainable (nor write it)
        out.pop("trainable", None)
    if cls == "Normalization":  # Keras 3 stores the axis as a tuple: () for None
        axis = out.get("axis", -1)
        out["axis"] = [] if axis is None else [axis] if isinstance(axis, int) else list(axis)
    return {**spec.keras_only, **out}
