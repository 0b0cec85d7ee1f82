"""``ModelCheckpoint``: save the model (a resumable checkpoint) or its weights during training, as in Keras."""

import numbers

import numpy

from ._arguments import CALLBACK_VERBOSITY, check_bool, check_number, check_path, check_verbose
from .monitor import MonitorCallback


class ModelCheckpoint(MonitorCallback):
    """Save the model or its weights at the end of every epoch, or every ``save_freq`` batches.

    ``filepath`` may contain ``str.format`` fields filled with ``epoch`` (1-based, as
    Keras numbers epochs), ``batch`` (1-based, for batch-level saving) and any key
    of the logs: ``"ckpt/epoch{epoch:02d}-{val_loss:.2f}"``.

    With ``save_weights_only=False`` the file is a training checkpoint folder
    (``model.json`` + ``model.h5`` with the optimizer state, the completed epoch
    count, the random states and the history; see ``neurona.saving.checkpoint``):
    ``neurona.saving.load_checkpoint(path)`` resumes from it, and a run resumed
    from an end-of-epoch checkpoint ends with the same weights as an uninterrupted
    one. A ``filepath`` ending in ``.keras`` (what Keras 3 requires), ``.h5`` or ``.hdf5`` is written with
    ``model.save`` in Keras's own single-file form instead (a model ``keras.models.load_model`` and
    ``neurona.models.load_model`` open, without the training state). With ``save_weights_only=True`` it is an
    HDF5 weights file for ``model.load_weights``. Every write is atomic: a run killed while saving
    leaves the previous file whole.

    Args:
        filepath: where to save (a folder, or a weights file with ``save_weights_only``).
        monitor: the logged quantity compared by ``save_best_only``.
        verbose: 1 prints a line at each save (and each non-improvement with ``save_best_only``).
        save_best_only: save only when ``monitor`` improves on the best value so far (with a
            constant ``filepath`` the file always holds the best model).
        save_weights_only: save only the weights.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (inferred from the name of ``monitor``).
        save_freq: ``"epoch"``, or save every that many training batches (counted across epochs).
        initial_value_threshold: the value ``monitor`` must first beat with ``save_best_only``.

    Raises:
        TypeError: at construction, ``filepath`` is not a path (str or os.PathLike), or a flag is not a bool.
        ValueError: at construction, an empty ``filepath``, a ``verbose`` other than 0 or 1, or a ``mode``,
            ``save_freq`` or ``initial_value_threshold`` of the wrong type or value; when training begins, a
            ``.keras``/``.h5`` filepath for a model that Keras's format cannot describe (the layer and option
            named).
    """

    rank_zero_only = True  # data-parallel: one process writes

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=False,
                 mode="auto", save_freq="epoch", initial_value_threshold=None):
        # the path first: str(None) would otherwise become a folder called "None" in the working directory
        self.filepath = check_path(filepath, "ModelCheckpoint", "filepath")
        super().__init__(monitor=monitor, mode=mode)
        named_freq = isinstance(save_freq, str) and save_freq == "epoch"
        if not named_freq and (isinstance(save_freq, (bool, numpy.bool_))
                               or not isinstance(save_freq, numbers.Integral) or save_freq <= 0):
            raise ValueError(f"ModelCheckpoint: save_freq must be 'epoch' or a positive number of batches, "
                             f"got {save_freq!r}")
        self.verbose = check_verbose(verbose, "ModelCheckpoint", CALLBACK_VERBOSITY)
        self.save_best_only = check_bool(save_best_only, "ModelCheckpoint", "save_best_only")
        self.save_weights_only = check_bool(save_weights_only, "ModelCheckpoint", "save_weights_only")
        # a full-model filepath ending in .keras / .h5 / .hdf5 is Keras's single-file form (Keras 3's
        # ModelCheckpoint requires .keras): written with model.save, a file Keras opens, not a resumable
        # checkpoint; saving sits above callbacks, hence imported here
        from ..saving.keras.files import keras_form

        self._keras_file = not self.save_weights_only and keras_form(self.filepath) is not None
        self.save_freq = save_freq if named_freq else int(save_freq)
        self.initial_value_threshold = check_number(initial_value_threshold, "ModelCheckpoint",
                                                    "initial_value_threshold", optional=True)
        self.best = self.initial_value_threshold
        self._current_epoch = 0
        self._batches_since_save = 0

    def on_train_begin(self, logs=None):
        if self._keras_file:  # a model Keras's format cannot hold fails now, not after the first epoch
            from ..saving.keras.files import keras_config

            keras_config(self.model)

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches_since_save += 1
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._save(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, None, logs)

    def file_path(self, epoch, batch, logs):
        """``filepath`` with its fields filled (``epoch`` and ``batch`` 1-based)."""
        fields = dict(logs or {})
        fields["epoch"] = epoch + 1
        if batch is not None:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except (KeyError, IndexError, ValueError) as error:
            raise KeyError(f"ModelCheckpoint cannot format filepath {self.filepath!r} with epoch, batch and the logs "
                           f"{sorted(logs or {})}: {error!r}") from None

    def _save(self, epoch, batch, logs):
        path = self.file_path(epoch, batch, logs)
        if self.save_best_only:
            current = self.get_monitor_value(logs)
            if current is None:
                return
            best = ("-inf" if self.mode == "max" else "inf") if self.best is None else f"{self.best:.5f}"
            if not self.is_improvement(current, self.best):
                self._say(epoch, f"{self.monitor} did not improve from {best}")
                return
            self._say(epoch, f"{self.monitor} improved from {best} to {current:.5f}, saving model to {path}")
            self.best = current
        else:
            self._say(epoch, f"saving model to {path}")
        self._write(path, epoch, batch, logs)

    def _write(self, path, epoch, batch, logs):
        if self.save_weights_only:
            self.model.save_weights(path)
            return
        if self._keras_file:
            self.model.save(path)
            return
        # saving sits above callbacks in the package layers, so it is imported at the moment of use
        from ..saving import checkpoint

        completed = epoch + 1 if batch is None else epoch
        history = checkpoint.run_history(self.model, epoch, logs) if batch is None else None
        checkpoint.save_checkpoint(self.model, path, epoch=completed, history=history,
                                   batch=None if batch is None else batch + 1)

    def _say(self, epoch, message):
        if self.verbose:
            print(f"\nEpoch {epoch + 1}: {message}")

    def get_config(self):
        return {"filepath": self.filepath, "monitor": self.monitor, "verbose": self.verbose,
                "save_best_only": self.save_best_only, "save_weights_only": self.save_weights_only,
                "mode": self.mode, "save_freq": self.save_freq,
                "initial_value_threshold": self.initial_value_threshold}
