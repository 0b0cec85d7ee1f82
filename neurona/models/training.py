"""The loops behind ``fit``, ``evaluate`` and ``predict``: batching, shuffling, validation, callbacks."""

import numpy

from .. import backend
from ..arguments import NUMERIC_KINDS, check_bool, check_int, describe_kind, is_int, is_real, shown
from ..autograd import Tensor, no_grad
from ..backend import allocator, blas
from ..callbacks import CallbackList, History, ProgbarLogger, TerminateOnNaN
from ..callbacks._arguments import check_verbose

DEFAULT_BATCH_SIZE = 32  # Keras's default


# how to turn an array of a non-numeric dtype kind (arguments.NON_NUMERIC_KINDS says what it holds) into numbers
_HINTS = {
    "U": "parse or encode them as numbers",
    "T": "parse or encode them as numbers",
    "S": "parse or encode them as numbers",
    "O": "make it a regular array of numbers (mixed types, ragged rows or None make object arrays), e.g. "
         "{what}.astype('float32')",
    "c": "pass the real and imaginary parts as separate real features",
    "M": "convert them to numbers, e.g. seconds since a reference time",
    "m": "convert them to numbers, e.g. {what} / numpy.timedelta64(1, 's')",
    "V": "select its numeric fields into a float array",
}


def _as_array(data, what, caller):
    """``data`` as an array of numbers with a non-empty batch axis, or a ValueError naming ``what``."""
    if data is None:
        raise ValueError(f"{caller}: {what} is required")
    if isinstance(data, Tensor):
        data = data.data
    if not hasattr(data, "shape") or not hasattr(data, "dtype"):
        try:
            data = numpy.asarray(data)
        except (TypeError, ValueError) as error:
            reason = str(error).rstrip(".")
            raise ValueError(f"{caller}: {what} ({type(data).__name__}) cannot be made into an array: {reason}; "
                             "expected an array or nested lists of numbers of one shape") from None
    if data.ndim == 0:
        raise ValueError(f"{caller}: {what} must have a batch axis, got a scalar")
    kind = data.dtype.kind
    # the ops compute in floats: anything else fails deep inside them, or runs silently wrong
    if kind not in NUMERIC_KINDS:
        hint = _HINTS.get(kind, "convert it to a float array").format(what=what.split()[-1])
        raise ValueError(f"{caller}: {what} has dtype {data.dtype}, which holds {describe_kind(kind)}; expected a "
                         f"float, integer or bool array: {hint}")
    if len(data) == 0:
        raise ValueError(f"{caller}: {what} is empty (shape {tuple(data.shape)}); expected at least one sample")
    return data


def _floatx(array):
    """Cast float (and integer/bool input) arrays to the default float once, not at every batch."""
    if array.dtype.kind in NUMERIC_KINDS and array.dtype != backend.floatx():
        return array.astype(backend.floatx())
    return array


def prepare_xy(x, y, caller, prefix=""):
    """Validated arrays: ``x`` in the default float dtype, float ``y`` likewise, same number of samples.

    ``prefix`` (``"validation "``) names the arguments in errors.
    """
    x = _floatx(_as_array(x, f"{prefix}x", caller))
    y = _as_array(y, f"{prefix}y", caller)
    if y.dtype.kind == "f" and y.dtype != backend.floatx():
        y = y.astype(backend.floatx())
    if len(x) != len(y):
        raise ValueError(f"{caller}: {prefix}x and {prefix}y must have the same number of samples, got {len(x)} "
                         f"and {len(y)}")
    return x, y


def _check_validation_data(validation_data):
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
        got = f"{type(validation_data).__name__} of length {len(validation_data)}" \
            if isinstance(validation_data, (tuple, list)) else type(validation_data).__name__
        raise ValueError(f"fit: validation_data must be a tuple (x_val, y_val), got a {got}")
    return prepare_xy(*validation_data, caller="fit", prefix="validation ")


