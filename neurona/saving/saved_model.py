"""``save_model`` / ``load_model`` (a folder: ``model.json`` + ``model.h5``) and ``save_weights`` / ``load_weights``.

Any model saves: Sequential, functional (several inputs and outputs, shared
layers, ops on symbolic tensors), models nested in models (a frozen base keeps
``trainable=False``), and subclassed models and custom layers with a
``get_config`` (json_config.py), registered or given as ``custom_objects`` when
loading. ``model.json`` holds everything
but the arrays::

    {"format": "neurona.model", "format_version": 1, "neurona_version": "0.1.0",
     "model": {"class_name": "Sequential", "config": {...every layer...}, "build_input_shape": [null, 784]},
     "compile": {"optimizer": {...}, "loss": ..., "loss_weights": ..., "metrics": [...], ...} or null,
     "optimizer_state": {"iterations": 1407, "learning_rate": 0.002} or null,
     "preprocessing": [{"op": "rescale", ...}, {"op": "flatten"}] or null,
     "reference_statistics": {"format": "neurona.drift.reference", "input_shape": [784], ...} or null,
     "rng": {"layers": {...}, "shuffle": {...}},
     "weights": {"file": "model.h5", "sha256": "..."},
     "training": null, or a checkpoint's {"epoch", "history", "global_rng", ...} (see checkpoint.py)}

``model.h5`` holds the weights and the optimizer slots, each found by its layer's path
inside the model (weights_h5.py, layer_paths.py), and the arrays of the model's
reference statistics for drift checks (reference_h5.py).
What a save and a load guarantee:

- the folder is written atomically, saves to one path from several processes
  take turns, and a load gets one whole save (old or new), never a mix, even
  while another process saves (atomic.py);
- ``model.h5`` is built in memory and written with ordinary file I/O, so a full
  disk is an ``OSError`` naming the user's path, with the previous save intact
  (h5_files.py);
- ``model.json`` records the SHA-256 of ``model.h5``, so a modified, truncated
  or swapped weights file is refused, and a weights file whose data could come
  from other files (links, external storage, virtual datasets) is refused too;
- every entry of ``model.json`` is checked (document.py, json_config.py): a
  file that cannot be loaded raises ``FileFormatError`` naming the file (by the
  user's path, never a temporary or backup one) and what was expected;
- ``model.save("m.keras")`` and ``"m.h5"`` write Keras's own single-file
  forms (saving/keras/), which Keras and ``load_model`` both open;
- a custom class (layer or model) need not be registered to save; loading
  finds it in ``custom_objects``, a ``custom_object_scope`` or the registries,
  and names it, its module and what to pass when it is in none of them.
"""

import hashlib
import os
import reprlib

from ..arguments import check_bool, check_path
from ..callbacks import History
from ..initializers.lsuv import mark_resolved
from ..registry import CustomObjectScope, check_custom_objects
from . import compile_settings, h5_files, json_config, reference_h5, weights_h5
from . import document as document_check
from . import preprocessing as prep
from .atomic import atomic_folder as _atomic_folder
from .atomic import open_folder, readable_folder, write_bytes
from .errors import FileFormatError
from .keras import files as keras_files
from .rng_state import model_rng_state, restore_model_rng

MODEL_JSON = "model.json"
MODEL_H5 = "model.h5"
SINGLE_FILE_SUFFIXES = (".h5", ".hdf5", ".keras")


def sha256_of(source, chunk=1 << 20):
    """The SHA-256 (hex) of a file, given its path or a binary file object (read from its start, then rewound)."""
    if isinstance(source, (str, bytes, os.PathLike)):
        with open(source, "rb") as f:
            return sha256_of(f, chunk)
    digest = hashlib.sha256()
    source.seek(0)
    for block in iter(lambda: source.read(chunk), b""):
        digest.update(block)
    source.seek(0)
    return digest.hexdigest()


