"""``EarlyStopping``: stop training when a monitored quantity has stopped improving (Keras 3 semantics)."""

from ._arguments import CALLBACK_VERBOSITY, check_bool, check_count, check_verbose
from .monitor import MonitorCallback


class EarlyStopping(MonitorCallback):
    """Stop ``fit`` once ``monitor`` has not improved for ``patience`` epochs.

    At the end of each epoch (from ``start_from_epoch`` on) the monitored value
    is compared with the best one so far (see ``MonitorCallback.is_improvement``).
    An improvement resets the wait counter, provided the value also beats
    ``baseline`` when one is given; otherwise the counter grows, and when it
    reaches ``patience`` training stops (``model.stop_training = True``). So
    with ``patience=2`` training stops after two epochs in a row without
    improvement, and with a baseline it stops after ``patience`` epochs that
    never beat the baseline.

    Early stopping is the oldest regularizer of neural networks: the epoch
    count is chosen on held-out data (Prechelt, "Early Stopping - But When?",
    1998).

    Args:
        monitor: the logged quantity to watch. Defaults to ``"val_loss"``.
        min_delta: the smallest change that counts as an improvement.
        patience: epochs without improvement before stopping.
        verbose: 1 prints a line when training stops and when weights are restored.
        mode: ``"auto"``, ``"min"`` or ``"max"`` (see ``monitor.infer_mode``).
        baseline: a value the quantity must beat for the wait counter to reset.
        restore_best_weights: at the end of training, set the weights back to those of
            the best epoch (through ``get_weights``/``set_weights``); as in Keras 3 this
            happens also when training ran out of epochs without stopping early.
        start_from_epoch: epochs to let pass (a warm-up) before improvement is checked.

    Attributes:
        stopped_epoch: the 0-based epoch at which training was stopped (0 if it was not).
        best_epoch: the 0-based epoch of the best value.
        wait: epochs since the last improvement.
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto", baseline=None,
                 restore_best_weights=False, start_from_epoch=0):
        super().__init__(monitor, mode=mode, min_delta=min_delta, baseline=baseline)
        self.patience = check_count(patience, "EarlyStopping", "patience")
        self.verbose = check_verbose(verbose, "EarlyStopping", CALLBACK_VERBOSITY)
        self.restore_best_weights = check_bool(restore_best_weights, "EarlyStopping", "restore_best_weights")
        self.start_from_epoch = check_count(start_from_epoch, "EarlyStopping", "start_from_epoch")
        self._reset()

    def _reset(self):
        self.reset_best()
        self.wait = 0
        self.stopped_epoch = 0
        self.best_epoch = 0
        self.best_weights = None

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            # until something improves, the weights of the first monitored epoch are the best known
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self.is_improvement(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self.is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)
