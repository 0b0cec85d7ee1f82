"""The per-layer option tables behind config.py, and the translation of the objects options hold.

Checked against Keras 3.15.1 (``keras/src/layers/*``, ``keras/src/initializers``, ``keras/src/regularizers``,
``keras/src/dtype_policies``) and, where Keras 2 wrote something else, against what tf.keras 2.x's
``get_config`` wrote (read back by ``keras/src/legacy/saving``):

- A layer's options are its config's keys. ``LAYERS`` says, per Keras class, which options Neurona's class of
  the same name takes with the same meaning (``shared``), which Keras-only options Keras 3.15 writes and with
  what default (``keras_only``: dropped when they hold it, refused otherwise; to_keras writes them back), which
  Keras 2 or occasional Keras options are read the same way but never written (``read_only``), and which values
  of a shared option Neurona accepts (``choices``). Every layer also has ``name``, ``trainable``, ``dtype`` and
  ``activity_regularizer`` (Keras 3's base Layer takes it; Neurona's too).
- Initializers: Keras 3 writes ``{"module": "keras.initializers", "class_name", "config", "registered_name"}``
  (the VarianceScaling family with ``input_axes``/``output_axes``, null by default); Keras 2 the same without
  ``module`` (or a plain name), VarianceScaling's ``distribution`` possibly ``"normal"`` (its truncated normal).
- Regularizers ``L1``/``L2``/``L1L2``, under ``"keras.regularizers"``. Neurona has no constraints: a non-null
  ``*_constraint`` is refused.
- dtypes: Keras 3 writes a ``DTypePolicy`` object (``{"class_name": "DTypePolicy", "config": {"name"}}``; 3.0-3.3
  ``FloatDTypePolicy``), Keras 2 a string or a ``Policy`` object. A mixed or quantized policy is refused.
- Activations: a name, or Keras 3's serialized function ``{"class_name": "function", "config": name}``.

- Compile settings (for compile_config.compile_from_keras): optimizers, schedules, losses and metrics are Keras's
  classes of the names Neurona has, their Keras-only options at Keras's defaults (``use_ema=False`` ...; an
  optimizer's ``module`` is backend-specific on torch: ``keras.src.backend.torch.optimizers.torch_adam``).

Seeds are carried over as they are: a seeded initializer stays seeded, but Neurona's generator draws other
numbers than Keras's from the same seed (copy the weights to get Keras's values).
"""

import dataclasses
import numbers

from ... import activations
from ..errors import FileFormatError

NEURONA_FLOATS = ("float16", "float32", "float64")
MIXED_POLICIES = ("mixed_float16", "mixed_bfloat16")
INPUT_DTYPES = NEURONA_FLOATS + ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "bool")
_POLICY_CLASSES = ("DTypePolicy", "FloatDTypePolicy", "Policy")


@dataclasses.dataclass(frozen=True)
class LayerSpec:
    """How one Keras layer class's options map onto Neurona's class of the same name."""

    shared: tuple = ()
    keras_only: dict = dataclasses.field(default_factory=dict)
    read_only: dict = dataclasses.field(default_factory=dict)
    choices: dict = dataclasses.field(default_factory=dict)


def _constraints(*weights):
    return {f"{weight}_constraint": None for weight in weights}


_KERNEL = ("activation", "use_bias", "kernel_initializer", "bias_initializer", "kernel_regularizer",
           "bias_regularizer")
_AFFINE = ("epsilon", "center", "scale", "beta_initializer", "gamma_initializer", "beta_regularizer",
           "gamma_regularizer")
_CHANNELS_LAST = {"data_format": ("channels_last",)}
_DATA_FORMATS = {"data_format": ("channels_last", "channels_first")}
_PADDING = {"padding": ("valid", "same"), **_DATA_FORMATS}
_LORA = {"lora_rank": None, "lora_alpha": None}  # Keras 3 writes them only when LoRA is enabled
_CONV_OPTIONS = ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "groups") + _KERNEL
_CONV = LayerSpec(_CONV_OPTIONS, _constraints("kernel", "bias"), _LORA, _PADDING)
_CONV1D = LayerSpec(_CONV_OPTIONS, _constraints("kernel", "bias"), _LORA,
                    {**_PADDING, "padding": ("valid", "same", "causal")})
