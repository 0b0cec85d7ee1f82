"""``ReduceLROnPlateau``: lower the learning rate when a monitored quantity has stopped improving."""

from ._arguments import CALLBACK_VERBOSITY, check_count, check_number, check_verbose
from ._learning_rate import current_learning_rate, set_learning_rate
from .monitor import MonitorCallback


class ReduceLROnPlateau(MonitorCallback):
    """Multiply the optimizer's learning rate by ``factor`` after ``patience`` epochs without improvement.

    At the end of each epoch: an improvement of ``monitor`` (see
    ``MonitorCallback.is_improvement``) resets the wait counter; otherwise,
    outside a cooldown, the counter grows, and when it reaches ``patience`` the
    learning rate becomes ``max(lr * factor, min_lr)`` (only if ``lr > min_lr``),
    the counter resets, and the next ``cooldown`` epochs do not count. Every
    epoch's logs get a ``"learning_rate"`` entry (so it lands in the History
    when this callback comes before it, as it does for callbacks given to ``fit``).

    Args:
        monitor: the logged quantity to watch. Defaults to ``"val_loss"``.
        factor: the multiplier, in (0, 1).
        patience: epochs without improvement before the rate is lowered.
        verbose: 1 prints a line at each reduction.
        mode: ``"auto"``, ``"min"`` or ``"max"`` (see ``monitor.infer_mode``).
        min_delta: the smallest change that counts as an improvement.
        cooldown: epochs after a reduction during which waiting is suspended.
        min_lr: the learning rate is never lowered below this.

    Raises:
        TypeError: at the first reduction, if the optimizer's learning rate is a schedule
            (a schedule owns the learning rate; combine the two by hand if you must).
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto", min_delta=1e-4,
                 cooldown=0, min_lr=0.0):
        super().__init__(monitor, mode=mode, min_delta=min_delta)
        owner = "ReduceLROnPlateau"
        self.factor = check_number(factor, owner, "factor")
        if not 0.0 < self.factor < 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be in (0, 1), got {factor!r}")
        self.patience = check_count(patience, owner, "patience")
        self.verbose = check_verbose(verbose, owner, CALLBACK_VERBOSITY)
        self.cooldown = check_count(cooldown, owner, "cooldown")
        self.min_lr = check_number(min_lr, owner, "min_lr")
        if self.min_lr < 0:
            raise ValueError(f"ReduceLROnPlateau: min_lr must be a number >= 0, got {min_lr!r}")
        self._reset()

    def _reset(self):
        self.reset_best()
        self.wait = 0
        self.cooldown_counter = 0

    def on_train_begin(self, logs=None):
        self._reset()

    def in_cooldown(self):
        """Whether reductions are still suspended after the last one."""
        return self.cooldown_counter > 0

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = current_learning_rate(self.model, "ReduceLROnPlateau")
        current = self.get_monitor_value(logs)
        if current is None:
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self.is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                self._reduce(epoch)

    def _reduce(self, epoch):
        old_lr = current_learning_rate(self.model, "ReduceLROnPlateau")
        if old_lr > self.min_lr:
            new_lr = max(old_lr * self.factor, self.min_lr)
            set_learning_rate(self.model, new_lr, "ReduceLROnPlateau")
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr}.")
            self.cooldown_counter = self.cooldown
            self.wait = 0

