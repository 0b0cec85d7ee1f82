"""``save_model`` / ``load_model`` (a folder: ``model.json`` + ``model.h5``) and ``save_weights`` / ``load_weights``.

``model.json`` holds everything but the arrays::

    {"format": "neurona.model", "format_version": 1, "neurona_version": "0.1.0",
     "model": {"class_name": "Sequential", "config": {...every layer...}, "build_input_shape": [null, 784]},
     "compile": {"optimizer": {...}, "loss": ..., "metrics": [...]} or null,
     "optimizer_state": {"iterations": 1407, "learning_rate": 0.002} or null,
     "preprocessing": [{"op": "rescale", ...}, {"op": "flatten"}] or null,
     "rng": {"layers": {...}, "shuffle": {...}},
     "weights": {"file": "model.h5", "sha256": "..."},
     "training": null, or a checkpoint's {"epoch", "history", "global_rng", ...} (see checkpoint.py)}

``model.h5`` holds the weights and the optimizer slots (see weights_h5.py). The
folder is written atomically (atomic.py), and ``model.json`` records the SHA-256
of ``model.h5`` so that a modified, truncated or swapped weights file is refused.
"""

import hashlib
import os

from ..callbacks import History
from . import json_config, weights_h5
from . import preprocessing as prep
from .atomic import atomic_file, readable_folder
from .atomic import atomic_folder as _atomic_folder
from .errors import FileFormatError
from .rng_state import model_rng_state, restore_model_rng

MODEL_JSON = "model.json"
MODEL_H5 = "model.h5"


def sha256_of(path, chunk=1 << 20):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def _h5py():
    import h5py

    return h5py


def save_model(model, path, overwrite=True, include_optimizer=True, training=None):
    """Save architecture, weights, compile settings, optimizer state and preprocessing to the folder ``path``.

    Args:
        model: a Model (built or not; an unbuilt model saves no weights).
        path: the folder to write; it is replaced atomically (a killed save leaves the previous one).
        overwrite: if False, an existing ``path`` raises ``FileExistsError``.
        include_optimizer: also save the optimizer's step count and slots (Adam's moments, ...).
        training: a checkpoint's training state (``checkpoint.save_checkpoint`` passes it).
    """
    from .. import __version__  # here: neurona/__init__.py defines it after importing its subpackages

    document = {"format": json_config.FORMAT, "format_version": json_config.FORMAT_VERSION,
                "neurona_version": __version__, "model": json_config.model_config(model)}
    compile_settings = json_config.compile_config(model)
    save_slots = include_optimizer and compile_settings is not None
    document["compile"] = compile_settings
    document["optimizer_state"] = None
    if save_slots:
        lr = model.optimizer.get_state([])["learning_rate"]
        document["optimizer_state"] = {"iterations": model.optimizer.iterations, "learning_rate": lr}
    document["preprocessing"] = prep.validate(getattr(model, "preprocessing", None), f"model {model.name!r}")
    document["rng"] = model_rng_state(model)
    json_config.dumps(document)  # fail on a config that is not JSON-safe before touching the disk
    with _atomic_folder(path, overwrite=overwrite) as tmp:
        h5_path = os.path.join(tmp, MODEL_H5)
        with _h5py().File(h5_path, "w") as h5:
            weights_h5.write_weights(h5, model)
            if save_slots:
                weights_h5.write_optimizer_slots(h5, model, model.optimizer)
        document["weights"] = {"file": MODEL_H5, "sha256": sha256_of(h5_path)}
        document["training"] = training
        with open(os.path.join(tmp, MODEL_JSON), "w", encoding="utf-8") as f:
            f.write(json_config.dumps(document, indent=2))
            f.flush()


def read_document(path):
    """``(folder, model.json's dict)`` for a saved model folder, with clear errors for what is missing."""
    folder = readable_folder(path)
    if not os.path.isdir(folder):
        if os.path.exists(folder):
            raise FileFormatError(f"{str(path)!r} is a file; a saved model is a folder holding {MODEL_JSON} and "
                                  f"{MODEL_H5} (use load_weights() for a weights file)")
        raise FileNotFoundError(f"no saved model at {str(path)!r}")
    json_path = os.path.join(folder, MODEL_JSON)
    if not os.path.isfile(json_path):
        raise FileFormatError(f"{str(folder)!r} is not a saved Neurona model: it has no {MODEL_JSON}")
    with open(json_path, encoding="utf-8") as f:
        text = f.read()
    source = f"{MODEL_JSON} at {json_path!r}"
    document = json_config.parse(text, source)
    for key in ("model", "weights"):
        if key not in document:
            raise FileFormatError(f"{source}: missing key {key!r} (expected keys: format, format_version, model, "
                                  "compile, weights, ...)")
    return folder, document


