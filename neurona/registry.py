"""Name registries for pluggable objects (layers, initializers, optimizers, losses, ...).

Every pluggable object is found by name, in snake_case or CamelCase
(``"glorot_uniform"``, ``"GlorotUniform"``), or by an alias
(``"xavier_uniform"``). Lookups ignore case and underscores. An unknown name
raises an error that lists the valid ones. This module imports nothing else
from Neurona, so every layer of the package may use it.

Custom objects (Keras's ``custom_objects``, scopes, the global dict) live in
``custom_objects.py``; their names are importable from here too.

Unregistered objects are saved by name, in Keras 3's layout: a plain ``def``
function as ``{"module", "class_name": "function", "config": its __name__,
"registered_name"}``, an instance of an unregistered class with ``get_config``
as ``{"module", "class_name", "config": get_config(), "registered_name"}``.
Loading finds them only among the custom objects (by ``registered_name``, then
by name) or, for a function decorated with ``register_keras_serializable``,
under its ``"package>name"``; the ``module`` is never imported (it names the
origin in error messages, and a name saved from a user's module never resolves
to a built-in of the same name: a user's own ``relu`` comes back only through
``custom_objects``). A lambda has no name to be found by and is refused at save
time. Registered objects keep their forms: a function's name, ``{"class_name",
"config"}`` for an instance.
"""

import inspect
import re
import types

from .custom_objects import (  # noqa: F401 - the custom-object names, importable from here as before
    CustomObjectScope,
    UnknownClassError,
    check_custom_objects,
    custom_object,
    custom_object_scope,
    find_saved,
    get_custom_objects,
    in_memory_objects,
    is_builtin_module,
    loading_fix,
    remember,
    remembered,
)


def snake_case(name):
    """``"GlorotUniform"`` -> ``"glorot_uniform"``, ``"SGD"`` -> ``"sgd"``, ``"MaxPooling2D"`` -> ``"max_pooling2d"``.

    Keras's rule, so that layers get Keras's default names (``conv2d``, ``conv2d_1`` ...).
    """
    name = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _key(name):
    return name.replace("_", "").lower()


# ---- unregistered objects, saved by name (Keras 3's layout) ------------------------------------------
FUNCTION = "function"  # the class_name of a serialized function, as in Keras
_REGISTERED_FUNCTIONS = {}  # "package>name" -> function (register_keras_serializable)
_FUNCTION_NAMES = {}  # function -> "package>name"


def register_serializable_function(fn, registered_name):
    """Make ``fn`` findable by ``registered_name`` (``"package>name"``) in every saved config naming it
    (``neurona.saving.register_keras_serializable`` calls this for functions)."""
    _REGISTERED_FUNCTIONS[registered_name] = fn
    _FUNCTION_NAMES[fn] = registered_name
    return fn


def _hashable_in(obj, table):
    try:
        return obj in table
    except TypeError:  # an unhashable callable is never registered
        return False


