"""``History``: the record of a ``fit`` run, returned by it."""

from .callback import Callback


class History(Callback):
    """Collects each epoch's logs: ``history.history["loss"]`` is the per-epoch training loss.

    Attributes:
        epoch: the epoch indices that ran.
        history: dict from metric name (``loss``, ``accuracy``, ``val_loss`` ...) to a list of values.
    """

    def __init__(self):
        super().__init__()
        self.epoch = []
        self.history = {}

    def on_train_begin(self, logs=None):
        self.epoch = []
        self.history = {}

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
