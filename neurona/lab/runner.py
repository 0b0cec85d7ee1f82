"""One run of a comparison: seed -> model -> diagnostics at initialization -> training -> a JSON-safe record.

Reproducibility. A run's numbers depend only on its ``RunSpec``: it resets the layer-name counters
(``clear_session``) and the library-wide generator (``nr.seed(spec.seed)``) first, draws its probe batch from
its own generator, and runs with fixed settings (``thread_settings``: ``NEURONA_NUM_THREADS`` = ``spec.threads``,
BLAS held to one thread, as Neurona's training steps already hold it, and float32), so the per-epoch
losses and accuracies are the same whether the run is alone in this process, in a worker beside others
(``--jobs``) or run again after an interruption. Only the timings differ.

Marks. ``diverged``: a training or validation loss became NaN or infinite (training then stops, keeping the
last finite weights, as ``TerminateOnNaN`` does). ``stalled``: not diverged, and the validation accuracy after
epoch ``min(STALL_EPOCHS, epochs)`` is still near chance (below ``chance + STALL_MARGIN * (1 - chance)``).
"""

import contextlib
import dataclasses
import hashlib
import math
import time

import numpy

from .. import backend, callbacks, diagnostics, initializers, optimizers
from ..backend import parallel
from .grid import LSUV, build_model

FLOATX = "float32"  # every run computes in float32, whatever the calling process's default (nr.set_floatx)
STALL_EPOCHS = 2
STALL_MARGIN = 0.1  # of the way from chance to perfect: 19% accuracy on 10 classes
MNIST_SOURCES = ("embedded", "full", "auto")


# ---- data --------------------------------------------------------------------------------------------------
@dataclasses.dataclass
class Data:
    """Training and validation arrays (float inputs, integer labels) and what to call them in the results."""

    x_train: numpy.ndarray
    y_train: numpy.ndarray
    x_val: numpy.ndarray
    y_val: numpy.ndarray
    label: str
    num_classes: int

    @property
    def input_shape(self):
        return self.x_train.shape[1:]

    def summary(self):
        """The JSON-safe description ``results.json`` keeps."""
        return {"label": self.label, "train": int(len(self.x_train)), "validation": int(len(self.x_val)),
                "input_shape": list(self.input_shape), "classes": self.num_classes}


def _labels(y, name):
    """Integer class labels from labels or one-hot rows."""
    y = numpy.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        y = y.argmax(axis=1)
    elif y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or (y.dtype.kind == "f" and not numpy.all(y == numpy.round(y))) or y.dtype.kind not in "biuf":
        raise ValueError(f"lab.compare: {name} must hold integer class labels (n,) or one-hot rows (n, classes), "
                         f"got shape {y.shape} and dtype {y.dtype}")
    if len(y) and y.min() < 0:
        raise ValueError(f"lab.compare: {name} holds negative labels; expected classes 0, 1, ...")
    return y.astype(numpy.int64)


def _inputs(x, name):
    x = numpy.asarray(x)
    if x.ndim < 2 or x.shape[0] == 0 or x.dtype.kind not in "biuf":
        raise ValueError(f"lab.compare: {name} must be a non-empty numeric array with examples first, got shape "
                         f"{x.shape} and dtype {x.dtype}")
    x = x.astype(FLOATX)
    if not numpy.isfinite(x).all():
        raise ValueError(f"lab.compare: {name} holds NaN or infinite values")
    return x


def _digest(*arrays):
    h = hashlib.sha256()
    for a in arrays:
        h.update(str((a.shape, a.dtype.str)).encode())
        h.update(numpy.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


def _subsample(x, y, limit):
    return (x, y) if limit is None else (x[:limit], y[:limit])


def arrays_data(arrays, max_train=None, max_val=None):
    """``Data`` from ``(x_train, y_train, x_val, y_val)`` passed from Python (the first ``max_*`` examples)."""
    if not isinstance(arrays, (tuple, list)) or len(arrays) != 4:
        raise ValueError("lab.compare: data must be 'embedded', 'full', 'auto' or a tuple (x_train, y_train, x_val, "
                         f"y_val), got {type(arrays).__name__}")
    x_train, x_val = _inputs(arrays[0], "x_train"), _inputs(arrays[2], "x_val")
    y_train, y_val = _labels(arrays[1], "y_train"), _labels(arrays[3], "y_val")
    for x, y, name in ((x_train, y_train, "train"), (x_val, y_val, "validation")):
        if len(x) != len(y):
            raise ValueError(f"lab.compare: {len(x)} {name} inputs but {len(y)} labels")
    if x_train.shape[1:] != x_val.shape[1:]:
        raise ValueError(f"lab.compare: training examples of shape {x_train.shape[1:]} but validation examples of "
                         f"shape {x_val.shape[1:]}")
    x_train, y_train = _subsample(x_train, y_train, max_train)
    x_val, y_val = _subsample(x_val, y_val, max_val)
    classes = int(max(y_train.max(), y_val.max())) + 1
    if classes < 2:
        raise ValueError("lab.compare: the labels name a single class; expected at least two")
    return Data(x_train, y_train, x_val, y_val, f"arrays:{_digest(x_train, y_train, x_val, y_val)}", classes)


def mnist_data(source, max_train=None, max_val=None):
    """MNIST scaled to [0, 1] as (n, 28, 28, 1); the test split is the validation set.

    ``source``: ``"embedded"`` (the packaged 10,000 / 2,000 subset), ``"full"`` (the original files, from
    ``$NEURONA_DATA_DIR/mnist`` or downloaded) or ``"auto"`` (full when present on this machine, else embedded;
    never downloads). The label says which one was used.
    """
    from ..datasets import mnist

    if source not in MNIST_SOURCES:
        raise ValueError(f"lab.compare: unknown data {source!r}; expected one of {', '.join(MNIST_SOURCES)} or "
                         "arrays (x_train, y_train, x_val, y_val)")
    (x_train, y_train), (x_val, y_val) = mnist.load_data(source=source, download=source == "full", verbose=False)
    x_train, y_train = _subsample(x_train, y_train, max_train)
    x_val, y_val = _subsample(x_val, y_val, max_val)
    scale = numpy.asarray(1 / 255, dtype=FLOATX)
    x_train = (x_train[..., None] * scale).astype(FLOATX)
    x_val = (x_val[..., None] * scale).astype(FLOATX)
    return Data(x_train, y_train.astype(numpy.int64), x_val, y_val.astype(numpy.int64), mnist.last_source().kind, 10)


# ---- one run -----------------------------------------------------------------------------------------------
@contextlib.contextmanager
def thread_settings(threads):
    """Run the body with ``threads`` threads for Neurona's own parallel work, BLAS on one thread, and float32
    as the default dtype; the process's settings are restored afterwards."""
    previous_floatx = backend.floatx()
    try:
        backend.set_floatx(FLOATX)
        with parallel.thread_limit(threads):
            yield
    finally:
        backend.set_floatx(previous_floatx)


class _StopOnNaN(callbacks.TerminateOnNaN):
    """``TerminateOnNaN`` without its message: a diverged run is marked in the results instead."""

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            self.model.stop_training = True


class _EpochClock(callbacks.Callback):
    """Seconds since the start of training at the end of each epoch (validation included)."""

    def __init__(self):
        super().__init__()
        self.start, self.seconds = None, []

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.start)


