"""Programs that tests/distributed/test_mpi.py runs under ``mpirun -n 2`` (and as one process, to compare).

``python mpi_programs.py MODE OUT_DIR``: each mode trains a small seeded model on synthetic data and writes
what the test compares into OUT_DIR as ``<name>.rank<r>.npz`` / ``.json`` (every rank writes its own, so the
test can check that the ranks agree), or the error it raised as ``error.rank<r>.txt``.
"""

import json
import os
import sys

import numpy

import neurona as nr
from neurona import callbacks, distributed, layers, models

N_SAMPLES, BATCH = 257, 32  # the last batch has 1 row: one of two processes gets none


def data(seed=1):
    rng = numpy.random.default_rng(seed)
    x = rng.normal(size=(N_SAMPLES, 12)).astype("float32")
    y = numpy.eye(3, dtype="float32")[rng.integers(0, 3, N_SAMPLES)]
    return x, y


def mlp(batch_norm=False):
    nr.seed(0)
    hidden = [layers.Dense(16, activation="tanh")] + ([layers.BatchNormalization()] if batch_norm else [])
    model = models.Sequential([layers.Input((12,)), *hidden, layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy", nr.metrics.AUC()])
    return model


def strategy():
    return distributed.DataParallel() if os.environ.get("NEURONA_TEST_SERIAL") != "1" else None


def write(out, name, model=None, **values):
    rank = distributed.rank()
    if model is not None:
        values["weights"] = numpy.concatenate([numpy.asarray(w.data, dtype=numpy.float64).ravel()
                                               for w in model.weights])
    numpy.savez(os.path.join(out, f"{name}.rank{rank}.npz"), **values)


def mode_train(out):
    """fit (shuffled, with validation), evaluate and predict; the weights, History, scores, predictions."""
    x, y = data()
    model = mlp()
    nr.seed(5)  # the shuffling generator
    history = model.fit(x, y, batch_size=BATCH, epochs=2, validation_split=0.2, verbose=0, distribute=strategy())
    scores = model.evaluate(x, y, batch_size=50, verbose=0, distribute=strategy())
    predictions = model.predict(x, batch_size=50, verbose=0, distribute=strategy())
    write(out, "train", model, scores=numpy.array(scores), predictions=predictions,
          iterations=model.optimizer.iterations)
    with open(os.path.join(out, f"history.rank{distributed.rank()}.json"), "w") as f:
        json.dump(history.history, f)


def mode_batch_norm(out):
    """BatchNormalization: every process ends with the same moving statistics (averaged at each step)."""
    x, y = data()
    model = mlp(batch_norm=True)
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, distribute=strategy())
    write(out, "batch_norm", model)


def mode_files(out):
    """Checkpoints and CSV logs come from rank 0 only; a failing callback on rank 1 would abort (not here)."""
    x, y = data()
    model = mlp()
    rank = distributed.rank()
    cbs = [callbacks.CSVLogger(os.path.join(out, f"log.rank{rank}.csv")),
           callbacks.ModelCheckpoint(os.path.join(out, f"ckpt.rank{rank}.weights.h5"), save_weights_only=True),
           callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=10.0)]  # stops after epoch 2
    history = model.fit(x, y, batch_size=BATCH, epochs=5, verbose=0, callbacks=cbs, distribute=strategy())
    write(out, "files", model, epochs=len(history.epoch))


class FailOnRankOne(layers.Layer):
    """Raises in its forward pass on rank 1 at the third step (a data-dependent bug on one process)."""

    def call(self, x, training=False):
        if training and distributed.rank() == 1 and self.steps == 2:
            raise ValueError("a bad batch on rank 1")
        if training:
            self.steps += 1
        return x

    steps = 0


def mode_forward_error(out):
    x, y = data()
    nr.seed(0)
    model = models.Sequential([layers.Input((12,)), FailOnRankOne(), layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    try:
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, distribute=strategy())
    except distributed.DistributedError as error:
        with open(os.path.join(out, f"error.rank{distributed.rank()}.txt"), "w") as f:
            f.write(f"{type(error).__name__}: {error}")


def mode_callback_error(out):
    """An error outside the gradient step on rank 1 while rank 0 waits: the run is aborted, not left hanging."""
    class Fail(callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if distributed.rank() == 1 and batch == 1:
                raise RuntimeError("a callback failed on rank 1")

    x, y = data()
    model = mlp()
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, callbacks=[Fail()], distribute=strategy())
    print(f"rank {distributed.rank()} finished", flush=True)


def mode_nan(out):
    """A non-finite loss on one process under TerminateOnNaN: nobody applies that step, every process stops."""
    x, y = data()
    if distributed.rank() == 1:
        x[200:] = numpy.nan
    model = mlp()
    weights = numpy.concatenate([numpy.asarray(w.data).ravel() for w in model.weights])
    model.fit(x, y, batch_size=BATCH, epochs=2, verbose=0, shuffle=False, callbacks=[callbacks.TerminateOnNaN()],
              distribute=strategy())
    write(out, "nan", model, initial=weights, iterations=model.optimizer.iterations,
          last_loss=model.history.history["loss"][-1])


if __name__ == "__main__":
    globals()[f"mode_{sys.argv[1]}"](sys.argv[2])
