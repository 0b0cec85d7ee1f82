"""``History``: the record of a ``fit`` run, returned by it."""

from .callback import Callback


class History(Callback):
    """Collects each epoch's logs: ``history.history["loss"]`` is the per-epoch training loss.

    ``fit`` adds one to its callbacks (unless one is given) and returns it; it is also
    ``model.history``. As in Keras, ``epoch`` restarts with every ``fit`` while a History
    passed to several runs keeps appending to ``history``.

    Attributes:
        epoch: the epoch indices that ran (0-based).
        history: dict from log name (``loss``, ``accuracy``, ``val_loss`` ...) to a list of values, one per epoch.
    """

    def __init__(self):
        super().__init__()
        self.epoch = []
        self.history = {}

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        if self.model is not None:
            self.model.history = self
