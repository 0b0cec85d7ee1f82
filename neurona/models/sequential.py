"""``Sequential``: a plain stack of layers, each feeding the next.

Once its input shape is known (an ``Input`` first, a first layer with
``input_shape=``, an explicit ``build`` or the first call), the model also
records the stack as a functional graph, so that ``model.inputs``,
``model.outputs`` and every ``layer.output`` exist, as in Keras 3, and a
feature extractor ``Model(model.inputs, model.get_layer("x").output)`` works.
Calling the model runs the layers one after the other.
"""

from ..layers import Layer
from ..layers import deserialize as deserialize_layer
from ..layers import serialize as serialize_layer
from ..layers.core.input import InputLayer
from ..layers.symbolic import SymbolicTensor
from .model import Model


class Sequential(Model):
    """A linear stack of layers.

    Args:
        layers: initial layers; the first may be ``Input(shape)``, or have
            ``input_shape=`` / ``input_dim=``, so that the model is built at once.
        trainable: whether the model's weights train.
        name: model name.

    Example:
        >>> from neurona import layers, models
        >>> model = models.Sequential([layers.Input((784,)), layers.Dense(10, activation="softmax")])
        >>> model.count_params()
        7850
    """

    def __init__(self, layers=None, trainable=True, name=None, **kwargs):
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._layers = []
        self._input_shape = None  # one sample's shape, once known
        self._graph = None  # (input tensor, output tensor, nodes) of the recorded stack
        if layers is not None and not isinstance(layers, (list, tuple)):
            raise TypeError(f"Sequential takes a list of layers, got {type(layers).__name__}")
        for layer in layers or []:
            self.add(layer, rebuild=False)
        self._record_graph()

    @property
    def layers(self):
        """The layers (an InputLayer is not listed, as in Keras)."""
        return [layer for layer in self._layers if not isinstance(layer, InputLayer)]

    def add(self, layer, rebuild=True):
        """Append a layer (or a model); the stack is rebuilt at once if the input shape is known."""
        if isinstance(layer, SymbolicTensor):
            if not isinstance(layer.layer, InputLayer):
                raise TypeError(f"Sequential.add() takes a layer or nr.Input(...), got the output of layer "
                                f"{layer.layer.name!r}; use the functional API (nr.Model(inputs, outputs)) for that")
            layer = layer.layer
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add() takes a Layer (or a Model), got {layer!r}")
        if isinstance(layer, InputLayer) and self._layers:
            raise ValueError("an Input can only be the first entry of a Sequential model")
        if any(existing.name == layer.name for existing in self._layers):
            raise ValueError(f"model {self.name!r} already has a layer named {layer.name!r}")
        if not self._layers and layer.input_shape_arg is not None:
            self._input_shape = layer.input_shape_arg
        elif not self._layers and isinstance(layer, Model) and layer.built and _single_shape(layer.input_shape):
            self._input_shape = tuple(layer.input_shape)[1:]
        self._layers.append(layer)
        if not self._trainable:  # a frozen model freezes what is added to it
            layer.trainable = False
        if rebuild:
            try:
                self._record_graph()
            except Exception:
                self._layers.pop()  # nothing half-added: the model stays as it was
                self._record_graph()
                raise

    def pop(self, rebuild=True):
        """Remove and return the last layer."""
        if not self.layers:
            raise ValueError(f"model {self.name!r} has no layers to pop")
        layer = self._layers.pop()
        if rebuild:
            self._record_graph()
        return layer

    def _forget_graph(self):
        if self._graph is not None:
            for node in self._graph[2]:
                node.layer._inbound_nodes.remove(node)
            self._graph = None

    def _record_graph(self):
        """Call the layers on a symbolic input, recording the stack as a graph (and building every layer)."""
        self._forget_graph()
        if self._input_shape is None or not self._layers:
            return
        first = self._layers[0]
        x = first.output if isinstance(first, InputLayer) else InputLayer(
            shape=self._input_shape, dtype=None, name=f"{self.name}_input").output
        inputs, nodes = x, []
        for layer in self.layers:
            x = layer(x)
            if not isinstance(x, SymbolicTensor):
                raise TypeError(f"layer {layer.name!r} ({type(layer).__name__}) returns several tensors: a "
                                "Sequential model needs one output per layer; use the functional API")
            nodes.append(x.node)
        self._graph = (inputs, x, nodes)
        self.built = True
        self._built_input_shape = inputs.shape
        self._built_output_shape = x.shape

    def build(self, input_shape=None):
        """Build every layer for inputs of ``input_shape`` (batch axis first), propagating shapes."""
        if not self._layers:
            raise ValueError(f"model {self.name!r} has no layers; add some before building or calling it")
        if input_shape is not None:
            input_shape = tuple(input_shape)
            if self._input_shape is None:
                self._input_shape = input_shape[1:]
        if self._input_shape is None:
            raise ValueError(f"model {self.name!r} does not know its input shape: pass build(input_shape) or "
                             "start it with nr.Input(shape)")
        if self._graph is None:
            self._record_graph()

    @property
    def input_shape(self):
        return None if self._input_shape is None else (None,) + self._input_shape

    @property
    def output_shape(self):
        return self._graph[1].shape if self._graph is not None else None

    def _graph_part(self, index, what):
        if self._graph is None:
            raise AttributeError(f"model {self.name!r} has no {what} yet: its input shape is not known (start it "
                                 "with nr.Input(shape), or build or call it first)")
        return self._graph[index]

    @property
    def inputs(self):
        return [self._graph_part(0, "inputs")]

    @property
    def outputs(self):
        return [self._graph_part(1, "outputs")]

    @property
    def input(self):
        return self._graph_part(0, "input")

    @property
    def output(self):
        return self._graph_part(1, "output")

    def _cast_inputs(self, inputs):
        """Inputs stay as they are: each layer casts what it receives to its own dtype."""
        return inputs

    def call(self, inputs, training=None):
        if not hasattr(inputs, "shape"):  # a dict or list (a batch of named arrays): a stack takes one input
            what = f"a dict with keys {sorted(map(str, inputs))}" if isinstance(inputs, dict) else \
                f"a {type(inputs).__name__} of {len(inputs)}" if isinstance(inputs, (list, tuple)) else \
                type(inputs).__name__
            raise ValueError(f"model {self.name!r} (Sequential) takes one input array, got {what}; pass the array "
                             "itself (a batch of (x, y) pairs gives x and y as a tuple, not a dict)")
        if self._input_shape is not None and not _compatible(inputs.shape[1:], self._input_shape):
            raise ValueError(f"model {self.name!r} expects inputs of shape {(None,) + self._input_shape}, "
                             f"got {inputs.shape}")
        x = inputs
        for layer in self.layers:
            x = layer(x, training=training)
        return x

    def compute_output_spec(self, *args, **kwargs):
        if self._graph is not None and isinstance(args[0], SymbolicTensor) and args[0].shape[1:] == \
                self._graph[0].shape[1:]:
            out = self._graph[1]
            return SymbolicTensor(out.shape, out.dtype, name=self.name)
        return super().compute_output_spec(*args, **kwargs)

    def get_config(self):
        """The architecture: every layer's class and config, in order (each entry also keeps the layer's
        name, for a custom layer whose config has none)."""
        entries = []
        for layer in self._layers:
            entry = serialize_layer(layer)
            entry["name"] = layer.name
            entries.append(entry)
        config = {"name": self.name, "layers": entries}
        if not self._trainable:
            config["trainable"] = False
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuild from ``get_config()``; ``custom_objects``: ``{class name: class}`` for the custom layers it
        holds (found before any ``CustomObjectScope`` and the registry)."""
        from ..registry import CustomObjectScope, check_custom_objects

        if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
            raise ValueError(f"Sequential config: expected an object with a 'layers' list, got {str(config)[:80]!r}")
        with CustomObjectScope(check_custom_objects(custom_objects, f"{cls.__name__}.from_config")):
            layers = []
            for entry in config["layers"]:
                layer = deserialize_layer(entry)
                name = entry.get("name") if isinstance(entry, dict) else None
                if isinstance(name, str) and name and "/" not in name and layer.name != name:
                    layer.name = name  # a get_config without "name": the saved name, which the weights use
                layers.append(layer)
            return cls(layers, name=config.get("name"), trainable=config.get("trainable", True))


def _single_shape(shape):
    return isinstance(shape, tuple) and all(s is None or isinstance(s, int) for s in shape)


def _compatible(actual, expected):
    return len(actual) == len(expected) and all(e is None or a == e for a, e in zip(actual, expected))


# what tools below the models (utils.plot_model) read to draw a model as a graph, without importing models
Sequential.graph_kind = "sequential"