def split_validation(x, y, validation_split):
    """Keras semantics: the last ``validation_split`` fraction (before shuffling) is held out."""
    if not is_real(validation_split):
        raise ValueError(f"fit: validation_split must be a number in [0, 1), got {shown(validation_split)}")
    if not 0.0 <= validation_split < 1.0:
        raise ValueError(f"fit: validation_split must be in [0, 1), got {validation_split}")
    n_val = int(len(x) * validation_split)
    if validation_split and (n_val == 0 or n_val == len(x)):
        empty = "validation" if n_val == 0 else "training"
        raise ValueError(f"fit: validation_split={validation_split} of {len(x)} samples leaves {n_val} validation "
                         f"and {len(x) - n_val} training samples: the {empty} split would be empty")
    cut = len(x) - n_val
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])


def _batches(n, batch_size, order=None):
    """Index arrays (or slices) of consecutive batches; the last one may be smaller."""
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        yield order[start:stop] if order is not None else slice(start, stop)


def _check_batch_size(batch_size, caller):
    batch_size = DEFAULT_BATCH_SIZE if batch_size is None else batch_size
    if not is_int(batch_size) or batch_size <= 0:
        raise ValueError(f"{caller}: batch_size must be a positive integer, got {shown(batch_size)}")
    return int(batch_size)


def _verbosity(verbose, caller):
    """Keras's ``verbose``: ``"auto"`` (1 here), 0 silent, 1 progress bar, 2 one line per epoch."""
    verbose = check_verbose(verbose, caller)
    return 1 if verbose == "auto" else verbose


def _all_finite(array):
    """Whether a NumPy or CuPy float array holds no NaN or inf (computed on the array's own device)."""
    return bool(backend.xp_of(array).isfinite(array).all())


def check_finite(array, what, caller):
    """Refuse NaN or infinite values in ``array`` (one reduction over the whole array), naming the first one.

    ``fit`` needs no such check: its first non-finite loss raises ``TrainingError`` before any update. In
    ``evaluate`` and ``predict`` NaN would pass silently into the results.
    """
    if array.dtype.kind != "f" or _all_finite(array):  # integers and bools are always finite
        return
    bad = ~numpy.isfinite(backend.asnumpy(array))  # only on the error path: where, and how many
    first = tuple(int(i) for i in numpy.argwhere(bad)[0])
    raise ValueError(f"{caller}: {what} holds {int(bad.sum())} non-finite value(s) (NaN or inf), the first at "
                     f"{what}[{', '.join(map(str, first))}] = {float(array[first])}; expected finite numbers "
                     "(replace or drop the missing values first)")


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


def nonfinite_weights(model):
    """The names of the model's float weights that hold NaN or inf (one reduction per weight)."""
    return [w.name for w in model.weights if w.data.dtype.kind == "f" and not _all_finite(w.data)]


