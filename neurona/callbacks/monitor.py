"""``MonitorCallback``: the base of callbacks that watch one logged quantity and act when it stops improving.

It owns what ``EarlyStopping``, ``ReduceLROnPlateau`` and ``ModelCheckpoint``
share (Keras 3's ``MonitorCallback``): the name of the quantity, whether
smaller or larger is better, the smallest change that counts, and the best
value seen so far.

A value ``v`` improves on the reference ``r`` when

    mode "min":  v < r - min_delta           mode "max":  v > r + min_delta

and any value improves on no reference (``best is None``). NaN never improves.
"""

import math
import warnings

from ._arguments import check_number
from .callback import Callback

#: Substrings of a monitored name for which ``mode="auto"`` maximizes (``val_accuracy``, ``auc``, ``f1_score``).
MAXIMIZED = ("acc", "auc", "precision", "recall", "f1")


def infer_mode(monitor):
    """``"max"`` for names of quantities where larger is better, ``"min"`` for losses and errors.

    The ``val_`` prefix is ignored; names containing one of ``MAXIMIZED``
    (``accuracy``, ``acc``, ``auc``, ``precision``, ``recall``, ``f1``) are maximized,
    everything else (``loss``, ``mse``, ``mae``, ...) is minimized.
    """
    name = monitor.lower().removeprefix("val_")
    return "max" if any(part in name for part in MAXIMIZED) else "min"


class MonitorCallback(Callback):
    """Base class: tracks the best value of ``logs[monitor]`` and says whether a new value improves on it.

    Args:
        monitor: the logged quantity to watch (``"val_loss"``, ``"accuracy"``, ...).
        mode: ``"min"``, ``"max"`` or ``"auto"`` (decided by ``infer_mode`` from the name).
        min_delta: the smallest change that counts as an improvement (its sign is ignored).
        baseline: a reference value the quantity must beat (kept as ``self.baseline``;
            subclasses decide what it means).

    Attributes:
        best: the best value seen since ``reset_best`` (None before the first one).
    """

    def __init__(self, monitor="val_loss", mode="auto", min_delta=0.0, baseline=None):
        super().__init__()
        owner = type(self).__name__
        if not isinstance(monitor, str) or not monitor:
            raise TypeError(f"{owner}: monitor must be the name of a logged quantity, got {monitor!r}")
        if not isinstance(mode, str) or mode not in ("auto", "min", "max"):
            raise ValueError(f"{owner}: mode must be 'auto', 'min' or 'max', got {mode!r}")
        min_delta = abs(check_number(min_delta, owner, "min_delta"))
        self.monitor = monitor
        self.mode = infer_mode(monitor) if mode == "auto" else mode
        self.min_delta = min_delta
        self.baseline = check_number(baseline, owner, "baseline", optional=True)
        self.best = None

    def reset_best(self):
        """Forget the best value (called at the start of every ``fit``, so instances can be reused)."""
        self.best = None

    def is_improvement(self, value, reference):
        """Whether ``value`` beats ``reference`` by more than ``min_delta`` in the direction of ``mode``."""
        if reference is None:
            return not math.isnan(value)
        if self.mode == "min":
            return value < reference - self.min_delta
        return value > reference + self.min_delta

    def get_monitor_value(self, logs):
        """``logs[monitor]`` as a float, or None (with a warning naming the available keys) when it is missing."""
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            available = ", ".join(sorted(logs)) or "none"
            hint = " (val_ quantities need validation_data or validation_split)" \
                if self.monitor.startswith("val_") else ""
            warnings.warn(f"{type(self).__name__} monitors {self.monitor!r}, which is not in the logs{hint}; "
                          f"available keys: {available}", stacklevel=3)
            return None
        return float(value)