_DEPTHWISE_OPTIONS = ("kernel_size", "strides", "padding", "depth_multiplier", "data_format", "dilation_rate",
                      "activation", "use_bias", "depthwise_initializer", "bias_initializer", "depthwise_regularizer",
                      "bias_regularizer")
_DEPTHWISE = LayerSpec(_DEPTHWISE_OPTIONS, _constraints("depthwise", "bias"), choices=_PADDING)
_SEPARABLE = LayerSpec(_DEPTHWISE_OPTIONS + ("filters", "pointwise_initializer", "pointwise_regularizer"),
                       _constraints("depthwise", "pointwise", "bias"), choices=_PADDING)
_CONV_TRANSPOSE = LayerSpec(("filters", "kernel_size", "strides", "padding", "output_padding", "data_format",
                             "dilation_rate") + _KERNEL, _constraints("kernel", "bias"), choices=_PADDING)
_POOL = LayerSpec(("pool_size", "strides", "padding", "data_format"), choices=_PADDING)
_GLOBAL_POOL = LayerSpec(("keepdims", "data_format"), choices=_DATA_FORMATS)
_MERGE = LayerSpec()
_RNN = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll", "zero_output_for_mask")
_CELL = ("units", "activation", "recurrent_initializer", "recurrent_regularizer", "dropout", "recurrent_dropout",
         "seed") + _KERNEL


_STATELESS = {"stateful": (False,)}  # states carried from batch to batch: not supported yet


def _cell(*extra):
    return LayerSpec(_CELL + extra, _constraints("kernel", "recurrent", "bias"),
                     read_only={"implementation": 2})  # tf.keras 2's cells wrote it; 2 is its default


def _recurrent(*extra):
    """SimpleRNN, LSTM, GRU: Keras writes the cell's options flat beside RNN's; tf.keras 2 also wrote
    ``implementation`` (1 and 2 compute the same function here) and ``time_major``."""
    return LayerSpec(_RNN + _CELL + extra + ("implementation",), _constraints("kernel", "recurrent", "bias"),
                     {"time_major": False}, {"implementation": (1, 2), **_STATELESS})


