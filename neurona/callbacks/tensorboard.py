"""``TensorBoard``: logs, weight histograms and the model graph as TensorBoard event files, without TensorFlow."""

import numbers
import os
import time
import warnings

import numpy

from ..arguments import is_int, shown
from ..backend.session import image_data_format
from ._arguments import check_bool, check_count, check_path
from .callback import Callback
from .event_file import EventFileWriter
from .summary_values import histogram_value, image_value, keras_model_value, scalar_value

_OWNER = "TensorBoard"
_MAX_IMAGES = 3  # images per weight and epoch: tf.summary.image's max_outputs


def _check_update_freq(value):
    """``"epoch"``, or the number of batches between batch-level writes (``"batch"`` is 1)."""
    if isinstance(value, str) and value in ("epoch", "batch"):
        return 1 if value == "batch" else value
    if is_int(value) and value >= 1:
        return int(value)
    raise ValueError(f"{_OWNER}: update_freq must be 'epoch', 'batch' or a positive number of batches, "
                     f"got {shown(value)}")


def _check_profile_batch(value):
    """Refuse profiling: ``0`` (or ``(0, 0)``, ``"0"``) is the only value Neurona accepts.

    The forms Keras accepts are recognised first, so that a malformed value gets the
    message about its form and a well-formed one the message about profiling.
    """
    def batches(v):
        if isinstance(v, str):
            parts = v.split(",")
            if not all(p.strip().isdigit() for p in parts):
                return None
            v = [int(p) for p in parts]
            v = v[0] if len(v) == 1 else v
        if is_int(v):
            return (int(v), int(v))
        if isinstance(v, (tuple, list)) and len(v) == 2 and all(is_int(b) for b in v):
            return (int(v[0]), int(v[1]))
        return None

    pair = batches(value)
    if pair is None or pair[0] < 0 or pair[1] < pair[0]:
        raise ValueError(f"{_OWNER}: profile_batch must be a non-negative integer or a pair (start, stop) of "
                         f"positive integers with start <= stop, got {shown(value)}")
    if pair != (0, 0):
        raise ValueError(f"{_OWNER}: profiling is not available in Neurona, got profile_batch={value!r}; expected "
                         "0 (Keras refuses it on its torch and numpy backends too). Time the steps with "
                         "write_steps_per_second=True, or profile with cProfile")
    return 0


def _check_embeddings_metadata(value):
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        return dict(value)
    raise TypeError(f"{_OWNER}: embeddings_metadata must be None, a file name (str) or a dict of layer names to "
                    f"file names, got {shown(value)}")


def _scalar(value):
    """``value`` as a float if it is one number (a Python or NumPy real, a size-1 array), else None."""
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, numpy.bool_)):
        return float(value)
    if isinstance(value, numpy.ndarray) and value.size == 1 and value.dtype.kind in "iuf":
        return float(value.reshape(()))
    return None


def _weight_images(values, channels_last=True):
    """The weight array ``values`` laid out as images ``(count, height, width, channels)`` as Keras does, or None.

    Size-1 axes are dropped first. A vector of n is one n x 1 image; a matrix is one image,
    transposed so that it is wider than tall; a 3-D weight (a 1-D convolution kernel, or a
    2-D one with one input channel) is one image per slice of its last axis (its first axis
    with ``channels_first``); a 4-D weight is taken as images already when its last axis is
    1, 3 or 4 (grey, RGB, RGBA). Anything else (a scalar, other 4-D kernels) has no image.
    The values become pixels as ``tf.summary.image`` converts floats, as if in [0, 1]:
    ``min(max(v * 255.5, 0), 255)`` truncated to an integer, NaN as 0; so a weight's
    negative entries are black and those >= 1 white.
    """
    w = numpy.squeeze(numpy.asarray(values, dtype=numpy.float64))
    if w.ndim == 1:
        w = w.reshape(1, w.shape[0], 1, 1)
    elif w.ndim == 2:
        w = (w.T if w.shape[0] > w.shape[1] else w)[None, :, :, None]
    elif w.ndim == 3:
        w = (numpy.transpose(w, (2, 0, 1)) if channels_last else w)[..., None]
    if w.ndim != 4 or w.shape[-1] not in (1, 3, 4):
        return None
    return numpy.clip(numpy.nan_to_num(w * 255.5, nan=0.0), 0, 255).astype(numpy.uint8)


