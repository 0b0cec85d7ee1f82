"""Keras's HDF5 weight layouts <-> a Neurona model's weights, matched by layer structure.

Checked against Keras 3.15.1 (``keras/src/saving/saving_lib.py``, ``H5IOStore``;
``keras/src/legacy/saving/legacy_h5_format.py``) and files it wrote with the torch backend; Keras 2's legacy
files differ only in their weight names (``dense/kernel:0``).

Layouts (``detect_layout``):

- ``"keras3"``: ``model.save_weights("x.weights.h5")``, also the ``model.weights.h5`` member of a ``.keras``
  zip. One group per layer at a path made of the model's structure, never of layer names: a Sequential or
  functional model's layers are ``layers/<snake_case class>`` with a counter per class (``layers/dense``,
  ``layers/dense_1``, and ``layers/sequential/layers/dense`` inside a nested model); a subclassed model's or
  custom layer's are its attribute names. A layer's variables are the datasets ``<path>/vars/0``, ``1``, ...;
  Keras 3.15 gives every layer's ``vars`` group, even an empty one, an attribute ``name`` (the layer's name;
  files without it are matched by path). The model's own variables are ``/vars``; ``optimizer`` and other
  state groups beside the layers are ignored.
  Keras 2.13's ``.keras`` files say ``_layer_checkpoint_dependencies`` where Keras 3 says ``layers``.
- ``"legacy_model"``: ``keras.saving.save_model(model, "m.h5")``, Keras 2's ``model.save("m.h5")``. Root
  attributes ``model_config`` (JSON), ``keras_version``, ``backend``, maybe ``training_config``; a group
  ``model_weights`` laid out as below.
- ``"legacy_weights"``: Keras 2's ``model.save_weights("w.h5")``, the same layout at the root. Attribute
  ``layer_names`` lists every layer of ``model.layers`` (split into ``layer_names0``, ``layer_names1``, ... when
  longer than HDF5's 64512-byte object header), each a group whose attribute ``weight_names`` lists its
  datasets (``dense/kernel:0``; Keras 3: the variable path, ``base/dense/kernel``), found at those relative
  paths; Keras 3 adds a group ``top_level_model_weights`` for the model's own variables.

Matching. Keras 3's layout: a layer's group is found by the layer names along its path where every layer's
names agree with the file's ``name`` attributes, otherwise by its structural path. Legacy layouts: the layers
with weights of ``model.layers`` get the file's layers that have weights by name where all names agree,
otherwise in order (Keras's loader's rule). A layer of a legacy file holds the variables of everything inside
it (a nested model's too) as Keras's ``trainable_weights + non_trainable_weights`` lists them; they are
matched by weight name where the names agree, else in that order, else (a file saved from a frozen model) in
``weights`` order. Every count, dtype kind and shape is checked before any dataset is read; nothing is assigned
here: the arrays are returned for ``model.set_weights``.

Variables per layer, in Keras's order (the same as Neurona's unless said):

- Dense, Conv1D, Conv2D: ``kernel``, ``bias``; kernels are ``(in, units)``, ``(k, in, filters)`` and
  ``(kh, kw, in, filters)`` in both.
- BatchNormalization: ``gamma``, ``beta``, ``moving_mean``, ``moving_variance`` (``gamma``/``beta`` absent when
  ``scale``/``center`` is False); LayerNormalization, GroupNormalization: ``gamma``, ``beta``.
- Normalization: adapted (no ``mean=`` given): ``mean``, ``variance`` and Keras's ``count`` (an int scalar
  Keras 3 keeps for old files and never uses: checked, ignored, written as 0). With ``mean=``/``variance=``
  given, Keras holds them as constants and the layer has no variables; Neurona's two weights then keep the
  values of its config.
- Any other layer: the weights it created trainable, then those it created non-trainable, each in creation
  order (Keras's ``_trainable_variables + _non_trainable_variables``).

Where Keras differs from Neurona's own file (weights_h5.py): variables are numbered, not named; Keras 3
addresses layers by class and position (Neurona by name); a legacy file lists a nested model's variables
trainable first (``model.weights`` lists them layer by layer), and the order depends on what was frozen when
it was saved; Keras holds a Normalization's given statistics as constants and adds ``count``. Kernels, the
moving statistics and every shape are the same on both sides.
"""

