"""Functional models: ``Model(inputs, outputs)`` over the graph that calling layers on ``nr.Input`` records.

The graph is the ``Node`` objects (``layers/symbolic.py``) between the given
inputs and outputs. Building the model walks it once from the outputs back to
the inputs, in an iterative depth-first search, and keeps the nodes in an order
where every node comes after the nodes it reads from; calling the model
replays them in that order on real tensors. A layer that appears in several
nodes is shared: one set of weights, used (and differentiated) at each call, so
its gradient is the sum over its uses.
"""

from .. import nest, ops
from ..layers.core.input import InputLayer
from ..layers.symbolic import SymbolicTensor
from .model import Model


def _check_symbolic(structure, what):
    flat = nest.flatten(structure)
    if not flat:
        raise ValueError(f"Model: {what} is empty; expected nr.Input(...) tensors and what layers made of them")
    for item in flat:
        if not isinstance(item, SymbolicTensor):
            raise TypeError(f"Model: {what} must be symbolic tensors (from nr.Input(...) and calls of layers on "
                            f"them), got {type(item).__name__}: {item!r:.80}")
    return flat


def _graph_nodes(flat_inputs, flat_outputs):
    """The nodes between inputs and outputs, each after the nodes it reads from; refuses a disconnected graph."""
    inputs = {id(t) for t in flat_inputs}
    order, done = [], set()
    stack = [(t, False) for t in reversed(flat_outputs)]
    while stack:
        tensor, expanded = stack.pop()
        if id(tensor) in inputs:
            continue
        node = tensor.node
        if expanded:
            if id(node) not in done:
                done.add(id(node))
                order.append(node)
            continue
        if id(node) in done:
            continue
        if node.is_input:
            raise ValueError(f"Model: the graph is disconnected: the output needs input {node.layer.name!r} "
                             f"(shape {tensor.shape}), which is not among the model's inputs "
                             f"{[t.name for t in flat_inputs]}")
        stack.append((tensor, True))
        stack.extend((parent, False) for parent in reversed(node.inputs))
    return order