def _class_names(obj):
    return {cls.__name__ for cls in type(obj).__mro__}


def _weight_tags(model):
    """``(tag, weight)`` for every weight of ``model.layers``, each weight once, tags as Keras names them.

    Keras names a weight by the name scopes it was built in: a Sequential or subclassed
    model builds its layers inside its own name, a Functional model's layers are built
    when the graph is made, outside any. So ``sequential/dense/kernel`` in a Sequential
    model, ``dense/kernel`` in a Functional one, ``block/dense/kernel`` for a layer of a
    Sequential ``block`` inside a Functional one. The histogram tag adds ``/histogram``.
    """
    tags, seen, used = [], set(), set()

    def walk(layer, scope):
        inner = "" if "Functional" in _class_names(layer) else f"{scope}{layer.name}/"
        for weight in layer._own_weights():  # the Layer's own bookkeeping: weights it created or holds
            if id(weight) in seen:
                continue
            seen.add(id(weight))
            name = weight.name or "variable"
            short = name[len(layer.name) + 1:] if name.startswith(layer.name + "/") else name
            tag, n = f"{inner}{short}".replace(":", "_"), 1
            while tag in used:  # two weights of one path (a hand-named Variable): keep both series apart
                tag, n = f"{inner}{short}_{n}".replace(":", "_"), n + 1
            used.add(tag)
            tags.append((tag, weight))
        for sub in layer._sublayers():
            walk(sub, inner)

    scope = "" if "Functional" in _class_names(model) else f"{model.name}/"
    for layer in model.layers:
        walk(layer, scope)
    return tags