class Registry:
    """A mapping from names to classes or functions of one kind.

    Args:
        kind: what is registered, used in error messages (``"initializer"``).
    """

    def __init__(self, kind):
        self.kind = kind
        self._by_key = {}
        self._canonical = {}  # object -> canonical snake_case name

    def register(self, obj=None, *, name=None, aliases=()):
        """Register ``obj`` (usable as a decorator, with or without arguments).

        It is found under its own ``__name__``, its snake_case form, ``name`` and
        every alias.
        """

        def add(target):
            canonical = name or snake_case(target.__name__)
            for label in (target.__name__, canonical, *aliases):
                existing = self._by_key.get(_key(label))
                if existing is not None and existing is not target:
                    raise ValueError(f"{self.kind} name {label!r} is already registered to {existing!r}")
                self._by_key[_key(label)] = target
            self._canonical[target] = canonical
            return target

        return add if obj is None else add(obj)

    def names(self):
        """The canonical (snake_case) names, sorted."""
        return sorted(set(self._canonical.values()))

    def lookup(self, name):
        """The custom object called ``name`` (see ``custom_object``), else the class or function registered
        as ``name``."""
        if not isinstance(name, str):
            raise TypeError(f"{self.kind} name must be a string, got {type(name).__name__}")
        custom = custom_object(name)
        if custom is not None:
            return custom
        found = self.find(name)
        if found is None:
            raise ValueError(f"unknown {self.kind} {name!r}; valid names: {', '.join(self.names())}")
        return found

    def find(self, name):
        """The class or function registered as ``name`` (the registry alone), or None."""
        return self._by_key.get(_key(name)) if isinstance(name, str) else None

    def name_of(self, obj):
        """The canonical name of a registered class or function (or of an instance's class)."""
        target = obj if obj in self._canonical else type(obj)
        return self._canonical.get(target)

    def __contains__(self, obj):
        return obj in self._canonical

    def get(self, identifier):
        """Resolve ``identifier`` the way Keras's ``get`` functions do.

        - ``None`` -> ``None``
        - a name -> a fresh instance of the registered class (or the registered function)
        - ``{"class_name": ..., "config": {...}}`` -> ``cls.from_config(config)``
        - a registered class -> a default instance
        - an instance or any other callable -> returned unchanged
        """
        if identifier is None:
            return None
        if isinstance(identifier, str):
            target = self.lookup(identifier)
            return target() if isinstance(target, type) else target
        if isinstance(identifier, dict):
            return self.deserialize(identifier)
        if isinstance(identifier, type) and identifier in self._canonical:
            return identifier()
        if callable(identifier):
            return identifier
        raise TypeError(
            f"could not interpret {self.kind} identifier {identifier!r}: expected a name, a config dict, "
            f"a {self.kind} object or a callable"
        )

    def serialize(self, obj):
        """A JSON-safe description of ``obj``.

        A registered function: its name; an instance of a registered class: ``{"class_name", "config"}``;
        anything else in Keras 3's layout (see the module doc): a named function by its name, an object by
        its class name and ``get_config()``. A lambda, a class, or a callable with neither a name nor
        ``get_config`` is a ValueError that says what to give instead.
        """
        if obj is None:
            return None
        if not isinstance(obj, type) and _hashable_in(obj, self._canonical):  # a registered function
            return self._canonical[obj]
        if self.name_of(obj) is not None and not isinstance(obj, type):
            return {"class_name": type(obj).__name__, "config": obj.get_config()}
        return self._serialize_custom(obj)

    def _serialize_custom(self, obj):
        """Keras's layout for an unregistered function or object (see the module doc)."""
        shown = f"{obj!r:.100}"
        if isinstance(obj, types.FunctionType):
            if obj.__name__ == "<lambda>":
                raise ValueError(f"cannot serialize {self.kind} {shown}: a lambda has no name that loading could "
                                 "find it by; define it with def (def my_fn(...): ...), then load with "
                                 "custom_objects={'my_fn': my_fn}")
            registered = _FUNCTION_NAMES.get(obj, obj.__name__) if _hashable_in(obj, _FUNCTION_NAMES) else \
                obj.__name__
            return {"module": obj.__module__, "class_name": FUNCTION, "config": obj.__name__,
                    "registered_name": remember(obj.__module__, registered, obj)}
        if isinstance(obj, type):
            raise ValueError(f"cannot serialize {self.kind} {shown}: it is a class; pass an instance (its "
                             "get_config() is saved)")
        get_config = getattr(obj, "get_config", None)
        if not callable(get_config):
            raise ValueError(f"cannot serialize {self.kind} {shown} ({type(obj).__name__}): it is neither a "
                             "function defined with def nor an object with get_config(); use a def function, or "
                             "give its class get_config() returning its constructor arguments")
        config = get_config()
        if not isinstance(config, dict):
            raise ValueError(f"cannot serialize {self.kind} {shown}: {type(obj).__name__}.get_config() returned "
                             f"{type(config).__name__}; expected a dict of constructor arguments")
        cls = type(obj)
        return {"module": cls.__module__, "class_name": cls.__name__, "config": config,
                "registered_name": remember(cls.__module__, cls.__name__, cls)}

    def deserialize(self, config):
        """Inverse of ``serialize``: a name, ``{"class_name", "config"}``, or Keras's layout of a function
        (``class_name`` ``"function"``) or of an object (with ``module`` and ``registered_name``)."""
        if config is None or isinstance(config, str):
            return self.get(config)
        if not isinstance(config, dict) or "class_name" not in config:
            raise ValueError(f"{self.kind} config must be a name or a dict with 'class_name', got {config!r}")
        if config["class_name"] == FUNCTION:
            return self._function(config)
        if "module" not in config and "registered_name" not in config:
            cls = self.lookup(config["class_name"])  # a registered object's form (or a custom object's name)
        else:
            cls = self._custom_class(config)
        if not callable(getattr(cls, "from_config", None)):
            raise TypeError(f"{self.kind} config names {config['class_name']!r:.80}, which is {cls!r:.80}; "
                            "expected a class with from_config()")
        return cls.from_config(config.get("config", {}))

    def _labels(self, config):
        labels = [config.get("registered_name"), config.get("config") if config["class_name"] == FUNCTION
                  else config["class_name"]]
        return list(dict.fromkeys(label for label in labels if isinstance(label, str) and label))

    def _builtin_found(self, config, label):
        """The registry's object for ``label``, unless it is a built-in and the entry was saved from a
        user's module (a user's object named like a built-in: the built-in would be the wrong one)."""
        found = self.find(label)
        module = config.get("module")
        if found is None or (module is not None and not is_builtin_module(module)
                             and is_builtin_module(getattr(found, "__module__", None))):
            return None
        return found

    def _function(self, config):
        """The function a ``{"class_name": "function", "config": name}`` entry names."""
        name, module = config.get("config"), config.get("module")
        if not isinstance(name, str) or not name:
            raise ValueError(f"{self.kind} function entry {config!r:.200}: its 'config' must be the function's "
                             "name (a non-empty string)")
        labels = self._labels(config)
        for label in labels:
            found = custom_object(label)
            if found is not None:
                if not callable(found):
                    raise TypeError(f"custom object {label!r} is {found!r:.80}; the {self.kind} function entry "
                                    "needs a function under that name")
                return found
        for label in labels:
            found = _REGISTERED_FUNCTIONS.get(label) or remembered(config, label)
            if found is not None:
                return found
        for label in labels:
            found = self._builtin_found(config, label)
            if found is not None:
                return found() if isinstance(found, type) else found
        origin = f" (saved from module {module!r:.120})" if isinstance(module, str) else ""
        raise UnknownClassError(f"unknown {self.kind} function {name!r:.80}{origin}: it is neither among the "
                                f"custom objects nor registered; {loading_fix(name)}")

    def _custom_class(self, config):
        """The class a Keras-layout entry (with ``module``/``registered_name``) names."""
        name, module = config["class_name"], config.get("module")
        found = find_saved(config, self._labels(config), lambda label: remembered(config, label) or self.find(label))
        if found is not None:
            return found
        if not isinstance(name, str) or not name:
            raise ValueError(f"{self.kind} config's 'class_name' is {name!r:.80}; expected a class name")
        origin = f" (saved from module {module!r:.120})" if isinstance(module, str) else ""
        raise UnknownClassError(f"unknown {self.kind} class {name!r:.80}{origin}: it is neither among the custom "
                                f"objects nor registered; {loading_fix(name, self.kind != 'activation')}")


