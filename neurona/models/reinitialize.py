"""``reinitialize``: draw chosen weights of a model again, in place, the others keeping theirs (``Model.reinitialize``).

Transfer learning and ablations re-draw part of a network: a new head on a trained base, or "is the trained base
worth anything?" answered by re-drawing it. PyTorch does it with each module's ``reset_parameters()``; Keras has no
method for it (users rebuild the layer). Here each weight is re-drawn by the initializer recorded on it when it
was created (``Variable.initializer``), or by another one for the kernels, and written into the existing array
(``Variable.assign``), so every reference to the weight (layers, optimizer slots, a functional graph shared with
another model) stays valid.
"""

import numpy

from .. import backend, initializers
from ..arguments import is_int, shown
from ..autograd import Tensor
from ..initializers import Initializer
from ..layers import Layer, tracking

#: The weight names (the part after the layer's ``/``) that ``initializer=`` re-draws: Keras's names for the weights
#: that multiply the inputs (Dense, Conv, SeparableConv, DepthwiseConv, RNN cells, Embedding). Every other weight
#: (biases, normalization scales and offsets, moving statistics) goes back to its own initializer.
KERNEL_SUFFIXES = ("kernel", "depthwise_kernel", "pointwise_kernel", "recurrent_kernel", "embeddings")


def reinitialize(model, layers=None, initializer=None, seed=None):
    """Re-draw the weights of ``layers`` in place; every other weight keeps its value bit for bit.

    Each chosen weight ``w`` gets ``init(w.shape, w.dtype)`` where ``init`` is

    - ``initializer`` when it is given and ``w`` is a kernel (its name ends in one of ``KERNEL_SUFFIXES``),
    - otherwise ``w.initializer``, the initializer that drew it at creation: a bias goes back to zeros, a
      BatchNormalization's gamma / beta / moving mean / moving variance to ones / zeros / zeros / ones.

    Seeds. ``seed=None`` draws fresh values: an unseeded initializer draws from Neurona's library-wide generator
    (``nr.seed(n)`` makes the program repeatable), and an initializer with a seed of its own is cloned (through
    its config, the object is never changed) with a seed derived from its seed and the weight's position.
    ``seed=int`` clones every seedable initializer (those with a ``seed`` in their config) with the seed
    ``SeedSequence([seed, position])``, where ``position`` is the weight's index in ``model.weights``: the same
    seed gives bit-identical weights, different weights get independent draws (one seeded object applied to two
    layers as is would give both the same values), and re-drawing one layer gives the same values whether or not
    others are re-drawn with it. Initializers without a seed (``Zeros``, ``Constant``, ``Identity``) are
    deterministic and called as they are; a plain function ``(shape, dtype) -> array`` cannot take a seed, so
    ``seed=int`` with one is refused.

    The values are written into the existing arrays: the layers, the optimizer and any other model sharing these
    weights see them. Frozen layers can be re-drawn and stay frozen. The optimizer's slots for the re-drawn
    weights (momentum, Adam's moments) and its step count are left as they are, as PyTorch leaves an optimizer's
    state after ``reset_parameters()``; to start training afresh, compile again with a new optimizer (a name
    such as ``"adam"`` or a new object: recompiling with the same object keeps its slots). When
    ``initializer`` is given, the re-drawn kernels record it as their ``Variable.initializer`` (``summary()``
    shows it); the layers' configs (``kernel_initializer``) are not changed.

    Every argument is checked and every new value drawn before the first weight is written, so an error leaves
    the model as it was.

    Args:
        model: the model (any ``Layer``) whose weights are re-drawn.
        layers: None (every weight of the model, nested models included); a layer inside the model (the model
            itself allowed); a layer name, looked up among the model's layers at every depth (a name found both
            directly in the model and deeper means the direct one, as ``get_layer``); or a list or tuple of
            those. A chosen layer re-draws its sub-layers' weights too.
        initializer: None, or an initializer for the kernels: a name (``"he_normal"``), a config dict, an
            initializer class or object, or a callable ``(shape, dtype) -> array`` (``initializers.get``).
        seed: None or a non-negative int (see above).

    Returns:
        The names of the re-drawn weights (``"dense/kernel"`` ...), in ``model.weights`` order.

    Raises:
        TypeError: ``model`` is not a Layer, or ``layers``, ``initializer`` or ``seed`` is of the wrong kind.
        ValueError: an unknown or ambiguous layer name, a layer outside the model or not built yet, nothing to
            re-draw, a weight without a recorded initializer, ``seed=int`` with a plain-function initializer, or
            an initializer that returns the wrong shape.

    Example:
        >>> model.reinitialize(layers="head", initializer="he_normal", seed=0)
        ['head/kernel', 'head/bias']
    """
    if not isinstance(model, Layer):
        raise TypeError(f"reinitialize: model must be a Model or Layer, got {shown(model)}")
    chosen = _chosen_layers(model, layers)
    given = _resolve_initializer(initializer)
    seed = _check_seed(seed)
    position = {id(w): i for i, w in enumerate(model.weights)}
    weights = _chosen_weights(model, chosen, position)
    # draw everything first: an initializer that fails on the fifth weight must not leave four of them re-drawn
    plan = []
    for w in weights:
        use_given = given is not None and _is_kernel(w)
        init = given if use_given else _own_initializer(w)
        plan.append((w, _draw(w, _seeded(init, seed, position[id(w)], w), init), use_given))
    for w, value, use_given in plan:
        w.assign(value)
        if use_given:
            w.initializer = given
    return [w.name for w, _, _ in plan]


