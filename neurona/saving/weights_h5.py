"""Weights in HDF5: one plain numeric dataset per variable, named by layer path and variable.

Layout (h5py; every dataset a numeric array with a Fletcher-32 checksum, so
flipped bits fail loudly instead of loading silently; mostly-zero weights, such as
pruned kernels, gzip-compressed)::

    /                       attrs: format = "neurona.weights", format_version = 2, build_input_shape (JSON)
    /weights                attrs: layer_names (JSON list of layer paths, model order)
    /weights/<path>/<var>   e.g. /weights/dense/kernel, /weights/base/batch_normalization/moving_mean
    /optimizer/<path>/<var>/<slot>   optimizer slots (e.g. /optimizer/base/dense/kernel/momentum), when saved

A layer's path leads from the model down to it (layer_paths.py: layer names
inside Sequential and functional models, attribute names inside subclassed
models and custom layers): a layer of a nested model (a frozen pretrained base,
a Sequential used as a layer) or of a subclassed model has its own group inside
its parent's, and each group holds the weights its layer created itself
(``attrs: class_name``).
Weights the model holds itself (a subclassed model's ``add_weight``) are
datasets of ``/weights`` (path ``""``). Weights are found by the layer's path
and the name the layer gave the weight in ``add_weight``, so any layer,
including new or custom ones, is saved with no code of its own. Loading checks
every dataset's presence, dtype and shape, and the class of every layer,
before it changes anything: a failed load never leaves a half-updated model.

Version 1 files (written before nested models could be saved) hold one group
per layer of ``model.layers`` with all of that layer's weights; they are read
as they were written. Files are built in memory and opened through
h5_files.py, which refuses links, external storage and virtual datasets.
"""

import json

import numpy

from . import document, layer_paths
from .errors import FileFormatError
from .layer_paths import weight_key

FORMAT = "neurona.weights"
FORMAT_VERSION = 2
WEIGHTS = "weights"
OPTIMIZER = "optimizer"


def _h5py():
    import h5py  # a hard dependency of Neurona, imported here so that importing neurona stays fast

    return h5py


def legacy_entries(model):
    """Version 1's ``[(layer name, layer, {key: variable})]``: the layers of ``model.layers`` that have weights,
    each with all of its weights (its sub-layers' included)."""
    out = []
    for layer in model.layers:
        if not layer.weights:
            continue
        weights = {}
        for var in layer.weights:
            key = weight_key(layer, var)
            if not key or key in weights:
                raise ValueError(f"cannot load layer {layer.name!r} ({type(layer).__name__}) from a version 1 "
                                 f"weights file: two of its weights are both named {key!r}")
            weights[key] = var
        out.append((layer.name, layer, weights))
    return out


def _group(root, path):
    """The HDF5 name of a layer path's group (``"weights"`` for the model itself)."""
    return f"{root}/{path}" if path else root


# a weight at least this large and this sparse (a pruned kernel, its mask) is stored deflated: HDF5's built-in
# gzip filter (with byte shuffling) shrinks runs of zeros to almost nothing, and h5py (Keras too) reads it
# back transparently and bit-exactly; dense weights stay uncompressed (deflate gains little on them, and
# loading them stays a plain read)
COMPRESS_MIN_SIZE = 1024
COMPRESS_MIN_ZEROS = 0.5


def _create(group, name, array):
    array = numpy.require(array, requirements="C")  # not ascontiguousarray: it turns a 0-d weight into shape (1,)
    options = {"fletcher32": True} if array.ndim and array.size else {}  # HDF5 filters need chunked storage
    if array.size >= COMPRESS_MIN_SIZE and numpy.count_nonzero(array) <= (1 - COMPRESS_MIN_ZEROS) * array.size:
        options.update(compression="gzip", compression_opts=6, shuffle=True)
    group.create_dataset(name, data=array, **options)


def check_names(model):
    """Raise ``ValueError`` if the model's layer paths or weight names cannot be written (layer_paths.py)."""
    layer_paths.weight_entries(model)


def write_weights(h5, model):
    """Write the model's weights (and root attributes) into the open file ``h5``."""
    entries = layer_paths.weight_entries(model)  # checks every name before anything is written
    h5.attrs["format"] = FORMAT
    h5.attrs["format_version"] = FORMAT_VERSION
    h5.attrs["build_input_shape"] = json.dumps(document.recorded_input_shape(model))
    group = h5.create_group(WEIGHTS)
    group.attrs["layer_names"] = json.dumps([path for path, _, _ in entries])
    for path, layer, weights in entries:
        sub = h5.require_group(_group(WEIGHTS, path))
        sub.attrs["class_name"] = type(layer).__name__
        for key, var in weights.items():
            _create(sub, key, var.numpy())


def write_optimizer_slots(h5, model, optimizer):
    """Write the optimizer's slots of every model weight that has some."""
    state = optimizer.get_state(model.weights)
    found = layer_paths.owners(layer_paths.weight_entries(model))
    h5.create_group(OPTIMIZER)
    for var, slots in zip(model.weights, state["slots"]):
        path, key = found[id(var)]
        for slot, array in slots.items():
            _create(h5.require_group(f"{_group(OPTIMIZER, path)}/{key}"), slot, array)


def _legacy_owners(model):
    return [(layer, var) for layer in model.layers for var in layer.weights]


