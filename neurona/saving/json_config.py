"""The architecture and compile settings as JSON: ``model.to_json()``, ``model_from_json`` and ``model.json``.

A model's JSON is ``{"class_name", "config", "build_input_shape"}``: the model
class (looked up among ``neurona.models``' Model classes, never imported by
name), its ``get_config()`` (every layer's class and config: initializers,
regularizers, activation, input shape) and the input shape it was built for.
Rebuilding calls only registered ``from_config`` methods; nothing in a file is
executed.
"""

import contextlib
import json
import warnings

import numpy

from .. import backend, losses, optimizers
from .. import metrics as metrics_lib
from .errors import FileFormatError

FORMAT = "neurona.model"
FORMAT_VERSION = 1


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


def model_class(name, source):
    """The Model subclass called ``name`` in ``neurona.models`` (no other lookup, no import by name)."""
    from .. import models

    cls = getattr(models, name, None) if isinstance(name, str) else None
    if not (isinstance(cls, type) and issubclass(cls, models.Model)):
        known = [n for n in dir(models) if isinstance(getattr(models, n), type)
                 and issubclass(getattr(models, n), models.Model)]
        raise FileFormatError(f"{source}: unknown model class {name!r}; expected one of {known}")
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
    with preserved_global_rng():
        try:
            model = cls.from_config(entry["config"])
        except (TypeError, ValueError, KeyError) as error:
            raise FileFormatError(f"{source}: could not rebuild {_culprit(entry['config'])}: "
                                  f"{type(error).__name__}: {error}") from None
        shape = entry.get("build_input_shape")
        if shape is not None and not model.built:
            model.build(tuple(shape))
    return model


def _culprit(config):
    """Name the first layer config that cannot be rebuilt on its own (for the error message)."""
    from .. import layers

    for layer_config in config.get("layers", []) if isinstance(config, dict) else []:
        try:
            with preserved_global_rng():
                layers.deserialize(layer_config)
        except Exception as error:  # any failure names this layer
            name = (layer_config.get("config") or {}).get("name") if isinstance(layer_config, dict) else None
            return (f"layer {name!r} ({layer_config.get('class_name') if isinstance(layer_config, dict) else '?'}) "
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


def parse(text, source):
    """Decode JSON text and check its format tag and version."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise FileFormatError(f"{source} is not valid JSON (truncated or corrupted?): {error}") from None
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
    try:
        optimizer = optimizers.deserialize(config["optimizer"])
        loss = losses.deserialize(config["loss"])
        metrics = [metrics_lib.deserialize(m) for m in config.get("metrics", [])]
    except (KeyError, TypeError, ValueError) as error:
        raise FileFormatError(f"{source}: the compile settings cannot be rebuilt ({type(error).__name__}: "
                              f"{error}); expected 'optimizer', 'loss' and 'metrics' configs") from None
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics)