def _chosen_layers(model, layers):
    """The layers ``layers`` names, as objects (each once, in the order given)."""
    if layers is None:
        return [model]
    entries = list(layers) if isinstance(layers, (list, tuple)) else [layers]
    if not entries:
        raise ValueError(f"reinitialize: layers is an empty {type(layers).__name__}; give None to re-draw every "
                         f"weight of {model.name!r}, or the layers (objects or names) to re-draw")
    inside = [model, *tracking.walk_layers(model)]
    found, seen = [], set()
    for entry in entries:
        if isinstance(entry, Layer):
            if not any(entry is layer for layer in inside):
                raise ValueError(f"reinitialize: layer {entry.name!r} ({type(entry).__name__}) is not part of "
                                 f"model {model.name!r}; its layers are {_names(inside[1:])}")
            layer = entry
        elif isinstance(entry, str):
            layer = _layer_named(model, entry, inside)
        else:
            raise TypeError(f"reinitialize: layers must be None, a layer, a layer name or a list of those, got "
                            f"{shown(entry)}" + (f" in {type(layers).__name__} {layers!r}" if entry is not layers
                                                 else ""))
        if id(layer) not in seen:
            seen.add(id(layer))
            found.append(layer)
    return found


def _layer_named(model, name, inside):
    """The layer called ``name``: a direct layer of ``model`` first (as ``get_layer``), else one at any depth."""
    direct = [layer for layer in tracking.sublayers(model) if layer.name == name]
    if len(direct) == 1:
        return direct[0]
    anywhere = [layer for layer in inside[1:] if layer.name == name]
    if len(anywhere) == 1:
        return anywhere[0]
    if not anywhere:
        raise ValueError(f"reinitialize: model {model.name!r} has no layer named {name!r}; its layers (at every "
                         f"depth) are {_names(inside[1:])}")
    raise ValueError(f"reinitialize: model {model.name!r} holds {len(anywhere)} different layers named {name!r}; "
                     "pass the layer object instead of its name")


def _names(layers):
    return [layer.name for layer in layers]


def _resolve_initializer(initializer):
    if initializer is None:
        return None
    try:
        return initializers.get(initializer)
    except (TypeError, ValueError) as err:
        raise type(err)(f"reinitialize: initializer must be None or an initializer (a name, a config dict, a "
                        f"class, an object or a callable (shape, dtype) -> array): {err}") from None


def _check_seed(seed):
    if seed is not None and not (is_int(seed) and seed >= 0):
        raise (ValueError if is_int(seed) else TypeError)(
            f"reinitialize: seed must be None or a non-negative integer, got {shown(seed)}")
    return None if seed is None else int(seed)


def _chosen_weights(model, chosen, position):
    """The weights of the chosen layers (each once, in ``model.weights`` order), after checking they exist."""
    picked = {}
    for layer in chosen:
        if not layer.built:
            raise ValueError(f"reinitialize: {layer._kind()} {layer.name!r} ({type(layer).__name__}) is not built "
                             "yet, so it has no weights to re-draw; call it on data (or build it) first")
        for w in layer.weights:
            picked.setdefault(id(w), w)
    if not picked:
        raise ValueError(f"reinitialize: {_names(chosen)} hold no weights: nothing to re-draw"
                         + ("" if model.weights else f" (model {model.name!r} has no weights: is it built?)"))
    return sorted(picked.values(), key=lambda w: position[id(w)])


def _is_kernel(w):
    return (w.name or "").rsplit("/", 1)[-1].endswith(KERNEL_SUFFIXES)


def _own_initializer(w):
    init = w.initializer
    if init is None:
        hint = " or pass initializer= (it re-draws kernels)" if _is_kernel(w) else ""
        raise ValueError(f"reinitialize: weight {w.name!r} has no recorded initializer (Variable.initializer is "
                         "None: it was not made by add_weight), so there is nothing to re-draw it with; set "
                         f"its .initializer{hint}")
    return init


def _derived_seed(seed, position):
    """An independent seed for the weight at ``position``: NumPy's SeedSequence hash of the pair."""
    return int(numpy.random.SeedSequence([seed, position]).generate_state(1)[0])


def _seeded(init, seed, position, w):
    """``init``, or a clone of it seeded for this weight (see ``reinitialize``'s docstring)."""
    if not isinstance(init, Initializer):
        if seed is not None:
            raise ValueError(f"reinitialize: seed={seed} makes the draws repeatable, but weight {w.name!r} is "
                             f"drawn by {init!r}, a plain callable that takes no seed; pass seed=None, or an "
                             "Initializer with a seed in its config")
        return init
    config = init.get_config()
    if "seed" not in config:  # deterministic (Zeros, Constant, Identity), or a custom initializer without seeds
        return init
    base = seed if seed is not None else config["seed"]
    if base is None:  # unseeded: a fresh draw from the library-wide generator
        return init
    return type(init).from_config({**config, "seed": _derived_seed(base, position)})


def _draw(w, init, shown_init):
    """The new value of ``w``: an array of its shape on its device (cast to its dtype by ``assign``)."""
    value = init(tuple(w.shape), dtype=w.dtype)
    value = value.data if isinstance(value, Tensor) else value
    if tuple(getattr(value, "shape", ())) != tuple(w.shape):
        raise ValueError(f"reinitialize: initializer {shown_init!r} returned shape {getattr(value, 'shape', None)} "
                         f"for weight {w.name!r}, expected {tuple(w.shape)}")
    return backend.to_device(value, backend.device_of(w.data))
