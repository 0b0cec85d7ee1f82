"""``register_keras_serializable``: Keras's decorator, registering custom objects in Neurona's registries.

Keras programs mark a custom class or function with
``@keras.saving.register_keras_serializable(package="Custom")`` so that a saved
model can be rebuilt from its config. Here the same decorator puts the object
in the registry of its kind, where loading looks it up by name (nothing is
imported by name from a file, no code is saved):

- a ``Layer`` (or ``Model``) subclass: the layers registry (``neurona.layers.register``);
- a ``Metric`` subclass: the metrics registry; a ``Loss`` subclass: the losses registry;
- an ``Initializer`` subclass: the initializers registry; a ``Regularizer`` subclass: the regularizers';
- a ``LearningRateSchedule`` subclass: the schedules registry;
- a function: ``neurona.layers.register_function`` (so that a ``Lambda`` using it can be saved), and
  under ``"package>name"`` for every other kind (an activation, loss, metric ... function saved by name).

The registered name is Keras's ``"package>name"`` (``name`` defaults to the
class's or function's ``__name__``); configs keep naming a class by its
``__name__``, under which it is registered too, so two registered classes need
distinct ``__name__``s. ``get_registered_name`` and ``get_registered_object``
give Keras's two look-ups.
"""

from .. import initializers, layers, losses, metrics, regularizers
from ..arguments import shown
from ..registry import custom_object, register_serializable_function


def _kinds():
    """``[(base class, registry, kind name)]`` for the classes the decorator takes."""
    from ..initializers.base import Initializer
    from ..metrics.base import Metric
    from ..optimizers import schedules
    from ..regularizers import Regularizer

    return [(layers.Layer, layers._registry, "layer"), (Metric, metrics.registry, "metric"),
            (losses.Loss, losses.registry, "loss"), (Initializer, initializers._registry, "initializer"),
            (Regularizer, regularizers._registry, "regularizer"),
            (schedules.LearningRateSchedule, schedules.registry, "learning-rate schedule")]


def _registry_of(cls):
    for base, registry, kind in _kinds():
        if isinstance(cls, type) and issubclass(cls, base):
            return registry, kind
    return None, None


def register_keras_serializable(package="Custom", name=None):
    """Decorator registering a custom class or function under ``"package>name"`` (Keras's signature).

    Example:
        >>> @nr.saving.register_keras_serializable(package="MyModels")
        ... class Classifier(nr.Model):
        ...     def __init__(self, units=8, **kwargs):
        ...         super().__init__(**kwargs)
        ...         self.units, self.dense = units, nr.layers.Dense(units)
        ...     def call(self, x):
        ...         return self.dense(x)
        ...     def get_config(self):
        ...         return {**super().get_config(), "units": self.units}

    Raises:
        TypeError: ``package`` or ``name`` is not a string, or the object is neither a function nor a
            subclass of Layer, Metric, Loss, Initializer, Regularizer or LearningRateSchedule.
        ValueError: ``package`` contains ``'>'``, or the name is taken by another object.
    """
    if not isinstance(package, str):
        raise TypeError(f"register_keras_serializable: package must be a string, got {shown(package)}")
    if ">" in package:
        raise ValueError(f"register_keras_serializable: package must not contain '>', got {package!r}")
    if name is not None and not isinstance(name, str):
        raise TypeError(f"register_keras_serializable: name must be None or a string, got {shown(name)}")

    def decorator(obj):
        label = name or getattr(obj, "__name__", None)
        if isinstance(obj, type):
            registry, _ = _registry_of(obj)
            if registry is None:
                raise TypeError(f"register_keras_serializable: {obj.__name__} is not a subclass of Layer, Model, "
                                "Metric, Loss, Initializer, Regularizer or LearningRateSchedule, the kinds of "
                                "objects a saved model rebuilds from their configs")
            return registry.register(obj, name=f"{package}>{label}")
        if callable(obj):
            layers.register_function(obj, name=label)
            # findable as an activation, loss, metric, initializer, regularizer or schedule function too
            return register_serializable_function(obj, f"{package}>{label}")
        raise TypeError(f"register_keras_serializable decorates a class or a function, got {shown(obj)}")

    return decorator


def _functions():
    from ..layers.core import lambda_layer

    return lambda_layer._registered  # name -> function, the table register_function fills


def get_registered_name(obj):
    """The name ``obj`` (a class, an instance or a function) was registered under with this decorator
    (``"package>name"``; a function's plain name), else its class's or function's ``__name__``."""
    for label, fn in _functions().items():
        if fn is obj:
            return label
    cls = obj if isinstance(obj, type) else type(obj)
    registry, _ = _registry_of(cls)
    canonical = registry.name_of(cls) if registry is not None and cls in registry else None
    if canonical and ">" in canonical:
        return canonical
    return getattr(obj, "__name__", cls.__name__)


def get_registered_object(name, custom_objects=None, module_objects=None):
    """The class or function registered as ``name`` (``"package>name"`` or its ``__name__``), else None.

    ``custom_objects``, then the active ``custom_object_scope``s and ``get_custom_objects()``, then
    ``module_objects`` (dicts name -> object) are looked in first, as in Keras.
    """
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    found = custom_object(name)
    if found is not None:
        return found
    if module_objects and name in module_objects:
        return module_objects[name]
    if not isinstance(name, str):
        return None
    for _, registry, _ in _kinds():
        found = registry.find(name)
        if found is not None:
            return found
    return _functions().get(name)


__all__ = ["register_keras_serializable", "get_registered_name", "get_registered_object"]
