"""``clone_model``: the same architecture with new weights (Keras's ``keras.models.clone_model``).

Cloning is calling the model on new inputs, but with new layers: each layer is
replaced by ``clone_function(layer)`` (by default a layer rebuilt from its
config, ``type(layer).from_config(layer.get_config())``, hence with freshly
initialized weights), and the graph is replayed on new ``Input`` tensors (or on
``input_tensors``). A layer used at several places (a shared layer) is cloned
once and shared in the copy too. Nested Sequential and functional models are
cloned by ``clone_function`` like any layer, or, with ``recursive=True``, by
``clone_model`` itself with the same arguments. A compiled model's copy is
compiled with fresh copies of its optimizer, loss and metrics (no state).

A subclassed model's structure lives in its code: it is rebuilt from its config
(``type(model).from_config(model.get_config())``), and ``clone_function``,
``call_function`` and ``input_tensors`` are refused for it, as in Keras.
"""

import warnings

from .. import metrics as metrics_lib
from .. import nest, optimizers, registry
from ..layers.core.input import Input, InputLayer
from ..layers.symbolic import SymbolicTensor
from .functional import Functional
from .model import Model
from .sequential import Sequential


def clone_layer(layer):
    """A new layer like ``layer``, rebuilt from its config (so with new, unbuilt weights)."""
    with registry.in_memory_objects():  # custom functions and objects written by name come back in memory
        return type(layer).from_config(layer.get_config())


def _check_callable(value, what, expected):
    if value is not None and not callable(value):
        raise TypeError(f"clone_model: {what} must be a function {expected}, got {value!r} "
                        f"({type(value).__name__})")


def clone_model(model, input_tensors=None, clone_function=None, call_function=None, recursive=False, **kwargs):
    """A copy of ``model`` (Sequential, functional, or subclassed with ``get_config``) with new weights.

    Args:
        model: the model to copy.
        input_tensors: symbolic tensors from ``nr.Input`` to build the copy on, in the structure of
            ``model.input`` (a tensor, or a list or dict of them); new ``Input`` tensors of the same
            shapes, dtypes and names by default.
        clone_function: ``fn(layer) -> layer`` giving the layer to use in the copy for each layer but the
            inputs (``lambda layer: layer`` shares the layers instead); by default the layer rebuilt
            from its config, with new weights.
        call_function: ``fn(layer, *args, **kwargs) -> outputs`` calling each copied layer in a
            functional model (to insert layers around some); ``layer(*args, **kwargs)`` by default.
        recursive: clone nested Sequential and functional models with ``clone_model`` (and these
            arguments) rather than with ``clone_function``.

    Returns:
        A new model of the same class (a functional model's copy is a ``Functional``), compiled like
        ``model`` if it was (fresh optimizer and metric states).

    Raises:
        TypeError: ``model`` is not a Model, a function argument is not callable, ``recursive`` is not a
            bool, or an unknown keyword argument is given.
        ValueError: ``input_tensors`` are not ``nr.Input`` tensors in the structure of ``model.input``;
            ``call_function`` given for a Sequential model; ``clone_function``, ``call_function`` or
            ``input_tensors`` given for a subclassed model.
    """
    cache = kwargs.pop("cache", None)
    if kwargs:
        raise TypeError(f"clone_model() got unexpected keyword arguments {sorted(kwargs)}")
    if not isinstance(model, Model):
        raise TypeError(f"clone_model: model must be a Model (Sequential, functional or subclassed), got "
                        f"{model!r} ({type(model).__name__})")
    _check_callable(clone_function, "clone_function", "fn(layer) -> layer")
    _check_callable(call_function, "call_function", "fn(layer, *args, **kwargs) -> outputs")
    if not isinstance(recursive, bool):
        raise TypeError(f"clone_model: recursive must be a bool, got {recursive!r} ({type(recursive).__name__})")
    if isinstance(model, (Sequential, Functional)):
        clone = _cached(clone_function or clone_layer, call_function, recursive, {} if cache is None else cache)
        if isinstance(model, Sequential):
            if call_function is not None:
                raise ValueError(f"clone_model: call_function is not supported for Sequential model "
                                 f"{model.name!r}: its layers are listed, not called, when it is defined; use it "
                                 "with functional models")
            copy = _clone_sequential(model, clone, input_tensors)
        else:
            copy = _clone_functional(model, clone, call_function, input_tensors)
    else:
        copy = _clone_subclassed(model, clone_function, call_function, input_tensors)
    copy_compile(model, copy)
    return copy


def _cached(clone_function, call_function, recursive, cache):
    """``clone_function`` applied once per layer (a shared layer stays shared), recursing into nested models."""
    def clone(layer):
        if id(layer) not in cache:
            if recursive and isinstance(layer, (Sequential, Functional)):
                calls = None if isinstance(layer, Sequential) else call_function
                cache[id(layer)] = clone_model(layer, clone_function=clone_function, call_function=calls,
                                               recursive=True, cache=cache)
            else:
                cache[id(layer)] = clone_function(layer)
        return cache[id(layer)]

    return clone


def _check_input(tensor, model):
    if not isinstance(tensor, SymbolicTensor) or not isinstance(tensor.layer, InputLayer):
        raise ValueError(f"clone_model: input_tensors of model {model.name!r} must be tensors made by nr.Input(...), "
                         f"got {tensor!r}")
    return tensor


