"""Weights in HDF5: one plain numeric dataset per variable, named by layer and variable.

Layout (h5py; every dataset a numeric array with a Fletcher-32 checksum, so
flipped bits fail loudly instead of loading silently)::

    /                       attrs: format = "neurona.weights", format_version, build_input_shape (JSON)
    /weights                attrs: layer_names (JSON list, model order)
    /weights/<layer>/<var>  e.g. /weights/dense/kernel, /weights/batch_normalization/moving_mean
    /optimizer/<layer>/<var>/<slot>   optimizer slots (e.g. /optimizer/dense/kernel/momentum), when saved

Weights are found by the layer's name and the name the layer gave the weight
in ``add_weight``, so any layer, including new or custom ones, is saved with no
code of its own. Loading checks every dataset's presence, dtype and shape
before it changes anything: a failed load never leaves a half-updated model.
Files are built in memory and opened through h5_files.py, which refuses links,
external storage and virtual datasets.
"""

import json

import numpy

from . import document
from .errors import FileFormatError

FORMAT = "neurona.weights"
FORMAT_VERSION = 1
WEIGHTS = "weights"
OPTIMIZER = "optimizer"


def _h5py():
    import h5py  # a hard dependency of Neurona, imported here so that importing neurona stays fast

    return h5py


def weight_key(layer, var):
    """The name a layer gave a weight (``"kernel"`` for the variable ``"dense/kernel"``)."""
    prefix = layer.name + "/"
    return var.name[len(prefix):] if var.name and var.name.startswith(prefix) else (var.name or "").rsplit("/")[-1]


def layers_with_weights(model):
    """``[(layer, {key: variable})]`` for the model's layers that have weights, in order."""
    out = []
    for layer in model.layers:
        if not layer.weights:
            continue
        if not isinstance(layer.name, str) or "/" in layer.name or layer.name in ("", ".", ".."):
            raise ValueError(f"cannot save layer {layer.name!r}: its name is an HDF5 path; rename the layer")
        weights = {}
        for var in layer.weights:
            key = weight_key(layer, var)
            if not key or key in weights:
                raise ValueError(f"cannot save layer {layer.name!r} ({type(layer).__name__}): two of its weights "
                                 f"are both named {key!r}; give each add_weight() call its own name")
            weights[key] = var
        out.append((layer, weights))
    return out


def _create(group, name, array):
    array = numpy.require(array, requirements="C")  # not ascontiguousarray: it turns a 0-d weight into shape (1,)
    checksum = {"fletcher32": True} if array.ndim and array.size else {}  # HDF5 filters need chunked storage
    group.create_dataset(name, data=array, **checksum)


def write_weights(h5, model):
    """Write the model's weights (and root attributes) into the open file ``h5``."""
    h5.attrs["format"] = FORMAT
    h5.attrs["format_version"] = FORMAT_VERSION
    h5.attrs["build_input_shape"] = json.dumps(_input_shape(model))
    group = h5.create_group(WEIGHTS)
    entries = layers_with_weights(model)
    group.attrs["layer_names"] = json.dumps([layer.name for layer, _ in entries])
    for layer, weights in entries:
        sub = group.create_group(layer.name)
        sub.attrs["class_name"] = type(layer).__name__
        for key, var in weights.items():
            _create(sub, key, var.numpy())


def write_optimizer_slots(h5, model, optimizer):
    """Write the optimizer's slots of every model weight that has some."""
    state = optimizer.get_state(model.weights)
    group = h5.create_group(OPTIMIZER)
    for (layer, var), slots in zip(_owners(model), state["slots"]):
        for slot, array in slots.items():
            _create(group.require_group(f"{layer.name}/{weight_key(layer, var)}"), slot, array)


def _owners(model):
    return [(layer, var) for layer in model.layers for var in layer.weights]


def _input_shape(model):
    shape = getattr(model, "input_shape", None) if getattr(model, "built", False) else None
    return None if shape is None else list(shape)


def check_header(h5, path):
    """Raise ``FileFormatError`` unless ``h5`` is a Neurona weights file of a version this code reads."""
    fmt = h5.attrs.get("format")
    if fmt != FORMAT:
        raise FileFormatError(f"{path!r} is not a Neurona weights file: attribute 'format' is {fmt!r}, "
                              f"expected {FORMAT!r}")
    version = h5.attrs.get("format_version")
    version = int(version) if isinstance(version, (int, numpy.integer)) else version
    if not isinstance(version, int) or not 1 <= version <= FORMAT_VERSION:
        raise FileFormatError(f"{path!r} has weights format_version {version!r}; this Neurona reads versions "
                              f"1 to {FORMAT_VERSION} (upgrade Neurona to read newer files)")
    if not isinstance(h5.get(WEIGHTS), _h5py().Group):
        raise FileFormatError(f"{path!r} has no '/{WEIGHTS}' group: the file is incomplete")


def stored_input_shape(h5, path):
    """The build input shape recorded in the file (a tuple) or None."""
    try:
        shape = json.loads(h5.attrs.get("build_input_shape", "null"))
    except (TypeError, ValueError, RecursionError):
        raise FileFormatError(f"{path!r}: attribute 'build_input_shape' is not valid JSON") from None
    return document.input_shape(shape, f"{path!r}: attribute 'build_input_shape'")