def refuse_single_file_name(path, owner):
    """Raise ``ValueError`` for a model folder named like a single-file format (``m.h5``, ``m.keras``).

    ``model.save("m.h5")`` would make a folder called ``m.h5``. ``ModelCheckpoint`` and ``neurona train
    --save`` call this before training, so the refusal never comes after an epoch's work.

    Args:
        path: the folder name asked for.
        owner: what is being saved, for the message (e.g. ``"model 'sequential'"``).
    """
    text = os.fspath(path)
    text = text.decode() if isinstance(text, bytes) else text
    stem, suffix = os.path.splitext(text.rstrip("/\\"))
    if suffix.lower() not in SINGLE_FILE_SUFFIXES:
        return
    weights_hint = (f", or model.save_weights({text!r}) to write the weights alone to an HDF5 file"
                    if suffix.lower() != ".keras" else "")
    raise ValueError(f"cannot save {owner} to {text!r}: a {suffix!r} file is a "
                     f"single-file format that Neurona does not write yet. Neurona saves a model as a folder holding "
                     f"{MODEL_JSON} (architecture, compile settings, optimizer state) and {MODEL_H5} (weights): pass a "
                     f"folder name such as {os.path.basename(stem) or 'my_model'!r}{weights_hint}")


def save_model(model, path, overwrite=True, include_optimizer=True, training=None):
    """Save architecture, weights, compile settings, optimizer state, preprocessing and reference statistics
    (``model.reference_statistics``, for drift checks) to the folder ``path``.

    Args:
        model: a Model (built or not; an unbuilt model saves no weights).
        path: the folder to write; it is replaced atomically (a killed save leaves the previous one). A
            symbolic link is followed: its target is replaced and the link keeps pointing at the new save.
            A name ending in ``.keras`` writes Keras 3's archive instead, and one ending in ``.h5`` or ``.hdf5``
            Keras's legacy HDF5 model file (architecture, weights, compile settings; no optimizer state,
            preprocessing or reference statistics): files ``keras.models.load_model`` opens.
        overwrite: if False, an existing ``path`` raises ``FileExistsError``.
        include_optimizer: also save the optimizer's step count and slots (Adam's moments, ...).
        training: a checkpoint's training state (``checkpoint.save_checkpoint`` passes it).

    Raises:
        TypeError: ``path`` is not a path (str or os.PathLike), or ``overwrite`` / ``include_optimizer`` is not
            a bool (a string such as ``"no"`` would be truthy), or ``model.reference_statistics`` is neither None
            nor a ReferenceStatistics; nothing is written.
        ValueError: the reference statistics' arrays do not fit their shapes or hold NaN or inf; nothing is
            written.
        FileExistsError: ``path`` is a file, exists with ``overwrite=False``, or is a folder holding files other
            than an earlier save's ``model.json`` and ``model.h5`` (it is left untouched: a save replaces
            the whole folder, and would otherwise delete them).
        OSError: writing failed (disk full, no permission, ...); the message names ``path``, and the
            previous save at ``path`` is intact.
    """
    from .. import __version__  # here: neurona/__init__.py defines it after importing its subpackages

    path = check_path(path, "save_model", "path")
    overwrite = check_bool(overwrite, "save_model", "overwrite")
    include_optimizer = check_bool(include_optimizer, "save_model", "include_optimizer")
    if keras_files.keras_form(path) is not None and training is None:
        _save_keras_file(model, path, overwrite)
        return
    refuse_single_file_name(path, f"model {getattr(model, 'name', '?')!r}")
    document = {"format": json_config.FORMAT, "format_version": json_config.FORMAT_VERSION,
                "neurona_version": __version__, "model": json_config.model_config(model)}
    settings = compile_settings.compile_config(model)
    save_slots = include_optimizer and settings is not None
    document["compile"] = settings
    document["optimizer_state"] = None
    if save_slots:
        state = model.optimizer.get_state([])
        document["optimizer_state"] = {"iterations": model.optimizer.iterations,
                                       "learning_rate": state["learning_rate"]}
        if "loss_scale" in state:  # a LossScaleOptimizer's scale and counter: a resumed run scales the same
            document["optimizer_state"]["loss_scale"] = state["loss_scale"]
        if "accumulated_steps" in state:  # gradient accumulation's position within its N calls
            document["optimizer_state"]["accumulated_steps"] = state["accumulated_steps"]
    document["preprocessing"] = prep.validate(getattr(model, "preprocessing", None), f"model {model.name!r}")
    document["rng"] = model_rng_state(model)
    document[reference_h5.KEY] = reference_h5.metadata(model)  # checked: a save never writes what cannot load
    json_config.dumps(document)  # fail on a config that is not JSON-safe before touching the disk
    weights_h5.check_names(model)  # and on layer or weight names that cannot be HDF5 paths

    def fill(h5):
        weights_h5.write_weights(h5, model)
        if save_slots:
            weights_h5.write_optimizer_slots(h5, model, model.optimizer)
        if document[reference_h5.KEY] is not None:
            reference_h5.write(h5, model)

    with _atomic_folder(path, overwrite=overwrite, replaces=(MODEL_JSON, MODEL_H5)) as tmp:
        image = h5_files.image(fill)
        document["weights"] = {"file": MODEL_H5, "sha256": hashlib.sha256(image).hexdigest()}
        document["training"] = training
        text = json_config.dumps(document, indent=2).encode("utf-8")
        for name, data in ((MODEL_H5, image), (MODEL_JSON, text)):
            with open(os.path.join(tmp, name), "wb") as f:
                f.write(data)


