"""Activation layers of Keras 3: ReLU, LeakyReLU, PReLU, ELU, Softmax (``keras.layers.activations``)."""

from .prelu import PReLU
from .relu import ELU, LeakyReLU, ReLU
from .softmax import Softmax

__all__ = ["ELU", "LeakyReLU", "PReLU", "ReLU", "Softmax"]
