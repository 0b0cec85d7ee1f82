"""The architecture as JSON: ``model.to_json()``, ``model_from_json`` and ``model.json``'s model entry.

A model's JSON is ``{"class_name", "config", "build_input_shape"}``: the model
class, its ``get_config()`` and the input shape it was built for, with Keras's
``module`` and ``registered_name`` beside the class name. The class is
``Sequential`` or ``Functional`` (looked up among ``neurona.models``' Model
classes), or a custom one: given in ``custom_objects`` (or a
``CustomObjectScope``), or registered with ``@neurona.layers.register`` (or
``neurona.saving.register_keras_serializable``), never imported by name (the
``module`` only tells the error message where the class came from). Custom
functions and objects inside layer configs (an activation function, an
initializer or regularizer object or function) are saved the same way, by name
(``neurona.registry``), and found through the same ``custom_objects``; only what
has no name at all (a lambda) is refused at save time.
A Sequential config lists every layer's class and config (initializers,
regularizers, activation, input shape); a functional config (Keras 3's layout)
lists the layers with the calls that feed them, nested models' configs inside,
so shared layers, several inputs and outputs and ops on symbolic tensors come
back as they were. ``build_input_shape`` is null for a functional model (its
Inputs give the shapes), a shape, or for a subclassed model called on several
inputs a list (or dict) of shapes (document.py). A custom class need not be
registered to save, as in Keras (loading then needs it in ``custom_objects``
or registered); saving refuses a ``get_config`` that misses arguments the
constructor requires (of the model or of a custom layer of its graph).
Rebuilding calls only the ``from_config`` of classes the program gave or
registered; nothing in a file is executed.

Reading a file never raises anything but ``FileFormatError`` for what the file
holds: text that is not UTF-8, not JSON, nested deeper than ``MAX_DEPTH``
(JSON's decoder would hit the recursion limit), an unknown or abstract model
class, a layer class, or a function or object in a layer's config, neither given nor
registered (the message names the layer, the name, its module and the
``custom_objects`` to pass), a config the classes refuse (whatever they raise is reported with the
layer that raised it), an input shape that is not a shape (or shapes) or does
not fit the model. The compile settings are compile_settings.py's.
"""

import contextlib
import inspect
import json

import numpy

from .. import backend
from ..registry import (
    CustomObjectScope,
    UnknownClassError,
    check_custom_objects,
    find_saved,
    is_builtin_module,
    mismatched_arguments,
)
from . import document, layer_paths
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


def _is_builtin(cls):
    return is_builtin_module(cls.__module__)


def _default_from_config(cls):
    """Whether ``cls.from_config`` is Layer's or Model's, which call the constructor with the config."""
    from ..layers import Layer
    from ..models import Model

    method = getattr(cls.from_config, "__func__", None)
    return method in (Layer.from_config.__func__, Model.from_config.__func__)


def _check_arguments(cls, config, what):
    """Refuse a config that cannot call the constructor that ``from_config`` will call with it."""
    if not _default_from_config(cls):
        return
    missing, unexpected = mismatched_arguments(cls, config)
    if missing or unexpected:
        raise ValueError(f"cannot save {what}: {cls.__name__}.get_config() returns keys {sorted(config)}, but the "
                         f"constructor requires {missing or 'nothing more'} and does not take "
                         f"{unexpected or 'nothing'}; override get_config() to return the constructor's arguments "
                         "(Keras's convention), or from_config() to rebuild from what it returns")


def _check_class(layer, config, what):
    """Refuse a layer or model of a custom class that a load could not rebuild from ``config``."""
    from .. import models
    from ..models import functional_config

    cls = type(layer)
    if _is_builtin(cls) or getattr(models, cls.__name__, None) is cls:
        return
    if isinstance(layer, models.Functional):
        if functional_config.revivable_as_functional(cls):
            return  # a Model subclass built as Model(inputs, outputs): rebuilt from its graph's config
        inherited = {models.Model.from_config.__func__, models.Functional.from_config.__func__}
        if getattr(cls.from_config, "__func__", None) in inherited:
            raise ValueError(f"cannot save {what}: {cls.__name__}'s constructor takes arguments besides inputs, "
                             "outputs and name, which its functional config does not hold, so a load could not "
                             f"call it; define {cls.__name__}.get_config() returning them and from_config() "
                             "rebuilding the model from them (as Keras requires), or take only (inputs, outputs, "
                             "name, **kwargs)")
        return  # its own from_config rebuilds it
    _check_arguments(cls, config, what)


