"""Model transforms: a copy of a model in which some layers are wrapped, with the original's weights.

Every compression transform returns a new model and leaves the one it was given untouched (the user keeps
the float model to compare against). The copy is ``clone_model``'s (nested Sequential and functional models
included), each layer rebuilt from its config; ``wrap(copy)`` may return a wrapper around a layer's copy, and
every layer's weights are then copied from the original's.
"""

from ..models import Functional, Sequential, clone_model
from ..models.cloning import clone_layer
from .wrapper import WRAPPABLE, KernelWrapper


def check_model(model, what):
    """Raise unless ``model`` is a built Sequential or functional model (subclassed ones hold their graph in
    code, which a transform cannot rewrite)."""
    if not isinstance(model, (Sequential, Functional)):
        raise TypeError(f"{what} takes a Sequential or functional model, got {type(model).__name__} "
                        f"({getattr(model, 'name', model)!r}); a subclassed model's layers live in its code")
    if not model.built:
        raise ValueError(f"{what}: model {model.name!r} is not built; build it (or call it on data) first")


def target_layers(model, layer_names=None, kinds=WRAPPABLE):
    """The layers of ``model`` (nested models included) that a transform wraps: every layer of ``kinds``, or
    those named in ``layer_names`` (each of which must exist and be of ``kinds``)."""
    found = [layer for layer in _leaves(model) if isinstance(layer, kinds)]
    wrapped = [layer for layer in _leaves(model) if isinstance(layer, KernelWrapper)]
    if wrapped:
        raise ValueError(f"model {model.name!r} is already transformed (layer {wrapped[0].name!r} is a "
                         f"{type(wrapped[0]).__name__}); start from the float model, or strip it first")
    if layer_names is None:
        return found
    names = [layer_names] if isinstance(layer_names, str) else list(layer_names)
    by_name = {layer.name: layer for layer in found}
    unknown = [name for name in names if name not in by_name]
    if unknown:
        raise ValueError(f"layers {unknown} are not {'/'.join(k.__name__ for k in kinds)} layers of model "
                         f"{model.name!r}; those are: {sorted(by_name)}")
    return [by_name[name] for name in names]


def _leaves(model):
    for layer in model.layers:
        if isinstance(layer, (Sequential, Functional)):
            yield from _leaves(layer)
        else:
            yield layer


def wrapped_copy(model, targets, wrap):
    """``(copy, {original layer: its wrapper in the copy})``: ``model`` cloned with ``wrap(layer_copy)``
    around the copies of ``targets``, every weight copied from ``model``."""
    targets = {id(layer) for layer in targets}
    pairs, wrappers = [], {}

    def clone(layer):
        copy = clone_layer(layer)
        pairs.append((layer, copy))
        if id(layer) in targets:
            wrappers[layer] = wrap(copy)
            return wrappers[layer]
        return copy

    copy = clone_model(model, clone_function=clone, recursive=True)
    for original, new in pairs:
        new.set_weights(original.get_weights())
    return copy, wrappers


def stripped_copy(model, unwrap, weights=None):
    """A copy of ``model`` with every wrapper replaced by ``unwrap(wrapper)`` (a plain layer), weights copied:
    those of ``unwrap(wrapper)``, or ``weights(wrapper)`` (in its ``get_weights`` order) when given."""
    pairs = []

    def clone(layer):
        wrapped = isinstance(layer, KernelWrapper)
        source = unwrap(layer) if wrapped else layer
        copy = clone_layer(source)
        pairs.append((weights(layer) if wrapped and weights is not None else source.get_weights(), copy))
        return copy

    copy = clone_model(model, clone_function=clone, recursive=True)
    for values, new in pairs:
        new.set_weights(values)
    return copy


def find_wrappers(model, kind):
    """The ``kind`` wrappers of ``model`` (nested models included), in model order."""
    found = []
    for layer in model.layers:
        if isinstance(layer, kind):
            found.append(layer)
        elif hasattr(layer, "layers") and not isinstance(layer, KernelWrapper):
            found.extend(find_wrappers(layer, kind))
    return found
