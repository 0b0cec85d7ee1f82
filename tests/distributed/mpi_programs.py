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


def mode_begin_error(out):
    """A rank-0-only callback failing in on_train_begin (a log folder that does not exist): the run is aborted."""
    x, y = data()
    model = mlp()
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, distribute=strategy(),
              callbacks=[callbacks.CSVLogger(os.path.join(out, "missing", "folder", "log.csv"))])
    print(f"rank {distributed.rank()} finished", flush=True)


class TwoUpdates(models.Sequential):
    """A custom train_step that updates twice per batch (its number of updates is its own business)."""

    def train_step(self, data):
        x, y = data
        for _ in range(2):
            loss = self.compute_loss(x, y, self(x, training=True))
            self.zero_grad()
            loss.backward()
            self.optimizer.apply(self.trainable_weights)
        return {"loss": float(loss.data)}


def mode_custom_short_batch(out):
    """A custom train_step and a last batch of 1 row for 2 processes: refused on every process alike."""
    x, y = data()
    nr.seed(0)
    model = TwoUpdates([layers.Input((12,)), layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    try:
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, distribute=strategy())
    except ValueError as error:
        with open(os.path.join(out, f"error.rank{distributed.rank()}.txt"), "w") as f:
            f.write(str(error))


def mode_custom_logs(out):
    """A custom train_step logging its own loss: the History is the global one (rows-weighted over processes)."""
    x, y = data()
    nr.seed(0)
    model = TwoUpdates([layers.Input((12,)), layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    history = model.fit(x[:256], y[:256], batch_size=BATCH, epochs=2, verbose=0, shuffle=False,
                        distribute=strategy())
    write(out, "custom_logs", model, loss=numpy.array(history.history["loss"]))


class HalfUsed(layers.Layer):
    """A layer with a weight its output does not depend on (an unused branch): it gets no gradient."""

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], 3), initializer="glorot_uniform", name="kernel")
        self.unused = self.add_weight(shape=(4,), initializer="ones", name="unused")

    def call(self, x):
        return x @ self.kernel


def mode_unused_weight(out):
    """AdamW (decoupled weight decay) and a weight without gradient: it must not move, on any process (the last
    batch of 1 row leaves one process without rows, whose zeros must not count as a gradient)."""
    x, y = data()
    nr.seed(0)
    model = models.Sequential([layers.Input((12,)), HalfUsed(), layers.Activation("softmax")])
    model.compile(optimizer=nr.optimizers.AdamW(0.01, weight_decay=0.1), loss="categorical_crossentropy")
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=False, distribute=strategy())
    write(out, "unused_weight", model, unused=numpy.asarray(model.layers[0].unused.data))


def mode_dropout(out):
    """Dropout: every process draws its own masks (its generator's stream differs), the weights stay equal."""
    x, y = data()
    nr.seed(0)
    model = models.Sequential([layers.Input((12,)), layers.Dense(16, activation="relu"), layers.Dropout(0.5),
                               layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, distribute=strategy())
    write(out, "dropout", model, draw=model.layers[1]._rng.random(8))


def mode_caught(out):
    """An error every process raises alike (a generator with no batch) is an exception the script can catch."""
    model = mlp()
    try:
        model.fit((batch for batch in ()), epochs=1, verbose=0, distribute=strategy())
    except ValueError as error:
        with open(os.path.join(out, f"caught.rank{distributed.rank()}.txt"), "w") as f:
            f.write(str(error))


if __name__ == "__main__":
    globals()[f"mode_{sys.argv[1]}"](sys.argv[2])