import re
from typing import NamedTuple

import numpy

from .. import h5_files, layer_paths
from ..errors import FileFormatError
from .graph_order import keras_layers

KERAS_VERSION = "3.15.1"  # the Keras version whose layouts this module writes (and was checked against)
BACKEND = "neurona"  # legacy files name their backend; Keras only converts weights written by Theano
HEADER_LIMIT = 64512  # HDF5's object header: longer name lists are split into numbered attributes, as Keras does
TOP_LEVEL = "top_level_model_weights"
LEGACY_GROUP = "model_weights"


class _Slot(NamedTuple):
    """One Keras variable of a layer: the Neurona weight it is (None: Keras's alone), with its expected form."""

    key: str
    var: object
    shape: tuple
    dtype: numpy.dtype


def _h5py():
    import h5py  # a hard dependency of Neurona, imported here so that importing neurona stays fast

    return h5py


# ---- the model as Keras sees it ------------------------------------------------------------------------------
class _KerasSublayer(NamedTuple):
    """A layer Keras has inside one of Neurona's where Neurona holds the weights itself (MultiHeadAttention's
    four ``EinsumDense`` projections): its attribute, its Keras name and the Neurona weights it holds."""

    attribute: str
    name: str
    weights: tuple  # ((Keras's name, Neurona's weight), ...)


#: MultiHeadAttention's sublayers in Keras 3.15 (keras/src/layers/attention/multi_head_attention.py): the four
#: projections, and the softmax and dropout, which hold no variables but have groups of their own
_ATTENTION_SUBLAYERS = (("query_dense", "query", "query"), ("key_dense", "key", "key"),
                        ("value_dense", "value", "value"), ("output_dense", "attention_output", "output"),
                        ("_dropout_layer", "dropout", None), ("_softmax", "softmax", None))


def _keras_sublayers(layer):
    from ...layers import MultiHeadAttention  # saving sits above layers

    if not isinstance(layer, MultiHeadAttention):
        return None
    out = []
    for attribute, name, weights in _ATTENTION_SUBLAYERS:
        held = () if weights is None else tuple((key, var) for key, var in (
            ("kernel", getattr(layer, f"{weights}_kernel")), ("bias", getattr(layer, f"{weights}_bias")))
            if var is not None)
        out.append(_KerasSublayer(attribute, name, held))
    return out


def _slots(layer):
    """The Keras variables of ``layer`` itself, in Keras's order (module docstring)."""
    from ...layers import Normalization  # saving sits above layers

    if isinstance(layer, _KerasSublayer):
        return [_slot(key, var) for key, var in layer.weights]
    if _keras_sublayers(layer) is not None:
        return []
    if isinstance(layer, Normalization):
        if layer.input_mean is not None:
            return []
        return [_slot("mean", layer.mean), _slot("variance", layer.variance),
                _Slot("count", None, (), numpy.dtype("int32"))]
    fixed = {id(var) for var in layer._fixed}
    own = layer._own_weights()
    ordered = [v for v in own if id(v) not in fixed] + [v for v in own if id(v) in fixed]
    return [_slot(layer_paths.weight_key(layer, var), var) for var in ordered]


def _slot(key, var):
    return _Slot(key, var, tuple(var.shape), numpy.dtype(var.dtype))


def _check_constants(model):
    """Raise ``ValueError`` if a Normalization given ``mean=``/``variance=`` holds other values in its weights:
    Keras rebuilds those constants from the config, so the values would be lost (e.g. after ``adapt``)."""
    from ...layers import Normalization

    for layer in [model, *model._all_sublayers()]:
        if not isinstance(layer, Normalization) or layer.input_mean is None:
            continue
        for var, given in ((layer.mean, layer.input_mean), (layer.variance, layer.input_variance)):
            expected = numpy.broadcast_to(numpy.asarray(given, dtype=var.dtype), var.shape)
            if not numpy.array_equal(var.numpy(), expected):
                raise ValueError(f"cannot write Keras weights of layer {layer.name!r} (Normalization): it was "
                                 f"given mean=/variance=, which Keras keeps as constants of its config, but its "
                                 f"weight {layer_paths.weight_key(layer, var)!r} now holds other values (adapted "
                                 "since?); build it without mean=/variance= and adapt it, or give the values")


