"""Models: Model (a Layer that trains), functional models, Sequential, the training loop and summaries."""

from .. import layers as _layers
from ..arguments import check_path
from .cloning import clone_model
from .functional import Functional
from .model import Model, TrainingError
from .sequential import Sequential

# models nest inside models: their configs are found by class name like any layer's
for _cls in (Sequential, Functional):
    _layers.register(_cls)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):  # noqa: A002 - Keras's names
    """Load a model saved with ``model.save`` (see ``neurona.saving.load_model``); ``custom_objects`` maps the
    names of custom classes and functions in the file to them, as in Keras."""
    from ..saving import load_model as _load_model  # saving sits above models

    return _load_model(check_path(filepath, "load_model", "filepath"), custom_objects=custom_objects,
                       compile=compile, safe_mode=safe_mode)


def model_from_json(json_string, custom_objects=None):
    """Rebuild a model (with new weights) from ``model.to_json()``'s text (``custom_objects`` as in Keras)."""
    from ..saving import model_from_json as _model_from_json

    return _model_from_json(json_string, custom_objects=custom_objects)


__all__ = ["Model", "Functional", "Sequential", "TrainingError", "load_model", "model_from_json", "clone_model"]
