"""Callbacks: hooks into the training loop (one callback per file)."""

from ..registry import Registry
from .callback import Callback, CallbackList
from .csv_logger import CSVLogger
from .early_stopping import EarlyStopping
from .history import History
from .init_monitor import InitMonitor
from .lambda_callback import LambdaCallback
from .learning_rate_scheduler import LearningRateScheduler
from .model_checkpoint import ModelCheckpoint
from .monitor import MonitorCallback
from .progbar_logger import ProgbarLogger
from .reduce_lr_on_plateau import ReduceLROnPlateau
from .tensorboard import TensorBoard
from .terminate_on_nan import TerminateOnNaN

_registry = Registry("callback")
for _cls in (History, ProgbarLogger, EarlyStopping, ReduceLROnPlateau, LearningRateScheduler, CSVLogger,
             TerminateOnNaN, LambdaCallback, TensorBoard, InitMonitor):
    _registry.register(_cls)
_registry.register(ModelCheckpoint)

register = _registry.register


def get(identifier):
    """A callback instance by name or config dict (instances are returned unchanged)."""
    return _registry.get(identifier)


__all__ = ["Callback", "CallbackList", "History", "ProgbarLogger", "MonitorCallback", "EarlyStopping",
           "ReduceLROnPlateau", "LearningRateScheduler", "CSVLogger", "TerminateOnNaN", "LambdaCallback",
           "register", "get", "ModelCheckpoint", "TensorBoard", "InitMonitor"]