def _save_keras_file(model, path, overwrite):
    """``model.save("m.keras")`` / ``"m.h5"``: Keras's single-file forms (saving/keras/files.py)."""
    text = os.fspath(path)
    if (text.decode() if isinstance(text, bytes) else text).endswith(("/", os.sep)):
        raise ValueError(f"cannot save to {text!r}: a trailing separator names a folder, and a "
                         f"{os.path.splitext(text.rstrip('/' + os.sep))[1]!r} save is one file (drop the separator, "
                         "or give a folder name without the suffix for Neurona's model.json + model.h5)")
    if os.path.isdir(path):
        raise IsADirectoryError(f"cannot write {str(path)!r}: it is a folder (a {os.path.splitext(path)[1]!r} save is "
                                "one file)")
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{str(path)!r} exists and overwrite=False")
    try:
        if keras_files.keras_form(path) == "archive":
            keras_files.save_archive(model, path)
        else:
            keras_files.save_h5(model, path)
    except ValueError as error:  # what Keras's format cannot describe: raised before anything is written
        raise ValueError(f"cannot write {str(path)!r}: {error}") from None


def _check_folder(path):
    """Raise the clear error for a ``path`` that holds no saved model folder."""
    folder = readable_folder(path)
    if not os.path.isdir(folder):
        if os.path.exists(folder):
            raise FileFormatError(f"{str(path)!r} is a file; a saved model is a folder holding {MODEL_JSON} and "
                                  f"{MODEL_H5} (use load_weights() for a weights file)")
        raise FileNotFoundError(f"no saved model at {str(path)!r}")


def _json_source(path):
    return f"{MODEL_JSON} at {os.path.join(str(path), MODEL_JSON)!r}"


def _model_json(files, path):
    """model.json of the open ``files`` of one save, parsed once (Neurona's or Keras's, told apart after)."""
    if files[MODEL_JSON] is None:
        raise FileFormatError(f"{str(path)!r} is not a saved Neurona model: it has no {MODEL_JSON}")
    return json_config.parse(files[MODEL_JSON].read(), _json_source(path), versioned=False)


def _checked_document(data, path):
    """A parsed Neurona model.json, its format, version and entries checked."""
    source = _json_source(path)
    json_config.check_version(data, source)
    document_check.check(data, MODEL_H5, source)
    return data


def _document(files, path):
    """model.json's checked dict, read from the open ``files`` of one save."""
    return _checked_document(_model_json(files, path), path)


def read_document(path):
    """``(path, model.json's checked dict)`` for a saved model folder, with clear errors for what is missing."""
    _check_folder(path)
    with open_folder(path, (MODEL_JSON,)) as files:
        return path, _document(files, path)


