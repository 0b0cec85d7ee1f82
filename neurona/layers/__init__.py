"""Layers (Keras names). Every layer class is registered by name for ``get``/``deserialize``."""

from ..registry import Registry, UnknownClassError, find_saved, is_builtin_module, loading_fix
from .activation import ELU, LeakyReLU, PReLU, ReLU, Softmax
from .attention import Attention, MultiHeadAttention
from .base import Layer
from .conv import Conv1D, Conv1DTranspose, Conv2D, Conv2DTranspose, Conv3D, DepthwiseConv2D, SeparableConv2D
from .core import Activation, Dense, Flatten, Identity, Input, InputLayer, Lambda, register_function
from .core.embedding import Embedding
from .core.masking_layer import Masking
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
from .normalization.unit_normalization import UnitNormalization
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
from .pooling.pooling3d import AveragePooling3D, GlobalAveragePooling3D, GlobalMaxPooling3D, MaxPooling3D
from .preprocessing import (
    Normalization,
    RandomContrast,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
)
from .preprocessing.image import CenterCrop, Rescaling, Resizing
from .regularization import Dropout
from .regularization.activity import ActivityRegularization
from .regularization.noise import AlphaDropout, GaussianDropout, GaussianNoise, SpatialDropout1D, SpatialDropout2D
from .reshaping import (
    Cropping1D,
    Cropping2D,
    Permute,
    RepeatVector,
    UpSampling1D,
    UpSampling2D,
    ZeroPadding1D,
    ZeroPadding2D,
)
from .rnn import GRU, LSTM, RNN, Bidirectional, GRUCell, LSTMCell, SimpleRNN, SimpleRNNCell, TimeDistributed
from .tensor_op import TensorOp

_registry = Registry("layer")
for _cls in (Activation, Dense, Flatten, InputLayer, TensorOp):
    _registry.register(_cls)
for _cls in (DepthwiseConv2D, SeparableConv2D, Conv1DTranspose, Conv2DTranspose, Conv3D, MaxPooling3D,
             AveragePooling3D, GlobalAveragePooling3D, GlobalMaxPooling3D):
    _registry.register(_cls)
for _cls in (Conv1D, Conv2D, Reshape, Dropout, MaxPooling1D, MaxPooling2D, AveragePooling1D, AveragePooling2D,
             GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalMaxPooling1D, GlobalMaxPooling2D):
    _registry.register(_cls)
for _cls in (BatchNormalization, LayerNormalization, GroupNormalization, InstanceNormalization, Normalization):
    _registry.register(_cls)
for _cls in (Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot, Identity, Lambda):
    _registry.register(_cls)
for _cls in (SimpleRNNCell, LSTMCell, GRUCell, RNN, SimpleRNN, LSTM, GRU, Embedding, Masking, Bidirectional,
             TimeDistributed, MultiHeadAttention, Attention):
    _registry.register(_cls)
for _cls in (ReLU, LeakyReLU, PReLU, ELU, Softmax):
    _registry.register(_cls)
for _cls in (RandomFlip, RandomRotation, RandomTranslation, RandomZoom, RandomContrast):
    _registry.register(_cls)
for _cls in (UpSampling1D, UpSampling2D, ZeroPadding1D, ZeroPadding2D, Cropping1D, Cropping2D, Permute, RepeatVector,
             SpatialDropout1D, SpatialDropout2D, GaussianNoise, GaussianDropout, AlphaDropout, ActivityRegularization,
             UnitNormalization, Rescaling, Resizing, CenterCrop):
    _registry.register(_cls)


def register(cls=None, *, name=None):
    """Class decorator registering a custom layer so that it round-trips through configs."""
    return _registry.register(cls, name=name)


def get(identifier):
    """A layer class by name, or a layer from a ``{"class_name", "config"}`` dict."""
    if isinstance(identifier, str):
        return _registry.lookup(identifier)
    return deserialize(identifier)


def _registered_name(cls):
    """Keras's ``registered_name``: None for Neurona's own layers, ``"package>Name"`` for a class registered
    with ``register_keras_serializable``, else the class's ``__name__``."""
    canonical = _registry.name_of(cls) if cls in _registry else None
    if canonical and ">" in canonical:
        return canonical
    return None if is_builtin_module(cls.__module__) else cls.__name__