def _checked_h5_path(folder, document):
    entry = document["weights"]
    h5_path = os.path.join(folder, MODEL_H5)
    if not os.path.isfile(h5_path):
        raise FileFormatError(f"{str(folder)!r}: {MODEL_H5} is missing (the folder is incomplete)")
    expected = entry.get("sha256") if isinstance(entry, dict) else None
    actual = sha256_of(h5_path)
    if expected != actual:
        raise FileFormatError(f"{MODEL_H5} at {h5_path!r} does not match {MODEL_JSON}: its SHA-256 is {actual}, "
                              f"{MODEL_JSON} expects {expected} (the file was modified, truncated or comes from "
                              "another save)")
    return h5_path


def load_model(path, compile=True):  # noqa: A002 - Keras's argument name
    """Rebuild a model saved with ``save_model``: predictions are bit-identical to the saved model's.

    The model comes back compiled (unless ``compile=False``) with its optimizer's
    step count and slots, its preprocessing steps (``model.preprocessing``), the
    random states of its layers, and, for a checkpoint, its training history
    (``model.history``). The library-wide random generator is left as it was.

    Raises:
        FileNotFoundError: nothing at ``path``.
        FileFormatError: a missing, truncated, corrupted, newer-version or mismatched file; the message
            names the file, the layer and what was expected.
    """
    folder, document = read_document(path)
    source = f"{MODEL_JSON} at {os.path.join(folder, MODEL_JSON)!r}"
    h5_path = _checked_h5_path(folder, document)
    model = json_config.model_from_config(document["model"], source)
    with weights_h5.open_h5(h5_path) as h5:
        weights_h5.check_header(h5, h5_path)
        arrays = weights_h5.read_weights(h5, model, h5_path, by_name=True)
        slots = None
        if compile and document.get("compile"):
            json_config.compile_from_config(model, document["compile"], source)
            if document.get("optimizer_state"):
                slots = weights_h5.read_optimizer_slots(h5, model, model.optimizer, h5_path)
    if arrays:
        model.set_weights(arrays)
    if slots is not None:
        state = dict(document["optimizer_state"], slots=slots)
        model.optimizer.set_state(state, model.weights)
    model.preprocessing = prep.validate(document.get("preprocessing"), source)
    restore_model_rng(model, document.get("rng"), source)
    _restore_history(model, document.get("training"))
    return model


def _restore_history(model, training):
    model._restored_training = training
    if training and training.get("history"):
        history = History()
        history.epoch = list(training["history"].get("epoch", []))
        history.history = {k: list(v) for k, v in training["history"].get("history", {}).items()}
        history.set_model(model)
        model.history = model._restored_history_object = history


def save_weights(model, path, overwrite=True):
    """Write the model's weights to the HDF5 file ``path`` (atomically)."""
    if os.path.isdir(path):
        raise IsADirectoryError(f"cannot write weights to {str(path)!r}: it is a folder (use save() for a model "
                                "folder, or give a file name such as 'model.weights.h5')")
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{str(path)!r} exists and overwrite=False")
    with atomic_file(path) as tmp:
        with _h5py().File(tmp, "w") as h5:
            weights_h5.write_weights(h5, model)


def load_weights(model, path, by_name=False):
    """Load weights saved by ``save_weights`` (an HDF5 file) or ``save_model`` (a folder) into ``model``.

    Args:
        by_name: match layers by name; by default layers with weights are matched in order (as
            Keras does), so a model built separately, whose layers got other automatic names, loads too.
            Layer classes, weight names, shapes and dtypes must match; nothing changes unless all do.
    """
    path = os.fspath(path)
    folder = readable_folder(path)
    h5_path = os.path.join(folder, MODEL_H5) if os.path.isdir(folder) else path
    with weights_h5.open_h5(h5_path) as h5:
        weights_h5.check_header(h5, h5_path)
        if not model.built:
            shape = weights_h5.stored_input_shape(h5, h5_path)
            if shape is None:
                raise ValueError(f"model {model.name!r} is not built and {h5_path!r} does not record an input "
                                 "shape; build the model (or call it on data) before load_weights()")
            model.build(shape)
        arrays = weights_h5.read_weights(h5, model, h5_path, by_name=by_name)
    model.set_weights(arrays)


def to_json(model, **kwargs):
    """The architecture as JSON text (``models.model_from_json`` rebuilds it, without weights)."""
    return json_config.to_json(model, **kwargs)


def model_from_json(text):
    """Rebuild a model (fresh weights) from ``to_json`` text."""
    return json_config.from_json(text)


def peek(path):
    """``model.json``'s dict of a saved model, without loading weights (for ``neurona info``)."""
    return read_document(path)[1]


__all__ = ["save_model", "load_model", "save_weights", "load_weights", "to_json", "model_from_json", "peek",
           "MODEL_JSON", "MODEL_H5"]
