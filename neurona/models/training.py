"""The loops behind ``fit``, ``evaluate`` and ``predict`` (Keras 3's semantics).

Data becomes batches in ``data_adapter.py``; each batch goes to
``model.train_step`` / ``test_step`` / ``predict_step`` as Keras packs it:
``x``, ``(x, y)`` or ``(x, y, sample_weight)`` (``step_logs.pack``). The steps
return their logs (the running results of ``model.metrics``); the loops hand
them to the callbacks as plain sorted dicts of floats (``pythonify_logs``).
The ``*_on_batch`` calls are in ``on_batch.py``.
"""

import contextlib
import warnings

import numpy

from .. import backend, nest
from ..arguments import check_bool, check_int, is_int, shown
from ..autograd import Tensor, no_grad
from ..backend import allocator
from ..callbacks import CallbackList, TerminateOnNaN
from ..callbacks._arguments import check_verbose
from ..initializers.lsuv import resolve_pending
from . import data_adapter, data_arrays, data_parallel, reference
from .data_adapter import EpochIterator, make_adapter
from .step_logs import batch_size_of, logs_in_order, pack, pythonify_logs

# kept here for the code that imported them from this module
check_finite = data_arrays.check_finite
DEFAULT_BATCH_SIZE = data_adapter.DEFAULT_BATCH_SIZE


# ---- argument checks --------------------------------------------------------------------------------------
def _check_batch_size(batch_size, caller, name="batch_size"):
    if batch_size is not None and (not is_int(batch_size) or batch_size <= 0):
        raise ValueError(f"{caller}: {name} must be a positive integer, got {shown(batch_size)}")
    return None if batch_size is None else int(batch_size)


def _check_steps(steps, caller, name):
    return None if steps is None else check_int(steps, caller, name, low=1)


def _verbosity(verbose, caller):
    """Keras's ``verbose``: ``"auto"`` (1 here), 0 silent, 1 progress bar, 2 one line per epoch."""
    verbose = check_verbose(verbose, caller)
    return 1 if verbose == "auto" else verbose


def _check_validation_freq(freq):
    if is_int(freq) and freq >= 1:
        return int(freq)
    if isinstance(freq, (list, tuple, set, range)) and all(is_int(e) and e >= 1 for e in freq):
        return {int(e) for e in freq}
    raise ValueError(f"fit: validation_freq must be a positive integer (validate every that many epochs) or a "
                     f"list of epoch numbers (1-based) to validate after, got {shown(freq)}")


def _should_validate(epoch, freq):
    return (epoch + 1) % freq == 0 if isinstance(freq, int) else epoch + 1 in freq


def io_counts(model):
    """``(inputs, outputs)`` of the model when known (functional, built Sequential), to read lists of arrays."""
    try:
        return len(model.inputs), len(model.outputs)
    except (AttributeError, TypeError):
        return None, None


def _source(x):
    return data_adapter.source_kind(x)


# ---- non-finite losses and weights ---------------------------------------------------------------------
def _all_finite(array):
    return bool(backend.xp_of(array).isfinite(array).all())


def nonfinite_weights(model):
    """The names of the model's float weights that hold NaN or inf (one reduction per weight)."""
    return [w.name for w in model.weights if backend.is_floating(w.data.dtype) and not _all_finite(w.data)]


def _train_batch(model, data, nan_guard):
    """``model.train_step`` on one batch; with ``nan_guard`` a non-finite loss logs NaN instead of raising.

    ``train_step`` raises ``TrainingError`` before a non-finite loss changes the
    weights. With a ``TerminateOnNaN`` among the callbacks (``nan_guard``) the
    error becomes a NaN in the loss's running mean, which that callback turns into
    a graceful stop, keeping the weights of the last finite step (Keras's behaviour).
    """
    if not nan_guard:
        return model.train_step(data)
    from .model import TrainingError  # model.py imports this module, so its names exist only at call time

    try:
        return model.train_step(data)
    except TrainingError:
        x = data_adapter.unpack_x_y_sample_weight(data)[0]
        model._loss_tracker.update_state(float("nan"), sample_weight=batch_size_of(x))
        return model.get_metrics_result()


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
    from .model import TrainingError

    message = (f"the weights {bad} became non-finite (NaN or inf) during epoch {epoch + 1} (by optimizer step "
               f"{model.optimizer.iterations}) although every training loss was finite: an update overflowed, "
               "typically because the gradients are too large for float32 (e.g. inputs of magnitude 1e30). Scale "
               "the inputs, lower the learning rate or clip the gradients (clipnorm=...)")
    if not nan_guard:  # the weights are the same on every process of a data-parallel run: all raise alike
        raise data_parallel.collective(TrainingError(message))
    print(f"Epoch {epoch + 1}: {message}; terminating training")
    model.stop_training = True