def _check_built(model):
    if not getattr(model, "built", False):
        raise ValueError(f"model {model.name!r} is not built: give it an Input or call it on data before "
                         "reading or writing Keras weights (its weights do not exist yet)")


def _is_graph(layer):
    from ...models import Functional, Sequential  # saving sits above models

    return isinstance(layer, (Functional, Sequential))


def _keras_key(segment):
    return f"~{segment}" if segment.startswith("_") else segment  # Keras visits private attributes last


def _keras3_children(layer):
    """``[(path segment(s), layer)]`` as Keras 3's saver names them (module docstring)."""
    if isinstance(layer, _KerasSublayer):
        return []
    inner = _keras_sublayers(layer)
    if inner is not None:
        return [(sub.attribute, sub) for sub in inner]
    if _is_graph(layer):  # named by class and position in Keras's order of the layers (graph_order.py)
        return [(f"layers/{segment}", child) for segment, child in layer_paths.by_class(keras_layers(layer), "")]
    return sorted(layer_paths.children(layer), key=lambda item: _keras_key(item[0].split("/")[0]))


def _keras3_layers(model):
    """``[(keras path, layer names from the model down, layer)]`` in Keras's saving order, each layer once."""
    out, seen, stack = [], set(), [("", (), model)]
    while stack:
        path, names, layer = stack.pop()
        if id(layer) in seen:  # a shared layer is saved at the first path Keras reaches it by
            continue
        seen.add(id(layer))
        out.append((path, names, layer))
        kids = [(f"{path}/{seg}" if path else seg, (*names, child.name), child) for seg, child in
                _keras3_children(layer)]
        stack.extend(reversed(kids))
    return out


def _tree_slots(layer, names):
    """``[(names of the owner, slot)]`` for ``layer`` and everything inside it, in Keras's ``weights`` order."""
    out, seen, stack = [], set(), [(names, layer)]
    while stack:
        owner_names, owner = stack.pop()
        if id(owner) in seen:
            continue
        seen.add(id(owner))
        out.extend((owner_names, slot) for slot in _slots(owner))
        kids = keras_layers(owner) if _is_graph(owner) else [] if isinstance(owner, _KerasSublayer) else \
            _keras_sublayers(owner) if _keras_sublayers(owner) is not None else owner._sublayers()
        stack.extend(reversed([((*owner_names, kid.name), kid) for kid in kids]))
    return out


def _legacy_order(tree):
    """Keras's legacy order: the trainable variables (as trainable now), then the others."""
    def trainable(item):
        return item[1].var is not None and bool(item[1].var.trainable)

    return [item for item in tree if trainable(item)] + [item for item in tree if not trainable(item)]


def _legacy_name(names, key):
    return "/".join((*names, key))


def _describe(names, layer):
    return f"{'/'.join(names)!r} ({type(layer).__name__})" if names else f"the model itself ({type(layer).__name__})"


# ---- reading: layout, attributes, datasets -------------------------------------------------------------------
def _has_strings(attrs, name):
    return name in attrs or f"{name}0" in attrs


def detect_layout(h5):
    """``"keras3"``, ``"legacy_model"``, ``"legacy_weights"``, or None (not a Keras layout, e.g. Neurona's own)."""
    h5py = _h5py()
    if "format" in h5.attrs:  # Neurona's own files say what they are (weights_h5.check_header)
        return None
    legacy = h5.get(LEGACY_GROUP)
    if isinstance(legacy, h5py.Group) and _has_strings(legacy.attrs, "layer_names"):
        return "legacy_model"
    if _has_strings(h5.attrs, "layer_names"):
        return "legacy_weights"
    if isinstance(h5.get("layers"), h5py.Group) or isinstance(h5.get("vars"), h5py.Group):
        return "keras3"
    # a subclassed model's layers are at attribute names: any ``vars`` group says Keras 3 (the walk stops there)
    return "keras3" if h5.visititems(lambda name, obj: _is_vars(name, obj, h5py)) else None


def _is_vars(name, obj, h5py):
    return True if name.rsplit("/", 1)[-1] == "vars" and isinstance(obj, h5py.Group) else None