def _check_graph_layers(model, owner):
    """The custom layers of a Sequential or functional model (and of the graph models inside it) must be
    rebuildable from their configs: a load calls ``cls.from_config(layer.get_config())``."""
    from ..models import Functional, Sequential

    for layer in model.layers:
        if isinstance(layer, (Functional, Sequential)):
            _check_graph_layers(layer, owner)
        _check_class(layer, layer.get_config(), f"model {owner!r}: layer {layer.name!r}")


def _check_rebuildable(model, config):
    """Refuse, at save time, a model whose config misses what its constructor (or a custom layer's) requires
    (a subclassed model that does not override get_config). An unregistered class is saved by name: loading
    needs it in ``custom_objects`` or registered, as in Keras."""
    from ..models import Functional, Sequential

    if isinstance(model, (Functional, Sequential)):
        _check_graph_layers(model, model.name)
    _check_class(model, config, f"model {model.name!r}")


def model_config(model):
    """``{"module", "class_name", "config", "registered_name", "build_input_shape"}`` of a model."""
    from ..layers import _registered_name

    if not hasattr(model, "get_config"):
        raise ValueError(f"model {model.name!r} ({type(model).__name__}) has no get_config(); it cannot be saved")
    try:
        config = model.get_config()
    except ValueError as error:
        # what cannot be saved at all (a lambda, a callable without a name or get_config, a Lambda layer's
        # function): the message says its own fix; custom_objects at load time could not help
        raise ValueError(f"cannot save model {model.name!r}: {error}") from None
    if not isinstance(config, dict):
        raise ValueError(f"cannot save model {model.name!r}: {type(model).__name__}.get_config() returned "
                         f"{type(config).__name__}; expected a dict of constructor arguments")
    _check_rebuildable(model, config)
    cls = type(model)
    return {"module": cls.__module__, "class_name": cls.__name__, "config": config,
            "registered_name": _registered_name(cls), "build_input_shape": document.recorded_input_shape(model)}


def _rebuildable(models, cls):
    """A concrete Model class that rebuilds itself from a config."""
    return (isinstance(cls, type) and issubclass(cls, models.Model) and cls is not models.Model
            and not inspect.isabstract(cls) and callable(getattr(cls, "from_config", None)))


def _registered_class(name):
    """The class registered in the layers registry as ``name`` (the registry alone), or None."""
    from .. import layers

    return layers._registry.find(name)


def model_class(entry, source):
    """The model class a model entry names: by its ``registered_name``, then its ``class_name``, among the
    custom objects (``custom_objects``, scopes), then the Model classes of ``neurona.models``, then the
    registry (no other lookup, no import by name); the base ``Model``, abstract classes and a built-in class
    where the entry says the saved one was custom are refused."""
    from .. import models

    name, registered, module = entry.get("class_name"), entry.get("registered_name"), entry.get("module")
    labels = [label for label in (registered, name) if isinstance(label, str) and label and not label.startswith("_")]

    def find(label):
        public = getattr(models, label, None) if label.isidentifier() else None
        return public if _rebuildable(models, public) else _registered_class(label)

    cls = find_saved(entry, labels, find)
    if not _rebuildable(models, cls):
        known = sorted(n for n in dir(models) if not n.startswith("_") and _rebuildable(models, getattr(models, n)))
        origin = f" (class saved from module {module!r:.120})" if isinstance(module, str) else ""
        example = name if isinstance(name, str) and name.isidentifier() else "TheClass"
        raise FileFormatError(f"{source}: 'class_name' is {str(name)[:80]!r}{origin}, which is not a model class "
                              f"that can be rebuilt from a config; expected one of {known}, or a Model subclass "
                              f"given when loading (custom_objects={{{str(name)[:80]!r}: {example}}}, or "
                              "neurona.saving.custom_object_scope(...)) or registered with "
                              "@neurona.saving.register_keras_serializable() or @neurona.layers.register (run the "
                              "code that registers it before loading; no module named in a file is ever imported)")
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