class TensorBoard(Callback):
    """Write the training logs, weight histograms and model graph for TensorBoard (``tensorboard --logdir``).

    Event files go to ``log_dir/train`` and ``log_dir/validation`` (one TensorBoard run each),
    in TensorFlow's format (``event_file``), so TensorFlow is not needed to write them, only
    the ``tensorboard`` package to view them. What is written, as Keras 3 writes it:

    - at each epoch's end, step = the epoch (0-based): every training log as ``epoch_<name>``
      in ``train``, and every ``val_<name>`` log as ``epoch_<name>`` in ``validation`` (so
      the two runs' ``epoch_loss`` curves overlay); the optimizer's ``epoch_learning_rate``
      (a schedule's current value); with ``write_steps_per_second``, ``epoch_steps_per_second``
      (optimizer steps over the epoch's wall time);
    - with ``update_freq`` a number N (or ``"batch"``, N = 1), every N-th training batch,
      counted from 1 over the whole ``fit``: each batch log (the epoch's running means) as
      ``batch_<name>`` at step = that count, and with ``write_steps_per_second``
      ``batch_steps_per_second`` (1 / the batch's wall time);
    - after each evaluation (the validation of ``fit``, or ``evaluate`` with this callback),
      each result as ``evaluation_<name>_vs_iterations`` in ``validation``, at step = the
      optimizer's ``iterations``;
    - every ``histogram_freq`` epochs (epochs 0, N, 2N ...), a histogram of every weight
      (trainable or not) as ``<weight path>/histogram`` in ``train`` (the path as Keras
      names it: ``sequential/dense/kernel`` in a Sequential model, ``dense/kernel`` in a
      Functional one); NaN and infinite entries are left out of a histogram; with
      ``write_images``, also the weights that can be drawn as up to 3 images
      ``<weight path>/image`` (see ``_weight_images``: vectors, matrices, 1-D and 2-D
      convolution kernels with one input channel; pixel = weight x 255.5, clipped to
      [0, 255], as ``tf.summary.image`` converts floats);
    - with ``write_graph``, once when training starts, the model's Keras JSON as the tag
      ``keras`` at step 0 in ``train``, which TensorBoard's Graphs dashboard draws as a
      conceptual graph (layers and their connections), for Sequential and Functional
      models as Keras does; a model that cannot be written as JSON is skipped with a warning.
      There is no op-level graph: Neurona has no traced graph to show.

    Scalars are stored as 32-bit floats, as ``tf.summary.scalar`` stores them; a log that is
    not one number (a per-class list) is not written, with one warning per name. Files are
    flushed after every write, so a run that crashes keeps every record written before,
    and TensorBoard can follow training live; they are closed when training ends. Each
    ``fit`` starts new files (TensorBoard reads a folder's files in order).

    Options Neurona cannot honour:

    - ``profile_batch`` other than 0 raises a ValueError: there is no profiler trace to
      write (Keras refuses it on its torch and numpy backends too).
    - ``embeddings_freq`` > 0 warns and writes nothing: the projector shows the weights of
      ``Embedding`` layers, which Neurona does not have.

    Args:
        log_dir: the folder for the event files (created if missing); use one per run.
        histogram_freq: write weight histograms every that many epochs; 0 never.
        write_graph: write the model's conceptual graph.
        write_images: also write the weights as images, when histograms are written.
        write_steps_per_second: also log training steps per second.
        update_freq: ``"epoch"`` (only epoch-level scalars), ``"batch"``, or N to also write
            the batch logs every N training batches.
        profile_batch: 0 (profiling is not supported).
        embeddings_freq: 0 (embedding visualisation is not supported: warns).
        embeddings_metadata: Keras's metadata file names of embedding layers (kept, unused).

    Raises:
        TypeError: ``log_dir`` is not a path, a flag is not a bool, or ``embeddings_metadata``
            is not None, a str or a dict of str.
        ValueError: ``log_dir`` is empty, ``histogram_freq`` or ``embeddings_freq`` is not a
            non-negative integer, ``update_freq`` is not ``"epoch"``, ``"batch"`` or an integer
            >= 1, or ``profile_batch`` is not 0.
        OSError: when training starts, if a folder under ``log_dir`` cannot be created.

    Example::

        model.fit(x, y, epochs=5, validation_split=0.1,
                  callbacks=[callbacks.TensorBoard(log_dir="logs/run1", histogram_freq=1)])
        # then: tensorboard --logdir logs
    """

    rank_zero_only = True  # data-parallel: one process writes

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0, embeddings_freq=0,
                 embeddings_metadata=None):
        super().__init__()
        self.log_dir = check_path(log_dir, _OWNER, "log_dir")
        self.histogram_freq = check_count(histogram_freq, _OWNER, "histogram_freq")
        self.write_graph = check_bool(write_graph, _OWNER, "write_graph")
        self.write_images = check_bool(write_images, _OWNER, "write_images")
        self.write_steps_per_second = check_bool(write_steps_per_second, _OWNER, "write_steps_per_second")
        self.update_freq = _check_update_freq(update_freq)
        self.profile_batch = _check_profile_batch(profile_batch)
        self.embeddings_freq = check_count(embeddings_freq, _OWNER, "embeddings_freq")
        self.embeddings_metadata = _check_embeddings_metadata(embeddings_metadata)
        if self.write_images and not self.histogram_freq:
            warnings.warn(f"{_OWNER}: write_images=True writes images only with the histograms; with "
                          "histogram_freq=0 none are written. Pass histogram_freq=1 (or more)", stacklevel=2)
        if self.embeddings_freq:
            warnings.warn(f"{_OWNER}: embeddings_freq={self.embeddings_freq} is not supported; nothing is written "
                          "for the embedding projector (it shows Embedding layers, which Neurona does not have)",
                          stacklevel=2)
        self._writers = {}
        self._warned = set()
        self._training = False
        self._global_train_batch = 0
        self._batch_start = self._epoch_start = 0.0
        self._epoch_start_iterations = 0

    # ---- writers ----------------------------------------------------------------------------------
    def _writer(self, run):
        """The open writer of ``run`` (``"train"`` or ``"validation"``), made when first needed."""
        writer = self._writers.get(run)
        if writer is None or writer.closed:
            writer = self._writers[run] = EventFileWriter(os.path.join(self.log_dir, run))
        return writer

    def _close(self, run=None):
        for name in [run] if run else list(self._writers):
            writer = self._writers.pop(name, None)
            if writer is not None:
                writer.close()

    def _write_scalars(self, run, prefix, logs, step, suffix=""):
        """Each number of ``logs`` as ``<prefix><name><suffix>`` at ``step``; others are skipped, with a warning."""
        writer = None
        for name, value in logs.items():
            number = _scalar(value)
            if number is None:
                if name not in self._warned:
                    self._warned.add(name)
                    warnings.warn(f"{_OWNER}: the log {name!r} is not a single number, got {shown(value)}; it is "
                                  "not written", stacklevel=3)
                continue
            writer = writer or self._writer(run)
            writer.write(step, [scalar_value(f"{prefix}{name}{suffix}", number)])
        return writer

    # ---- model ------------------------------------------------------------------------------------
    def set_model(self, model):
        if model is not self.model:
            self._close()  # a new model gets new files, as Keras's set_model starts new writers
        super().set_model(model)

    def _iterations(self):
        optimizer = getattr(self.model, "optimizer", None)
        iterations = getattr(optimizer, "iterations", None)
        return None if iterations is None else int(iterations)

    def _learning_rate(self):
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None or not hasattr(optimizer, "learning_rate"):
            return None
        return _scalar(optimizer.learning_rate)

    def _write_graph(self):
        names = _class_names(self.model)
        if not names & {"Functional", "Sequential"}:
            return  # a subclassed model has no layer graph to draw (Keras writes none either)
        try:
            text = self.model.to_json()
        except Exception as err:  # noqa: BLE001 - any layer may fail to serialize; the run must go on
            warnings.warn(f"{_OWNER}: the model cannot be written as JSON, so its graph is not written: {err}",
                          stacklevel=3)
            return
        writer = self._writer("train")
        writer.write(0, [keras_model_value(text)])
        writer.flush()

    def _write_weights(self, epoch):
        writer = self._writer("train")
        channels_last = image_data_format() == "channels_last"
        for tag, weight in _weight_tags(self.model):
            values = weight.numpy()
            writer.write(epoch, [histogram_value(f"{tag}/histogram", values)])
            images = _weight_images(values, channels_last) if self.write_images else None
            if images is not None:
                writer.write(epoch, [image_value(f"{tag}/image", images[:_MAX_IMAGES])])

    # ---- hooks ------------------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._close()  # each fit writes new files
        self._training = True
        self._global_train_batch = 0
        if self.write_graph:
            self._write_graph()

    def on_train_end(self, logs=None):
        self._training = False
        self._close()

    def on_train_failed(self, error):
        self.on_train_end()

    def on_epoch_begin(self, epoch, logs=None):
        if self.write_steps_per_second:
            self._epoch_start_iterations = self._iterations() or 0
            self._epoch_start = time.perf_counter()

    def on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        if self.write_steps_per_second:
            self._batch_start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        step = self._global_train_batch
        if self.update_freq == "epoch" or step % self.update_freq:
            return
        scalars = {}
        if self.write_steps_per_second:
            elapsed = time.perf_counter() - self._batch_start
            if elapsed > 0:
                scalars["steps_per_second"] = 1.0 / elapsed
        scalars.update(logs or {})
        writer = self._write_scalars("train", "batch_", scalars, step)
        if writer is not None:
            writer.flush()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if not logs:  # as Keras: no logs (an empty epoch), no epoch scalars
            return self._epoch_histograms_and_flush(epoch)
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        learning_rate = self._learning_rate()
        if learning_rate is not None:
            train["learning_rate"] = learning_rate
        if self.write_steps_per_second:
            elapsed = time.perf_counter() - self._epoch_start
            steps = (self._iterations() or 0) - self._epoch_start_iterations
            if elapsed > 0:
                train["steps_per_second"] = steps / elapsed
        self._write_scalars("train", "epoch_", train, epoch)
        self._write_scalars("validation", "epoch_", {k[4:]: v for k, v in logs.items() if k.startswith("val_")},
                            epoch)
        return self._epoch_histograms_and_flush(epoch)

    def _epoch_histograms_and_flush(self, epoch):
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._write_weights(epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_test_end(self, logs=None):
        iterations = self._iterations()
        if iterations is not None and logs:
            writer = self._write_scalars("validation", "evaluation_", logs, iterations, suffix="_vs_iterations")
            if writer is not None:
                writer.flush()
        if not self._training:
            self._close("validation")  # a standalone evaluate: nothing else will close it
