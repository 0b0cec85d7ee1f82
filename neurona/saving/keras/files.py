"""Keras's own model files, loaded into Neurona models and written from them.

The forms (checked against Keras 3.15.1; Keras 2's layouts where they differ):

- ``model.json`` (``model.to_json()``) + ``model.h5``: the deployment article's pair. The JSON is translated by
  config.py; ``model.h5`` may be any of Keras's weight layouts (weights.py): Keras 3's ``save_weights``
  layout, a legacy whole-model file (``keras.saving.save_model(model, "m.h5")``), or Keras 2's weights-only
  ``save_weights("model.h5")``. A folder holding the pair loads with ``load_model(folder)``, so ``neurona serve``
  serves it.
- ``m.h5``: the legacy whole-model file alone (its ``model_config`` attribute holds the JSON, ``training_config``
  the compile settings).
- ``m.keras``: Keras 3's zip archive (archive.py).

Loading never runs code from a file: the JSON only names classes, found among Neurona's (config.py refuses
Lambda layers and anything it cannot translate, naming the layer and the option), and every HDF5 file is
opened through ``h5_files.open_h5`` (no links, external storage or virtual datasets). Writing builds each file
in memory and writes it atomically, like Neurona's own saves.
"""

import io
import json
import logging
import os

from .. import h5_files, json_config
from ..atomic import write_bytes
from ..errors import FileFormatError
from . import archive, config, weights
from . import compile_config as keras_compile

logger = logging.getLogger(__name__)

KERAS_SUFFIX = ".keras"
H5_SUFFIXES = (".h5", ".hdf5")
KERAS3_WEIGHTS_SUFFIX = ".weights.h5"


# ---- architecture ---------------------------------------------------------------------------------------------
def model_from_config(data, source, custom_objects=None):
    """A Neurona model (fresh weights) from the dict of Keras's ``model.to_json()`` or a ``config.json``."""
    entry = config.from_keras(data, source)
    return json_config.model_from_config(entry, source, custom_objects)


def keras_config(model, with_compile=True):
    """The dict Keras 3's ``model.to_json()`` would write for ``model``: its config, and for a compiled model
    its ``compile_config`` (which ``keras.models.load_model`` compiles with)."""
    data = config.to_keras(json_config.model_config(model))
    settings = keras_compile.compile_to_keras(model) if with_compile else None
    if settings is not None:
        data["compile_config"] = settings
    return data


def to_json(model, **kwargs):
    """Keras 3's JSON text for ``model`` (``keras.models.model_from_json`` reads it)."""
    return json_config.dumps(keras_config(model), **kwargs)


# ---- weights --------------------------------------------------------------------------------------------------
def read_weights_into(model, h5, label):
    """Set ``model``'s weights from a Keras weights file already opened (safely); all or nothing."""
    arrays = weights.read_weights(h5, model, label)
    model.set_weights(arrays)


def is_keras_weights(h5):
    return weights.detect_layout(h5) is not None


def weights_image(model, path):
    """The bytes of a Keras weights file for ``path``: Keras 3's layout for ``*.weights.h5`` (what Keras 3's
    ``save_weights`` writes), the legacy layout for other ``.h5``/``.hdf5`` names (which Keras 3's
    ``load_weights`` reads as Keras 2 files)."""
    name = os.fspath(path).lower()
    if name.endswith(KERAS3_WEIGHTS_SUFFIX):
        return h5_files.image(lambda h5: weights.write_keras3(h5, model))
    if name.endswith(H5_SUFFIXES):
        return h5_files.image(lambda h5: weights.write_legacy(h5, model))
    raise ValueError(f"save_weights(format='keras'): {os.fspath(path)!r} must end in '.weights.h5' (Keras 3's "
                     "layout) or '.h5' (the legacy layout), the names Keras's load_weights reads")


# ---- compile settings -----------------------------------------------------------------------------------------
def _legacy_compile_config(training_config):
    """Keras 2's ``training_config`` attribute in the shape of Keras 3's ``compile_config``."""
    return {"optimizer": training_config.get("optimizer_config"), "loss": training_config.get("loss"),
            "metrics": training_config.get("metrics"), "loss_weights": training_config.get("loss_weights"),
            "weighted_metrics": training_config.get("weighted_metrics")}


def compile_like_keras(model, compile_config, source):
    """Compile ``model`` with Keras's saved compile settings, where Neurona has their optimizer, loss and
    metrics; otherwise warn (naming what is missing) and leave it uncompiled, as Keras does for a file without
    compile settings. Returns whether it compiled."""
    if not compile_config:
        return False
    try:
        kwargs = keras_compile.compile_from_keras(compile_config, source)
        model.compile(**kwargs)
    except (FileFormatError, ValueError, TypeError, KeyError) as error:
        logger.warning("%s: the model is returned uncompiled: its compile settings cannot be rebuilt in Neurona "
                       "(%s); compile it yourself, or load with compile=False", source, error)
        return False
    return True


def _finish(model):
    """What every loaded model carries (load_model's contract): no saved preprocessing or reference statistics."""
    model.preprocessing = None
    model.reference_statistics = None
    return model


