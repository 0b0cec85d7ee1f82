"""Callbacks: hooks into the training loop (one callback per file)."""

from ..registry import Registry
from .callback import Callback, CallbackList
from .history import History
from .progbar_logger import ProgbarLogger

_registry = Registry("callback")
for _cls in (History, ProgbarLogger):
    _registry.register(_cls)


def get(identifier):
    """A callback instance by name or config dict (instances are returned unchanged)."""
    return _registry.get(identifier)


__all__ = ["Callback", "CallbackList", "History", "ProgbarLogger", "get"]
