"""``Lambda``: a function of tensors as a layer, saved by name (never as code).

Keras saves a Lambda's Python function as marshalled bytecode, which runs
arbitrary code when a file is loaded. Neurona stores no code in any file: a
Lambda's function is stored by name, and found again by that name, in three
places only:

- ``neurona.ops`` (``Lambda(nr.ops.square)``),
- ``neurona.activations`` (``Lambda(nr.activations.linear)``),
- the functions registered with ``@nr.layers.register_function``.

A config names the function the way Keras 3 names a serialized function:
``{"module": "neurona.ops", "class_name": "function", "config": "square",
"registered_name": "square"}``; a registered function's module is
``"neurona.layers.register_function"``, the place where loading looks it up
(loading never imports a module).
"""

import inspect
import numbers

import numpy

from ... import activations, nest, ops, registry
from ...arguments import is_int, shown
from .. import probe
from ..base import Layer

_OPS_MODULE, _ACTIVATIONS_MODULE = "neurona.ops", "neurona.activations"
_REGISTERED = "neurona.layers.register_function"  # the "module" of a registered function's reference
_registered = {}  # name -> function (register_function): what loading finds
_names = {}  # function -> name, for every function ever registered: what saving writes


def register_function(fn=None, *, name=None):
    """Register ``fn`` under ``name`` (default ``fn.__name__``) so that a ``Lambda`` using it can be saved.

    Usable as ``@register_function``, ``@register_function(name="scaled")`` or
    ``register_function(fn, name="scaled")``; returns ``fn``. Loading a saved model
    finds the function under that name, so register it (run the same code) before
    loading too.

    Raises:
        TypeError: ``fn`` is not callable, or ``name`` is not a string.
        ValueError: the name is missing (a ``lambda`` needs ``name=``) or already registered to another function.
    """
    def add(target):
        if not callable(target):
            raise TypeError(f"register_function needs a function, got {shown(target)}")
        label = getattr(target, "__name__", None) if name is None else name
        if not isinstance(label, str):
            raise TypeError(f"register_function: name must be a string, got {shown(label)}")
        if not label or label == "<lambda>" or any(c in label for c in "<>"):
            raise ValueError(f"register_function: {target!r} needs a name without '<' or '>' "
                             f"(register_function(fn, name='my_function')), got name {label!r}")
        existing = _registered.get(label)
        if existing is not None and existing is not target and not _same_definition(existing, target):
            raise ValueError(f"register_function: the name {label!r} is already registered to {existing!r}; "
                             f"choose another name for {target!r}")
        _registered[label] = target
        _names[target] = label  # a re-definition replaces the loaded one; the earlier one still saves by name
        return target

    return add if fn is None else add(fn)


def _same_definition(a, b):
    """Whether ``b`` is ``a`` defined again (a module or notebook cell run again): the same qualified name,
    and the same module or the same source file."""
    if getattr(a, "__qualname__", None) != getattr(b, "__qualname__", None):
        return False
    file_a = getattr(getattr(a, "__code__", None), "co_filename", None)
    file_b = getattr(getattr(b, "__code__", None), "co_filename", None)
    return getattr(a, "__module__", None) == getattr(b, "__module__", None) or (
        file_a is not None and file_a == file_b)


def registered_functions():
    """The names registered with ``register_function``, sorted."""
    return sorted(_registered)


def _function_name(fn):
    """``(module, name)`` under which ``fn`` can be found again, or None."""
    names = [getattr(fn, "__name__", None)] + sorted(set(ops.__all__) | set(ops.NON_DIFFERENTIABLE))
    for candidate in names:
        if isinstance(candidate, str) and getattr(ops, candidate, None) is fn:
            return _OPS_MODULE, candidate
    for candidate in activations.names():
        if activations.get(candidate) is fn:
            return _ACTIVATIONS_MODULE, candidate
    try:
        name = _names.get(fn)
    except TypeError:  # an unhashable callable
        name = None
    return None if name is None else (_REGISTERED, name)


