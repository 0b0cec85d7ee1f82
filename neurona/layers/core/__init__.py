"""Core layers: Dense, Activation, Flatten, Input, Identity, Lambda."""

from .activation import Activation
from .dense import Dense
from .flatten import Flatten
from .identity import Identity
from .input import Input, InputLayer
from .lambda_layer import Lambda, register_function

__all__ = ["Activation", "Dense", "Flatten", "Identity", "Input", "InputLayer", "Lambda", "register_function"]