def _finite(value):
    value = float(value)
    return value if math.isfinite(value) else None


def make_optimizer(name, learning_rate):
    """The optimizer ``name`` with ``learning_rate`` (None: its default)."""
    optimizer = optimizers.get(name)
    if learning_rate is not None:
        optimizer.learning_rate = learning_rate
    return optimizer


def _initialize(spec, data):
    """Build the model, apply LSUV when asked, compile it, and measure it on the probe batch. Also returns the
    seconds the initialization took (drawing the weights, and LSUV's passes over the probe batch), which count
    toward the time to target: a data-dependent initializer is not free."""
    start = time.perf_counter()
    model = build_model(spec, data.input_shape, data.num_classes)
    rng = numpy.random.default_rng(spec.seed)
    index = numpy.sort(rng.choice(len(data.x_train), size=min(spec.probe_size, len(data.x_train)), replace=False))
    x_probe, y_probe = data.x_train[index], data.y_train[index]
    lsuv_report = None
    if spec.initializer == LSUV:  # kernels were drawn orthonormal; LSUV rescales them on the probe batch
        lsuv_report = initializers.lsuv(model, x_probe, orthonormal=False).to_dict()
    init_seconds = time.perf_counter() - start
    model.compile(optimizer=make_optimizer(spec.optimizer, spec.learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    report = diagnostics.inspect(model, x_probe, y_probe)
    return model, report.to_dict(), lsuv_report, init_seconds


def summarize(history, spec, num_classes, seconds):
    """The marks and figures of a finished run from its per-epoch ``history`` (lists, None where non-finite)."""
    val_acc = history["val_accuracy"]
    diverged = (len(history["loss"]) < spec.epochs
                or any(v is None for key in ("loss", "val_loss") for v in history[key]))
    chance = 1.0 / num_classes
    check = min(STALL_EPOCHS, len(val_acc)) - 1
    stalled = (not diverged and check >= 0 and val_acc[check] is not None
               and val_acc[check] < chance + STALL_MARGIN * (1 - chance))
    reached = next((i for i, acc in enumerate(val_acc) if acc is not None and acc >= spec.target), None)
    return {"diverged": bool(diverged), "stalled": bool(stalled),
            "epochs_to_target": None if reached is None else reached + 1,
            "seconds_to_target": None if reached is None else seconds[reached],
            "final_val_accuracy": val_acc[-1] if val_acc else None,
            "val_loss_after_epoch_1": history["val_loss"][0] if history["val_loss"] else None,
            "train_loss_after_epoch_1": history["loss"][0] if history["loss"] else None}


def run_one(spec, data):
    """Train ``spec`` on ``data``; returns the run's record (see ``results`` for its layout)."""
    start = time.perf_counter()
    with thread_settings(spec.threads):
        backend.clear_session(free_memory=False)
        backend.seed(spec.seed)
        model, report, lsuv_report, init_seconds = _initialize(spec, data)
        clock = _EpochClock()
        fit = model.fit(data.x_train, data.y_train, batch_size=spec.batch_size, epochs=spec.epochs,
                        validation_data=(data.x_val, data.y_val), verbose=0, callbacks=[_StopOnNaN(), clock],
                        reference_statistics=False)
    keys = ("loss", "accuracy", "val_loss", "val_accuracy")
    history = {key: [_finite(v) for v in fit.history.get(key, [])] for key in keys}
    record = {"id": spec.run_id, "config": spec.config(), "history": history,
              **summarize(history, spec, data.num_classes, [init_seconds + s for s in clock.seconds]),
              "diagnostics": report, "lsuv": lsuv_report,
              "timing": {"init_seconds": init_seconds, "epoch_seconds": clock.seconds,
                         "wall_seconds": time.perf_counter() - start}}
    return record


@dataclasses.dataclass(frozen=True)
class DataSource:
    """How a worker process gets the grid's data: MNIST reloaded by ``kind`` (cheaper than sending it), or the
    ``Data`` itself for arrays passed from Python."""

    kind: str
    max_train: object = None
    max_val: object = None
    data: object = None

    def load(self):
        return self.data if self.data is not None else mnist_data(self.kind, self.max_train, self.max_val)
