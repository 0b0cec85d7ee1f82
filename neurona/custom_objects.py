"""Custom objects, as Keras's ``custom_objects``: classes and functions made findable by name while loading.

Custom objects (Keras's ``custom_objects``): ``CustomObjectScope(dict)`` (alias
``custom_object_scope``) makes classes and functions findable by name while it
is active, in this thread; ``get_custom_objects()`` is a dict consulted after
the scopes. Every ``Registry.lookup`` looks there first, by exact name, so a
saved config naming a custom layer, loss, metric, initializer, regularizer,
activation or optimizer finds it. Nested scopes add up (the innermost wins on a
name); functions taking a ``custom_objects`` argument enter it as the
innermost scope, so the order is: that argument, the scopes, the global dict,
the registry.

A file never names code to import: what a saved entry names is found here or in
the registries (``registry.py``), or not at all. This module imports nothing
from Neurona.
"""

import contextlib
import reprlib
import threading

_scopes = threading.local()  # .objects: the merged dict of the active scopes of this thread
_GLOBAL_CUSTOM_OBJECTS = {}


def check_custom_objects(custom_objects, owner):
    """``custom_objects`` as a new dict (None gives ``{}``), or a TypeError naming ``owner``.

    Args:
        custom_objects: ``{name: class or function}`` (Keras's argument), or None.
        owner: the function it was given to, for the message (``"load_model"``).
    """
    if custom_objects is None:
        return {}
    if not isinstance(custom_objects, dict):
        raise TypeError(f"{owner}: custom_objects must be a dict mapping names to classes or functions "
                        f"(such as {{'CustomDense': CustomDense}}) or None, got {reprlib.repr(custom_objects)} "
                        f"({type(custom_objects).__name__})")
    for name, obj in custom_objects.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"{owner}: custom_objects keys must be non-empty names (str), got {name!r}")
        if obj is None:
            raise TypeError(f"{owner}: custom_objects[{name!r}] is None; expected the class or function of "
                            "that name")
    return dict(custom_objects)


class CustomObjectScope:
    """Context manager making custom classes and functions findable by name while it is active (Keras's).

    Inside ``with CustomObjectScope({"CustomDense": CustomDense}):``, loading a
    model, ``Model.from_config`` and every deserializer find ``CustomDense`` by
    its name, before the registries. Scopes nest (an inner one adds its names,
    and wins on a name both give) and belong to the thread that enters them.

    Args:
        custom_objects: ``{name: class or function}``, or None.

    Example:
        >>> with nr.saving.custom_object_scope({"CustomDense": CustomDense}):
        ...     model = nr.saving.load_model("my_model")
    """

    def __init__(self, custom_objects=None):
        self.custom_objects = check_custom_objects(custom_objects, "CustomObjectScope")

    def __enter__(self):
        # the scopes this one sits in are saved per thread, so one scope object entered by two threads at once
        # restores each thread's own outer scopes on exit
        stack = _scopes.__dict__.setdefault("outer", [])
        outer = getattr(_scopes, "objects", None)
        stack.append(outer)
        _scopes.objects = {**(outer or {}), **self.custom_objects}
        return self

    def __exit__(self, *exc_info):
        _scopes.objects = _scopes.outer.pop()
        return False


custom_object_scope = CustomObjectScope


def get_custom_objects():
    """The global dict of custom objects (a live reference: add ``{name: class}`` to it, as in Keras).

    It is consulted after the active scopes and before the registries (``register_keras_serializable``
    puts classes in the registries, not here).
    """
    return _GLOBAL_CUSTOM_OBJECTS


def custom_object(name):
    """The custom object called exactly ``name`` in the active scopes, else in ``get_custom_objects()``,
    else None."""
    if not isinstance(name, str):
        return None
    scoped = getattr(_scopes, "objects", None)
    if scoped and name in scoped:
        return scoped[name]
    return _GLOBAL_CUSTOM_OBJECTS.get(name)


class UnknownClassError(ValueError):
    """A config names a class (or function) found neither among the custom objects nor in the registry."""


@contextlib.contextmanager
def in_memory_objects():
    """Inside, the unregistered functions and classes that ``serialize`` writes by name are found again by
    ``deserialize`` (in this thread, by module and name): for copying an object through its config in memory
    (``clone_model``: ``from_config(get_config())``), where Keras would import the module. Meant for such
    copies only: a file's load finds them through ``custom_objects``."""
    outer = getattr(_scopes, "in_memory", None)
    _scopes.in_memory = {} if outer is None else outer  # nested scopes share one table
    try:
        yield
    finally:
        _scopes.in_memory = outer


def remember(module, name, obj):
    table = getattr(_scopes, "in_memory", None)
    if table is not None:
        table[(module, name)] = obj
    return name


def remembered(config, label):
    table = getattr(_scopes, "in_memory", None)
    return None if not table else table.get((config.get("module"), label))


def is_builtin_module(module):
    """Whether ``module`` (a saved module name) is Neurona's or Keras's own."""
    return isinstance(module, str) and any(module == root or module.startswith(root + ".")
                                           for root in ("neurona", "keras"))


def find_saved(entry, labels, find):
    """The class a saved entry names: the first of ``labels`` among the custom objects, else the first that
    ``find(label)`` knows; None when neither has one.

    A found class of Neurona's or Keras's own is refused (None) when the entry was saved from a user's module:
    that was a user's class named like a built-in, and the built-in would be the wrong one.
    """
    for label in labels:
        found = custom_object(label)
        if found is not None:
            return found
    module = entry.get("module")
    for label in labels:
        found = find(label)
        if found is not None:
            user_saved = isinstance(module, str) and not is_builtin_module(module)
            return None if user_saved and is_builtin_module(getattr(found, "__module__", None)) else found
    return None


def loading_fix(name, registrable=True):
    """The words of the fix for a name a config gives and nothing here knows: custom_objects, or registering."""
    example = name if name.isidentifier() else "the_object"
    register = (" or register it in the code that loads (@neurona.saving.register_keras_serializable());"
                if registrable else ";")
    return (f"pass it when loading, as in Keras: custom_objects={{{name!r:.80}: {example}}} (an argument of "
            "load_model, model_from_json and from_config, or neurona.saving.custom_object_scope(...)),"
            f"{register} no module named in a file is ever imported")