def _strings(attrs, name, label, where):
    """The list of strings in attribute ``name`` (or its numbered chunks); [] when absent, as in Keras."""
    parts = [attrs[name]] if name in attrs else []
    while name not in attrs and f"{name}{len(parts)}" in attrs:
        parts.append(attrs[f"{name}{len(parts)}"])
    out = []
    for part in parts:
        array = numpy.asarray(part)
        if array.size == 0:
            continue
        if array.ndim != 1 or not all(isinstance(item, (bytes, str)) for item in array.tolist()):
            raise FileFormatError(f"{label!r}: attribute {name!r} of {where} must be a list of strings, got "
                                  f"{array.dtype} of shape {array.shape}")
        try:
            out.extend(item.decode("utf-8") if isinstance(item, bytes) else item for item in array.tolist())
        except UnicodeDecodeError:
            raise FileFormatError(f"{label!r}: attribute {name!r} of {where} is not UTF-8 text") from None
    return out


def _member(group, name, label, where):
    """``group[name]`` for a name the file lists, refusing absolute or climbing paths."""
    segments = name.split("/")
    if not name or name.startswith("/") or any(s in ("", ".", "..") for s in segments):
        raise FileFormatError(f"{label!r}: {where} lists {name!r}, which is not a relative HDF5 path")
    member = group.get(name)
    if member is None:
        raise FileFormatError(f"{label!r}: {where} lists {name!r}, but {group.name!r} holds no such member")
    return member


def _dataset(obj, label, where):
    """``obj`` checked to be a numeric dataset (never read here)."""
    h5py = _h5py()
    if not isinstance(obj, h5py.Dataset):
        raise FileFormatError(f"{label!r}: {where} must be a dataset, got {obj!r}")
    marker = obj.attrs.get("dtype")  # Keras 3 stores bfloat16 as raw bytes with this note
    if isinstance(marker, (str, bytes)) and marker in ("bfloat16", b"bfloat16"):
        raise FileFormatError(f"{label!r}: {where} is bfloat16, which Neurona does not hold; save the Keras "
                              "model in float32")
    if obj.dtype.kind not in "biuf":
        raise FileFormatError(f"{label!r}: {where} must be a numeric array, got dtype {obj.dtype}")
    return obj


def _read(dataset, slot, label, where):
    """The dataset's values cast to the weight's dtype (its kind and shape were checked before)."""
    try:
        value = numpy.asarray(dataset[()])
    except OSError as error:  # a corrupted chunk or a failed checksum
        raise FileFormatError(f"{label!r}: {where} is corrupted and cannot be read: {error}") from None
    return value.astype(slot.dtype, copy=False)


def _mismatch(label, ours, theirs, slot, dataset_name, found):
    return FileFormatError(f"{label!r}: model layer {ours} gets the file's layer {theirs}, whose variable "
                           f"{slot.key!r} ({dataset_name!r}) has shape {tuple(found)}; the model expects "
                           f"{slot.shape}. Nothing was loaded")


def _collect(arrays, pairs, label):
    """Read every ``(slot, dataset, ours, theirs)`` after all were checked; ``arrays[id(var)] = value``."""
    for slot, dataset, ours, theirs in pairs:
        if tuple(dataset.shape) != slot.shape:
            raise _mismatch(label, ours, theirs, slot, dataset.name, dataset.shape)
    for slot, dataset, _, theirs in pairs:
        value = _read(dataset, slot, label, f"variable {slot.key!r} ({dataset.name!r}) of the file's layer {theirs}")
        if slot.var is not None:
            arrays[id(slot.var)] = value