def _checked_h5(files, document, path):
    """The open ``model.h5`` of the save, once its SHA-256 matches ``model.json``'s."""
    h5_path = os.path.join(str(path), MODEL_H5)
    if files[MODEL_H5] is None:
        raise FileFormatError(f"{str(path)!r}: {MODEL_H5} is missing (the folder is incomplete)")
    expected, actual = document["weights"]["sha256"], sha256_of(files[MODEL_H5])
    if expected != actual:
        raise FileFormatError(f"{MODEL_H5} at {h5_path!r} does not match {MODEL_JSON}: its SHA-256 is {actual}, "
                              f"{MODEL_JSON} expects {expected} (the file was modified, truncated or comes from "
                              "another save)")
    return files[MODEL_H5], h5_path


def load_model(path, custom_objects=None, compile=True, safe_mode=True):  # noqa: A002 - Keras's argument name
    """Rebuild a model saved with ``save_model``: predictions are bit-identical to the saved model's.

    The model comes back compiled (unless ``compile=False``) with its optimizer's
    step count and slots, its preprocessing steps (``model.preprocessing``), its
    reference statistics (``model.reference_statistics``, None if none were saved), the
    random states of its layers, and, for a checkpoint, its training history
    (``model.history``). The library-wide random generator is left as it was.
    ``model.json`` and ``model.h5`` always come from one save, even while another
    process saves to ``path``.

    Args:
        path: the saved model's folder.
        custom_objects: ``{name: class or function}`` for the custom classes the file names that the
            program has not registered (Keras's argument); found before any ``custom_object_scope`` and the
            registries.
        compile: compile the model with the saved settings.
        safe_mode: Keras's argument, accepted for compatibility: Neurona never runs code from a file
            (no pickle, no bytecode), whatever its value.

    Raises:
        TypeError: ``path`` is not a path (str or os.PathLike), ``compile`` or ``safe_mode`` is not a bool, or
            ``custom_objects`` is not a dict of names.
        FileNotFoundError: nothing at ``path``.
        FileFormatError: a missing, truncated, corrupted, newer-version or mismatched file, a weights
            file whose data could come from other files, or a class that is neither in ``custom_objects``
            nor registered; the message names the file, the layer and what was expected.
    """
    path = check_path(path, "load_model", "path")
    check_bool(safe_mode, "load_model", "safe_mode")
    compile = check_bool(compile, "load_model", "compile")  # noqa: A001
    form = keras_files.keras_form(path)
    if form is not None and os.path.isfile(path):
        objects = check_custom_objects(custom_objects, "load_model")
        with CustomObjectScope(objects):
            if form == "archive":
                return keras_files.load_archive(path, compile=compile)
            return keras_files.load_h5(path, compile=compile)
    return load_saved(path, compile=compile, custom_objects=custom_objects)[0]


def load_saved(path, compile=True, expect=None, custom_objects=None):  # noqa: A002
    """``(model, model.json's dict)`` from one save; ``expect(document, source)`` may refuse the document
    before anything is rebuilt (``load_checkpoint`` refuses a save without training state)."""
    objects = check_custom_objects(custom_objects, "load_model")
    _check_folder(path)
    with CustomObjectScope(objects), open_folder(path, (MODEL_JSON, MODEL_H5)) as files:
        data = _model_json(files, path)
        if keras_files.config.is_keras_config(data):
            return _keras_folder(data, files, path, compile, expect), None
        document = _checked_document(data, path)
        source = _json_source(path)
        if expect is not None:
            expect(document, source)
        h5_file, h5_path = _checked_h5(files, document, path)
        model = json_config.model_from_config(document["model"], source)
        with h5_files.open_h5(h5_file, h5_path) as h5:
            weights_h5.check_header(h5, h5_path)
            arrays = weights_h5.read_weights(h5, model, h5_path, by_name=True)
            slots = None
            if compile and document.get("compile"):
                compile_settings.compile_from_config(model, document["compile"], source)
                if document.get("optimizer_state"):
                    slots = weights_h5.read_optimizer_slots(h5, model, model.optimizer, h5_path)
            reference = reference_h5.read(h5, document.get(reference_h5.KEY), h5_path, source)
    if arrays:
        model.set_weights(arrays)
        mark_resolved(model)  # LSUV kernels hold the file's values now, not a draw waiting for data
    if slots is not None:
        _restore_optimizer(model, document["optimizer_state"], slots, source)
    model.preprocessing = prep.validate(document.get("preprocessing"), source)
    model.reference_statistics = reference
    restore_model_rng(model, document.get("rng"), source)
    _restore_history(model, document.get("training"))
    return model, document


