"""The architecture and compile settings as JSON: ``model.to_json()``, ``model_from_json`` and ``model.json``.

A model's JSON is ``{"class_name", "config", "build_input_shape"}``: the model
class (looked up among ``neurona.models``' Model classes, never imported by
name), its ``get_config()`` (every layer's class and config: initializers,
regularizers, activation, input shape) and the input shape it was built for.
Rebuilding calls only registered ``from_config`` methods; nothing in a file is
executed.

Reading a file never raises anything but ``FileFormatError`` for what the file
holds: text that is not UTF-8, not JSON, nested deeper than ``MAX_DEPTH``
(JSON's decoder would hit the recursion limit), an unknown or abstract model
class (only the Model classes of ``neurona.models`` that define
``from_config``), a config the classes refuse (whatever they raise is reported
with the layer that raised it), an input shape that is not a list of
dimensions.
"""

import contextlib
import inspect
import json
import warnings

import numpy

from .. import backend, losses, optimizers
from .. import metrics as metrics_lib
from . import document
from .errors import FileFormatError

FORMAT = "neurona.model"
FORMAT_VERSION = 1
MAX_DEPTH = 100  # a model.json nests ~10 levels, plus ~5 per nested model; far below the recursion limit


def _json_default(value):
    """NumPy scalars and arrays that slipped into a config become plain numbers and lists."""
    if isinstance(value, (numpy.generic, numpy.ndarray)):
        return value.tolist()
    raise TypeError(f"{value!r} ({type(value).__name__}) is not JSON-serializable")


def dumps(obj, **kwargs):
    """``json.dumps`` accepting NumPy numbers."""
    return json.dumps(obj, default=_json_default, **kwargs)


# ---- architecture ----------------------------------------------------------------------------------
def model_config(model):
    """``{"class_name", "config", "build_input_shape"}`` of a model."""
    if not hasattr(model, "get_config"):
        raise ValueError(f"model {model.name!r} ({type(model).__name__}) has no get_config(); it cannot be saved")
    try:
        config = model.get_config()
    except ValueError as error:
        raise ValueError(f"cannot save model {model.name!r}: {error}. A custom layer must be registered with "
                         "the @neurona.layers.register decorator") from None
    shape = model.input_shape if model.built else None
    return {"class_name": type(model).__name__, "config": config,
            "build_input_shape": None if shape is None else list(shape)}


def _rebuildable(models, cls):
    """A concrete Model class of ``neurona.models`` that rebuilds itself from a config."""
    return (isinstance(cls, type) and issubclass(cls, models.Model) and cls is not models.Model
            and not inspect.isabstract(cls) and callable(getattr(cls, "from_config", None)))


def model_class(name, source):
    """The Model subclass called ``name`` in ``neurona.models`` that defines ``from_config`` (no other lookup,
    no import by name); the base ``Model`` and abstract classes are refused."""
    from .. import models

    public = isinstance(name, str) and not name.startswith("_")
    cls = getattr(models, name, None) if public else None
    if not _rebuildable(models, cls):
        known = sorted(n for n in dir(models) if not n.startswith("_") and _rebuildable(models, getattr(models, n)))
        raise FileFormatError(f"{source}: 'class_name' is {str(name)[:80]!r}, which is not a model class that can "
                              f"be rebuilt from a config; expected one of {known}")
    return cls


@contextlib.contextmanager
def preserved_global_rng():
    """Leave the library-wide generator as it was: rebuilding a model draws initial weights that the loaded
    ones replace, and loading should not shift every later random draw of the program."""
    generator = backend.get_generator()
    state = generator.bit_generator.state
    try:
        yield
    finally:
        generator.bit_generator.state = state


def model_from_config(entry, source="JSON"):
    """Rebuild (and build, when the input shape is known) a model from ``model_config``'s output."""
    if not isinstance(entry, dict) or "class_name" not in entry or "config" not in entry:
        raise FileFormatError(f"{source}: expected a model entry with 'class_name' and 'config', got "
                              f"{str(entry)[:80]!r}")
    cls = model_class(entry["class_name"], source)
    if not isinstance(entry["config"], dict):
        raise FileFormatError(f"{source}: the model's 'config' is {str(entry['config'])[:80]!r} "
                              f"({type(entry['config']).__name__}); expected an object (the model's get_config())")
    shape = document.input_shape(entry.get("build_input_shape"), f"{source}: 'build_input_shape'")
    with preserved_global_rng():
        try:
            model = cls.from_config(entry["config"])
        except Exception as error:  # whatever a config makes a constructor raise is the file's fault
            raise FileFormatError(f"{source}: could not rebuild {_culprit(entry['config'])}: "
                                  f"{type(error).__name__}: {error}") from None
        _check_names(model, source)
        if shape is not None and not model.built:
            try:
                model.build(shape)
            except Exception as error:
                raise FileFormatError(f"{source}: the model cannot be built for 'build_input_shape' "
                                      f"{list(shape)}: {type(error).__name__}: {error}") from None
    return model


def _check_names(model, source):
    """Layer names become HDF5 group names and dict keys: each must be a non-empty string."""
    for layer in [model, *model.layers]:
        if not isinstance(layer.name, str) or not layer.name:
            raise FileFormatError(f"{source}: a {type(layer).__name__} is named {layer.name!r} "
                                  f"({type(layer.name).__name__}); expected a non-empty string")