def read_weights(h5, model, path):
    """The arrays for ``model.set_weights``, in ``model.weights`` order, read from a Keras weights file.

    Args:
        h5: the file, opened by ``h5_files.open_h5`` (its links are checked again here all the same).
        model: a built Neurona model of the architecture the file was saved from.
        path: the file's name for messages.

    Raises:
        FileFormatError: not a Keras layout, or the file does not match the model (a layer missing or extra,
            another number of variables, a shape that differs, a dataset that is not numeric); the message names
            the file, both layers, the variable and both shapes. Nothing is read before everything is checked.
    """
    _check_built(model)
    h5_files.refuse_indirection(h5, path)
    layout = detect_layout(h5)
    if layout is None:
        raise FileFormatError(f"{path!r} is not a Keras weights file (neither Keras 3's '.weights.h5' layout nor "
                              "a legacy 'model_weights'/'layer_names' layout)")
    arrays, pairs = {}, (_keras3_pairs(h5, model, path) if layout == "keras3" else
                         _legacy_pairs(h5[LEGACY_GROUP] if layout == "legacy_model" else h5, model, path))
    _collect(arrays, pairs, path)
    kept = {id(var) for layer in [model, *model._all_sublayers()] if not _slots(layer)
            for var in layer._own_weights()}
    out = []
    for var in model.weights:
        if id(var) not in arrays and id(var) not in kept:
            raise FileFormatError(f"{path!r} holds no value for weight {var.name!r} of model {model.name!r}")
        out.append(arrays[id(var)] if id(var) in arrays else var.numpy())
    return out


# ---- reading Keras 3's layout --------------------------------------------------------------------------------
def _keras3_file(h5):
    """``{structural path: (vars group, layer names from the model down, or None)}`` for every layer group."""
    h5py, groups = _h5py(), {}
    compat = "layers" not in h5 and "_layer_checkpoint_dependencies" in h5

    def visit(name, obj):
        if name.rsplit("/", 1)[-1] == "vars" and isinstance(obj, h5py.Group):
            path = name[:-len("vars")].rstrip("/")
            groups["/".join("layers" if compat and s == "_layer_checkpoint_dependencies" else s
                            for s in path.split("/")) if path else ""] = obj

    h5.visititems(visit)
    out = {}
    for path, group in groups.items():
        segments = path.split("/") if path else []
        names = []
        for end in range(1, len(segments) + 1):
            ancestor = groups.get("/".join(segments[:end]))
            if ancestor is not None:
                name = ancestor.attrs.get("name")
                names.append(name.decode("utf-8", "replace") if isinstance(name, bytes) else name)
        out[path] = (group, tuple(names) if all(isinstance(n, str) for n in names) else None)
    return out


def _keras3_by_name(ours, theirs):
    """``{our path: their path}`` when every layer's names agree with the file's, else None."""
    if any(names is None for _, names in theirs.values()):
        return None
    by_names = {names: path for path, (_, names) in theirs.items()}
    if len(by_names) != len(theirs) or {names for _, names, _, _ in ours} != set(by_names):
        return None
    return {path: by_names[names] for path, names, _, _ in ours}


def _keras3_pairs(h5, model, label):
    """The ``(slot, dataset, ours, theirs)`` of every variable, layers matched as the module docstring says."""
    walked = _keras3_layers(model)
    ours = [(path, names, layer, slots) for path, names, layer in walked if (slots := _slots(layer))]
    roots = {path.split("/")[0] for path, _, _ in walked if path}
    found = _keras3_file(h5)
    theirs = {path: entry for path, entry in found.items()
              if len(entry[0]) and (not path or path.split("/")[0] in roots)}
    chosen = _keras3_by_name(ours, theirs)
    if chosen is None:
        missing = [f"{path} ({type(layer).__name__} {layer.name!r})" for path, _, layer, _ in ours
                   if path not in theirs]
        extra = [f"{path} ({theirs[path][0].attrs.get('name', '?')!r})" for path in theirs
                 if path not in {p for p, _, _, _ in ours}]
        if missing or extra:
            raise FileFormatError(f"{label!r} does not match model {model.name!r} (Keras 3 layout): layers with "
                                  f"weights in the model but not in the file: {missing or 'none'}; in the file "
                                  f"but not in the model: {extra or 'none'}. Nothing was loaded")
        chosen = {path: path for path, _, _, _ in ours}
    pairs = []
    for path, names, layer, slots in ours:
        group, their_names = theirs[chosen[path]]
        shown = f"{group.name!r} (named {'/'.join(their_names or ('?',))!r})"
        ours_shown = _describe(names, layer)
        keys = sorted(group)
        if keys != sorted(str(i) for i in range(len(slots))):
            raise FileFormatError(f"{label!r}: model layer {ours_shown} has {len(slots)} variables "
                                  f"({', '.join(s.key for s in slots)}), but the file's layer {shown} holds "
                                  f"{keys}. Nothing was loaded")
        for i, slot in enumerate(slots):
            where = f"variable {slot.key!r} ({group.name}/{i}) of the file's layer {shown}"
            pairs.append((slot, _dataset(group[str(i)], label, where), ours_shown, shown))
    return pairs