LAYERS = {
    "Dense": LayerSpec(("units",) + _KERNEL, {**_constraints("kernel", "bias"), "quantization_config": None},
                       _LORA),
    "Activation": LayerSpec(("activation",)),
    "ReLU": LayerSpec(("max_value", "negative_slope", "threshold")),
    "LeakyReLU": LayerSpec(("negative_slope",)),
    "PReLU": LayerSpec(("alpha_initializer", "alpha_regularizer", "shared_axes"), _constraints("alpha")),
    "ELU": LayerSpec(("alpha",)),  # Keras 3.15 writes no alpha (it is then 1.0); Keras 2 and Neurona do
    "Softmax": LayerSpec(("axis",)),
    "Flatten": LayerSpec(keras_only={"data_format": "channels_last"}),
    "Reshape": LayerSpec(("target_shape",)),
    "Identity": LayerSpec(),
    "Conv1D": _CONV1D,
    "Conv3D": _CONV,
    "MaxPooling3D": _POOL,
    "AveragePooling3D": _POOL,
    "GlobalAveragePooling3D": _GLOBAL_POOL,
    "GlobalMaxPooling3D": _GLOBAL_POOL,
    "Conv1DTranspose": _CONV_TRANSPOSE,
    "Conv2DTranspose": _CONV_TRANSPOSE,
    "DepthwiseConv2D": _DEPTHWISE,
    "SeparableConv2D": _SEPARABLE,
    "Conv2D": _CONV,
    "MaxPooling1D": _POOL, "MaxPooling2D": _POOL, "AveragePooling1D": _POOL, "AveragePooling2D": _POOL,
    "GlobalMaxPooling1D": _GLOBAL_POOL, "GlobalMaxPooling2D": _GLOBAL_POOL,
    "GlobalAveragePooling1D": _GLOBAL_POOL, "GlobalAveragePooling2D": _GLOBAL_POOL,
    "Dropout": LayerSpec(("rate", "noise_shape", "seed")),
    "BatchNormalization": LayerSpec(
        ("axis", "momentum", "moving_mean_initializer", "moving_variance_initializer") + _AFFINE,
        {**_constraints("beta", "gamma"), "synchronized": False, "renorm": False, "renorm_clipping": None,
         "renorm_momentum": 0.99},
        {"virtual_batch_size": None, "adjustment": None, "fused": None}),  # tf.keras 2's
    "LayerNormalization": LayerSpec(("axis",) + _AFFINE, {"rms_scaling": False, **_constraints("beta", "gamma")}),
    "GroupNormalization": LayerSpec(("groups", "axis") + _AFFINE, _constraints("beta", "gamma")),
    "Normalization": LayerSpec(("axis", "mean", "variance", "invert")),
    "Add": _MERGE, "Subtract": _MERGE, "Multiply": _MERGE, "Average": _MERGE, "Maximum": _MERGE,
    "Minimum": _MERGE,
    "Concatenate": LayerSpec(("axis",)),
    "Dot": LayerSpec(("axes", "normalize")),
    "Masking": LayerSpec(("mask_value",)),
    "Embedding": LayerSpec(("input_dim", "output_dim", "embeddings_initializer", "embeddings_regularizer",
                            "mask_zero"), {"embeddings_constraint": None, "quantization_config": None},
                           {"input_length": None, **_LORA}),
    "SimpleRNNCell": _cell(),
    "LSTMCell": _cell("recurrent_activation", "unit_forget_bias"),
    "GRUCell": _cell("recurrent_activation", "reset_after"),
    "SimpleRNN": _recurrent(),
    "LSTM": _recurrent("recurrent_activation", "unit_forget_bias"),
    "GRU": _recurrent("recurrent_activation", "reset_after"),
    "RNN": LayerSpec(_RNN + ("cell",), read_only={"time_major": False}, choices=_STATELESS),
    "Bidirectional": LayerSpec(("merge_mode", "layer", "backward_layer"), {"weights": None}),
    "TimeDistributed": LayerSpec(("layer",)),
    "Attention": LayerSpec(("use_scale", "score_mode", "dropout", "seed"), read_only={"causal": False},
                           choices={"score_mode": ("dot", "concat")}),
    "MultiHeadAttention": LayerSpec(
        ("num_heads", "key_dim", "value_dim", "dropout", "use_bias", "output_shape", "attention_axes",
         "kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer", "seed"),
        {"use_gate": False, "sliding_window": None, **_constraints("kernel", "bias")}),
}

_RESIZING = ("height", "width", "interpolation", "crop_to_aspect_ratio", "pad_to_aspect_ratio", "fill_mode",
             "fill_value", "antialias", "data_format")