def _culprit(config):
    """Name the first layer config that cannot be rebuilt on its own (for the error message)."""
    from .. import layers

    layer_configs = config.get("layers") if isinstance(config, dict) else None
    if isinstance(config, dict) and "layers" in config and not isinstance(layer_configs, list):
        return (f"the model: its config's 'layers' is {str(layer_configs)[:80]!r} ({type(layer_configs).__name__}); "
                "expected a list of layer configs")
    for layer_config in layer_configs if isinstance(layer_configs, list) else []:
        try:
            with preserved_global_rng():
                layers.deserialize(layer_config)
        except Exception as error:  # any failure names this layer
            entry = layer_config if isinstance(layer_config, dict) else {}
            name = entry["config"].get("name") if isinstance(entry.get("config"), dict) else None
            return (f"layer {name!r} ({entry.get('class_name', '?')}) "
                    f"from config {dumps(layer_config)[:200]}; expected the arguments of that layer's "
                    f"constructor ({type(error).__name__}: {error})")
    return "the model"


def to_json(model, **kwargs):
    """The JSON text of ``model_config`` with the format tag and version (``kwargs`` go to ``json.dumps``)."""
    return dumps({"format": FORMAT, "format_version": FORMAT_VERSION, **model_config(model)}, **kwargs)


def from_json(text, source="JSON"):
    """Rebuild a model from ``to_json`` text (a whole ``model.json`` is accepted too)."""
    data = parse(text, source)
    return model_from_config(data.get("model", data), source)


def decode(raw, source):
    """The text of a JSON file's bytes (UTF-8, as JSON requires)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise FileFormatError(f"{source} is not UTF-8 text (JSON files are UTF-8; corrupted or not a model.json?): "
                              f"byte {raw[error.start:error.start + 1]!r} at offset {error.start}") from None


def depth(value):
    """How deeply lists and objects nest in ``value`` (a scalar is 0), walked without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if level > MAX_DEPTH:
            return level
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children)
    return deepest


def parse(text, source):
    """Decode JSON text (or UTF-8 bytes) and check its nesting, its format tag and its version."""
    if isinstance(text, (bytes, bytearray)):
        text = decode(bytes(text), source)
    try:
        data = json.loads(text)
    except RecursionError:
        raise FileFormatError(f"{source}: JSON nested too deeply to read (a model.json nests at most "
                              f"{MAX_DEPTH} levels)") from None
    except ValueError as error:  # JSONDecodeError, and numbers too long to convert
        raise FileFormatError(f"{source} is not valid JSON (truncated or corrupted?): {error}") from None
    if depth(data) > MAX_DEPTH:
        raise FileFormatError(f"{source}: JSON nested more than {MAX_DEPTH} levels deep; a model.json nests far "
                              "less (corrupted or not a model.json?)")
    if not isinstance(data, dict):
        raise FileFormatError(f"{source}: expected a JSON object, got {type(data).__name__}")
    check_version(data, source)
    return data


def check_version(data, source):
    fmt, version = data.get("format"), data.get("format_version")
    if fmt is not None and fmt != FORMAT:
        raise FileFormatError(f"{source}: format is {fmt!r}, expected {FORMAT!r}")
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= FORMAT_VERSION:
        raise FileFormatError(f"{source}: format_version is {version!r}; this Neurona reads versions 1 to "
                              f"{FORMAT_VERSION} (upgrade Neurona to read newer files)")


# ---- compile settings ------------------------------------------------------------------------------
def _serialize_loss(loss):
    if isinstance(loss, losses.LossFunctionWrapper) and not loss.fn_kwargs and loss.fn in losses.FUNCTIONS:
        return losses.FUNCTIONS[loss.fn]
    return losses.serialize(loss)


def compile_config(model):
    """``{"optimizer", "loss", "metrics"}`` (JSON-safe), or None when the model is not compiled or part of its
    compile settings cannot be serialized (a warning says which; compile again after loading)."""
    if model.optimizer is None or model.loss is None:
        return None
    try:
        return {"optimizer": optimizers.serialize(model.optimizer), "loss": _serialize_loss(model.loss),
                "metrics": [metrics_lib.serialize(m) for m in model.compiled_metrics]}
    except (ValueError, TypeError) as error:
        warnings.warn(f"model {model.name!r}: the compile settings (and optimizer state) are not saved: {error}; "
                      "call compile() again after loading", stacklevel=3)
        return None


def compile_from_config(model, config, source):
    """Compile ``model`` with the saved settings."""
    if not isinstance(config, dict) or not isinstance(config.get("metrics", []), list):
        raise FileFormatError(f"{source}: 'compile' is {str(config)[:80]!r}; expected an object with 'optimizer', "
                              "'loss' and 'metrics' (a list) configs")
    try:
        optimizer = optimizers.deserialize(config["optimizer"])
        loss = losses.deserialize(config["loss"])
        metrics = [metrics_lib.deserialize(m) for m in config.get("metrics", [])]
        model.compile(optimizer=optimizer, loss=loss, metrics=metrics)
    except Exception as error:  # whatever a config makes a constructor raise is the file's fault
        raise FileFormatError(f"{source}: the compile settings cannot be rebuilt ({type(error).__name__}: "
                              f"{error}); expected 'optimizer', 'loss' and 'metrics' configs") from None