def _metrics_or_logs(model, logs):
    """The model's metric results, unless a custom step returned logs with other keys (then those logs)."""
    metric_logs = pythonify_logs(model.get_metrics_result())
    return metric_logs if set(metric_logs) == set(logs) else logs


# ---- fit ---------------------------------------------------------------------------------------------------
def _warn_identical_units(model):
    """After the first step: an ``InitWarning`` per hidden layer whose units are identical (zeros or constant init).

    The first step has built every model, and units identical before it are identical after it (they took
    the same step), so checking here misses nothing; it reads the weights only (diagnostics/symmetry.py).
    """
    # diagnostics sits above models in the package layers (DESIGN.md): imported at the moment of use
    from ..diagnostics.monitor import warn_identical_units

    warn_identical_units(model)


def _validation_adapter(validation_data, batch_size, counts, require_y):
    if data_adapter.is_batch_source(validation_data):
        return make_adapter(validation_data, caller="fit", counts=counts, prefix="validation ")
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        got = f"{type(validation_data).__name__} of length {len(validation_data)}" \
            if isinstance(validation_data, (tuple, list)) else type(validation_data).__name__
        raise ValueError(f"fit: validation_data must be a tuple (x_val, y_val), got a {got}; expected (x_val, "
                         "y_val), (x_val, y_val, val_sample_weight), a generator or a PyDataset")
    return make_adapter(*validation_data, caller="fit", batch_size=batch_size, counts=counts, require_y=require_y,
                        prefix="validation ")


def _fit_data(model, x, y, sample_weight, class_weight, batch_size, steps, shuffle, validation_split,
              validation_data, validation_batch_size):
    """The training adapter and the validation adapter (or None) of a ``fit`` call, every array checked."""
    counts, require_y = io_counts(model), model._compile_loss is not None
    val_batch = validation_batch_size or batch_size
    if data_adapter.is_batch_source(x):
        if validation_split and validation_data is None:
            raise ValueError(f"fit: validation_split needs x and y as arrays, got x as a {_source(x)}; pass "
                             "validation_data instead")
        train = make_adapter(x, y, sample_weight, caller="fit", shuffle=shuffle, class_weight=class_weight,
                             counts=counts)
        val = None
    else:
        data = data_adapter.prepare_arrays(x, y, sample_weight, caller="fit", counts=counts, require_y=require_y)
        val = None
        if validation_data is None and validation_split is not None:
            data, held_out = data_arrays.split_validation(data, validation_split)
            if validation_split:
                val = data_adapter.ArrayAdapter(*held_out, batch_size=val_batch)
        x, y, sample_weight = data
        if class_weight is not None:
            sample_weight = data_adapter.class_weights_for(y, sample_weight, class_weight, "fit")
        train = data_adapter.ArrayAdapter(x, y, sample_weight, batch_size=batch_size, steps=steps, shuffle=shuffle)
    if validation_data is not None:
        val = _validation_adapter(validation_data, val_batch, counts, require_y)
    return train, val


def _step(model, data, nan_guard, strategy, train_iter):
    """One training step's logs: here, or as this process's part of a data-parallel step."""
    if strategy is None:
        return pythonify_logs(_train_batch(model, data, nan_guard))
    return pythonify_logs(data_parallel.train_step(strategy, model, data, train_iter.adapter,
                                                   lambda batch: _train_batch(model, batch, nan_guard)))


