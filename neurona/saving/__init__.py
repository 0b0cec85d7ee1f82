"""Saving and loading models: ``model.json`` + ``model.h5`` folders, weights files, checkpoints, ONNX export.

>>> model.save("mnist_model")                         # mnist_model/model.json + mnist_model/model.h5
>>> model = neurona.models.load_model("mnist_model")  # predictions bit-identical to the saved model's
>>> neurona.saving.export_onnx(model, "mnist.onnx")   # for onnxruntime and other ONNX tools

Sequential, functional (several inputs and outputs, shared layers, ops on
symbolic tensors) and nested models save and export; subclassed models and
custom layers save once their class is registered (``@neurona.layers.register``
or Keras's ``@neurona.saving.register_keras_serializable()``) and has a
``get_config``.

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
]
