"""Models: Sequential, the training loop (fit/evaluate/predict) and summaries."""

from .model import Model, TrainingError
from .sequential import Sequential

__all__ = ["Model", "Sequential", "TrainingError"]