def _fit_epochs(model, x, cbs, train_iter, val_iter, validation_freq, initial_epoch, epochs, nan_guard,
                strategy=None):
    """The epochs of ``fit``: the logs of the last one."""
    training_logs = {}
    lsuv_unchecked = True  # LSUV kernels wait for data: the first batch rescales them (initializers/lsuv.py)
    symmetry_unchecked = True  # identical units are looked for once the first step has built the model
    for epoch in range(initial_epoch, epochs):
        model.reset_metrics()
        cbs.on_epoch_begin(epoch, {})
        logs = {}
        with contextlib.closing(train_iter.epoch()) as batches:
            for step, (xb, yb, wb) in batches:
                if lsuv_unchecked:
                    lsuv_unchecked = False
                    resolve_pending(model, xb)
                    if strategy is not None:  # rank 0's weights (LSUV-scaled ones too) everywhere
                        strategy.start(model, xb)
                cbs.on_train_batch_begin(step, {})
                logs = _step(model, pack(xb, yb, wb), nan_guard, strategy, train_iter)
                if symmetry_unchecked:
                    symmetry_unchecked = False
                    _warn_identical_units(model)
                cbs.on_train_batch_end(step, logs)
                if strategy is not None:  # a callback of one process stops them all (none is left waiting)
                    model.stop_training = strategy.agree(model.stop_training)
                if model.stop_training:
                    break
        if train_iter.last_count == 0:
            if epoch == initial_epoch:
                raise data_parallel.no_batch("fit", _source(x))
            warnings.warn(f"Your input ran out of data: epoch {epoch + 1} got no batch, so training stops after "
                          f"{epoch} epoch(s); a generator can be read only once: pass steps_per_epoch with an "
                          "endless generator, or use a PyDataset or arrays", stacklevel=4)  # the user's fit call
            break
        _check_weights(model, epoch, nan_guard)
        if strategy is None:
            epoch_logs = _metrics_or_logs(model, logs)
        else:  # the last step's logs are the epoch's, over every process's samples
            epoch_logs = dict(logs)
            strategy.check_in_sync(model)
        if val_iter is not None and _should_validate(epoch, validation_freq):
            val_logs = _test_loop(model, val_iter, cbs, strategy)
            if val_logs is None:
                warnings.warn(f"fit: validation_data ran out of data at epoch {epoch + 1}: no validation this epoch; "
                              "a generator can be read only once: pass validation_steps with an endless generator, "
                              "or use a PyDataset or arrays", stacklevel=4)  # the user's fit call
            else:
                epoch_logs.update({f"val_{key}": value for key, value in val_logs.items()})
        cbs.on_epoch_end(epoch, epoch_logs)
        training_logs = epoch_logs
        if strategy is not None:
            model.stop_training = strategy.agree(model.stop_training)
        if model.stop_training:
            break
    return training_logs