LAYERS.update({  # issue 21's catalog: the same options as Keras 3.15 writes them
    "UpSampling1D": LayerSpec(("size",)),
    "UpSampling2D": LayerSpec(("size", "data_format", "interpolation"),
                              choices={"interpolation": ("nearest", "bilinear")}),
    "ZeroPadding1D": LayerSpec(("padding", "data_format")), "ZeroPadding2D": LayerSpec(("padding", "data_format")),
    "Cropping1D": LayerSpec(("cropping",)), "Cropping2D": LayerSpec(("cropping", "data_format")),
    "Permute": LayerSpec(("dims",)), "RepeatVector": LayerSpec(("n",)),
    "SpatialDropout1D": LayerSpec(("rate", "seed")), "SpatialDropout2D": LayerSpec(("rate", "seed", "data_format")),
    "GaussianNoise": LayerSpec(("stddev", "seed")), "GaussianDropout": LayerSpec(("rate", "seed")),
    "AlphaDropout": LayerSpec(("rate", "noise_shape", "seed")), "ActivityRegularization": LayerSpec(("l1", "l2")),
    "UnitNormalization": LayerSpec(("axis",)), "Rescaling": LayerSpec(("scale", "offset")),
    "Resizing": LayerSpec(_RESIZING, choices={"interpolation": ("nearest", "bilinear"), "fill_mode": ("constant",)}),
    "CenterCrop": LayerSpec(("height", "width", "data_format")),
    # the augmentations (active in training only)
    "RandomFlip": LayerSpec(("mode", "seed", "data_format")),
    "RandomRotation": LayerSpec(("factor", "fill_mode", "interpolation", "seed", "fill_value", "data_format")),
    "RandomTranslation": LayerSpec(("height_factor", "width_factor", "fill_mode", "interpolation", "seed",
                                    "fill_value", "data_format")),
    "RandomZoom": LayerSpec(("height_factor", "width_factor", "fill_mode", "interpolation", "seed", "fill_value",
                             "data_format")),
    "RandomContrast": LayerSpec(("factor", "value_range", "seed", "data_format")),
})

#: options holding a whole layer entry (translated recursively, as a nested model's layers are)
NESTED_LAYERS = ("layer", "backward_layer", "cell")

#: Keras classes that would run code from the file (a function's bytecode or a TensorFlow op): always refused.
CODE_LAYERS = ("Lambda", "TFOpLambda", "SlicingOpLambda")


def refuse(where, option, value, expected, error=FileFormatError):
    """Raise ``error`` naming the place (source and layer), the option, its value and what Neurona supports."""
    shown = repr(value)
    shown = shown if len(shown) <= 120 else shown[:117] + "..."
    raise error(f"{where}: option {option!r} is {shown}; {expected}")


# ---- initializers --------------------------------------------------------------------------------------------
_AXES = {"input_axes": None, "output_axes": None}  # Keras 3's VarianceScaling family: which axes are the fans
_SEEDED = ("seed",)

#: Keras initializer class -> (Neurona class, shared options, Keras-only options with their defaults).
INITIALIZERS = {
    "Zeros": ("Zeros", (), {}),
    "Ones": ("Ones", (), {}),
    "Constant": ("Constant", ("value",), {}),
    "Identity": ("Identity", ("gain",), {}),
    "IdentityInitializer": ("Identity", ("gain",), {}),
    "RandomUniform": ("RandomUniform", ("minval", "maxval") + _SEEDED, {}),
    "RandomNormal": ("RandomNormal", ("mean", "stddev") + _SEEDED, {}),
    "TruncatedNormal": ("TruncatedNormal", ("mean", "stddev") + _SEEDED, {}),
    "VarianceScaling": ("VarianceScaling", ("scale", "mode", "distribution") + _SEEDED, _AXES),
    "LecunNormal": ("LecunNormal", _SEEDED, _AXES), "LecunUniform": ("LecunUniform", _SEEDED, _AXES),
    "GlorotNormal": ("GlorotNormal", _SEEDED, _AXES), "GlorotUniform": ("GlorotUniform", _SEEDED, _AXES),
    "HeNormal": ("HeNormal", _SEEDED, _AXES), "HeUniform": ("HeUniform", _SEEDED, _AXES),
    "Orthogonal": ("Orthogonal", ("gain",) + _SEEDED, {}),
    "OrthogonalInitializer": ("Orthogonal", ("gain",) + _SEEDED, {}),
}
#: Keras's (and Keras 2's) lowercase initializer names, as a config may hold them instead of an object.
_INITIALIZER_NAMES = {
    "zeros": "Zeros", "zero": "Zeros", "ones": "Ones", "one": "Ones", "constant": "Constant",
    "identity": "Identity", "random_uniform": "RandomUniform", "uniform": "RandomUniform",
    "random_normal": "RandomNormal", "normal": "RandomNormal", "truncated_normal": "TruncatedNormal",
    "variance_scaling": "VarianceScaling", "lecun_normal": "LecunNormal", "lecun_uniform": "LecunUniform",
    "glorot_normal": "GlorotNormal", "glorot_uniform": "GlorotUniform", "he_normal": "HeNormal",
    "he_uniform": "HeUniform", "orthogonal": "Orthogonal",
}
#: Neurona's initializers that Keras has, under the same class name (Neurona's LSUV is not among them).
KERAS_INITIALIZERS = tuple(name for name in INITIALIZERS if not name.endswith("Initializer"))


