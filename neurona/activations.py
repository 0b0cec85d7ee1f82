"""Activation functions by name, as in ``keras.activations``.

``activations.get("relu")`` returns the differentiable function from
``neurona.ops``; ``None`` and ``"linear"`` give the identity. Layers take
``activation=`` as a name, one of these functions, or any callable on Tensors.
"""

from . import ops
from .registry import Registry

_registry = Registry("activation")


def linear(x):
    """The identity: ``f(x) = x``."""
    return x


for _fn, _aliases in [
    (linear, ("identity",)), (ops.relu, ()), (ops.leaky_relu, ()), (ops.elu, ()), (ops.selu, ()),
    (ops.gelu, ()), (ops.sigmoid, ()), (ops.tanh, ()), (ops.softplus, ()), (ops.softmax, ()),
    (ops.log_softmax, ()),
]:
    _registry.register(_fn, aliases=_aliases)

relu, leaky_relu, elu, selu, gelu = ops.relu, ops.leaky_relu, ops.elu, ops.selu, ops.gelu
sigmoid, tanh, softplus, softmax, log_softmax = ops.sigmoid, ops.tanh, ops.softplus, ops.softmax, ops.log_softmax


def get(identifier):
    """The activation function for a name, a function, or None (linear)."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        return _registry.lookup(identifier)
    if callable(identifier):
        return identifier
    raise TypeError(f"activation must be a name, a callable or None, got {identifier!r}")


def serialize(fn):
    """The registered name of ``fn`` (JSON-safe); custom callables cannot be serialized."""
    name = _registry.name_of(fn) if fn in _registry else None
    if name is None:
        raise ValueError(f"cannot serialize activation {fn!r}: it is not a registered activation")
    return name


def names():
    """Valid activation names."""
    return _registry.names()