# ---- reading the legacy layouts ------------------------------------------------------------------------------
def _legacy_file(group, label):
    """``[(layer name, its group, [(weight name, dataset)])]`` for the file's layers that have weights."""
    h5py, out = _h5py(), []
    for name in _strings(group.attrs, "layer_names", label, f"group {group.name!r}"):
        sub = _member(group, name, label, f"attribute 'layer_names' of {group.name!r}")
        if not isinstance(sub, h5py.Group):
            raise FileFormatError(f"{label!r}: layer {name!r} must be a group, got {sub!r}")
        weights = _legacy_weights(sub, label)
        if weights:
            out.append((name, sub, weights))
    return out


def _legacy_weights(sub, label):
    where = f"attribute 'weight_names' of {sub.name!r}"
    return [(weight, _dataset(_member(sub, weight, label, where), label, f"dataset {weight!r} of {sub.name!r}"))
            for weight in _strings(sub.attrs, "weight_names", label, f"group {sub.name!r}")]


def _short(name):
    """``owner/key`` of a weight name (``base/dense/kernel`` or Keras 2's ``dense/kernel:0``)."""
    return "/".join(re.sub(r":\d+$", "", name).split("/")[-2:])


def _candidate_orders(tree, weights):
    """Orders of our slots to try against the file's weights: by name, Keras's legacy order, ``weights`` order."""
    ours = {_short(_legacy_name(names, slot.key)): (names, slot) for names, slot in tree}
    shorts = [_short(name) for name, _ in weights]
    orders = []
    if len(ours) == len(tree) == len(shorts) and len(set(shorts)) == len(shorts) and set(shorts) == set(ours):
        orders.append([ours[s] for s in shorts])
    for order in (_legacy_order(tree), tree):
        if not any(len(order) == len(other) and all(a is b for a, b in zip(order, other)) for other in orders):
            orders.append(order)
    return orders


def _layer_pairs(label, ours_shown, theirs_shown, tree, weights):
    """Pairs for one legacy layer: the first candidate order whose count and shapes all agree."""
    if len(tree) != len(weights):
        raise FileFormatError(f"{label!r}: model layer {ours_shown} has {len(tree)} variables "
                              f"({', '.join(_legacy_name(n, s.key) for n, s in tree) or 'none'}), but the file's "
                              f"layer {theirs_shown} holds {len(weights)} ({', '.join(n for n, _ in weights)}). "
                              "Nothing was loaded")
    orders = _candidate_orders(tree, weights)
    for order in orders:
        if all(tuple(ds.shape) == slot.shape for (_, slot), (_, ds) in zip(order, weights)):
            return [(slot, ds, ours_shown, theirs_shown) for (_, slot), (_, ds) in zip(order, weights)]
    (_, slot), (name, ds) = next((o, w) for o, w in zip(orders[0], weights) if tuple(w[1].shape) != o[1].shape)
    raise _mismatch(label, ours_shown, theirs_shown, slot, name, ds.shape)


def _legacy_pairs(group, model, label):
    """Pairs of every variable in a legacy group (the file root or ``model_weights``)."""
    ours = [(layer, tree) for layer in keras_layers(model) if (tree := _tree_slots(layer, (layer.name,)))]
    theirs = _legacy_file(group, label)
    names = [layer.name for layer, _ in ours]
    if sorted(names) == sorted(name for name, _, _ in theirs) and len(set(names)) == len(names):
        index = {name: (name, sub, weights) for name, sub, weights in theirs}
        theirs = [index[name] for name in names]
    elif len(theirs) != len(ours):
        raise FileFormatError(f"{label!r} holds weights for {len(theirs)} layers "
                              f"({', '.join(n for n, _, _ in theirs) or 'none'}), but model {model.name!r} has "
                              f"{len(ours)} layers with weights ({', '.join(names) or 'none'}). Nothing was loaded")
    pairs = []
    for (layer, tree), (name, sub, weights) in zip(ours, theirs):
        pairs.extend(_layer_pairs(label, _describe((layer.name,), layer), f"{name!r} ({sub.name!r})", tree,
                                  weights))
    top, own = group.get(TOP_LEVEL), [((), slot) for slot in _slots(model)]
    if top is not None and not isinstance(top, _h5py().Group):
        raise FileFormatError(f"{label!r}: {TOP_LEVEL!r} must be a group, got {top!r}")
    if own or top is not None:
        weights = [] if top is None else _legacy_weights(top, label)
        pairs.extend(_layer_pairs(label, _describe((), model), repr(TOP_LEVEL), own, weights))
    return pairs