def check_header(h5, path):
    """Raise ``FileFormatError`` unless ``h5`` is a Neurona weights file of a version this code reads."""
    fmt = h5.attrs.get("format")
    if fmt != FORMAT:
        raise FileFormatError(f"{path!r} is not a Neurona weights file: attribute 'format' is {fmt!r}, "
                              f"expected {FORMAT!r}")
    version = _version(h5)
    if not isinstance(version, int) or not 1 <= version <= FORMAT_VERSION:
        raise FileFormatError(f"{path!r} has weights format_version {version!r}; this Neurona reads versions "
                              f"1 to {FORMAT_VERSION} (upgrade Neurona to read newer files)")
    if not isinstance(h5.get(WEIGHTS), _h5py().Group):
        raise FileFormatError(f"{path!r} has no '/{WEIGHTS}' group: the file is incomplete")
    return version


def _version(h5):
    version = h5.attrs.get("format_version")
    return int(version) if isinstance(version, (int, numpy.integer)) else version


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


def _entries(h5, model):
    """The model's ``[(path, layer, {key: variable})]`` as the file's version lays them out."""
    return legacy_entries(model) if _version(h5) == 1 else layer_paths.weight_entries(model)


def _pairs(h5, model, path, by_name):
    """Match the model's layers with weights to the file's layer groups, by path or by position."""
    entries = _entries(h5, model)
    stored = _stored_layer_names(h5, path)
    if by_name:
        paths = {name for name, _, _ in entries}
        missing = [name for name, _, _ in entries if name not in stored]
        extra = [name for name in stored if name not in paths]
        if missing or extra:
            raise FileFormatError(f"{path!r} does not match model {model.name!r}: layers with weights in the "
                                  f"model but not in the file: {missing or 'none'}; in the file but not in the "
                                  f"model: {extra or 'none'}")
        return [(name, layer, weights, name) for name, layer, weights in entries]
    if len(stored) != len(entries):
        raise FileFormatError(f"{path!r} holds weights for {len(stored)} layers ({', '.join(stored) or 'none'}), "
                              f"but model {model.name!r} has {len(entries)} layers with weights "
                              f"({', '.join(name for name, _, _ in entries) or 'none'})")
    return [(name, layer, weights, stored_name) for (name, layer, weights), stored_name in zip(entries, stored)]


def read_weights(h5, model, path, by_name=True):
    """The arrays for every model weight, in ``model.weights`` order, all checked before any is used.

    Args:
        by_name: match layers by path (a saved model) or by position (weights from a model built
            separately, whose automatic layer names differ).
    """
    h5py, arrays = _h5py(), {}
    for name, layer, weights, stored_name in _pairs(h5, model, path, by_name):
        group = _group(WEIGHTS, stored_name)
        shown = layer_paths.describe(name)
        if not isinstance(h5.get(group), h5py.Group):
            raise FileFormatError(f"{path!r}: no group {group!r} for layer {shown}")
        class_name = h5[group].attrs.get("class_name")
        if class_name != type(layer).__name__:
            raise FileFormatError(f"{path!r}: layer {layer_paths.describe(stored_name)} in the file is a "
                                  f"{class_name}, but model layer {shown} is a {type(layer).__name__}")
        datasets = {key for key in h5[group] if isinstance(h5[group].get(key), h5py.Dataset)}
        extra = sorted(datasets - set(weights))
        if extra:
            raise FileFormatError(f"{path!r}: layer {shown} ({type(layer).__name__}) has weights "
                                  f"{sorted(weights)}, but the file also holds {extra}")
        for key, var in weights.items():
            owner = f"layer {shown} ({type(layer).__name__}) weight {key!r}"
            arrays[id(var)] = read_array(h5, f"{group}/{key}", path, var.shape, var.dtype, owner)
    return [arrays[id(var)] for var in model.weights]


def _slot_places(h5, model):
    """``[(variable, its optimizer group, its owner's name for messages)]`` in ``model.weights`` order."""
    if _version(h5) == 1:
        return [(var, f"{OPTIMIZER}/{layer.name}/{weight_key(layer, var)}", f"layer {layer.name!r}")
                for layer, var in _legacy_owners(model)]
    found = layer_paths.owners(layer_paths.weight_entries(model))
    places = []
    for var in model.weights:
        where, key = found[id(var)]
        places.append((var, f"{_group(OPTIMIZER, where)}/{key}", f"layer {layer_paths.describe(where)}"))
    return places


def read_optimizer_slots(h5, model, optimizer, path):
    """Per-variable slot dicts (``model.weights`` order) for ``Optimizer.set_state``; empty where none saved."""
    names = optimizer._slot_names()
    out = []
    for var, group, layer in _slot_places(h5, model):
        if group not in h5:
            out.append({})
            continue
        if not isinstance(h5[group], _h5py().Group):
            raise FileFormatError(f"{path!r}: {group!r} must be a group of optimizer slots, got {h5[group]!r}")
        owner = f"optimizer {type(optimizer).__name__}, slots of {layer} weight {group.rsplit('/', 1)[-1]!r}"
        found = sorted(h5[group])
        if found != sorted(names):
            raise FileFormatError(f"{path!r}: {owner}: expected slots {sorted(names)}, the file has {found}")
        shapes = optimizer._slot_shapes(var.shape)  # Adafactor's factored slots are not shaped like var
        out.append({slot: read_array(h5, f"{group}/{slot}", path, shapes[slot], var.dtype, owner) for slot in names})
    return out
