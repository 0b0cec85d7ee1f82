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


def exponential(x):
    """``f(x) = e^x`` (Keras's ``exponential``)."""
    return ops.exp(x)


for _fn, _aliases in [
    (linear, ("identity",)), (ops.relu, ()), (ops.leaky_relu, ()), (ops.elu, ()), (ops.selu, ()),
    (ops.gelu, ()), (ops.sigmoid, ()), (ops.tanh, ()), (ops.softplus, ()), (ops.softmax, ()),
    (ops.log_softmax, ()), (ops.relu6, ()), (ops.hard_sigmoid, ()), (ops.softsign, ()),
    (ops.silu, ("swish",)), (ops.hard_silu, ("hard_swish",)), (ops.mish, ()), (exponential, ()),
    (ops.celu, ()), (ops.glu, ()), (ops.log_sigmoid, ()),
]:
    _registry.register(_fn, aliases=_aliases)

relu, leaky_relu, elu, selu, gelu = ops.relu, ops.leaky_relu, ops.elu, ops.selu, ops.gelu
sigmoid, tanh, softplus, softmax, log_softmax = ops.sigmoid, ops.tanh, ops.softplus, ops.softmax, ops.log_softmax
relu6, hard_sigmoid, softsign, silu, hard_silu, mish = ops.relu6, ops.hard_sigmoid, ops.softsign, ops.silu, \
    ops.hard_silu, ops.mish
swish, hard_swish = silu, hard_silu
celu, glu, log_sigmoid = ops.celu, ops.glu, ops.log_sigmoid  # relu is ops.relu: Keras's relu(x, negative_slope, ...)


def output_shape(fn, shape):
    """The shape ``fn`` gives for inputs of ``shape``: elementwise activations keep it; ``glu`` halves the last
    axis (for the layers that declare their output shape, Dense and Activation)."""
    if fn is not glu or not shape or shape[-1] is None:
        return shape
    return tuple(shape[:-1]) + (shape[-1] // 2,)


def get(identifier):
    """The activation function for a name, a function, a serialized entry (``serialize``'s dict), or None
    (linear)."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        return _registry.lookup(identifier)
    if isinstance(identifier, dict):
        return _registry.deserialize(identifier)
    if callable(identifier):
        return identifier
    raise TypeError(f"activation must be a name, a callable, a serialized activation (dict) or None, "
                    f"got {identifier!r}")


def serialize(fn):
    """JSON-safe: a built-in's name; a custom function in Keras's layout (``{"module", "class_name":
    "function", "config": its name, "registered_name"}``), which loading finds through ``custom_objects``;
    a callable object by its class and ``get_config()``. A lambda is refused (it has no name)."""
    name = _registry.name_of(fn) if fn in _registry else None
    return name if name is not None else _registry.serialize(fn)


def deserialize(config):
    """Inverse of ``serialize``: the function (or object) a name or an entry names."""
    return get(config)


def names():
    """Valid activation names."""
    return _registry.names()
