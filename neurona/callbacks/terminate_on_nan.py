"""``TerminateOnNaN``: end training gracefully when the loss stops being a finite number."""

import math

from .callback import Callback


class TerminateOnNaN(Callback):
    """Stop training at the first batch whose loss is NaN or infinite, and keep the last good weights.

    Without this callback a non-finite training loss raises
    ``neurona.models.TrainingError`` (the step that produced it is not applied,
    so the weights stay those of the last finite step). With it among ``fit``'s
    callbacks, ``fit`` instead records the bad batch with a NaN loss, this
    callback prints ``Batch N: Invalid loss, terminating training`` and sets
    ``model.stop_training``; ``fit`` then finishes the epoch's bookkeeping
    (validation, ``on_epoch_end``) and returns the History, whose last ``loss``
    is NaN, as in Keras.

    Weights that an update made NaN or inf although its loss was finite (an
    overflow inside the optimizer) are found at the end of the epoch: without
    this callback ``fit`` raises ``TrainingError`` there; with it, training stops
    after that epoch's bookkeeping, as for a NaN loss (the weights stay as the
    update left them: nothing earlier was kept).
    """

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True