class Functional(Model):
    """A model defined by its symbolic inputs and outputs (Keras's functional API).

    Args:
        inputs: a symbolic tensor from ``nr.Input``, or a list or dict of them.
        outputs: what layers computed from them: a tensor, or a list or dict of tensors.
        name: the model's name.

    Example:
        >>> import neurona as nr
        >>> inputs = nr.Input((784,))
        >>> outputs = nr.layers.Dense(10, activation="softmax")(nr.layers.Dense(64, activation="relu")(inputs))
        >>> model = nr.Model(inputs, outputs)
        >>> model.count_params()
        50890
    """

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        super().__init__(name=name, trainable=trainable, **kwargs)
        if isinstance(inputs, tuple):
            inputs = list(inputs)
        if isinstance(outputs, tuple):
            outputs = list(outputs)
        self._input_structure, self._output_structure = inputs, outputs
        self._flat_inputs = _check_symbolic(inputs, "inputs")
        self._flat_outputs = _check_symbolic(outputs, "outputs")
        if len({id(t) for t in self._flat_inputs}) != len(self._flat_inputs):
            raise ValueError("Model: the same input tensor is given twice in inputs")
        for tensor in self._flat_inputs:
            if not isinstance(tensor.layer, InputLayer):
                raise ValueError(f"Model: inputs must be nr.Input(...) tensors; {tensor!r} is the output of layer "
                                 f"{tensor.layer.name!r}. To run part of a model, start the new part with "
                                 "nr.Input(shape) and call its layers on it")
        self._nodes = _graph_nodes(self._flat_inputs, self._flat_outputs)
        layers, seen = [], set()
        for layer in [t.node.layer for t in self._flat_inputs] + [node.layer for node in self._nodes]:
            if id(layer) not in seen:
                seen.add(id(layer))
                layers.append(layer)
        names = [layer.name for layer in layers]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"Model: layer names must be unique within a model, {duplicates} appear more than "
                             "once; give each layer its own name=")
        self._layers = layers
        if not self._trainable:  # Model(inputs, outputs, trainable=False) freezes every layer of the graph
            self.trainable = False
        self.built = True
        self._built_input_shape = nest.map_structure(lambda t: t.shape, inputs)
        self._built_output_shape = nest.map_structure(lambda t: t.shape, outputs)

    # ---- structure ----------------------------------------------------------------------------------
    @property
    def layers(self):
        """Every layer of the graph (its InputLayers first), each once, in the order they run."""
        return list(self._layers)

    @property
    def inputs(self):
        return list(self._flat_inputs)

    @property
    def outputs(self):
        return list(self._flat_outputs)

    @property
    def input(self):
        return self._input_structure

    @property
    def output(self):
        return self._output_structure

    @property
    def input_names(self):
        return [t.node.layer.name for t in self._flat_inputs]

    @property
    def output_names(self):
        return [t.node.layer.name for t in self._flat_outputs]

    # ---- calling -------------------------------------------------------------------------------------
    def _flat_values(self, inputs):
        """The call's inputs in the order of ``self.inputs``: a matching structure, or a dict by input name."""
        n = len(self._flat_inputs)
        if isinstance(inputs, dict):
            by_name = dict(zip(self.input_names, self._flat_inputs))
            if isinstance(self._input_structure, dict):
                keys = sorted(self._input_structure)  # nest.flatten order
                values = [inputs[k] for k in keys if k in inputs]
                missing = [k for k in keys if k not in inputs]
            else:
                values = [inputs[k] for k in by_name if k in inputs]
                missing = [k for k in by_name if k not in inputs]
            if missing:
                raise ValueError(f"model {self.name!r} needs inputs {missing}, got a dict with keys {sorted(inputs)}")
            return values
        flat = nest.flatten(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        if len(flat) != n:
            raise ValueError(f"model {self.name!r} has {n} input(s) {self.input_names}, got {len(flat)} "
                             f"tensor(s); pass {'one array' if n == 1 else f'a list (or dict) of {n} arrays'}")
        return flat

    def _cast_inputs(self, inputs):
        """Inputs stay as they are here: ``call`` casts each float input to its ``Input``'s dtype, as Keras 3."""
        return inputs

    def _check_shape(self, symbolic, value):
        expected, got = symbolic.shape, tuple(value.shape)
        if len(expected) != len(got) or any(e is not None and e != g for e, g in zip(expected[1:], got[1:])):
            raise ValueError(f"model {self.name!r}: input {symbolic.node.layer.name!r} expects shape {expected}, "
                             f"got {got}")

    def call(self, inputs, training=None):
        values = {}
        for symbolic, value in zip(self._flat_inputs, self._flat_values(inputs)):
            self._check_shape(symbolic, value)
            if value.dtype != symbolic.dtype:  # each input in its Input's dtype, as Keras converts them
                value = ops.cast(value, symbolic.dtype)
            values[id(symbolic)] = value
        for node in self._nodes:
            node.run(values, training=training)
        return nest.pack_like(self._output_structure, [values[id(t)] for t in self._flat_outputs])

    def compute_output_spec(self, *args, **kwargs):
        """Called on symbolic tensors as a nested model: its own output shapes when the input shapes match."""
        inputs = args[0]
        given = self._flat_values(inputs)
        if all(isinstance(g, SymbolicTensor) and g.shape[1:] == s.shape[1:]
               for g, s in zip(given, self._flat_inputs)):
            batch = given[0].shape[0]  # the batch axis of what it is called on, not of its own Inputs
            return nest.map_structure(lambda t: SymbolicTensor((batch,) + t.shape[1:], t.dtype, name=self.name),
                                      self._output_structure)
        return super().compute_output_spec(*args, **kwargs)

    # ---- config ---------------------------------------------------------------------------------------
    def _node_index(self):
        """``{id(node): index}``: the position of each node among its layer's nodes in this model."""
        index, counts = {}, {}
        for tensor in self._flat_inputs:
            index[id(tensor.node)] = 0
        for node in self._nodes:
            key = id(node.layer)
            index[id(node)] = counts.get(key, 0)
            counts[key] = counts.get(key, 0) + 1
        return index

    def get_config(self):
        """Keras 3's functional config: every layer with the calls (nodes) that feed it, inputs and outputs."""
        from ..layers import serialize

        node_index = self._node_index()

        def history(tensor):
            return [tensor.node.layer.name, node_index[id(tensor.node)], tensor.index]

        def argument(value):
            if isinstance(value, SymbolicTensor):
                return {"class_name": "__keras_tensor__",
                        "config": {"shape": list(value.shape), "dtype": value.dtype,
                                   "keras_history": history(value)}}
            return value

        layer_configs = []
        for layer in self._layers:
            nodes = [n for n in self._nodes if n.layer is layer]
            entry = serialize(layer)
            entry["name"] = layer.name
            entry["inbound_nodes"] = [{"args": nest.map_structure(argument, list(n.args)),
                                       "kwargs": nest.map_structure(argument, dict(n.kwargs))} for n in nodes]
            layer_configs.append(entry)
        return {"name": self.name, "trainable": self._trainable, "layers": layer_configs,
                "input_layers": nest.map_structure(history, self._input_structure),
                "output_layers": nest.map_structure(history, self._output_structure)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuild the graph from ``get_config()``; ``custom_objects``: ``{class name: class}`` for the custom
        layers it holds (found before any ``CustomObjectScope`` and the registry)."""
        from . import functional_config

        return functional_config.rebuild(cls, config, custom_objects)


# what tools below the models (utils.plot_model) read to draw a model as a graph, without importing models
Functional.graph_kind = "functional"


__all__ = ["Functional", "InputLayer"]