def mismatched_arguments(cls, config):
    """The required constructor arguments absent from ``config``, and the keys no constructor accepts.

    Required are those of the class's own ``__init__`` (a parent's may be filled
    in by the subclass). Subclasses forward ``**kwargs`` to their parent, so the
    accepted names are those of every ``__init__`` up the MRO until one without
    ``**kwargs`` ends the chain (one that never ends accepts anything).
    """
    accepted, required, open_ended = set(), None, True
    for klass in cls.__mro__:
        if klass is object or "__init__" not in vars(klass) or not open_ended:
            continue
        params = list(inspect.signature(vars(klass)["__init__"]).parameters.values())[1:]  # skip self
        named = [p for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        if required is None:
            required = [p.name for p in named if p.default is p.empty]
        accepted.update(p.name for p in named)
        open_ended = any(p.kind is p.VAR_KEYWORD for p in params)
    missing = [name for name in required or () if name not in config]
    unexpected = [] if open_ended else sorted(k for k in config if k not in accepted)
    return missing, unexpected


def construct(cls, config, kind):
    """``cls(**config)``, first checking that ``config`` fits the constructor (for ``from_config``).

    Python's own error for a config from a file ("__init__() missing 1 required positional argument")
    names neither the class nor the keys it got; this ``ValueError`` names both.

    Args:
        cls: the class to build.
        config: its constructor arguments (a dict).
        kind: what ``cls`` is, for the message (``"optimizer"``).
    """
    if not isinstance(config, dict):
        raise ValueError(f"{cls.__name__}.from_config needs a dict of constructor arguments, got {config!r}")
    missing, unexpected = mismatched_arguments(cls, config)
    if missing or unexpected:
        problems = [f"missing required {', '.join(map(repr, missing))}" if missing else "",
                    f"unexpected {', '.join(map(repr, unexpected))}" if unexpected else ""]
        raise ValueError(f"config of {kind} class {cls.__name__} does not fit its constructor: "
                         f"{'; '.join(p for p in problems if p)} (got keys {sorted(config)})")
    return cls(**config)


class Configurable:
    """Mixin for pluggable objects rebuilt from their constructor arguments.

    Subclasses return those arguments (JSON-safe) from ``get_config``;
    ``from_config`` calls the constructor with them and ``repr`` shows them.
    """

    def get_config(self):
        """The constructor arguments as a JSON-safe dict."""
        return {}

    @classmethod
    def from_config(cls, config):
        """Rebuild an equal object from ``get_config()``'s output (a config that does not fit is a ValueError)."""
        mro = cls.__mro__
        base = mro[mro.index(Configurable) - 1] if mro.index(Configurable) else cls  # Loss, Regularizer, ...
        return construct(cls, config, snake_case(base.__name__))

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"
