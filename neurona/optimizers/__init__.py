"""Optimizers, found by name (``"adam"``, ``"Adam"``, ``"rmsprop"``, ...) as in Keras.

Example:
    >>> from neurona import optimizers
    >>> opt = optimizers.get("adam")
    >>> optimizers.serialize(opt)["class_name"]
    'Adam'
"""

from ..registry import Registry
from . import schedules
from .adadelta import Adadelta
from .adafactor import Adafactor
from .adagrad import Adagrad
from .adam import Adam
from .adamax import Adamax
from .adamw import AdamW
from .base import Optimizer
from .ftrl import Ftrl
from .lamb import Lamb
from .lion import Lion
from .loss_scale import LossScaleOptimizer
from .nadam import Nadam
from .rmsprop import RMSprop
from .sgd import SGD

_registry = Registry("optimizer")
_registry.register(SGD, name="sgd")
_registry.register(Adam, name="adam")
_registry.register(AdamW, name="adamw")
_registry.register(RMSprop, name="rmsprop")
_registry.register(Adagrad, name="adagrad")
_registry.register(Adadelta, name="adadelta")
for _cls in (Nadam, Adamax, Lion, Ftrl, Lamb, Adafactor):
    _registry.register(_cls, name=_cls.__name__.lower())
del _cls
_registry.register(LossScaleOptimizer, name="loss_scale_optimizer")

register = _registry.register


def get(identifier):
    """An optimizer from a name, a config dict, a class or an instance.

    Names ignore case and underscores (``"adam"``, ``"Adam"``, ``"RMSprop"``, ``"rms_prop"``);
    a name gives a new optimizer with default arguments. An unknown name raises a
    ValueError listing the valid ones.
    """
    if isinstance(identifier, Optimizer):
        return identifier
    opt = _registry.get(identifier)
    if not isinstance(opt, Optimizer):
        raise TypeError(f"could not interpret {identifier!r} as an optimizer: expected a name "
                        f"({', '.join(_registry.names())}), a config dict or an Optimizer instance")
    return opt


def serialize(optimizer):
    """``{"class_name": ..., "config": {...}}`` (JSON-safe) for an optimizer."""
    return _registry.serialize(optimizer)


def deserialize(config):
    """Inverse of ``serialize`` (also accepts a name)."""
    return get(config) if isinstance(config, str) else _registry.deserialize(config)


def names():
    """The canonical names of the registered optimizers that a name alone makes (a ``LossScaleOptimizer`` wraps
    another optimizer: it is found in configs, not offered by name)."""
    return [name for name in _registry.names() if name != "loss_scale_optimizer"]


__all__ = ["schedules", "Optimizer", "LossScaleOptimizer",
           "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Nadam", "Adamax", "Lion", "Ftrl", "Lamb",
           "Adafactor", "get", "serialize",
           "deserialize", "register", "names"]
