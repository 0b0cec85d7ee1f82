"""Layers (Keras names). Every layer class is registered by name for ``get``/``deserialize``."""

from ..registry import Registry
from .base import Layer
from .conv import Conv1D, Conv2D
from .core import Activation, Dense, Flatten, Identity, Input, InputLayer, Lambda, register_function
from .core.reshape import Reshape
from .merging import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)
from .normalization import BatchNormalization, GroupNormalization, InstanceNormalization, LayerNormalization
from .pooling import (
    AveragePooling1D,
    AveragePooling2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    MaxPooling1D,
    MaxPooling2D,
)
from .preprocessing import Normalization
from .regularization import Dropout
from .tensor_op import TensorOp

_registry = Registry("layer")
for _cls in (Activation, Dense, Flatten, InputLayer, TensorOp):
    _registry.register(_cls)
for _cls in (Conv1D, Conv2D, Reshape, Dropout, MaxPooling1D, MaxPooling2D, AveragePooling1D, AveragePooling2D,
             GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalMaxPooling1D, GlobalMaxPooling2D):
    _registry.register(_cls)
for _cls in (BatchNormalization, LayerNormalization, GroupNormalization, InstanceNormalization, Normalization):
    _registry.register(_cls)
for _cls in (Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot, Identity, Lambda):
    _registry.register(_cls)


def register(cls=None, *, name=None):
    """Class decorator registering a custom layer so that it round-trips through configs."""
    return _registry.register(cls, name=name)


def get(identifier):
    """A layer class by name, or a layer from a ``{"class_name", "config"}`` dict."""
    if isinstance(identifier, str):
        return _registry.lookup(identifier)
    return _registry.deserialize(identifier)


def serialize(layer):
    """``{"class_name": ..., "config": ...}`` of a registered layer."""
    return _registry.serialize(layer)


def deserialize(config):
    """Rebuild a layer from ``serialize``'s output."""
    return _registry.deserialize(config)


__all__ = ["Layer", "Activation", "Dense", "Flatten", "Input", "InputLayer", "register", "get", "serialize",
           "deserialize", "Conv1D", "Conv2D", "Reshape", "Dropout", "MaxPooling1D", "MaxPooling2D",
           "AveragePooling1D", "AveragePooling2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
           "GlobalMaxPooling1D", "GlobalMaxPooling2D", "BatchNormalization", "LayerNormalization",
           "GroupNormalization", "InstanceNormalization", "Normalization", "TensorOp", "Add", "Subtract", "Multiply",
           "Average", "Maximum", "Minimum", "Concatenate", "Dot", "Identity", "Lambda", "add", "subtract",
           "multiply", "average", "maximum", "minimum", "concatenate", "dot", "register_function"]