def read_array(h5, name, path, expected_shape, expected_dtype, owner):
    """The dataset ``name`` as a NumPy array, checked against the expected shape and dtype."""
    if name not in h5:
        raise FileFormatError(f"{path!r}: {owner} expects a dataset {name!r} of shape {tuple(expected_shape)} "
                              f"and dtype {expected_dtype}, but the file has none")
    dataset = h5[name]
    if not isinstance(dataset, _h5py().Dataset) or dataset.dtype.kind not in "fiub":
        raise FileFormatError(f"{path!r}: {name!r} ({owner}) must be a numeric dataset, got {dataset!r}")
    if tuple(dataset.shape) != tuple(expected_shape) or dataset.dtype != numpy.dtype(expected_dtype):
        raise FileFormatError(f"{path!r}: {owner} expects {name!r} of shape {tuple(expected_shape)} and dtype "
                              f"{expected_dtype}, the file has shape {tuple(dataset.shape)} and dtype "
                              f"{dataset.dtype}")
    try:
        return dataset[()]
    except OSError as error:  # e.g. a Fletcher-32 checksum mismatch
        raise FileFormatError(f"{path!r}: dataset {name!r} ({owner}) is corrupted and cannot be read: "
                              f"{error}") from None


def _stored_layer_names(h5, path):
    try:
        names = json.loads(h5[WEIGHTS].attrs.get("layer_names", "null"))
    except (TypeError, ValueError, RecursionError):
        names = None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise FileFormatError(f"{path!r}: attribute 'layer_names' of '/{WEIGHTS}' is missing or invalid")
    return names


def _pairs(h5, model, path, by_name):
    """Match the model's layers with weights to the file's layer groups, by name or by position."""
    entries = layers_with_weights(model)
    stored = _stored_layer_names(h5, path)
    if by_name:
        missing = [layer.name for layer, _ in entries if layer.name not in stored]
        extra = [name for name in stored if name not in {layer.name for layer, _ in entries}]
        if missing or extra:
            raise FileFormatError(f"{path!r} does not match model {model.name!r}: layers with weights in the "
                                  f"model but not in the file: {missing or 'none'}; in the file but not in the "
                                  f"model: {extra or 'none'}")
        return [(layer, weights, layer.name) for layer, weights in entries]
    if len(stored) != len(entries):
        raise FileFormatError(f"{path!r} holds weights for {len(stored)} layers ({', '.join(stored) or 'none'}), "
                              f"but model {model.name!r} has {len(entries)} layers with weights "
                              f"({', '.join(layer.name for layer, _ in entries) or 'none'})")
    return [(layer, weights, name) for (layer, weights), name in zip(entries, stored)]


def read_weights(h5, model, path, by_name=True):
    """The arrays for every model weight, in ``model.weights`` order, all checked before any is used.

    Args:
        by_name: match layers by name (a saved model) or by position (weights from a model built
            separately, whose automatic layer names differ).
    """
    arrays = {}
    for layer, weights, stored_name in _pairs(h5, model, path, by_name):
        group = f"{WEIGHTS}/{stored_name}"
        if not isinstance(h5.get(group), _h5py().Group):
            raise FileFormatError(f"{path!r}: no group {group!r} for layer {layer.name!r}")
        class_name = h5[group].attrs.get("class_name")
        if class_name != type(layer).__name__:
            raise FileFormatError(f"{path!r}: layer {stored_name!r} in the file is a {class_name}, but model "
                                  f"layer {layer.name!r} is a {type(layer).__name__}")
        extra = sorted(set(h5[group]) - set(weights))
        if extra:
            raise FileFormatError(f"{path!r}: layer {layer.name!r} ({type(layer).__name__}) has weights "
                                  f"{sorted(weights)}, but the file also holds {extra}")
        for key, var in weights.items():
            owner = f"layer {layer.name!r} ({type(layer).__name__}) weight {key!r}"
            arrays[id(var)] = read_array(h5, f"{group}/{key}", path, var.shape, var.dtype, owner)
    return [arrays[id(var)] for var in model.weights]


def read_optimizer_slots(h5, model, optimizer, path):
    """Per-variable slot dicts (``model.weights`` order) for ``Optimizer.set_state``; empty where none saved."""
    names = optimizer._slot_names()
    out = []
    for layer, var in _owners(model):
        group = f"{OPTIMIZER}/{layer.name}/{weight_key(layer, var)}"
        if group not in h5:
            out.append({})
            continue
        if not isinstance(h5[group], _h5py().Group):
            raise FileFormatError(f"{path!r}: {group!r} must be a group of optimizer slots, got {h5[group]!r}")
        owner = f"optimizer {type(optimizer).__name__}, slots of layer {layer.name!r} weight {weight_key(layer, var)!r}"
        found = sorted(h5[group])
        if found != sorted(names):
            raise FileFormatError(f"{path!r}: {owner}: expected slots {sorted(names)}, the file has {found}")
        out.append({slot: read_array(h5, f"{group}/{slot}", path, var.shape, var.dtype, owner) for slot in names})
    return out
