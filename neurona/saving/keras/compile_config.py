"""Compile settings both ways: Keras 3's ``compile_config`` (Keras 2's ``training_config``) <-> ``model.compile``.

Keras 3.15.1 writes, beside the model's config in ``model.to_json()`` and a ``.keras`` archive's ``config.json``::

    {"optimizer": {"module": "keras.optimizers", "class_name": "Adam", "config": {...}, "registered_name": null},
     "loss": "mse" or {"module": "keras.losses", "class_name": ..., "config": {...}}, "loss_weights": null,
     "metrics": ["accuracy", ...], "weighted_metrics": null, "run_eagerly": false, "steps_per_execution": 1,
     "jit_compile": false}

and a legacy ``.h5`` file's ``training_config`` attribute holds the same entries with the optimizer under
``optimizer_config`` (``{"class_name", "config"}``). Neurona's own compile settings (compile_settings.py) are
already Keras-shaped (``{"class_name", "config"}`` objects, names for strings), so writing adds Keras's modules;
reading rebuilds the optimizer, losses and metrics Neurona has (layer_options.py) and refuses the others,
naming them.
"""

from .. import compile_settings
from ..errors import FileFormatError
from . import layer_options as opts
from .layer_options import refuse

_COMPILE_KEYS = ("optimizer", "loss", "loss_weights", "metrics", "weighted_metrics")
_EXECUTION_KEYS = ("run_eagerly", "steps_per_execution", "jit_compile", "auto_scale_loss")  # no effect on results


def _leaves(fn, spec, where):
    """``fn`` on each loss or metric of a per-output structure (a list or a dict of outputs, nested)."""
    if isinstance(spec, list):
        return [_leaves(fn, item, f"{where}[{index}]") for index, item in enumerate(spec)]
    if isinstance(spec, dict) and "class_name" not in spec:
        return {key: _leaves(fn, item, f"{where}.{key}") for key, item in spec.items()}
    return fn(spec, where)


def compile_from_keras(compile_config, source):
    """The keyword arguments of ``model.compile`` for Keras 3's ``compile_config`` (Keras 2's ``training_config``
    in that shape): the optimizer rebuilt as Neurona's object, losses and metrics as names or Neurona's objects,
    ``loss_weights`` as they are. Execution settings (run_eagerly, jit_compile ...) are left out."""
    where = f"{source}: compile_config"
    if not isinstance(compile_config, dict):
        raise FileFormatError(f"{where} is {str(compile_config)[:80]!r}; expected an object")
    for key, value in compile_config.items():
        if key not in _COMPILE_KEYS + _EXECUTION_KEYS:
            refuse(where, key, value, f"Neurona's compile takes {', '.join(_COMPILE_KEYS)}")
    out = {}
    if compile_config.get("optimizer") is not None:
        out["optimizer"] = opts.optimizer_from_keras(compile_config["optimizer"], where)
    if compile_config.get("loss") is not None:
        out["loss"] = _leaves(lambda leaf, at: opts.compile_object_from_keras("loss", leaf, where, at),
                              compile_config["loss"], "loss")
    for key in ("metrics", "weighted_metrics"):
        if compile_config.get(key) is not None:
            out[key] = _leaves(lambda leaf, at: opts.compile_object_from_keras("metric", leaf, where, at),
                               compile_config[key], key)
    if compile_config.get("loss_weights") is not None:
        out["loss_weights"] = compile_config["loss_weights"]
    return out


# ---- Neurona -> Keras -----------------------------------------------------------------------------------------
_MODULES = {"optimizer": "keras.optimizers", "schedule": "keras.optimizers.schedules", "loss": "keras.losses",
            "metric": "keras.metrics"}


def _keras_object(value, kind):
    """A Neurona ``{"class_name", "config"}`` entry with Keras's ``module`` and ``registered_name``; a name as is."""
    if not isinstance(value, dict):
        return value
    config = dict(value.get("config") or {})
    if kind == "optimizer" and isinstance(config.get("learning_rate"), dict):
        config["learning_rate"] = _keras_object(config["learning_rate"], "schedule")
    if kind == "optimizer" and isinstance(config.get("inner_optimizer"), dict):  # a LossScaleOptimizer's
        config["inner_optimizer"] = _keras_object(config["inner_optimizer"], "optimizer")
    return {"module": _MODULES[kind], "class_name": value["class_name"], "config": config, "registered_name": None}


def _map(fn, spec):
    if isinstance(spec, list):
        return [_map(fn, item) for item in spec]
    if isinstance(spec, dict) and "class_name" not in spec:
        return {key: _map(fn, item) for key, item in spec.items()}
    return fn(spec)


def compile_to_keras(model):
    """Keras 3's ``compile_config`` for a compiled ``model`` (None when it is not compiled)."""
    settings = compile_settings.compile_config(model)
    if settings is None:
        return None
    return {"optimizer": _keras_object(settings["optimizer"], "optimizer"),
            "loss": _map(lambda leaf: _keras_object(leaf, "loss"), settings.get("loss")),
            "loss_weights": settings.get("loss_weights"),
            "metrics": _map(lambda leaf: _keras_object(leaf, "metric"), settings.get("metrics")),
            "weighted_metrics": _map(lambda leaf: _keras_object(leaf, "metric"), settings.get("weighted_metrics")),
            "run_eagerly": False, "steps_per_execution": 1, "jit_compile": False}


def training_config(compile_config):
    """A legacy ``.h5`` file's ``training_config`` for Keras 3's ``compile_config``."""
    optimizer = compile_config["optimizer"]
    return {"loss": compile_config["loss"], "metrics": compile_config["metrics"],
            "weighted_metrics": compile_config["weighted_metrics"], "loss_weights": compile_config["loss_weights"],
            "optimizer_config": {"class_name": optimizer["class_name"], "config": optimizer["config"]}}