def _is_keras_module(module, kind):
    """Whether ``module`` is where Keras keeps its own objects of ``kind`` ("layers", "initializers" ...):
    ``keras``, ``keras.<kind>[.*]`` or ``keras.src.<kind>[.*]``; None too (Keras 2 wrote no module). Keras's
    ops (``keras.src.ops.numpy``'s ``Add`` ...) share class names with layers, so the kind matters."""
    if module is None or module == "keras":
        return True
    roots = (f"keras.{kind}", f"keras.src.{kind}")
    if kind == "optimizers":  # on the torch backend Keras saves keras.src.backend.torch.optimizers.torch_adam
        roots += tuple(f"keras.src.backend.{backend}.{kind}" for backend in ("torch", "jax", "tensorflow", "numpy"))
    return isinstance(module, str) and any(module == root or module.startswith(root + ".") for root in roots)


def is_keras_origin(entry, class_name, kind):
    """Whether a serialized entry is of one of Keras's own classes of ``kind``: from Keras's module for them
    (or none, as Keras 2 wrote) and with no registered name but the class's own (a user's class has its module
    or ``"package>Name"``)."""
    return _is_keras_module(entry.get("module"), kind) and entry.get("registered_name") in (None, class_name)


def _object_parts(value, where, option, kind, known):
    """``(class_name, config)`` of a serialized Keras object of one of Keras's own classes, else refused."""
    name, config = value.get("class_name"), value.get("config", {})
    if name == "__lambda__" or not is_keras_origin(value, name, f"{kind}s"):
        refuse(where, option, value, f"expected one of Keras's own {kind}s that Neurona has ({', '.join(known)}); "
               "custom objects and lambdas from a file are never rebuilt (no code from a file is run or imported)")
    if name not in known:
        refuse(where, option, value, f"Neurona has no {kind} {name!r}; it supports {', '.join(known)}")
    if not isinstance(config, dict):
        refuse(where, option, value, f"expected the {kind}'s config to be an object")
    return name, config


def _options(config, shared, keras_only, where, option, what):
    """The shared options of an object's config; Keras-only ones must hold their default (then dropped)."""
    out = {}
    for key, value in config.items():
        if key in shared:
            out[key] = value
        elif key in keras_only and value == keras_only[key]:
            continue
        elif key in keras_only:
            refuse(where, f"{option}.{key}", value, f"Neurona's {what} supports only Keras's default "
                   f"{keras_only[key]!r} for it")
        else:
            refuse(where, f"{option}.{key}", value, f"Neurona's {what} takes only {', '.join(shared) or 'nothing'}")
    return out


def initializer_from_keras(value, where, option):
    """Neurona's serialized initializer for a Keras one (an object, a name, or null)."""
    if value is None:
        return None
    if isinstance(value, str):
        name = _INITIALIZER_NAMES.get(value.lower(), value if value in INITIALIZERS else None)
        if name is None:
            refuse(where, option, value,
                   f"Neurona knows the Keras initializers {', '.join(sorted(_INITIALIZER_NAMES))}")
        value = {"class_name": name, "config": {}}
    if not isinstance(value, dict):
        refuse(where, option, value, "expected an initializer name or a serialized initializer object")
    name, config = _object_parts(value, where, option, "initializer", tuple(INITIALIZERS))
    neurona_name, shared, keras_only = INITIALIZERS[name]
    options = _options(config, shared, keras_only, where, option, f"{neurona_name} initializer")
    seed = options.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        refuse(where, f"{option}.seed", seed, "Neurona takes an integer seed or null")
    if options.get("distribution") == "normal":  # Keras 2's name of the truncated normal
        options["distribution"] = "truncated_normal"
    value = options.get("value")
    if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Real)):
        refuse(where, f"{option}.value", value, "Neurona's Constant initializer takes one number")
    return {"class_name": neurona_name, "config": options}