def _clone_sequential(model, clone, input_tensors):
    layers = [clone(layer) for layer in model.layers]
    first = model._layers[0] if model._layers else None
    if input_tensors is not None:
        flat = input_tensors if isinstance(input_tensors, (list, tuple)) else [input_tensors]
        if len(flat) != 1:
            raise ValueError(f"clone_model: a Sequential model has one input, so input_tensors must be one "
                             f"tensor, got {len(flat)}")
        layers.insert(0, _check_input(flat[0], model).layer)
    elif isinstance(first, InputLayer):
        layers.insert(0, InputLayer(batch_shape=(first.batch_size, *first.input_shape_arg), dtype=first.dtype,
                                    name=first.name))
    elif model.input_shape is not None:  # built from a shape: the copy starts from the same one
        layers.insert(0, InputLayer(shape=model.input_shape[1:], dtype=model.dtype))
    return Sequential(layers, name=model.name, trainable=model.trainable)


def _new_inputs(model, input_tensors):
    if input_tensors is None:
        return nest.map_structure(
            lambda t: Input(batch_shape=t.shape, dtype=t.dtype, name=t.layer.name), model.input)
    expected, given = nest.flatten(model.input), nest.flatten(input_tensors)
    same = len(expected) == len(given) and (not isinstance(model.input, dict) or (
        isinstance(input_tensors, dict) and sorted(input_tensors) == sorted(model.input)))
    if not same:
        raise ValueError(f"clone_model: input_tensors must have the structure of model {model.name!r}'s input "
                         f"{nest.map_structure(lambda t: t.layer.name, model.input)!r}, got "
                         f"{input_tensors!r}")
    for tensor in given:
        _check_input(tensor, model)
    if isinstance(model.input, SymbolicTensor) and isinstance(input_tensors, (list, tuple)):
        return input_tensors[0]
    return input_tensors


def _clone_functional(model, clone, call_function, input_tensors):
    inputs = _new_inputs(model, input_tensors)
    tensors = {id(old): new for old, new in zip(model.inputs, nest.flatten(inputs))}

    def new(value):
        return tensors[id(value)] if isinstance(value, SymbolicTensor) else value

    for node in model._nodes:
        layer = clone(node.layer)
        args, kwargs = nest.map_structure(new, list(node.args)), nest.map_structure(new, dict(node.kwargs))
        outputs = call_function(layer, *args, **kwargs) if call_function is not None else layer(*args, **kwargs)
        flat = nest.flatten(outputs)
        if len(flat) != len(node.flat_outputs):
            raise ValueError(f"clone_model: the copy of layer {node.layer.name!r} returned {len(flat)} tensors "
                             f"where the original returned {len(node.flat_outputs)}")
        tensors.update((id(old), fresh) for old, fresh in zip(node.flat_outputs, flat))
    outputs = nest.map_structure(new, model.output)
    return Functional(inputs, outputs, name=model.name, trainable=model.trainable)


def _clone_subclassed(model, clone_function, call_function, input_tensors):
    given = [name for name, value in (("clone_function", clone_function), ("call_function", call_function),
                                      ("input_tensors", input_tensors)) if value is not None]
    if given:
        raise ValueError(f"clone_model: {', '.join(given)} can only be given for Sequential and functional models; "
                         f"model {model.name!r} is a subclassed {type(model).__name__}, whose layers are made by its "
                         "code (it is cloned from its config)")
    try:
        with registry.in_memory_objects():
            copy = type(model).from_config(model.get_config())
    except Exception as error:  # whatever the user's get_config/from_config raise: say what to write
        raise ValueError(f"clone_model: subclassed model {model.name!r} ({type(model).__name__}) could not be "
                         f"rebuilt from its config ({type(error).__name__}: {error}); implement get_config() "
                         "returning its constructor's arguments (and from_config() when needed)") from error
    if model.built and model.input_shape is not None and not copy.built:
        copy.build(model.input_shape)
    return copy


def _fresh(spec):
    """A compile argument with each Metric object replaced by a new one of the same config (no state)."""
    if isinstance(spec, (list, tuple)):
        return [_fresh(item) for item in spec]
    if isinstance(spec, dict):
        return {key: _fresh(value) for key, value in spec.items()}
    if isinstance(spec, metrics_lib.Metric):
        with registry.in_memory_objects():
            return metrics_lib.deserialize(metrics_lib.serialize(spec))
    return spec


def copy_compile(model, copy):
    """Compile ``copy`` with ``model``'s compile arguments, with fresh objects (an optimizer without slots,
    metrics at zero), as Keras compiles a clone from the model's compile config."""
    given = getattr(model, "_compile_config", None)
    if getattr(model, "optimizer", None) is None or given is None:
        return
    try:
        arguments = {key: _fresh(value) for key, value in given.items() if key != "optimizer"}
        optimizer = optimizers.deserialize(optimizers.serialize(model.optimizer))
    except (TypeError, ValueError) as error:
        warnings.warn(f"clone_model: the copy of model {model.name!r} is not compiled: its compile settings cannot "
                      f"be copied ({error}); call compile() on it", stacklevel=3)
        return
    copy.compile(optimizer=optimizer, **arguments)


__all__ = ["clone_model"]
