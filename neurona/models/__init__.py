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


def load_model(filepath, compile=True):  # noqa: A002 - Keras's argument name
    """Load a model saved with ``model.save`` (see ``neurona.saving.load_model``)."""
    from ..saving import load_model as _load_model  # saving sits above models

    return _load_model(check_path(filepath, "load_model", "filepath"), compile=compile)


def model_from_json(json_string):
    """Rebuild a model (with new weights) from ``model.to_json()``'s text."""
    from ..saving import model_from_json as _model_from_json

    return _model_from_json(json_string)


__all__ = ["Model", "Functional", "Sequential", "TrainingError", "load_model", "model_from_json", "clone_model"]