def initializer_to_keras(value, where, option):
    """Keras 3's serialized initializer for Neurona's ``{"class_name", "config"}``."""
    if value is None:
        return None
    name = value.get("class_name") if isinstance(value, dict) else value
    if not isinstance(value, dict) or value.get("module") is not None or name not in KERAS_INITIALIZERS:
        refuse(where, option, value, f"Keras has no equivalent; Keras-compatible initializers are "
               f"{', '.join(KERAS_INITIALIZERS)}", ValueError)
    _, shared, keras_only = INITIALIZERS[name]
    config = dict(value.get("config") or {})
    extra = sorted(set(config) - set(shared))
    if extra:
        refuse(where, f"{option}.{extra[0]}", config[extra[0]], f"Keras's {name} has no such option", ValueError)
    return {"module": "keras.initializers", "class_name": name, "config": {**config, **keras_only},
            "registered_name": None}


# ---- regularizers --------------------------------------------------------------------------------------------
REGULARIZERS = {"L1": ("l1",), "L2": ("l2",), "L1L2": ("l1", "l2")}
_REGULARIZER_NAMES = {"l1": "L1", "l2": "L2", "l1_l2": "L1L2", "l1l2": "L1L2"}


def regularizer_from_keras(value, where, option):
    """Neurona's serialized regularizer for a Keras one (``L1``, ``L2``, ``L1L2``, a name, or null)."""
    if value is None:
        return None
    if isinstance(value, str) and value.lower() in _REGULARIZER_NAMES:
        return {"class_name": _REGULARIZER_NAMES[value.lower()], "config": {}}
    if not isinstance(value, dict):
        refuse(where, option, value, "expected a regularizer name or a serialized regularizer object")
    name, config = _object_parts(value, where, option, "regularizer", tuple(REGULARIZERS))
    options = _options(config, REGULARIZERS[name], {}, where, option, f"{name} regularizer")
    return {"class_name": name, "config": options}


def regularizer_to_keras(value, where, option):
    """Keras 3's serialized regularizer for Neurona's ``{"class_name", "config"}``."""
    if value is None:
        return None
    if not isinstance(value, dict) or value.get("module") is not None or value.get("class_name") not in REGULARIZERS:
        refuse(where, option, value, f"Keras's own regularizers Neurona has are {', '.join(REGULARIZERS)}", ValueError)
    return {"module": "keras.regularizers", "class_name": value["class_name"], "config": dict(value["config"]),
            "registered_name": None}


def constraint_from_keras(value, where, option):
    """Neurona has no weight constraints: only null passes (and is dropped)."""
    if value is not None:
        refuse(where, option, value, "Neurona has no weight constraints (only null is supported)")


# ---- activations ---------------------------------------------------------------------------------------------
def activation_from_keras(value, where, option):
    """Neurona's activation name for a Keras one (a name or Keras 3's serialized built-in function)."""
    if value is None:
        return "linear"
    if isinstance(value, dict):
        # Keras 3 serializes its own functions as {"module": "builtins", "class_name": "function", "config": name,
        # "registered_name": "function"}; a user's function carries the user's module or "package>name"
        module, registered = value.get("module"), value.get("registered_name")
        if value.get("class_name") != "function" or not isinstance(value.get("config"), str) or \
                not (module == "builtins" or _is_keras_module(module, "activations")) or \
                registered not in (None, "function", value.get("config")):
            refuse(where, option, value, "expected the name of one of Keras's activations; custom functions, "
                   "activation layers and lambdas from a file are never rebuilt")
        value = value["config"]
    if not isinstance(value, str) or value not in activations.names():
        refuse(where, option, value, f"Neurona's activations are {', '.join(activations.names())}")
    return value