def serialize(layer):
    """Keras 3's description of any layer: ``{"module", "class_name", "config", "registered_name"}``.

    A custom class need not be registered: it is saved by name (its module is recorded for error messages
    only, never imported), and loading finds it in ``custom_objects``, a ``CustomObjectScope`` or the
    registry (``deserialize``).
    """
    if not isinstance(layer, Layer):
        raise TypeError(f"layers.serialize takes a Layer, got {layer!r:.80} ({type(layer).__name__})")
    cls = type(layer)
    return {"module": cls.__module__, "class_name": cls.__name__, "config": layer.get_config(),
            "registered_name": _registered_name(cls)}


def _unknown(name, module):
    if not isinstance(name, str) or not name:
        return UnknownClassError(f"a layer config's 'class_name' is {name!r:.80}; expected a layer class name")
    origin = f" (class saved from module {module!r:.120})" if isinstance(module, str) else ""
    names = "" if isinstance(module, str) and not is_builtin_module(module) else \
        f"; registered layers: {', '.join(_registry.names())}"
    return UnknownClassError(f"unknown layer {name!r:.80}{origin}: it is neither among the custom objects nor "
                             f"registered; {loading_fix(name)}{names}")


def layer_class(config):
    """The class a layer config names: by its ``registered_name``, then its ``class_name``, first among the
    custom objects (``custom_objects`` argument, scopes), then in the registry.

    A custom class saved under a built-in's name is not silently replaced by the built-in one: the config's
    ``registered_name`` says it was custom, so the built-in is refused. ``UnknownClassError`` (a ValueError)
    names the class, the module it was saved from and the fix.
    """
    name, registered, module = config.get("class_name"), config.get("registered_name"), config.get("module")
    labels = [label for label in (registered, name) if isinstance(label, str) and label]
    found = find_saved(config, labels, _registry.find)
    if found is None:
        raise _unknown(name, module)
    if not (isinstance(found, type) and issubclass(found, Layer)):
        raise TypeError(f"custom object {name!r} is {found!r:.80}; a layer config needs a Layer (or Model) "
                        "subclass under that name")
    return found


def deserialize(config):
    """Rebuild a layer from ``serialize``'s output: ``layer_class(config).from_config(config["config"])``.

    A class found nowhere (``UnknownClassError``) is reported with the name the entry was saved under, so
    that inside nested models the message gives the path to it.
    """
    if config is None or isinstance(config, str):
        return _registry.deserialize(config)
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"layer config must be a name or a dict with 'class_name', got {config!r:.200}")
    try:
        cls = layer_class(config)
        return cls.from_config(config.get("config", {}))
    except UnknownClassError as error:
        inner = config.get("config")
        name = config.get("name", inner.get("name") if isinstance(inner, dict) else None)
        where = f"layer {name!r:.80} ({str(config['class_name'])[:80]})" if isinstance(name, str) else \
            f"a {str(config['class_name'])[:80]} layer"
        raise UnknownClassError(f"{where}: {error}") from None


__all__ = ["Layer", "Activation", "Dense", "Flatten", "Input", "InputLayer", "register", "get", "serialize",
           "deserialize", "Conv1D", "Conv2D", "Reshape", "Dropout", "MaxPooling1D", "MaxPooling2D",
           "AveragePooling1D", "AveragePooling2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
           "GlobalMaxPooling1D", "GlobalMaxPooling2D", "BatchNormalization", "LayerNormalization",
           "GroupNormalization", "InstanceNormalization", "Normalization", "TensorOp", "Add", "Subtract", "Multiply",
           "Average", "Maximum", "Minimum", "Concatenate", "Dot", "Identity", "Lambda", "add", "subtract",
           "multiply", "average", "maximum", "minimum", "concatenate", "dot", "register_function", "SimpleRNNCell",
           "LSTMCell", "GRUCell", "RNN", "SimpleRNN", "LSTM", "GRU", "Embedding", "Masking", "Bidirectional",
           "TimeDistributed", "MultiHeadAttention", "Attention", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax"]
__all__ += ["RandomFlip", "RandomRotation", "RandomTranslation", "RandomZoom", "RandomContrast"]
__all__ += ["DepthwiseConv2D", "SeparableConv2D", "Conv1DTranspose", "Conv2DTranspose", "Conv3D", "MaxPooling3D",
            "AveragePooling3D", "GlobalAveragePooling3D", "GlobalMaxPooling3D"]
__all__ += ["UpSampling1D", "UpSampling2D", "ZeroPadding1D", "ZeroPadding2D", "Cropping1D", "Cropping2D", "Permute",
            "RepeatVector", "SpatialDropout1D", "SpatialDropout2D", "GaussianNoise", "GaussianDropout", "AlphaDropout",
            "ActivityRegularization", "UnitNormalization", "Rescaling", "Resizing", "CenterCrop"]
