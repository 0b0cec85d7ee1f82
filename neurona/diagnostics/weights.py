"""Per-weight figures: the initializer's theoretical std beside the measured one, gradients, update ratios.

The update ratio ``||delta w|| / ||w||`` of one optimizer step is the rule of
thumb of Karpathy's CS231n notes: about ``1e-3`` is healthy; much smaller and
the layer barely learns, much larger and the step overwrites what the weight holds.
"""

import math

import numpy

from .. import optimizers
from ..autograd import Variable
from . import statistics as st


def initializer_name(init):
    """``"HeNormal"``, ``"RandomNormal(stddev=0.01)"`` ... for the record; None when unknown."""
    if init is None:
        return None
    config = init.get_config() if hasattr(init, "get_config") else {}
    shown = {key: value for key, value in config.items() if key in ("stddev", "value", "minval", "maxval",
                                                                    "scale", "mode", "gain")}
    name = getattr(init, "__name__", None) if not hasattr(init, "get_config") else type(init).__name__
    name = name or type(init).__name__
    return name + ("(" + ", ".join(f"{k}={v}" for k, v in shown.items()) + ")" if shown else "")


def expected_std(init, shape):
    """The std the initializer draws with for ``shape`` (its ``expected_std``), None when it cannot say."""
    method = getattr(init, "expected_std", None)
    if method is None:
        return None
    try:
        value = method(tuple(shape))
    except (NotImplementedError, TypeError, ValueError):
        return None
    return None if value is None else float(value)


def short_name(var, layer):
    name = var.name or "weight"
    prefix = layer.name + "/"
    return name[len(prefix):] if name.startswith(prefix) else name


def weight_record(var, layer, update_ratio=None):
    """The figures of one weight (JSON-safe)."""
    values = st.host(var)
    mean, std = st.moments(values)
    record = {"name": short_name(var, layer), "shape": list(var.shape), "trainable": bool(var.trainable),
              "initializer": initializer_name(var.initializer),
              "expected_std": expected_std(var.initializer, var.shape), "mean": mean, "std": std,
              "grad_std": None, "grad_rms": None, "update_ratio": update_ratio}
    if var.grad is not None:
        grad = st.host(var.grad)
        record["grad_std"], record["grad_rms"] = st.moments(grad)[1], st.rms(grad)
    return record


def kernel_of(layer):
    """The layer's main weight: its ``kernel`` (or first weight whose name ends in kernel), else its first."""
    kernel = getattr(layer, "kernel", None)
    if isinstance(kernel, Variable):
        return kernel
    weights = layer.weights
    for w in weights:
        if (w.name or "").endswith("kernel"):
            return w
    return weights[0] if weights else None


def update_ratios(variables, optimizer=None):
    """``{id(var): ||step|| / ||var||}`` of one step of a fresh copy of ``optimizer`` on the current gradients.

    The model's weights are not touched: the step is taken on copies, by an
    optimizer rebuilt from ``optimizer``'s config (so its slots start empty: the
    ratio of the first step of training). Default ``SGD(learning_rate=0.01)``.
    """
    variables = [v for v in variables if v.grad is not None and v.trainable]
    if not variables:
        return {}
    if isinstance(optimizer, (str, dict)):  # a name or config, as compile() takes them
        optimizer = optimizers.get(optimizer)
    fresh = optimizers.get(optimizers.serialize(optimizer)) if optimizer is not None else \
        optimizers.SGD(learning_rate=0.01)
    copies = []
    for var in variables:
        copy = Variable(var.data.copy(), name=var.name)
        copy.grad = var.grad.copy()
        copies.append(copy)
    before = [st.host(c).astype(numpy.float64) for c in copies]
    fresh.apply(copies)
    ratios = {}
    for var, copy, old in zip(variables, copies, before):
        norm = float(numpy.linalg.norm(old))
        step = float(numpy.linalg.norm(st.host(copy).astype(numpy.float64) - old))
        ratios[id(var)] = step / norm if norm > 0 else (math.inf if step > 0 else 0.0)
    return ratios