def activation_to_keras(value, where, option):
    """Keras's name for Neurona's activation (every Neurona built-in has Keras's name)."""
    if not isinstance(value, str) or value not in activations.names():
        refuse(where, option, value, "only Neurona's built-in activations (which Keras has by the same name) can be "
               "written for Keras", ValueError)
    return value


# ---- dtypes ----------------------------------------------------------------------------------------------------
def dtype_from_keras(value, where, option="dtype", allowed=NEURONA_FLOATS):
    """Neurona's dtype string for Keras's dtype (a string or a dtype policy object); the mixed policies
    (``"mixed_float16"``, ``"mixed_bfloat16"``) are names Neurona's layers take too (not an InputLayer's)."""
    if value is None:
        return None
    if isinstance(value, dict):
        name = (value.get("config") or {}).get("name") if isinstance(value.get("config"), dict) else None
        if value.get("class_name") not in _POLICY_CLASSES or not isinstance(name, str):
            refuse(where, option, value, "expected a dtype name or a DTypePolicy; quantized and custom policies "
                   "are not supported")
        value = name
    if isinstance(value, str) and value in MIXED_POLICIES and allowed is NEURONA_FLOATS:
        return value
    if isinstance(value, str) and value.startswith("mixed_"):
        refuse(where, option, value, f"Neurona's mixed policies are {', '.join(MIXED_POLICIES)}, for layers; "
               f"an input takes one of the dtypes {', '.join(allowed)}")
    if value not in allowed:
        refuse(where, option, value, f"Neurona supports the dtypes {', '.join(allowed)}")
    return value


def dtype_policy(name):
    """Keras 3's ``DTypePolicy`` object for a dtype name."""
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": name}, "registered_name": None}


# ---- compile settings: optimizers, losses, metrics ------------------------------------------------------------
#: Keras-only optimizer options (Keras 3.15's base Optimizer; tf.keras 2's decay) with the value Neurona's
#: behaviour matches; tf.keras 2's jit_compile and is_legacy_optimizer are ignored (no effect on the numbers).
OPTIMIZER_DEFAULTS = {"use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
                      "loss_scale_factor": None, "gradient_accumulation_steps": None, "decay": 0.0}
_OPTIMIZER_IGNORED = ("jit_compile", "is_legacy_optimizer")
#: Keras-only loss and metric options with their defaults (Keras 3.15's Loss and Metric bases, AUC).
OBJECT_DEFAULTS = {"dtype": ("float32", None), "multi_label": (False,), "num_labels": (None,),
                   "label_weights": (None,)}


def _builtin_class(registry, name):
    """Neurona's built-in class registered as ``name`` (no custom object), or None."""
    found = registry.find(name) if isinstance(name, str) else None
    module = getattr(found, "__module__", "")
    return found if isinstance(found, type) and module.startswith("neurona.") else None


def _constructor_options(cls, config, defaults, where, option, ignored=()):
    """``config`` reduced to what ``cls``'s constructor takes; Keras-only options must hold their defaults."""
    from ...registry import mismatched_arguments

    out = dict(config)
    _, unexpected = mismatched_arguments(cls, config)
    for key in unexpected:
        value = out.pop(key)
        if key in ignored:
            continue
        if key not in defaults:
            refuse(where, f"{option}.{key}", value, f"Neurona's {cls.__name__} has no such option")
        allowed = defaults[key] if isinstance(defaults[key], tuple) else (defaults[key],)
        if value not in allowed:
            refuse(where, f"{option}.{key}", value, f"Neurona's {cls.__name__} supports only Keras's default "
                   f"{allowed[0]!r} for it")
    return out