def model_from_config(entry, source="JSON", custom_objects=None):
    """Rebuild (and build, when the input shape is known) a model from ``model_config``'s output.

    ``custom_objects`` (``{name: class or function}``) is searched first, then the active
    ``CustomObjectScope``s, then the registries.
    """
    objects = check_custom_objects(custom_objects, "load")
    if not isinstance(entry, dict) or "class_name" not in entry or "config" not in entry:
        raise FileFormatError(f"{source}: expected a model entry with 'class_name' and 'config', got "
                              f"{str(entry)[:80]!r}")
    with CustomObjectScope(objects):
        cls = model_class(entry, source)
        if not isinstance(entry["config"], dict):
            raise FileFormatError(f"{source}: the model's 'config' is {str(entry['config'])[:80]!r} "
                                  f"({type(entry['config']).__name__}); expected an object (the model's "
                                  "get_config())")
        shape = document.input_shape(entry.get("build_input_shape"), f"{source}: 'build_input_shape'")
        with preserved_global_rng():
            try:
                model = cls.from_config(entry["config"])
            except UnknownClassError as error:  # a class neither given nor registered: what to pass says it
                raise FileFormatError(f"{source}: {error}") from None
            except Exception as error:  # whatever a config makes a constructor raise is the file's fault
                raise FileFormatError(f"{source}: could not rebuild {_culprit(entry['config'])}: "
                                      f"{type(error).__name__}: {error}") from None
            _check_names(model, source)
            if shape is not None:
                try:
                    build_model(model, shape)
                except Exception as error:
                    raise FileFormatError(f"{source}: the model cannot be built for 'build_input_shape' "
                                          f"{document.shape_to_json(shape)}: {type(error).__name__}: "
                                          f"{error}") from None
    return model


def _symbolic(shape, dtype):
    from ..layers.symbolic import SymbolicTensor

    if isinstance(shape, dict):
        return {key: _symbolic(value, dtype) for key, value in shape.items()}
    if isinstance(shape, list):
        return [_symbolic(value, dtype) for value in shape]
    return SymbolicTensor(shape, dtype)


def build_model(model, shape):
    """Build ``model`` for ``shape``; a subclassed model whose own ``build`` leaves layers unbuilt (they are
    built by the first call) is then run once on zeros, as its first call built them before the save."""
    from ..layers import probe

    if model.built and document.shape_to_json(model.input_shape) != document.shape_to_json(shape):
        raise ValueError(f"the model's config gives it input shape {document.shape_to_json(model.input_shape)}")
    if not model.built:
        model.build(shape)
    if any(not layer.built for _, layer in layer_paths.walk(model)):
        probe.output_spec(model, (_symbolic(shape, model.dtype),), {})


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
            name = entry.get("name", name)
            return (f"layer {name!r} ({entry.get('class_name', '?')}) "
                    f"from config {dumps(layer_config)[:200]}; expected the arguments of that layer's "
                    f"constructor ({type(error).__name__}: {error})")
    return "the model"


def to_json(model, **kwargs):
    """The JSON text of ``model_config`` with the format tag and version (``kwargs`` go to ``json.dumps``)."""
    return dumps({"format": FORMAT, "format_version": FORMAT_VERSION, **model_config(model)}, **kwargs)


def from_json(text, source="JSON", custom_objects=None):
    """Rebuild a model from ``to_json`` text (a whole ``model.json`` is accepted too)."""
    data = parse(text, source)
    return model_from_config(data.get("model", data), source, custom_objects)


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


def parse(text, source, versioned=True):
    """Decode JSON text (or UTF-8 bytes) and check its nesting, its format tag and its version (not the last
    two with ``versioned=False``, for a text that may be Keras's own JSON: saving/keras reads those)."""
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
    if versioned:
        check_version(data, source)
    return data


def check_version(data, source):
    fmt, version = data.get("format"), data.get("format_version")
    if fmt is not None and fmt != FORMAT:
        raise FileFormatError(f"{source}: format is {fmt!r}, expected {FORMAT!r}")
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= FORMAT_VERSION:
        raise FileFormatError(f"{source}: format_version is {version!r}; this Neurona reads versions 1 to "
                              f"{FORMAT_VERSION} (upgrade Neurona to read newer files)")
