"""Weight regularizers, found by name (``"l1"``, ``"l2"``, ``"l1_l2"``, ``"L1L2"``) as in Keras.

Example:
    >>> from neurona import regularizers
    >>> reg = regularizers.get({"class_name": "L2", "config": {"l2": 1e-4}})
    >>> reg.l2
    0.0001
"""

from ..registry import Registry
from .regularizers import L1, L1L2, L2, Regularizer, l1, l1_l2, l2

_registry = Registry("regularizer")
_registry.register(L1, name="l1")
_registry.register(L2, name="l2")
_registry.register(L1L2, name="l1_l2")

register = _registry.register


def get(identifier):
    """A regularizer from None, a name, a config dict, a class, an instance or any callable ``x -> Tensor``."""
    return _registry.get(identifier)


def serialize(regularizer):
    """``{"class_name": ..., "config": {...}}`` (JSON-safe) for a regularizer; a custom function
    ``x -> Tensor`` or an instance of an unregistered class in Keras's layout, found when loading through
    ``custom_objects`` (see ``neurona.registry``); a lambda is refused."""
    return _registry.serialize(regularizer)


def deserialize(config):
    """Inverse of ``serialize`` (also accepts a name)."""
    return _registry.deserialize(config)


def names():
    """The canonical names of the registered regularizers."""
    return _registry.names()


__all__ = ["Regularizer", "L1", "L2", "L1L2", "l1", "l2", "l1_l2", "get", "serialize", "deserialize",
           "register", "names"]