def _keras_folder(data, files, path, compile, expect):  # noqa: A002
    """The model of a folder whose ``model.json`` (``data``, parsed) is Keras's ``model.to_json()`` (the
    deployment article's ``model.json`` + ``model.h5``)."""
    source = _json_source(path)
    if expect is not None:
        raise FileFormatError(f"{source} is Keras's model.to_json(), not a Neurona checkpoint (it holds no "
                              "training state)")
    if files[MODEL_H5] is None:
        raise FileFormatError(f"{str(path)!r}: {MODEL_H5} is missing (Keras's model.json names no weights file; "
                              f"Neurona reads the weights from {MODEL_H5} beside it)")
    return keras_files.load_folder(data, files[MODEL_H5], os.path.join(str(path), MODEL_H5), source,
                                   compile=compile)


def _restore_optimizer(model, state, slots, source):
    state = {"iterations": state["iterations"], "learning_rate": state.get("learning_rate"), "slots": slots,
             **({"loss_scale": state["loss_scale"]} if "loss_scale" in state else {}),
             **({"accumulated_steps": state["accumulated_steps"]} if "accumulated_steps" in state else {})}
    try:
        model.optimizer.set_state(state, model.weights)
    except (TypeError, ValueError) as error:
        raise FileFormatError(f"{source}: 'optimizer_state' does not fit optimizer "
                              f"{type(model.optimizer).__name__}: {error}") from None


def _restore_history(model, training):
    model._restored_training = training
    if training and training.get("history"):
        history = History()
        history.epoch = list(training["history"].get("epoch", []))
        history.history = {k: list(v) for k, v in training["history"].get("history", {}).items()}
        history.set_model(model)
        model.history = model._restored_history_object = history


def save_weights(model, path, overwrite=True, format="neurona"):  # noqa: A002 - the issue's argument name
    """Write the model's weights to the HDF5 file ``path`` (atomically; built in memory, then written).

    ``format="keras"`` writes a file Keras's ``load_weights`` reads: Keras 3's layout for a name ending in
    ``.weights.h5``, the legacy (Keras 2) layout for another ``.h5`` name.

    Raises:
        TypeError: ``path`` is not a path (str or os.PathLike), or ``overwrite`` is not a bool.
        OSError: writing failed (disk full, no permission, ...); the message names ``path``, and a previous
            file at ``path`` is intact.
    """
    path = check_path(path, "save_weights", "path")
    overwrite = check_bool(overwrite, "save_weights", "overwrite")
    if os.path.isdir(path):
        raise IsADirectoryError(f"cannot write weights to {str(path)!r}: it is a folder (use save() for a model "
                                "folder, or give a file name such as 'model.weights.h5')")
    if format not in ("neurona", "keras"):
        raise ValueError(f"save_weights: format must be 'neurona' or 'keras', got {format!r}")
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{str(path)!r} exists and overwrite=False")
    if format == "keras":
        write_bytes(path, keras_files.weights_image(model, path))
        return
    write_bytes(path, h5_files.image(lambda h5: weights_h5.write_weights(h5, model)))


def load_weights(model, path, by_name=False):
    """Load weights saved by ``save_weights`` (an HDF5 file) or ``save_model`` (a folder) into ``model``.

    Args:
        by_name: match layers by their path in the model (their names, and inside a nested model
            ``"base/dense"``; inside a subclassed model, attribute names: layer_paths.py); by default
            layers with weights are matched in order (as Keras does), so a model built separately,
            whose layers got other automatic names, loads too. Layer classes, weight names, shapes and
            dtypes must match; nothing changes unless all do. An unbuilt model is first built for the
            input shape the file records.

    Raises:
        TypeError: ``path`` is not a path (str or os.PathLike), or ``by_name`` is not a bool.
    """
    path = check_path(path, "load_weights", "path")
    by_name = check_bool(by_name, "load_weights", "by_name")
    if not os.path.isdir(readable_folder(path)):
        _load_weights_from(model, path, path, by_name)
        return
    with open_folder(path, (MODEL_H5,)) as files:
        if files[MODEL_H5] is None:
            raise FileFormatError(f"{str(path)!r}: {MODEL_H5} is missing (the folder is incomplete)")
        _load_weights_from(model, files[MODEL_H5], os.path.join(path, MODEL_H5), by_name)


