"""Neurona: deep learning from first principles.

Its own backpropagation engine over NumPy (CPU) and CuPy (GPU), a
Keras-compatible model API, and weight initialization made visible::

    import neurona as nr
    from neurona import layers, models

    model = models.Sequential([
        layers.Input((784,)),
        layers.Dense(128, activation="relu", kernel_initializer="he_normal"),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
"""

from . import (
    activations,
    backend,
    callbacks,
    compression,
    config,
    datasets,
    distributed,
    initializers,
    layers,
    losses,
    metrics,
    mixed_precision,
    model_selection,
    models,
    ops,
    optimizers,
    random,
    regularizers,
    utils,
)
from .autograd import Function, GradcheckError, Tensor, Variable, enable_grad, gradcheck, no_grad
from .backend import floatx, get_device, seed, set_device, set_floatx
from .layers import Input, InputLayer, Layer
from .models import Model, Sequential

__version__ = "0.1.0"

# Subpackages that sit above the model layer (DESIGN.md) and bring heavier imports of their own: loaded on first use
# of ``nr.<name>``, so ``import neurona as nr; nr.saving.load_model(...)`` works without slowing every import.
_LAZY_SUBPACKAGES = ("saving", "diagnostics", "serving", "lab")


def __getattr__(name):
    if name in _LAZY_SUBPACKAGES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY_SUBPACKAGES))

__all__ = [
    "activations", "backend", "callbacks", "compression", "config", "datasets", "distributed", "initializers",
    "layers", "losses",
    "metrics", "mixed_precision",
    "model_selection", "models", "ops", "optimizers", "random", "regularizers", "saving", "diagnostics", "serving",
    "lab",
    "utils",
    "Function",
    "GradcheckError", "Tensor", "Variable",
    "enable_grad", "gradcheck", "no_grad", "Input", "InputLayer", "Layer", "Model", "Sequential", "floatx",
    "get_device", "seed", "set_device", "set_floatx",
    "__version__",
]
