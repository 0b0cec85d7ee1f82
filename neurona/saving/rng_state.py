"""Random-generator states as JSON, so a resumed run draws exactly the numbers the interrupted one would have.

A ``numpy.random.Generator``'s state is its bit generator's ``state`` dict:
names and integers (PCG64's 128-bit state is a plain Python int, which JSON
keeps exactly), plus small integer arrays for some bit generators (Philox,
MT19937), stored here as ``{"ndarray": [...], "dtype": "uint64"}``. Restoring
builds only bit generators from a fixed list of NumPy classes: nothing named
in a file is imported or called.

Three kinds of generators are saved:

- the one of each layer: any attribute of a layer holding a Generator (dropout
  masks, noise), keyed by the layer's path (``"base/dropout"`` for a Dropout
  inside a nested model, see layer_paths.py; a top-level layer's path is its
  name, as files written before nesting have it) and the attribute's name;
- the shuffling generator of the last ``fit`` (``model._shuffle_generator``);
- the library-wide generator (``neurona.backend.random``), in checkpoints only.
"""

import numpy

from . import layer_paths
from .errors import FileFormatError

BIT_GENERATORS = {name: getattr(numpy.random, name) for name in ("PCG64", "PCG64DXSM", "Philox", "SFC64", "MT19937")}


def _to_json(value):
    if isinstance(value, numpy.ndarray):
        return {"ndarray": [int(v) for v in value.ravel()], "dtype": str(value.dtype), "shape": list(value.shape)}
    if isinstance(value, dict):
        return {k: _to_json(v) for k, v in value.items()}
    if isinstance(value, numpy.integer):
        return int(value)
    return value


def _from_json(value):
    if isinstance(value, dict) and "ndarray" in value:
        return numpy.array(value["ndarray"], dtype=numpy.dtype(value["dtype"])).reshape(value["shape"])
    if isinstance(value, dict):
        return {k: _from_json(v) for k, v in value.items()}
    return value


def generator_state(generator):
    """The JSON-safe state of a ``numpy.random.Generator``."""
    return _to_json(generator.bit_generator.state)


def set_generator_state(state, generator=None, source="file"):
    """Put ``state`` into ``generator`` (same bit generator kind) or into a new Generator; returns it.

    Raises:
        FileFormatError: the state names an unknown bit generator or does not fit it.
    """
    name = state.get("bit_generator") if isinstance(state, dict) else None
    if not isinstance(name, str) or name not in BIT_GENERATORS:
        raise FileFormatError(f"{source}: random generator state {state!r:.80} is not one of the bit generators "
                              f"{sorted(BIT_GENERATORS)}")
    if generator is None or type(generator.bit_generator).__name__ != name:
        generator = numpy.random.Generator(BIT_GENERATORS[name]())
    try:
        generator.bit_generator.state = _from_json(state)
    except Exception as error:  # NumPy raises TypeError, ValueError, KeyError or OverflowError for a bad state
        raise FileFormatError(f"{source}: invalid {name} random generator state: {error}") from None
    return generator


# a model's fit shuffling generators are saved (and restored) as "shuffle", not as a layer's
FIT_GENERATORS = frozenset({"_shuffle_generator", "_resume_shuffle_generator"})


def layer_generators(layer):
    """``{attribute name: Generator}`` for every generator a layer holds (a model's fit shuffling ones aside)."""
    return {k: v for k, v in vars(layer).items() if isinstance(v, numpy.random.Generator) and k not in FIT_GENERATORS}


def model_rng_state(model):
    """The states of the generators of every layer inside the model (at any depth, by path) and of the last
    ``fit``'s shuffling generator."""
    layers = {}
    for path, layer in layer_paths.walk(model):
        generators = layer_generators(layer)
        if generators:
            layers[path] = {attr: generator_state(g) for attr, g in generators.items()}
    shuffle = getattr(model, "_shuffle_generator", None)
    return {"layers": layers, "shuffle": None if shuffle is None else generator_state(shuffle)}


def restore_model_rng(model, rng, source):
    """Restore ``model_rng_state``'s output; the shuffling state waits for a resumed ``fit``
    (``initial_epoch > 0``), which takes it instead of drawing a new generator."""
    if not rng:
        return
    if not isinstance(rng, dict):
        raise FileFormatError(f"{source}: 'rng' is {rng!r:.80}; expected an object with 'layers' and 'shuffle'")
    by_path = dict(layer_paths.walk(model))
    restored = []
    for layer_name, states in (rng.get("layers") or {}).items():
        layer = by_path.get(layer_name)
        if layer is None:
            known = ", ".join(p for p in by_path if p)
            raise FileFormatError(f"{source}: random state saved for layer {layer_name!r}, which the model "
                                  f"does not have (layers: {known})")
        generators = layer_generators(layer)
        for attr, state in (states.items() if isinstance(states, dict) else [(None, states)]):
            # only an attribute that holds a generator is replaced: a file never sets anything else on a layer
            if attr not in generators:
                raise FileFormatError(f"{source}: random state saved for {attr!r} of layer {layer_name!r} "
                                      f"({type(layer).__name__}), which has generators {sorted(generators)}")
            restored.append((layer, attr, set_generator_state(state, None, f"{source}, layer {layer_name!r}")))
    for layer, attr, generator in restored:  # all states checked before any layer changes
        if type(layer_generators(layer)[attr].bit_generator) is type(generator.bit_generator):
            layer_generators(layer)[attr].bit_generator.state = generator.bit_generator.state
        else:
            setattr(layer, attr, generator)
    if rng.get("shuffle") is not None:
        model._resume_shuffle_generator = set_generator_state(rng["shuffle"], source=f"{source}, fit shuffling")
