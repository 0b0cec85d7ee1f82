"""The loops behind ``fit``, ``evaluate`` and ``predict``: batching, shuffling, validation, callbacks."""

import numpy

from .. import backend
from ..autograd import Tensor, no_grad
from ..backend import blas
from ..callbacks import CallbackList, History, ProgbarLogger, TerminateOnNaN

DEFAULT_BATCH_SIZE = 32  # Keras's default


def _as_array(data, what):
    if data is None:
        raise ValueError(f"{what} is required")
    if isinstance(data, Tensor):
        data = data.data
    if not hasattr(data, "shape"):
        data = numpy.asarray(data)
    if data.ndim == 0:
        raise ValueError(f"{what} must have a batch axis, got a scalar")
    return data


def _floatx(array):
    """Cast float (and integer/bool input) arrays to the default float once, not at every batch."""
    if array.dtype.kind in "fiub" and array.dtype != backend.floatx():
        return array.astype(backend.floatx())
    return array


def prepare_xy(x, y, what="x"):
    """Validated arrays: ``x`` in the default float dtype, float ``y`` likewise, same number of samples."""
    x = _floatx(_as_array(x, what))
    y = _as_array(y, "y")
    if y.dtype.kind == "f" and y.dtype != backend.floatx():
        y = y.astype(backend.floatx())
    if len(x) != len(y):
        raise ValueError(f"{what} and y must have the same number of samples, got {len(x)} and {len(y)}")
    return x, y


def split_validation(x, y, validation_split):
    """Keras semantics: the last ``validation_split`` fraction (before shuffling) is held out."""
    if not 0.0 <= validation_split < 1.0:
        raise ValueError(f"validation_split must be in [0, 1), got {validation_split}")
    n_val = int(len(x) * validation_split)
    if validation_split and (n_val == 0 or n_val == len(x)):
        raise ValueError(f"validation_split={validation_split} of {len(x)} samples leaves an empty split")
    cut = len(x) - n_val
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])


def _batches(n, batch_size, order=None):
    """Index arrays (or slices) of consecutive batches; the last one may be smaller."""
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        yield order[start:stop] if order is not None else slice(start, stop)


def _check_batch_size(batch_size):
    batch_size = DEFAULT_BATCH_SIZE if batch_size is None else batch_size
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, numpy.integer)) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    return int(batch_size)


def _verbosity(verbose):
    return 1 if verbose == "auto" else int(verbose)


def _results(model, loss_total, count):
    logs = {"loss": loss_total / max(count, 1)}
    for metric in model.compiled_metrics:
        logs[metric.name] = _log_value(metric.result())
    return logs


def _log_value(result):
    """A metric result for the logs: a float, or a list of floats for per-class results (F1Score(average=None))."""
    if numpy.ndim(result) == 0:
        return float(result)
    return [float(v) for v in backend.asnumpy(result).ravel()]


def _train_batch(model, xb, yb, nan_guard):
    """``model.train_step`` on one batch; with ``nan_guard`` a non-finite loss gives NaN instead of an error.

    ``train_step`` raises ``TrainingError`` before a non-finite loss changes the
    weights. With a ``TerminateOnNaN`` among the callbacks (``nan_guard``) the
    error becomes a NaN loss in the batch logs, which that callback turns into a
    graceful stop, keeping the weights of the last finite step (Keras's behaviour).
    """
    if not nan_guard:
        return model.train_step(xb, yb)
    from .model import TrainingError  # model.py imports this module, so its names exist only at call time

    try:
        return model.train_step(xb, yb)
    except TrainingError:
        return float("nan")


def _reset_metrics(model):
    for metric in model.compiled_metrics:
        metric.reset_state()