def fit(model, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
        validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
        steps_per_epoch=None, validation_steps=None, validation_batch_size=None, validation_freq=1,
        reference_statistics=True, distribute=None):
    """Train ``model`` (see ``Model.fit`` for the arguments); returns the ``History``.

    Raises:
        ValueError: naming the argument, before any step: data that is empty, not numbers, or of
            different lengths; mistyped or out-of-range arguments; ``y``/``sample_weight`` given with a
            generator or PyDataset; ``class_weight`` with ``sample_weight`` or several outputs; a
            generator that yields no batch.
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
    steps_per_epoch = _check_steps(steps_per_epoch, "fit", "steps_per_epoch")
    validation_steps = _check_steps(validation_steps, "fit", "validation_steps")
    validation_batch_size = _check_batch_size(validation_batch_size, "fit", "validation_batch_size")
    validation_freq = _check_validation_freq(validation_freq)
    reference_statistics = reference.check_fit_flag(reference_statistics)
    strategy = data_parallel.check(distribute, "fit")
    class_weight = data_arrays.check_class_weight(class_weight, "fit")
    train, val = _fit_data(model, x, y, sample_weight, class_weight, batch_size, steps_per_epoch, bool(shuffle),
                           validation_split, validation_data, validation_batch_size)
    # training allocates the same large arrays at every step: keep their pages mapped (backend/allocator.py;
    # process-wide, so applied here, once the arguments are known to be good, and not on import;
    # NEURONA_MALLOC_TUNING=0 turns it off)
    allocator.tune()
    # The shuffling generator of this run is kept on the model so that a checkpoint saves its state; a fit resumed
    # from that checkpoint (initial_epoch > 0) takes the restored generator (set by neurona.saving) instead of
    # drawing a new one, and so replays the remaining epochs' shuffles exactly.
    rng = model.__dict__.pop("_resume_shuffle_generator", None)
    if rng is None or initial_epoch == 0:
        rng = backend.make_generator(None)
    model._shuffle_generator = train.rng = rng
    with data_parallel.guarded(strategy):  # an error on one process of several stops them all (never a hang)
        return _run_fit(model, x, train, val, rng, strategy, callbacks, verbose, epochs, initial_epoch,
                        steps_per_epoch, validation_steps, validation_freq, reference_statistics)


def _run_fit(model, x, train, val, rng, strategy, callbacks, verbose, epochs, initial_epoch, steps_per_epoch,
             validation_steps, validation_freq, reference_statistics):
    batches, val_batches = train, val
    if strategy is not None:  # every process: rank 0's shuffled order, its own part of each batch, rank 0 writes
        batches, val_batches, callbacks, verbose = data_parallel.fit_setup(strategy, model, train, val, rng,
                                                                           callbacks, verbose)
    train_iter = EpochIterator(batches, steps_per_epoch)
    val_iter = None if val_batches is None else EpochIterator(val_batches, validation_steps)
    cbs = CallbackList(callbacks, model, add_history=True, add_progbar=bool(verbose), verbose=verbose,
                       epochs=epochs, steps=train_iter.num_batches)
    model.history = history = cbs.history
    nan_guard = any(isinstance(cb, TerminateOnNaN) for cb in cbs.callbacks)
    model.stop_training = False
    cbs.on_train_begin({})
    try:
        with strategy.synchronizing(model) if strategy is not None else contextlib.nullcontext():
            training_logs = _fit_epochs(model, x, cbs, train_iter, val_iter, validation_freq, initial_epoch,
                                        epochs, nan_guard, strategy)
        # Keras 3's fit: an optimizer with use_ema writes the weights' moving averages into them at the end
        model.optimizer.finalize_variable_values(model.trainable_weights)
    except BaseException as error:  # Ctrl-C included: monitors' hooks and loggers' files are released
        cbs.on_train_failed(error)
        raise
    cbs.on_train_end(training_logs)
    # after on_train_end, so that weights restored there (EarlyStopping's best) are the ones summarized
    reference.record_after_fit(model, train, val, reference_statistics)
    return history


# ---- evaluate and predict -----------------------------------------------------------------------------------
def _test_loop(model, iterator, cbs, strategy=None):
    """One pass of ``test_step`` over ``iterator``'s next epoch; the final logs, or None if it had no batch.

    Data-parallel, each process tests its part of every batch (a batch callback sees that process's running
    logs) and the final logs are those of every process's samples.
    """
    model.reset_metrics()
    model.stop_evaluating = False
    cbs.on_test_begin({})
    logs, rows, step_logs = {}, 0, None
    with contextlib.closing(iterator.epoch()) as batches:
        for step, (xb, yb, wb) in batches:
            cbs.on_test_batch_begin(step, {})
            if strategy is not None and step == 0 and not strategy.training:
                strategy.start(model, xb, optimizer=False)  # evaluate alone: rank 0's weights
            if strategy is None or batch_size_of(xb):  # a process may get no row of a short last batch
                step_logs = model.test_step(pack(xb, yb, wb))
                logs, rows = pythonify_logs(step_logs), rows + batch_size_of(xb)
            cbs.on_test_batch_end(step, logs)
            if strategy is not None:
                model.stop_evaluating = strategy.agree(model.stop_evaluating)
            if model.stop_evaluating:
                break
    if iterator.last_count == 0:
        return None
    if strategy is None:
        logs = _metrics_or_logs(model, logs)
    else:
        logs = pythonify_logs(strategy.reduced_logs(model, None if step_logs is None else logs, rows))
    cbs.on_test_end(logs)
    return logs


def evaluate(model, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None, callbacks=None,
             return_dict=False, distribute=None):
    """The loss and metrics over ``(x, y)`` (see ``Model.evaluate``): a float, a list, or a dict.

    Empty, non-numeric or non-finite (NaN, inf) data, and a ``verbose`` other than ``"auto"``, 0, 1 or 2,
    raise a ValueError naming them; a ``return_dict`` that is not a bool raises a TypeError.
    """
    model._require_compiled("evaluate")
    batch_size = _check_batch_size(batch_size, "evaluate")
    verbose = _verbosity(verbose, "evaluate")
    return_dict = check_bool(return_dict, "evaluate", "return_dict")
    steps = _check_steps(steps, "evaluate", "steps")
    strategy = data_parallel.check(distribute, "evaluate")
    adapter = make_adapter(x, y, sample_weight, caller="evaluate", batch_size=batch_size, steps=steps,
                           counts=io_counts(model), finite=True, require_y=model._compile_loss is not None)
    with data_parallel.guarded(strategy):
        iterator, cbs = _one_pass(model, strategy, adapter, steps, callbacks, verbose, "evaluate")
        logs = _test_loop(model, iterator, cbs, strategy)
        if logs is None:
            raise data_parallel.no_batch("evaluate", _source(x))
    return logs if return_dict else logs_in_order(model, logs)


def _one_pass(model, strategy, adapter, steps, callbacks, verbose, caller):
    """The batches and callbacks of one pass of ``evaluate``/``predict`` (this process's, data-parallel)."""
    if strategy is not None:
        adapter, callbacks, verbose = data_parallel.loop_setup(strategy, adapter, callbacks, verbose, caller)
    iterator = EpochIterator(adapter, steps)
    cbs = CallbackList(callbacks, model, add_progbar=bool(verbose), verbose=verbose, epochs=1,
                       steps=iterator.num_batches)
    return iterator, cbs


def to_numpy(outputs):
    """The Tensors (or arrays) of a structure of outputs as NumPy arrays, in the same structure."""
    return nest.map_structure(lambda t: backend.asnumpy(t.data if isinstance(t, Tensor) else t), outputs)


def predict(model, x, batch_size=None, verbose="auto", steps=None, callbacks=None, distribute=None):
    """The model's outputs for ``x``, batch by batch, concatenated: a NumPy array or a list/dict of them.

    Empty, non-numeric or non-finite (NaN, inf) ``x``, and a ``verbose`` other than ``"auto"``, 0, 1 or 2,
    raise a ValueError naming them.
    """
    batch_size = _check_batch_size(batch_size, "predict")
    verbose = _verbosity(verbose, "predict")
    steps = _check_steps(steps, "predict", "steps")
    strategy = data_parallel.check(distribute, "predict")
    adapter = make_adapter(x, caller="predict", batch_size=batch_size, steps=steps, counts=io_counts(model),
                           finite=True, inputs_only=True)
    with data_parallel.guarded(strategy):
        iterator, cbs = _one_pass(model, strategy, adapter, steps, callbacks, verbose, "predict")
        model.stop_predicting = False
        cbs.on_predict_begin({})
        columns, structure = _predict_batches(model, iterator, cbs, strategy)
        cbs.on_predict_end({})
        if columns is None:
            raise data_parallel.no_batch("predict", _source(x))
    return nest.pack_like(structure, [numpy.concatenate(column, axis=0) for column in columns])


def _predict_batches(model, iterator, cbs, strategy):
    """``(columns, structure)``: each output's batches of predictions in order, and the outputs' structure."""
    columns, structure, parts, global_rows = None, None, [], []
    with contextlib.closing(iterator.epoch()) as batches:
        for step, (xb, _, _) in batches:
            cbs.on_predict_batch_begin(step, {})
            if strategy is not None:
                if step == 0:
                    strategy.start(model, xb, optimizer=False)  # rank 0's weights
                global_rows.append(iterator.adapter.global_rows)
            outputs = None
            if strategy is None or batch_size_of(xb):  # a process may get no row of a short last batch
                with no_grad():
                    outputs = structure = to_numpy(model.predict_step(pack(xb)))
                flat = nest.flatten(structure)
                columns = [[a] for a in flat] if columns is None else [c + [a] for c, a in zip(columns, flat)]
            parts.append(outputs)
            cbs.on_predict_batch_end(step, {"outputs": outputs})
            if strategy is not None:
                model.stop_predicting = strategy.agree(model.stop_predicting)
            if model.stop_predicting:
                break
    if strategy is not None:
        columns, structure = data_parallel.gathered_predictions(strategy.comm, parts, global_rows)
    return columns, structure
