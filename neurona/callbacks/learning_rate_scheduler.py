"""``LearningRateScheduler``: set the learning rate at the start of every epoch from a function of the epoch."""

import inspect
import math
import numbers

from ._arguments import CALLBACK_VERBOSITY, check_verbose
from ._learning_rate import current_learning_rate, set_learning_rate
from .callback import Callback


def _positional_arity(fn):
    """How many positional arguments ``fn`` accepts (2 when it takes ``*args`` or cannot be inspected)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return 2
    count = 0
    for p in params:
        if p.kind == p.VAR_POSITIONAL:
            return 2
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            count += 1
    return count


class LearningRateScheduler(Callback):
    """Per-epoch learning rates: at the start of epoch ``e`` (0-based) the rate becomes ``schedule(e, lr)``.

    ``lr`` is the current rate, so a schedule can be relative
    (``lambda epoch, lr: lr * 0.9``) or absolute (``lambda epoch, lr: 1e-3 if
    epoch < 10 else 1e-4``); a one-argument ``schedule(epoch)`` (Keras's older
    form) works too. Each epoch's logs get a ``"learning_rate"`` entry. For
    per-step schedules, give the optimizer a schedule from
    ``neurona.optimizers.schedules`` instead.

    Args:
        schedule: ``schedule(epoch, lr) -> float`` (or ``schedule(epoch) -> float``).
        verbose: 1 prints the rate set at each epoch.
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"LearningRateScheduler: schedule must be a function (epoch, lr) -> float, "
                            f"got {schedule!r}")
        self.schedule = schedule
        self.verbose = check_verbose(verbose, "LearningRateScheduler", CALLBACK_VERBOSITY)
        self._with_lr = _positional_arity(schedule) >= 2

    def on_epoch_begin(self, epoch, logs=None):
        if self._with_lr:
            lr = self.schedule(epoch, current_learning_rate(self.model, "LearningRateScheduler"))
        else:
            lr = self.schedule(epoch)
        if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not math.isfinite(lr) or lr < 0:
            raise ValueError(f"LearningRateScheduler: the schedule returned {lr!r} for epoch {epoch}; "
                             "expected a finite float >= 0")
        set_learning_rate(self.model, float(lr), "LearningRateScheduler")
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {float(lr)}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = current_learning_rate(self.model, "LearningRateScheduler")