def _refuse_by_name_for_keras(by_name, path):
    if by_name:
        raise ValueError(f"load_weights({str(path)!r}, by_name=True): a Keras weights file's layers are matched "
                         "by name when all names agree, else in Keras's order of the layers; by_name=True (load "
                         "only the layers whose names match) is not offered for Keras's files")


def _load_weights_from(model, source, h5_path, by_name):
    if isinstance(source, (str, os.PathLike)) and keras_files.keras_form(source) == "archive":
        _refuse_by_name_for_keras(by_name, source)
        keras_files.load_archive_weights(model, source)
        return
    with h5_files.open_h5(source, h5_path) as h5:
        if h5.attrs.get("format") is None and keras_files.is_keras_weights(h5):
            _refuse_by_name_for_keras(by_name, h5_path)
            if not model.built:
                raise ValueError(f"model {model.name!r} is not built; build it (or call it on data) before "
                                 f"loading Keras's weights file {str(h5_path)!r}")
            keras_files.read_weights_into(model, h5, str(h5_path))
            mark_resolved(model)
            return
        weights_h5.check_header(h5, h5_path)
        if not model.built:
            shape = weights_h5.stored_input_shape(h5, h5_path)
            if shape is None:
                raise ValueError(f"model {model.name!r} is not built and {h5_path!r} does not record an input "
                                 "shape; build the model (or call it on data) before load_weights()")
            json_config.build_model(model, shape)
        arrays = weights_h5.read_weights(h5, model, h5_path, by_name=by_name)
    model.set_weights(arrays)
    mark_resolved(model)  # as in load_saved


def to_json(model, format="neurona", **kwargs):  # noqa: A002 - the issue's argument name
    """The architecture as JSON text (``models.model_from_json`` rebuilds it, without weights).

    ``format="keras"`` writes the JSON Keras 3's ``model.to_json()`` writes, which
    ``keras.models.model_from_json`` reads; ``kwargs`` go to ``json.dumps``.
    """
    if format == "keras":
        return keras_files.to_json(model, **kwargs)
    if format != "neurona":
        raise ValueError(f"to_json: format must be 'neurona' or 'keras', got {format!r}")
    return json_config.to_json(model, **kwargs)


def model_from_json(text, custom_objects=None):
    """Rebuild a model (fresh weights) from ``to_json`` text (``str``, or UTF-8 ``bytes``).

    ``custom_objects`` (``{name: class or function}``, Keras's argument) gives the custom classes the text
    names that the program has not registered; it is searched before any ``custom_object_scope``.

    Raises:
        TypeError: ``text`` is not a str, bytes or bytearray, or ``custom_objects`` is not a dict of names.
        FileFormatError: ``text`` is not a model's JSON, or names a class neither given nor registered.
    """
    if not isinstance(text, (str, bytes, bytearray)):
        raise TypeError(f"model_from_json: expected the JSON text of model.to_json() (a str, or UTF-8 bytes), got "
                        f"{reprlib.repr(text)} ({type(text).__name__})")
    objects = check_custom_objects(custom_objects, "model_from_json")
    data = json_config.parse(text, "JSON", versioned=False)
    if keras_files.config.is_keras_config(data):
        with CustomObjectScope(objects):
            return keras_files.model_from_config(data, "Keras JSON")
    json_config.check_version(data, "JSON")
    return json_config.model_from_config(data.get("model", data), "JSON", objects)


def peek(path):
    """``model.json``'s dict of a saved model, without loading weights (for ``neurona info``)."""
    return read_document(check_path(path, "peek", "path"))[1]


__all__ = ["save_model", "load_model", "save_weights", "load_weights", "to_json", "model_from_json", "peek",
           "MODEL_JSON", "MODEL_H5"]