def _check_weights(model, epoch, nan_guard):
    """End of an epoch: refuse weights that an update made non-finite although every loss was finite.

    A step whose loss is finite can still write NaN or inf (Adam's squared gradients
    overflow float32 for gradients beyond ~1e19); the next step's loss would then be
    NaN, but after the last step of ``fit`` nothing else would notice. Checking once
    per epoch costs one pass over the weights; checking after every step would cost
    ~2% of a small model's step (measured on the MNIST MLP). Without ``TerminateOnNaN``
    this raises ``TrainingError``; with it, training stops as for a NaN loss.
    """
    bad = nonfinite_weights(model)
    if not bad:
        return
    from .model import TrainingError  # model.py imports this module, so its names exist only at call time

    message = (f"the weights {bad} became non-finite (NaN or inf) during epoch {epoch + 1} (by optimizer step "
               f"{model.optimizer.iterations}) although every training loss was finite: an update overflowed, "
               "typically because the gradients are too large for float32 (e.g. inputs of magnitude 1e30). Scale "
               "the inputs, lower the learning rate or clip the gradients (clipnorm=...)")
    if not nan_guard:
        raise TrainingError(message)
    print(f"Epoch {epoch + 1}: {message}; terminating training")
    model.stop_training = True


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

    Raises:
        ValueError: naming the argument, before any step: empty data (no samples, in ``x``, ``y``,
            ``validation_data`` or either side of ``validation_split``), data that is not numbers
            (strings, objects, complex numbers, datetimes), or ``epochs``, ``initial_epoch``,
            ``batch_size`` (Python or NumPy integers), ``validation_split`` (a number in [0, 1)),
            ``shuffle`` (a bool) or ``verbose`` (``"auto"``, 0, 1 or 2) of the wrong type or range.
        TrainingError: a training loss became NaN or inf (the step is not applied), or the weights did
            at the end of an epoch; with ``TerminateOnNaN`` among the callbacks training stops instead.
    """
    model._require_compiled("fit")
    verbose = _verbosity(verbose, "fit")
    batch_size = _check_batch_size(batch_size, "fit")
    epochs = check_int(epochs, "fit", "epochs", low=1)
    initial_epoch = check_int(initial_epoch, "fit", "initial_epoch", low=0)
    if initial_epoch >= epochs:
        raise ValueError(f"fit: need initial_epoch < epochs, got initial_epoch={initial_epoch}, epochs={epochs}")
    if not isinstance(shuffle, (bool, numpy.bool_)):  # a string such as "false" would be truthy and shuffle
        raise ValueError(f"fit: shuffle must be True or False, got {shuffle!r} ({type(shuffle).__name__})")
    x, y = prepare_xy(x, y, "fit")
    if validation_data is not None:
        val = _check_validation_data(validation_data)
    elif validation_split is not None:
        (x, y), val = split_validation(x, y, validation_split)
        val = val if len(val[0]) else None
    else:
        val = None
    # training allocates the same large arrays at every step: keep their pages mapped (backend/allocator.py;
    # process-wide, so applied here, once the arguments are known to be good, and not on import;
    # NEURONA_MALLOC_TUNING=0 turns it off)
    allocator.tune()
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
        _check_weights(model, epoch, nan_guard)
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
    """Mean loss and metrics over ``(x, y)``; prints them when ``verbose``.

    Empty, non-numeric or non-finite (NaN, inf) ``x`` or ``y``, and a ``verbose`` other than ``"auto"``,
    0, 1 or 2, raise a ValueError naming them; a ``return_dict`` that is not a bool raises a TypeError.
    """
    model._require_compiled("evaluate")
    batch_size = _check_batch_size(batch_size, "evaluate")
    verbose = _verbosity(verbose, "evaluate")
    return_dict = check_bool(return_dict, "evaluate", "return_dict")
    x, y = prepare_xy(x, y, "evaluate")
    check_finite(x, "x", "evaluate")
    check_finite(y, "y", "evaluate")
    if not model.built:
        model.build(x.shape)
    cbs = CallbackList(callbacks or [], model, {"verbose": verbose, "steps": -(-len(x) // batch_size)})
    logs = _evaluate_arrays(model, x, y, batch_size, cbs)
    if verbose:
        print(" - ".join(f"{key}: {value:.4f}" for key, value in logs.items()))
    if return_dict:
        return logs
    values = list(logs.values())
    return values[0] if len(values) == 1 else values


def predict(model, x, batch_size=None, verbose=0, callbacks=None):
    """Outputs for ``x``, concatenated over batches, as a NumPy array.

    Empty, non-numeric or non-finite (NaN, inf) ``x``, and a ``verbose`` other than ``"auto"``, 0, 1 or 2,
    raise a ValueError naming them.
    """
    batch_size = _check_batch_size(batch_size, "predict")
    verbose = check_verbose(verbose, "predict")
    x = _floatx(_as_array(x, "x", "predict"))
    check_finite(x, "x", "predict")
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
