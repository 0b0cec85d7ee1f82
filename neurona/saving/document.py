"""The structure of ``model.json``, checked before anything is rebuilt from it.

``check`` looks at every top-level entry of a parsed ``model.json`` (see
saved_model.py for the layout) and raises ``FileFormatError`` naming the file,
the entry, what it holds and what was expected, for any entry of the wrong
kind: a string where a number is expected, a list where an object is, a
missing key. What lies inside the model's config (each layer's arguments) is
checked by the classes that rebuild it (json_config.py), random states by
rng_state.py and preprocessing steps by preprocessing.py. Unknown top-level
keys are ignored (the format version says what a file holds).
"""

import math
import re

from .errors import FileFormatError

SHA256 = re.compile(r"[0-9a-f]{64}")


def _show(value):
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _fail(source, key, value, expected):
    raise FileFormatError(f"{source}: {key!r} is {_show(value)} ({type(value).__name__}); expected {expected}")


def is_count(value):
    """An int >= 0 (JSON's true/false are not counts)."""
    return type(value) is int and value >= 0


def _optional_dict(document, key, source):
    value = document.get(key)
    if value is not None and not isinstance(value, dict):
        _fail(source, key, value, "an object or null")
    return value


def check(document, weights_file, source):
    """Raise ``FileFormatError`` unless the parsed ``model.json`` ``document`` has entries of the right kinds.

    Args:
        weights_file: the only weights file name accepted in ``weights.file`` (``"model.h5"``).
        source: how messages name the file (``"model.json at '/path/model.json'"``).
    """
    for key in ("model", "weights"):
        if key not in document:
            raise FileFormatError(f"{source}: missing key {key!r} (expected keys: format, format_version, model, "
                                  "compile, weights, ...)")
    if not isinstance(document["model"], dict):
        _fail(source, "model", document["model"], "an object with 'class_name' and 'config'")
    _check_weights(document["weights"], weights_file, source)
    if document.get("neurona_version") is not None and not isinstance(document["neurona_version"], str):
        _fail(source, "neurona_version", document["neurona_version"], "a version string")
    _optional_dict(document, "compile", source)
    _check_optimizer_state(_optional_dict(document, "optimizer_state", source), source)
    _check_rng(_optional_dict(document, "rng", source), source)
    check_training(_optional_dict(document, "training", source), source)
    preprocessing = document.get("preprocessing")
    if preprocessing is not None and not isinstance(preprocessing, list):
        _fail(source, "preprocessing", preprocessing, "a list of steps or null")
    check_reference_statistics(_optional_dict(document, "reference_statistics", source), source)


def _check_weights(entry, weights_file, source):
    if not isinstance(entry, dict):
        _fail(source, "weights", entry, f'an object {{"file": "{weights_file}", "sha256": "<64 hex digits>"}}')
    if entry.get("file") != weights_file:
        _fail(source, "weights.file", entry.get("file"), f"{weights_file!r}")
    sha = entry.get("sha256")
    if not isinstance(sha, str) or not SHA256.fullmatch(sha):
        _fail(source, "weights.sha256", sha, f"the SHA-256 of {weights_file} (64 lowercase hex digits)")


def _check_optimizer_state(state, source):
    if state is None:
        return
    if not is_count(state.get("iterations")):
        _fail(source, "optimizer_state.iterations", state.get("iterations"), "the step count (an int >= 0)")
    rate = state.get("learning_rate")
    number = isinstance(rate, (int, float)) and not isinstance(rate, bool) and math.isfinite(rate) and rate >= 0
    if rate is not None and not number:
        _fail(source, "optimizer_state.learning_rate", rate, "a finite number >= 0, or null for a schedule")


def _check_rng(rng, source):
    if rng is None:
        return
    layers = rng.get("layers")
    if layers is not None and not isinstance(layers, dict):
        _fail(source, "rng.layers", layers, "an object {layer name: {attribute: generator state}}")
    for name, states in (layers or {}).items():
        if not isinstance(states, dict) or not all(isinstance(s, dict) for s in states.values()):
            _fail(source, f"rng.layers.{name}", states, "an object {attribute: generator state object}")
    shuffle = rng.get("shuffle")
    if shuffle is not None and not isinstance(shuffle, dict):
        _fail(source, "rng.shuffle", shuffle, "a generator state object or null")


