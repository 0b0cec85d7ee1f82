"""Symbolic tensors and nodes: the graph that the functional API records.

``nr.Input(shape)`` returns a ``SymbolicTensor``: a placeholder with a ``shape``
(batch axis first, ``None`` where unknown) and a ``dtype`` but no values.
Calling a layer on symbolic tensors computes nothing; it records a ``Node``
(the layer, the arguments it was called with, the symbolic outputs it gave)
and returns new symbolic tensors. ``Model(inputs, outputs)`` then walks the
nodes from the outputs back to the inputs and replays them on real data.
A layer called twice has two nodes, and one set of weights (a shared layer).
"""


from .. import nest
from ..backend.dtypes import as_dtype


class SymbolicTensor:
    """A placeholder for the tensor a layer will produce: shape and dtype, no values.

    Attributes:
        shape: tuple with the batch axis first; ``None`` for a size known only at run time.
        dtype: NumPy dtype name (``"float32"``).
        name: a label (the producing layer's name).
        node: the ``Node`` that produces it; ``index`` is its position among the node's outputs.
    """

    __slots__ = ("shape", "dtype", "name", "node", "index")

    def __init__(self, shape, dtype, name=None):
        self.shape = tuple(None if s is None else int(s) for s in shape)
        self.dtype = as_dtype(dtype).name
        self.name = name
        self.node = None
        self.index = 0

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def layer(self):
        """The layer whose call produced this tensor."""
        return None if self.node is None else self.node.layer

    def __repr__(self):
        return f"<SymbolicTensor shape={self.shape} dtype={self.dtype} name={self.name!r}>"

    def __hash__(self):
        return id(self)

    # a placeholder has no values: say so instead of failing deep inside NumPy
    def _no_values(self, *args, **kwargs):
        raise TypeError(f"{self!r} is symbolic (part of a functional model being defined) and has no values; "
                        "build a model, nr.Model(inputs, outputs), and call it or its predict() on data")

    __array__ = __bool__ = __float__ = __int__ = __len__ = numpy = item = _no_values

    def __iter__(self):
        raise TypeError(f"{self!r} is symbolic: it cannot be iterated over; index it (x[:, 0]) or use "
                        "layers/ops that split it")


def _operator(name, reflected=False):
    def method(self, *others):
        from . import tensor_op  # the op layer is defined above this module

        args = (others[0], self) if reflected else (self, *others)
        return tensor_op.call_op(name, args, {})

    method.__name__ = name
    return method


for _dunder, _op, _reflected in [
    ("__add__", "add", False), ("__radd__", "add", True), ("__sub__", "subtract", False),
    ("__rsub__", "subtract", True), ("__mul__", "multiply", False), ("__rmul__", "multiply", True),
    ("__truediv__", "divide", False), ("__rtruediv__", "divide", True), ("__pow__", "power", False),
    ("__rpow__", "power", True), ("__matmul__", "matmul", False), ("__rmatmul__", "matmul", True),
    ("__neg__", "negative", False), ("__abs__", "abs", False), ("__getitem__", "getitem", False),
    ("__gt__", "greater", False), ("__ge__", "greater_equal", False), ("__lt__", "less", False),
    ("__le__", "less_equal", False), ("__floordiv__", "floor_divide", False), ("__rfloordiv__", "floor_divide", True),
    ("__mod__", "mod", False), ("__rmod__", "mod", True), ("__invert__", "logical_not", False),
]:
    setattr(SymbolicTensor, _dunder, _operator(_op, _reflected))


def is_symbolic(value):
    return isinstance(value, SymbolicTensor)


def any_symbolic(structure):
    """Whether any leaf of ``structure`` is a SymbolicTensor."""
    return any(isinstance(leaf, SymbolicTensor) for leaf in nest.flatten(structure))


class Node:
    """One call of a layer in a functional graph.

    Args:
        layer: the layer called.
        args, kwargs: the call's arguments, with SymbolicTensors where tensors go.
        outputs: the structure of SymbolicTensors the call returned (they are linked to this node).
    """

    def __init__(self, layer, args, kwargs, outputs):
        self.layer = layer
        self.args, self.kwargs = args, kwargs
        self.inputs = [leaf for leaf in nest.flatten([args, kwargs]) if isinstance(leaf, SymbolicTensor)]
        self.outputs = outputs
        self.flat_outputs = nest.flatten(outputs)
        for index, tensor in enumerate(self.flat_outputs):
            tensor.node, tensor.index = self, index
        layer._inbound_nodes.append(self)

    @property
    def parent_nodes(self):
        return [tensor.node for tensor in self.inputs]

    @property
    def is_input(self):
        return not self.inputs and not self.args

    def run(self, values, training=None):
        """Call the layer with real tensors: ``values`` maps ``id(symbolic tensor)`` to its computed Tensor."""
        def fill(leaf):
            return values[id(leaf)] if isinstance(leaf, SymbolicTensor) else leaf

        args = nest.map_structure(fill, self.args)
        kwargs = nest.map_structure(fill, self.kwargs)
        if training is not None and "training" not in kwargs:
            kwargs = {**kwargs, "training": training}
        outputs = self.layer(*args, **kwargs)
        flat = nest.flatten(outputs)
        if len(flat) != len(self.flat_outputs):
            raise ValueError(f"layer {self.layer.name!r} returned {len(flat)} tensors where its symbolic call "
                             f"returned {len(self.flat_outputs)}")
        for symbolic, value in zip(self.flat_outputs, flat):
            values[id(symbolic)] = value

    def __repr__(self):
        return f"<Node of {self.layer.name!r}: {len(self.inputs)} inputs, {len(self.flat_outputs)} outputs>"