# ---- the three forms ------------------------------------------------------------------------------------------
def load_folder(data, h5_file, h5_path, source, compile=True, custom_objects=None):  # noqa: A002 - Keras's name
    """A model from a folder's Keras ``model.json`` (already parsed: ``data``) and its open ``model.h5``."""
    model = model_from_config(data, source, custom_objects)
    with h5_files.open_h5(h5_file, h5_path) as h5:
        if not is_keras_weights(h5):
            raise FileFormatError(f"{h5_path!r} holds no Keras weights (none of the layouts of Keras 3's "
                                  "save_weights, keras.saving.save_model(model, 'm.h5') or Keras 2's "
                                  f"save_weights) although {source} is Keras's JSON")
        read_weights_into(model, h5, h5_path)
        if compile:
            compile_like_keras(model, data.get("compile_config") or _h5_compile_config(h5, h5_path), source)
    return _finish(model)


def _h5_text_attribute(h5, name, label):
    value = h5.attrs.get(name)
    if value is None:
        return None
    if isinstance(value, bytes):
        value = json_config.decode(value, f"{label}: attribute {name!r}")
    if not isinstance(value, str):
        raise FileFormatError(f"{label}: attribute {name!r} is a {type(value).__name__}; expected JSON text")
    return json_config.parse(value, f"{label}: attribute {name!r}", versioned=False)


def _h5_compile_config(h5, label):
    training = _h5_text_attribute(h5, "training_config", label)
    return _legacy_compile_config(training) if training else None


def load_h5(path, compile=True, custom_objects=None):  # noqa: A002
    """A model from a legacy whole-model HDF5 file (``keras.saving.save_model(model, "m.h5")``, Keras 2's
    ``model.save("m.h5")``)."""
    label = os.fspath(path)
    with open(path, "rb") as f, h5_files.open_h5(f, label) as h5:
        data = _h5_text_attribute(h5, "model_config", label)
        if data is None:
            raise FileFormatError(f"{label!r} has no 'model_config' attribute: it is a weights file, not a whole "
                                  "model (build the model, then call model.load_weights on it)")
        model = model_from_config(data, f"{label!r}: attribute 'model_config'", custom_objects)
        read_weights_into(model, h5, label)
        if compile:
            compile_like_keras(model, _h5_compile_config(h5, label), label)
    return _finish(model)


def load_archive(path, compile=True, custom_objects=None):  # noqa: A002
    """A model from Keras 3's ``.keras`` archive."""
    label = os.fspath(path)
    with archive.Archive(path, repr(label)) as opened:
        data = opened.config
        source = f"{label!r}: {archive.CONFIG}"
        model = model_from_config(data, source, custom_objects)
        weights_bytes = opened.weights(archive.weights_limit(model))
    with h5_files.open_h5(io.BytesIO(weights_bytes), f"{label}: {archive.WEIGHTS}") as h5:
        read_weights_into(model, h5, f"{label}: {archive.WEIGHTS}")
    if compile:
        compile_like_keras(model, data.get("compile_config"), source)
    return _finish(model)


def load_archive_weights(model, path):
    """``model.load_weights("m.keras")``: the archive's weights into a model built to match."""
    label = os.fspath(path)
    with archive.Archive(path, repr(label)) as opened:
        weights_bytes = opened.weights(archive.weights_limit(model))
    with h5_files.open_h5(io.BytesIO(weights_bytes), f"{label}: {archive.WEIGHTS}") as h5:
        read_weights_into(model, h5, f"{label}: {archive.WEIGHTS}")


def save_archive(model, path):
    """Write ``model`` as a ``.keras`` archive that ``keras.models.load_model`` opens (atomically)."""
    from ... import __version__

    data = keras_config(model)
    data["build_config"] = {"input_shape": data.get("config", {}).get("build_input_shape")} \
        if data.get("class_name") == "Sequential" else data.get("build_config")
    weights_bytes = h5_files.image(lambda h5: weights.write_keras3(h5, model))
    write_bytes(path, archive.image(data, weights_bytes, f"neurona {__version__}"))


def save_h5(model, path):
    """Write ``model`` as a legacy whole-model HDF5 file that ``keras.models.load_model`` opens (atomically)."""
    from ... import __version__

    data = keras_config(model)
    settings = data.pop("compile_config", None)
    text = json.dumps(data)

    def fill(h5):
        h5.attrs["model_config"] = text
        if settings is not None:
            h5.attrs["training_config"] = json.dumps(keras_compile.training_config(settings))
        h5.attrs["producer"] = f"neurona {__version__}"
        weights.write_legacy(h5.create_group("model_weights"), model)
        for name in ("keras_version", "backend"):  # Keras reads them from the root too
            if name in h5["model_weights"].attrs:
                h5.attrs[name] = h5["model_weights"].attrs[name]

    write_bytes(path, h5_files.image(fill))


def keras_form(path):
    """``"archive"`` for a ``.keras`` name, ``"h5"`` for ``.h5``/``.hdf5``, None otherwise (a Neurona folder)."""
    name = os.fspath(path)
    name = (name.decode() if isinstance(name, bytes) else name).rstrip("/\\").lower()
    if name.endswith(KERAS_SUFFIX):
        return "archive"
    if name.endswith(H5_SUFFIXES):
        return "h5"
    return None


def describe_save(path):
    """What Keras save ``path`` holds, in words (for ``neurona info``), or None for anything else."""
    form = keras_form(path)
    if form is not None and os.path.isfile(path):
        return "Keras 3 .keras archive" if form == "archive" else "Keras HDF5 model file"
    model_json = os.path.join(os.fspath(path), "model.json")
    if os.path.isfile(model_json):
        with open(model_json, "rb") as f:
            try:
                data = json_config.parse(f.read(), repr(model_json), versioned=False)
            except FileFormatError:
                return None
        if config.is_keras_config(data):
            return "Keras's model.json + model.h5"
    return None