# ---- writing -------------------------------------------------------------------------------------------------
def _value(slot):
    return numpy.zeros((), slot.dtype) if slot.var is None else numpy.require(slot.var.numpy(), requirements="C")


def write_keras3(h5, model):
    """Write ``model``'s weights into the open, empty file ``h5`` in Keras 3's layout (module docstring).

    ``keras_model.load_weights("x.weights.h5")`` reads it into the equivalent Keras model, and it is the
    ``model.weights.h5`` member of a ``.keras`` archive. Every layer gets a ``vars`` group named after it, as
    Keras 3.15 writes them, so name matching works both ways.
    """
    _check_built(model)
    _check_constants(model)
    plan = [(path, layer, [_value(slot) for slot in _slots(layer)]) for path, _, layer in _keras3_layers(model)]
    for path, layer, values in plan:
        group = h5.require_group(f"{path}/vars" if path else "vars")
        group.attrs["name"] = layer.name
        for i, value in enumerate(values):
            group.create_dataset(str(i), data=value)


def _write_strings(attrs, name, strings):
    """Attribute ``name`` = ``strings``, split into ``name0``, ``name1``, ... past HDF5's header limit."""
    data = numpy.array(strings, dtype=_h5py().string_dtype("utf-8")) if strings \
        else numpy.zeros((0,), "float64")  # what Keras writes for an empty list
    chunks = 1
    while sum(len(s.encode("utf-8")) for s in strings) // chunks > HEADER_LIMIT:
        chunks += 1
    if chunks == 1:
        attrs[name] = data
    else:
        for i, part in enumerate(numpy.array_split(data, chunks)):
            attrs[f"{name}{i}"] = part


def _check_legacy_names(model):
    """Raise ``ValueError`` unless every layer of ``model.layers`` can name its own group."""
    seen = set()
    for layer in keras_layers(model):
        if not isinstance(layer.name, str) or not layer.name or "/" in layer.name or layer.name in seen or \
                layer.name == TOP_LEVEL:
            raise ValueError(f"cannot write Keras legacy weights of model {model.name!r}: layer {layer.name!r} "
                             f"({type(layer).__name__}) needs a unique name without '/' (it names an HDF5 group)")
        seen.add(layer.name)


def write_legacy(group, model):
    """Write ``model``'s weights into ``group`` in Keras's legacy layout (module docstring).

    Args:
        group: the file root (a weights-only file, which ``keras_model.load_weights("w.h5")`` reads) or the
            ``model_weights`` group of a whole-model file (its ``model_config`` attribute is the caller's).
    """
    _check_built(model)
    _check_constants(model)
    _check_legacy_names(model)
    plan = [(layer.name, [(_legacy_name(names, slot.key), _value(slot)) for names, slot in
                          _legacy_order(_tree_slots(layer, (layer.name,)))]) for layer in keras_layers(model)]
    plan.append((TOP_LEVEL, [(_legacy_name((model.name,), slot.key), _value(slot)) for slot in _slots(model)]))
    _write_strings(group.attrs, "layer_names", [layer.name for layer in keras_layers(model)])
    group.attrs["backend"] = BACKEND
    group.attrs["keras_version"] = KERAS_VERSION
    for name, weights in plan:
        sub = group.create_group(name)
        _write_strings(sub.attrs, "weight_names", [weight for weight, _ in weights])
        for weight, value in weights:
            sub.create_dataset(weight, data=value)