def serialize_function(fn, owner):
    """The JSON-safe reference to ``fn`` (see the module docstring), or a ValueError saying how to register it."""
    found = _function_name(fn)
    if found is None:
        raise ValueError(
            f"{owner}: the function {fn!r} cannot be saved without its code, and Neurona never saves code "
            "(no pickle, no marshal). Use a function of neurona.ops or neurona.activations, or register it "
            "by name, in the code that saves and in the code that loads: decorate a named function with "
            "@nr.layers.register_function, or call nr.layers.register_function(fn, name='my_function')")
    module, name = found
    return {"module": module, "class_name": "function", "config": name, "registered_name": name}


def deserialize_function(config, owner):
    """The function a ``serialize_function`` reference names, looked up in ops, activations or the registry."""
    if not (isinstance(config, dict) and config.get("class_name") == "function"
            and isinstance(config.get("registered_name", config.get("config")), str)):
        raise ValueError(f"{owner}: expected a function reference {{'module': ..., 'class_name': 'function', "
                         f"'config': name, 'registered_name': name}}, got {config!r}")
    name, module = config.get("registered_name", config.get("config")), config.get("module")
    custom = registry.custom_object(name)  # custom_objects= of the load, or a custom_object_scope: first, as Keras
    if callable(custom) and not isinstance(custom, type):
        return custom
    if module == _OPS_MODULE:
        fn = getattr(ops, name, None) if name in ops.__all__ or name in ops.NON_DIFFERENTIABLE else None
    elif module == _ACTIVATIONS_MODULE:
        fn = activations.get(name) if name in activations.names() else None
    else:
        fn = _registered.get(name)
    if fn is None:
        where = module if module in (_OPS_MODULE, _ACTIVATIONS_MODULE) else "the functions registered with " \
            "nr.layers.register_function"
        hint = "" if module in (_OPS_MODULE, _ACTIVATIONS_MODULE) else (
            f" (registered: {registered_functions()}); run the code that registers it before loading")
        raise ValueError(f"{owner}: no function {name!r} in {where}{hint}")
    return fn


def _accepts(fn, argument):
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature
        return False
    # a named parameter only, as Keras checks: **kwargs is often passed on to a function that takes neither
    return any(p.name == argument and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) for p in parameters)


def _is_shape(value):
    return isinstance(value, (list, tuple)) and all(s is None or is_int(s) for s in value)


def _output_shape(value):
    """``output_shape`` as a shape tuple, a list of shape tuples, a callable or None."""
    if value is None or callable(value):
        return value
    if _is_shape(value) and not isinstance(value, str):
        return tuple(None if s is None else int(s) for s in value)
    if isinstance(value, (list, tuple)) and value and all(_is_shape(s) for s in value):
        return [_output_shape(s) for s in value]
    raise TypeError(f"Lambda output_shape must be None, a shape without the batch axis (a tuple of ints or "
                    f"None), a list of such shapes, or a function of the input shape, got {shown(value)}")


