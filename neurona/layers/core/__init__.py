"""Core layers: Dense, Activation, Flatten, Input."""

from .activation import Activation
from .dense import Dense
from .flatten import Flatten
from .input import Input, InputLayer

__all__ = ["Activation", "Dense", "Flatten", "Input", "InputLayer"]