def check_training(training, source):
    """A checkpoint's ``training`` entry (see checkpoint.py): epoch, history, random state, batch, extra."""
    if training is None:
        return
    epoch = training.get("epoch")
    if epoch is not None and not is_count(epoch):
        _fail(source, "training.epoch", epoch, "the number of completed epochs (an int >= 0)")
    batch = training.get("batch")
    if batch is not None and not is_count(batch):
        _fail(source, "training.batch", batch, "a number of batches (an int >= 0) or null")
    for key in ("global_rng", "extra"):
        _optional_dict(training, key, f"{source}, 'training'")
    history = training.get("history")
    if history is None:
        return
    if not isinstance(history, dict):
        _fail(source, "training.history", history, 'an object {"epoch": [...], "history": {...}}')
    epochs = history.get("epoch", [])
    if not isinstance(epochs, list) or not all(is_count(e) for e in epochs):
        _fail(source, "training.history.epoch", epochs, "a list of epoch numbers (ints >= 0)")
    logs = history.get("history", {})
    if not isinstance(logs, dict) or not all(isinstance(v, list) for v in logs.values()):
        _fail(source, "training.history.history", logs, "an object {metric name: list of values}")


REFERENCE_FORMAT = "neurona.drift.reference"  # serving/drift.py's ReferenceStatistics.metadata() (version 1)


def check_reference_statistics(entry, source):
    """``reference_statistics``'s small fields (reference_h5.py checks its arrays in model.h5 against them)."""
    if entry is None:
        return
    where = "reference_statistics"
    if entry.get("format") != REFERENCE_FORMAT:
        _fail(source, f"{where}.format", entry.get("format"), repr(REFERENCE_FORMAT))
    if entry.get("version") != 1 or type(entry.get("version")) is not int:
        _fail(source, f"{where}.version", entry.get("version"), "1 (upgrade Neurona to read newer versions)")
    shape = entry.get("input_shape")
    if not isinstance(shape, list) or not shape or not all(type(d) is int and d >= 1 for d in shape):
        _fail(source, f"{where}.input_shape", shape, "the shape of one input, a non-empty list of ints >= 1")
    classes = entry.get("n_classes")
    if type(classes) is not int or classes < 2:
        _fail(source, f"{where}.n_classes", classes, "the number of output probabilities, an int >= 2")
    components = entry.get("n_components")
    if type(components) is not int or not 1 <= components <= math.prod(shape):
        _fail(source, f"{where}.n_components", components, f"an int in [1, {math.prod(shape)}] (at most one "
              "component per input value)")


def _is_dims(shape):
    return isinstance(shape, list) and all(d is None or (type(d) is int and d >= 0) for d in shape)


def _is_shape_list(shape):
    return isinstance(shape, list) and bool(shape) and all(isinstance(s, list) for s in shape) and all(
        _is_dims(s) for s in shape)


def _is_shape_dict(shape):
    return isinstance(shape, dict) and bool(shape) and all(isinstance(k, str) and _is_dims(s)
                                                          for k, s in shape.items())


def input_shape(shape, where):
    """A recorded ``build_input_shape`` as a tuple (None stays None), or ``FileFormatError`` naming ``where``.

    Both files record it (``model.json``'s model entry, ``model.h5``'s attribute): a list of
    dimensions, each null (any size) or an int >= 0, such as ``[null, 784]``; for a model built for
    several inputs (a subclassed model called on a list or dict of arrays), a list of such shapes
    (returned as a list of tuples) or an object of them keyed by input name (a dict of tuples).
    A functional model records none: its graph starts with its Inputs.
    """
    if shape is None:
        return None
    if _is_dims(shape):
        return tuple(shape)
    if _is_shape_list(shape):
        return [tuple(s) for s in shape]
    if _is_shape_dict(shape):
        return {key: tuple(s) for key, s in shape.items()}
    raise FileFormatError(f"{where} is {str(shape)[:80]!r}; expected null, a list of dimensions, each null "
                          "(any size) or an int >= 0, such as [null, 784], or a list (or an object keyed by input "
                          "name) of such shapes for a model of several inputs, such as [[null, 4], [null, 3]]")


def shape_to_json(shape):
    """A shape, or a list/tuple/dict of shapes, as JSON lists (None stays None)."""
    if shape is None:
        return None
    if isinstance(shape, dict):
        return {key: shape_to_json(value) for key, value in shape.items()}
    if isinstance(shape, (list, tuple)) and shape and all(isinstance(s, (list, tuple)) for s in shape):
        return [shape_to_json(s) for s in shape]
    return [None if d is None else int(d) for d in shape]


def recorded_input_shape(model):
    """The ``build_input_shape`` to record for ``model``: None for a functional model (its Inputs give the
    shapes) or a model not built yet, else its input shape (or shapes)."""
    from ..models import Functional  # saving sits above models

    if isinstance(model, Functional) or not getattr(model, "built", False):
        return None
    return shape_to_json(getattr(model, "input_shape", None))
