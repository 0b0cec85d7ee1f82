"""A model's compile settings as JSON (``model.json``'s ``"compile"`` entry), and compiling a loaded model with them.

The entry holds what ``compile`` was given, as Keras's ``get_compile_config``
does, so that a model of several outputs gets back its losses and metrics per
output (a list, or a dict keyed by output name)::

    {"optimizer": {"class_name": "Adam", "config": {...}},
     "loss": "categorical_crossentropy" | {"class_name": ..., "config": ...} | [...] | {"<output>": ...} | null,
     "loss_weights": null | 0.5 | [...] | {...},
     "metrics": ["accuracy", {"class_name": "AUC", "config": {...}}] | [[...], [...]] | {"<output>": ...} | null,
     "weighted_metrics": the same}

A leaf is a name, a serialized object (a dict of ``class_name`` and ``config``,
with Keras's ``module`` and ``registered_name`` for an unregistered one), or
null; lists and other dicts are the per-output structure. Files written before
several outputs existed hold one loss and a list of metric objects, which read
the same way.

Custom functions and objects that are not registered (a loss function, a
``Metric`` subclass, a schedule) are saved by name, as in Keras, and loading
finds them through ``custom_objects`` (or a scope, or registration). A load that
cannot find one fails with a ``FileFormatError`` naming the compile entry and
the fix (as Keras's load fails), since a model compiled differently from the
saved one would train differently without a word; ``load_model(...,
compile=False)`` gives the model uncompiled. Settings that cannot be saved at
all (a lambda as the loss) are left out at save time with a warning, and that
model loads uncompiled.
"""

import warnings

from .. import losses, optimizers
from .. import metrics as metrics_lib
from ..registry import UnknownClassError
from .errors import FileFormatError

_ENTRY_KEYS = {"module", "class_name", "config", "registered_name"}


def _is_object(value):
    return isinstance(value, dict) and {"class_name", "config"} <= set(value) <= _ENTRY_KEYS


def _map_leaves(fn, spec):
    """``fn`` applied to each leaf of a per-output structure of losses or metrics."""
    if isinstance(spec, (list, tuple)):
        return [_map_leaves(fn, item) for item in spec]
    if isinstance(spec, dict) and not _is_object(spec):
        return {key: _map_leaves(fn, value) for key, value in spec.items()}
    return fn(spec)


def _serialize_loss(loss):
    if loss is None or isinstance(loss, str):
        return loss
    # a built-in function compile() wrapped (not a loss class, whose config may hold a reduction): its name
    if type(loss) is losses.LossFunctionWrapper and not loss.fn_kwargs and loss.fn in losses.FUNCTIONS:
        return losses.FUNCTIONS[loss.fn]
    if _as_given(loss):  # compile(loss=my_function): saved as that function, as Keras saves it
        return losses.serialize(loss.fn)
    return losses.serialize(loss)


def _as_given(loss):
    """Whether ``loss`` is the wrapper compile() put around a function (no arguments of its own)."""
    if type(loss) is not losses.LossFunctionWrapper or loss.fn_kwargs:
        return False
    return loss.reduction == "sum_over_batch_size" and loss.name == getattr(loss.fn, "__name__", None)


def _serialize_metric(metric):
    return metric if metric is None or isinstance(metric, str) else metrics_lib.serialize(metric)


def _deserialize_loss(leaf):
    return losses.deserialize(leaf) if _is_object(leaf) else leaf


def _deserialize_metric(leaf):
    return metrics_lib.deserialize(leaf) if _is_object(leaf) else leaf


def compile_config(model):
    """The JSON-safe compile settings of ``model``, or None when it is not compiled or part of its settings
    cannot be serialized (a warning says which; compile again after loading)."""
    if getattr(model, "optimizer", None) is None:
        return None
    given = getattr(model, "_compile_config", None)
    try:
        config = {"optimizer": optimizers.serialize(model.optimizer),
                  "loss": _map_leaves(_serialize_loss, model.loss)}
        if given is None:  # a compile without the record of its arguments: its resolved metrics
            config["metrics"] = [metrics_lib.serialize(m) for m in model.compiled_metrics]
        else:
            config["loss_weights"] = given.get("loss_weights")
            for key in ("metrics", "weighted_metrics"):
                config[key] = _map_leaves(_serialize_metric, given.get(key))
    except (ValueError, TypeError) as error:
        warnings.warn(f"model {model.name!r}: the compile settings (and optimizer state) are not saved: {error}; "
                      "call compile() again after loading", stacklevel=3)
        return None
    return config


def _structure(config, key, source):
    value = config.get(key)
    if value is not None and not isinstance(value, (str, list, dict)):
        raise FileFormatError(f"{source}: 'compile' is {str(config)[:80]!r}; its {key!r} must be null, a name, a "
                              "serialized object, or a list (or an object keyed by output name) of them, "
                              f"got {type(value).__name__}")
    return value


def compile_from_config(model, config, source):
    """Compile ``model`` with the saved settings (``FileFormatError`` naming ``source`` if they do not fit)."""
    if not isinstance(config, dict) or not isinstance(config.get("metrics", []), (list, dict, type(None))):
        raise FileFormatError(f"{source}: 'compile' is {str(config)[:80]!r}; expected an object with 'optimizer', "
                              "'loss' and 'metrics' (a list, or an object keyed by output name) configs")
    specs = {key: _structure(config, key, source) for key in ("loss", "metrics", "weighted_metrics")}
    entry = "'optimizer'"
    try:
        kwargs = {}
        for key, read in (("loss", _deserialize_loss), ("metrics", _deserialize_metric),
                          ("weighted_metrics", _deserialize_metric)):
            if key in config:
                entry = repr(key)
                kwargs[key] = None if specs[key] is None else _map_leaves(read, specs[key])
        if config.get("loss_weights") is not None:
            kwargs["loss_weights"] = config["loss_weights"]
        entry = "'optimizer'"
        optimizer = optimizers.deserialize(config["optimizer"])
        entry = "'loss'/'metrics'"
        model.compile(optimizer=optimizer, **kwargs)
    except UnknownClassError as error:  # a custom function or class not given: the message says what to pass
        raise FileFormatError(f"{source}: the compile settings cannot be rebuilt: 'compile' entry {entry}: {error} "
                              "(or load with compile=False to get the model uncompiled)") from None
    except Exception as error:  # whatever a config makes a constructor raise is the file's fault
        raise FileFormatError(f"{source}: the compile settings cannot be rebuilt ({type(error).__name__}: "
                              f"{error}); expected 'optimizer', 'loss' and 'metrics' configs") from None
