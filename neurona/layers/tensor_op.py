"""``TensorOp``: an op of ``nr.ops`` applied to symbolic tensors, as a node of a functional graph.

``x + y``, ``x[:, 0]`` or ``nr.ops.concatenate([a, b])`` on symbolic tensors
become a ``TensorOp`` layer that remembers the op's name and its non-tensor
arguments, so that the graph can be replayed (and saved: the op is looked up
by name in ``neurona.ops``, nothing is pickled).
"""

import math

from .. import nest, ops
from ..naming import unique_name
from ..ops import dispatch
from .base import Layer
from .symbolic import SymbolicTensor

# names of Python operators that ``nr.ops`` calls differently
_ALIASES = {"subtract": "sub", "multiply": "mul", "divide": "div", "power": "pow", "negative": "neg"}


def _function(name):
    fn = getattr(ops, name, None) or getattr(ops, _ALIASES.get(name, ""), None)
    if fn is None or not callable(fn):
        raise ValueError(f"TensorOp: neurona.ops has no function {name!r}")
    return fn


class _Slot:
    """Where the i-th tensor input goes in the op's arguments."""

    __slots__ = ("index",)

    def __init__(self, index):
        self.index = index


def _encode(value):
    """Arguments as JSON-safe values: slots, slices, Ellipsis and None kept recognisable."""
    if isinstance(value, _Slot):
        return {"__tensor__": value.index}
    if isinstance(value, slice):
        return {"__slice__": [value.start, value.stop, value.step]}
    if value is Ellipsis:
        return {"__ellipsis__": True}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


def _decode(value, tensors):
    if isinstance(value, dict):
        if "__tensor__" in value:
            return tensors[value["__tensor__"]]
        if "__slice__" in value:
            return slice(*value["__slice__"])
        if "__ellipsis__" in value:
            return Ellipsis
        if "__tuple__" in value:
            return tuple(_decode(v, tensors) for v in value["__tuple__"])
        return {k: _decode(v, tensors) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v, tensors) for v in value]
    return value


class TensorOp(Layer):
    """Applies ``neurona.ops.<function>`` to its inputs and the stored constant arguments.

    Args:
        function: the op's name in ``neurona.ops`` (``"add"``, ``"getitem"``, ``"concatenate"`` ...).
        arguments: ``[args, kwargs]`` in encoded form (``{"__tensor__": i}`` marks the i-th input).
    """

    def __init__(self, function, arguments, name=None, **kwargs):
        _function(function)
        super().__init__(name=name or unique_name(function), **kwargs)
        self.function, self.arguments = function, arguments

    def _cast_inputs(self, inputs):
        """No cast: an op keeps its operands' dtypes (float64 stays float64), as Keras's ops do."""
        return inputs

    def call(self, inputs, training=None):
        tensors = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        args, kwargs = _decode(self.arguments, tensors)
        return _function(self.function)(*args, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.update(function=self.function, arguments=self.arguments)
        return config


def call_op(name, args, kwargs):
    """``neurona.ops.<name>(*args, **kwargs)`` where some arguments are symbolic: a TensorOp node."""
    tensors = []

    def slot(leaf):
        if isinstance(leaf, SymbolicTensor):
            tensors.append(leaf)
            return _Slot(len(tensors) - 1)
        return leaf

    template = nest.map_structure(slot, [list(args), dict(kwargs)])
    return TensorOp(name, _encode(template))(tensors)


def _has_symbolic(values):
    for value in values:
        if type(value) is SymbolicTensor:
            return True
        if isinstance(value, (list, tuple)) and _has_symbolic(value):
            return True
        if isinstance(value, dict) and _has_symbolic(value.values()):
            return True
    return False


def symbolic_hook(fn, args, kwargs):
    """For ``neurona.ops.dispatch``: an op called with symbolic arguments becomes a TensorOp node.

    Runs before every public op, so the test is a plain loop over the arguments (no structure copies).
    """
    if not _has_symbolic(args) and not (kwargs and _has_symbolic(kwargs.values())):
        return NotImplemented
    if fn.__name__ in _SHAPE_FACTS and args and type(args[0]) is SymbolicTensor:
        return _SHAPE_FACTS[fn.__name__](args[0])
    return call_op(fn.__name__, args, kwargs)


def _size(tensor):
    return None if any(s is None for s in tensor.shape) else int(math.prod(tensor.shape))


# facts a symbolic tensor knows itself (ops.shape(x) is x.shape, with None where unknown): not graph nodes
_SHAPE_FACTS = {"shape": lambda t: t.shape, "ndim": lambda t: t.ndim, "size": _size}


dispatch.symbolic_hook = symbolic_hook  # from now on, nr.ops.<fn>(symbolic tensors) records a node