def _rebuilt(kind, build, where, option, value):
    try:
        return build()
    except (ValueError, TypeError, KeyError) as error:
        refuse(where, option, value, f"Neurona could not rebuild this {kind}: {type(error).__name__}: {error}")


def optimizer_from_keras(value, where, option="optimizer"):
    """Neurona's optimizer (an object) for Keras's serialized optimizer or its name."""
    from ... import optimizers
    from ...optimizers import schedules

    if isinstance(value, str):
        return _rebuilt("optimizer", lambda: optimizers.get(value), where, option, value)
    name = value.get("class_name") if isinstance(value, dict) else None
    cls = _builtin_class(optimizers._registry, name)
    if cls is None or not is_keras_origin(value, name, "optimizers") or not isinstance(value.get("config"), dict):
        refuse(where, option, value, f"Neurona's optimizers are {', '.join(optimizers.names())} (Keras's classes of "
               "those names)")
    config = dict(value["config"])
    if isinstance(config.get("inner_optimizer"), dict):  # a LossScaleOptimizer's, rebuilt the same way
        config["inner_optimizer"] = optimizer_from_keras(config["inner_optimizer"], where,
                                                         f"{option}.inner_optimizer")
    if "lr" in config:  # Keras 2's name
        config.setdefault("learning_rate", config.pop("lr"))
    rate = config.get("learning_rate")
    if isinstance(rate, dict):
        schedule = _builtin_class(schedules.registry, rate.get("class_name"))
        if schedule is None or not is_keras_origin(rate, rate.get("class_name"), "optimizers"):
            refuse(where, f"{option}.learning_rate", rate,
                   f"Neurona's schedules are {', '.join(schedules.registry.names())}")
        options = _constructor_options(schedule, rate.get("config") or {}, {}, where, f"{option}.learning_rate")
        config["learning_rate"] = _rebuilt("schedule", lambda: schedule(**options), where, option, rate)
    config = _constructor_options(cls, config, OPTIMIZER_DEFAULTS, where, option, _OPTIMIZER_IGNORED)
    return _rebuilt("optimizer", lambda: cls.from_config(config), where, option, value)


def _function_name(value, kind):
    """The name of a function Keras serialized (``{"class_name": "function", "config": name}``), else None."""
    if isinstance(value, dict) and value.get("class_name") == "function" and isinstance(value.get("config"), str) \
            and (value.get("module") == "builtins" or _is_keras_module(value.get("module"), kind)):
        return value["config"]
    return None


def compile_object_from_keras(kind, value, where, option):
    """A loss or metric (``kind``) of Keras's compile settings: a name Neurona knows, or Neurona's object."""
    from ... import losses, metrics

    module = losses if kind == "loss" else metrics
    if value is None:
        return None
    name = _function_name(value, "losses" if kind == "loss" else "metrics")
    if isinstance(value, dict) and value.get("class_name") == "MeanMetricWrapper":  # Keras 2's metric of a function
        name = (value.get("config") or {}).get("fn")
    if isinstance(value, str) or name is not None:
        name = value if name is None else name
        name = {"acc": "accuracy"}.get(name, name)  # Keras 2's short name
        _rebuilt(kind, lambda: module.get(name), where, option, value)
        return name  # compile resolves names as Keras does ("accuracy" by the loss)
    cls = _builtin_class(module.registry, value.get("class_name")) if isinstance(value, dict) else None
    origin = is_keras_origin(value, value.get("class_name"), "losses" if kind == "loss" else "metrics") \
        if isinstance(value, dict) else False
    if cls is None or not origin or not isinstance(value.get("config"), dict):
        refuse(where, option, value, f"Neurona's {'losses' if kind == 'loss' else 'metrics'} are "
               f"{', '.join(module.registry.names())} (Keras's classes of those names)")
    config = _constructor_options(cls, value["config"], OBJECT_DEFAULTS, where, option)
    return _rebuilt(kind, lambda: cls(**config), where, option, value)
