"""Saving and loading models: ``model.json`` + ``model.h5`` folders, weights files, checkpoints, ONNX export.

>>> model.save("mnist_model")                         # mnist_model/model.json + mnist_model/model.h5
>>> model = neurona.models.load_model("mnist_model")  # predictions bit-identical to the saved model's
>>> neurona.saving.export_onnx(model, "mnist.onnx")   # for onnxruntime and other ONNX tools

Sequential, functional (several inputs and outputs, shared layers, ops on
symbolic tensors) and nested models save and export; subclassed models and
custom layers save when their ``get_config`` gives their constructor's
arguments, registered or not, as in Keras. Loading finds a custom class in
``custom_objects`` (an argument of ``load_model``, ``model_from_json`` and
``Model.from_config``), then in a ``custom_object_scope``, then among the
classes registered with ``@neurona.saving.register_keras_serializable()`` (or
``@neurona.layers.register``); a file never makes Neurona import a module::

    model = neurona.saving.load_model("my_model", custom_objects={"CustomDense": CustomDense})
    with neurona.saving.custom_object_scope({"CustomDense": CustomDense}):
        model = neurona.saving.load_model("my_model")

Every file is written atomically (a killed process leaves the previous save
intact); saves to one folder from several processes take turns and a load
always reads one whole save, even while another process saves (atomic.py); a
full disk is an ``OSError`` naming the user's path, never a crash (HDF5 files
are built in memory, h5_files.py). No file format involves pickle (JSON and
plain HDF5 numeric datasets), a weights file whose data could come from other
files (links, external storage, virtual datasets) is refused, and a file that
cannot be loaded raises ``FileFormatError`` naming the file, the layer and what
was expected. ``saving`` sits above ``models``: models only reach it from
inside ``Model.save``/``load_weights``/``to_json``.
"""

from ..registry import CustomObjectScope, custom_object_scope, get_custom_objects
from . import preprocessing
from .checkpoint import Checkpoint, load_checkpoint, run_history, save_checkpoint
from .errors import FileFormatError
from .json_config import FORMAT_VERSION
from .onnx_export import export_onnx, register_converter
from .saved_model import (
    MODEL_H5,
    MODEL_JSON,
    load_model,
    load_weights,
    model_from_json,
    peek,
    save_model,
    save_weights,
    to_json,
)
from .serialization import get_registered_name, get_registered_object, register_keras_serializable

__all__ = [
    "save_model", "load_model", "save_weights", "load_weights", "to_json", "model_from_json", "peek",
    "save_checkpoint", "load_checkpoint", "run_history", "Checkpoint", "export_onnx", "register_converter",
    "FileFormatError", "FORMAT_VERSION", "MODEL_JSON", "MODEL_H5", "preprocessing",
    "register_keras_serializable", "get_registered_name", "get_registered_object",
    "CustomObjectScope", "custom_object_scope", "get_custom_objects",
]