def _encode(value, owner):
    """An ``arguments`` value as JSON: tuples marked so that they come back as tuples; arrays refused."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (numbers.Number, numpy.bool_)) and hasattr(value, "item"):  # a NumPy scalar
        return value.item()
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, owner) for v in value]}
    if isinstance(value, list):
        return [_encode(v, owner) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _encode(v, owner) for k, v in value.items()}
    raise ValueError(f"{owner}: arguments must hold numbers, strings, booleans, None, and lists, tuples and "
                     f"dicts of them to be saved, got {shown(value)}")


def _decode(value):
    if isinstance(value, dict):
        if set(value) == {"__tuple__"}:
            return tuple(_decode(v) for v in value["__tuple__"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


class Lambda(Layer):
    """``output = function(inputs, **arguments)``: any function of tensors written with ``nr.ops`` as a layer.

    Args:
        function: a callable taking the layer's input (a tensor, or the list/dict the layer is called
            on) first. If it takes ``training`` (or ``mask``), the call's value is passed on.
        output_shape: the output shape without the batch axis (the batch size is the input's), a list
            of shapes for several outputs, or a function from the full input shape to the full output
            shape. By default the shape is found by running ``function`` once on zeros.
        mask: None, or a function ``(inputs, mask) -> mask`` that ``compute_mask`` applies (Neurona's
            layers do not propagate masks yet).
        arguments: a dict of keyword arguments for ``function`` (JSON-safe values, to be saved).
        **kwargs: base Layer arguments.

    Saving (``get_config``) stores ``function`` (and a callable ``output_shape`` or ``mask``) by name:
    it must come from ``neurona.ops`` or ``neurona.activations``, or be registered with
    ``nr.layers.register_function``; any other function is a ValueError saying so.
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        if not callable(function):
            raise TypeError(f"Lambda function must be callable, got {shown(function)}")
        if arguments is not None and not (isinstance(arguments, dict) and all(isinstance(k, str) for k in arguments)):
            raise TypeError(f"Lambda arguments must be None or a dict of keyword arguments, got {shown(arguments)}")
        if mask is not None and not callable(mask):
            raise TypeError(f"Lambda mask must be None or a function (inputs, mask) -> mask, got {shown(mask)}")
        super().__init__(**kwargs)
        self.function = function
        self.output_shape_arg = _output_shape(output_shape)
        self.mask = mask
        self.arguments = dict(arguments or {})

    def _owner(self):
        return f"layer {self.name!r} (Lambda)"

    def call(self, inputs, mask=None, training=None):
        kwargs = dict(self.arguments)
        if _accepts(self.function, "training"):
            kwargs["training"] = training
        if mask is not None and _accepts(self.function, "mask"):
            kwargs["mask"] = mask
        return self.function(inputs, **kwargs)

    def compute_output_shape(self, input_shape):
        shape = self.output_shape_arg
        if shape is None:
            return super().compute_output_shape(input_shape)  # run the function once on zeros
        if callable(shape):
            return shape(input_shape)
        batch = nest.flatten(input_shape)[0]  # the first input's batch size
        return (batch,) + shape if isinstance(shape, tuple) else [(batch,) + s for s in shape]

    def compute_output_spec(self, *args, **kwargs):
        if self.output_shape_arg is None:  # run it: the output dtype may differ from the layer's (argmax ...)
            return probe.output_spec(self, args, kwargs)
        return super().compute_output_spec(*args, **kwargs)

    def compute_mask(self, inputs, mask=None):
        """The output mask: ``mask(inputs, previous_mask)`` when a mask function was given, else None."""
        return None if self.mask is None else self.mask(inputs, mask)

    def get_config(self):
        owner = self._owner()
        shape = self.output_shape_arg
        if callable(shape):
            shape = serialize_function(shape, f"{owner} output_shape")
        elif shape is not None:
            shape = list(shape) if isinstance(shape, tuple) else [list(s) for s in shape]
        return {
            **super().get_config(),
            "function": serialize_function(self.function, owner),
            "output_shape": shape,
            "mask": None if self.mask is None else serialize_function(self.mask, f"{owner} mask"),
            "arguments": _encode(self.arguments, f"{owner} arguments"),
        }

    @classmethod
    def from_config(cls, config):
        if not isinstance(config, dict):
            raise ValueError(f"Lambda.from_config needs a dict of constructor arguments, got {config!r}")
        config = dict(config)
        owner = f"Lambda {config['name']!r} config" if isinstance(config.get("name"), str) else "Lambda config"
        if "function" in config:
            config["function"] = deserialize_function(config["function"], f"{owner} 'function'")
        shape = config.get("output_shape")
        if isinstance(shape, dict):
            config["output_shape"] = deserialize_function(shape, f"{owner} 'output_shape'")
        elif isinstance(shape, list):
            config["output_shape"] = tuple(shape) if _is_shape(shape) else [tuple(s) for s in shape]
        if config.get("mask") is not None:
            config["mask"] = deserialize_function(config["mask"], f"{owner} 'mask'")
        if config.get("arguments") is not None:
            config["arguments"] = _decode(config["arguments"])
        return super().from_config(config)

    def __repr__(self):
        return f"<Lambda name={self.name!r} function={getattr(self.function, '__name__', self.function)!r}>"