def fit(model, x, y, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
        validation_data=None, shuffle=True, initial_epoch=0):
    """Train ``model`` on ``(x, y)``.

    Each epoch shuffles the samples (``shuffle=True``), runs ``model.train_step``
    on consecutive batches, and, with validation data, evaluates on it. The
    logs passed to callbacks and stored in the returned ``History`` hold the
    epoch's mean loss and metrics, and ``val_``-prefixed ones for validation.
    """
    model._require_compiled("fit")
    batch_size = _check_batch_size(batch_size)
    x, y = prepare_xy(x, y)
    if validation_data is not None:
        if len(validation_data) != 2:
            raise ValueError("validation_data must be a tuple (x_val, y_val)")
        val = prepare_xy(*validation_data, what="validation x")
    elif validation_split:
        (x, y), val = split_validation(x, y, validation_split)
    else:
        val = None
    if not isinstance(epochs, int) or epochs < 1 or not 0 <= initial_epoch < epochs:
        raise ValueError(f"need integers 0 <= initial_epoch < epochs, got initial_epoch={initial_epoch}, "
                         f"epochs={epochs}")
    verbose = _verbosity(verbose)
    n = len(x)
    steps = -(-n // batch_size)
    history = History()
    extra = [ProgbarLogger()] if verbose else []
    # History after the user's callbacks, as in Keras, so it records what they add to the logs ("learning_rate")
    cbs = CallbackList([*(callbacks or []), history, *extra], model,
                       {"epochs": epochs, "steps": steps, "verbose": verbose, "batch_size": batch_size})
    model.history = history
    nan_guard = any(isinstance(cb, TerminateOnNaN) for cb in callbacks or ())
    model.stop_training = False
    # The shuffling generator of this run is kept on the model so that a checkpoint saves its state; a fit resumed
    # from that checkpoint (initial_epoch > 0) takes the restored generator (set by neurona.saving) instead of
    # drawing a new one, and so replays the remaining epochs' shuffles exactly.
    rng = model.__dict__.pop("_resume_shuffle_generator", None)
    if rng is None or initial_epoch == 0:
        rng = backend.make_generator(None)
    model._shuffle_generator = rng
    cbs.on_train_begin()
    for epoch in range(initial_epoch, epochs):
        _reset_metrics(model)
        cbs.on_epoch_begin(epoch)
        loss_total, count = 0.0, 0
        order = rng.permutation(n) if shuffle else None
        for step, index in enumerate(_batches(n, batch_size, order)):
            cbs.on_train_batch_begin(step)
            xb, yb = x[index], y[index]
            loss_total += _train_batch(model, xb, yb, nan_guard) * len(xb)
            count += len(xb)
            cbs.on_train_batch_end(step, _results(model, loss_total, count))
            if model.stop_training:
                break
        logs = _results(model, loss_total, count)
        if val is not None:
            val_logs = _evaluate_arrays(model, *val, batch_size, cbs)
            logs.update({f"val_{key}": value for key, value in val_logs.items()})
        cbs.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    cbs.on_train_end(logs)
    return history


def _evaluate_arrays(model, x, y, batch_size, cbs):
    _reset_metrics(model)
    cbs.on_test_begin()
    loss_total, count = 0.0, 0
    for step, index in enumerate(_batches(len(x), batch_size)):
        cbs.on_test_batch_begin(step)
        xb, yb = x[index], y[index]
        loss_total += model.test_step(xb, yb) * len(xb)
        count += len(xb)
        cbs.on_test_batch_end(step, _results(model, loss_total, count))
    logs = _results(model, loss_total, count)
    cbs.on_test_end(logs)
    return logs


def evaluate(model, x, y, batch_size=None, verbose="auto", callbacks=None, return_dict=False):
    """Mean loss and metrics over ``(x, y)``; prints them when ``verbose``."""
    model._require_compiled("evaluate")
    batch_size = _check_batch_size(batch_size)
    x, y = prepare_xy(x, y)
    if not model.built:
        model.build(x.shape)
    cbs = CallbackList(callbacks or [], model, {"verbose": verbose, "steps": -(-len(x) // batch_size)})
    logs = _evaluate_arrays(model, x, y, batch_size, cbs)
    if _verbosity(verbose):
        print(" - ".join(f"{key}: {value:.4f}" for key, value in logs.items()))
    if return_dict:
        return logs
    values = list(logs.values())
    return values[0] if len(values) == 1 else values


def predict(model, x, batch_size=None, verbose=0, callbacks=None):
    """Outputs for ``x``, concatenated over batches, as a NumPy array."""
    batch_size = _check_batch_size(batch_size)
    x = _floatx(_as_array(x, "x"))
    cbs = CallbackList(callbacks or [], model, {"verbose": verbose, "steps": -(-len(x) // batch_size)})
    cbs.on_predict_begin()
    outputs = []
    with no_grad(), blas.single_threaded():  # our threads share out the products (see backend/blas.py)
        for step, index in enumerate(_batches(len(x), batch_size)):
            cbs.on_predict_batch_begin(step)
            outputs.append(backend.asnumpy(model(x[index], training=False).data))
            cbs.on_predict_batch_end(step, {"outputs": outputs[-1]})
    cbs.on_predict_end()
    return numpy.concatenate(outputs, axis=0)
