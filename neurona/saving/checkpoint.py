"""Training checkpoints that resume exactly: a saved model plus the epoch, the random states and the history.

A checkpoint is a saved model folder (``model.json`` + ``model.h5``, with the
optimizer's step count and slots) whose ``model.json`` has a ``"training"`` entry::

    {"epoch": 3,                      # completed epochs: resume with fit(..., initial_epoch=3)
     "history": {"epoch": [0, 1, 2], "history": {"loss": [...], ...}},
     "global_rng": {...},             # the library-wide generator (neurona.backend.random)
     "batch": null,                   # the batch count, for a checkpoint taken inside an epoch
     "extra": {...}}                  # JSON-safe data of the caller (the CLI keeps its arguments)

Why this resumes bit-identically: after ``epoch`` epochs, an uninterrupted run
holds (1) the weights, (2) the optimizer's slots and step count, (3) the state
of ``fit``'s shuffling generator, (4) the states of the layers' generators
(dropout masks) and (5) the library-wide generator. The checkpoint stores all
five; ``load_checkpoint`` restores them, and ``fit(initial_epoch=epoch)`` takes
the restored shuffling generator instead of drawing a new one (see
``models/training.py``), so every later batch, mask and update is the same.
A checkpoint taken inside an epoch (``ModelCheckpoint(save_freq=N)``) restores
weights and optimizer, but a resumed ``fit`` restarts at an epoch boundary, so
it is not bit-identical to an uninterrupted run.
"""

from typing import NamedTuple

from .. import backend
from ..arguments import check_bool, check_path
from ..backend import random as backend_random
from ..callbacks._arguments import check_count
from .errors import FileFormatError
from .rng_state import generator_state, set_generator_state
from .saved_model import load_saved, save_model


class Checkpoint(NamedTuple):
    """What ``load_checkpoint`` returns."""

    model: object
    epoch: int  # completed epochs: pass as fit(..., initial_epoch=epoch)
    history: dict  # {"epoch": [...], "history": {"loss": [...], ...}}
    extra: dict  # the caller's data saved with the checkpoint (or {})


def run_history(model, epoch=None, logs=None):
    """The history of the whole run so far: the epochs restored from a checkpoint, then those of the current
    (or last) ``fit``, which replace restored epochs from where it started.

    Args:
        epoch, logs: an epoch that ``model.history`` has not recorded yet (a callback's ``on_epoch_end`` runs
            before History's) and its logs, appended.
    """
    current = model.history
    epochs = list(current.epoch) if current is not None else []
    logs_so_far = {k: list(v) for k, v in current.history.items()} if current is not None else {}
    if epoch is not None and epoch not in epochs:
        for key, value in (logs or {}).items():
            logs_so_far.setdefault(key, [None] * len(epochs)).append(value)
        epochs.append(epoch)
    restored = (getattr(model, "_restored_training", None) or {}).get("history") or {}
    if current is not None and current is getattr(model, "_restored_history_object", None):
        return {"epoch": epochs, "history": logs_so_far}  # no fit since the checkpoint was loaded
    first = epochs[0] if epochs else None
    kept = [e for e in restored.get("epoch", []) if first is None or e < first]
    merged = {key: list(values[:len(kept)]) for key, values in restored.get("history", {}).items()}
    for key, values in logs_so_far.items():
        merged[key] = merged.get(key, [None] * len(kept)) + values
    return {"epoch": kept + epochs, "history": merged}


def save_checkpoint(model, path, epoch, history=None, batch=None, extra=None, overwrite=True):
    """Save a resumable checkpoint of ``model`` to the folder ``path`` (atomically).

    Args:
        epoch: the number of completed epochs (what a resumed ``fit`` passes as ``initial_epoch``).
        history: ``{"epoch": [...], "history": {...}}``; by default ``run_history(model)``.
        batch: for a checkpoint taken inside an epoch, the number of batches done in it.
        extra: JSON-safe data of the caller, returned by ``load_checkpoint``.
    """
    path = check_path(path, "save_checkpoint", "path")
    epoch = check_count(epoch, "save_checkpoint", "epoch (the number of completed epochs)")
    overwrite = check_bool(overwrite, "save_checkpoint", "overwrite")
    training = {"epoch": epoch, "history": run_history(model) if history is None else history,
                "global_rng": generator_state(backend.get_generator()), "batch": batch, "extra": extra or {}}
    save_model(model, path, overwrite=overwrite, training=training)


def load_checkpoint(path, restore_global_rng=True, custom_objects=None):
    """Load a checkpoint: the compiled model with its optimizer state and random states, and where it stopped.

    Continue the run with ``ckpt.model.fit(x, y, epochs=total, initial_epoch=ckpt.epoch, ...)`` on the same
    data and batch size: the final weights equal those of a run that was never interrupted.

    Args:
        restore_global_rng: also put back the library-wide generator (``neurona.seed``'s), so unseeded
            draws after the checkpoint repeat too.
        custom_objects: ``{name: class or function}`` for unregistered custom classes (as ``load_model``).

    Raises:
        FileFormatError: ``path`` is a saved model without training state, or is unreadable.
    """
    def expect_training(document, source):
        training = document.get("training")
        if not isinstance(training, dict) or not isinstance(training.get("epoch"), int):
            raise FileFormatError(f"{str(path)!r} is a saved model, not a training checkpoint: its model.json has "
                                  "no 'training' entry with an 'epoch' (use load_model() for it)")

    path = check_path(path, "load_checkpoint", "path")
    restore_global_rng = check_bool(restore_global_rng, "load_checkpoint", "restore_global_rng")
    # one read of the folder: the training state and the model come from the same save
    model, document = load_saved(path, expect=expect_training, custom_objects=custom_objects)
    training = document["training"]
    if restore_global_rng and training.get("global_rng") is not None:
        _restore_global(training["global_rng"], f"model.json in {str(path)!r}")
    history = training.get("history") or {"epoch": [], "history": {}}
    return Checkpoint(model, training["epoch"], history, training.get("extra") or {})


def _restore_global(state, source):
    current = backend.get_generator()
    restored = set_generator_state(state, current, f"{source}, library-wide generator")
    if restored is not current:  # another bit generator kind than the current one: replace the object
        backend_random._generator = restored
