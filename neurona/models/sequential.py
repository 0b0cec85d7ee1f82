"""``Sequential``: a plain stack of layers, each feeding the next."""

from ..layers import Layer
from ..layers import deserialize as deserialize_layer
from ..layers import serialize as serialize_layer
from ..layers.core.input import InputLayer
from .model import Model


class Sequential(Model):
    """A linear stack of layers.

    Args:
        layers: initial layers; the first may be ``layers.Input(shape)``, or have
            ``input_shape=`` / ``input_dim=``, so that the model is built at once.
        name: model name.

    Example:
        >>> from neurona import layers, models
        >>> model = models.Sequential([layers.Input((784,)), layers.Dense(10, activation="softmax")])
        >>> model.count_params()
        7850
    """

    def __init__(self, layers=None, name=None):
        super().__init__(name=name)
        self._layers = []
        self._input_shape = None  # one sample's shape, once known
        for layer in layers or []:
            self.add(layer)

    @property
    def layers(self):
        """The layers (an InputLayer is not listed, as in Keras)."""
        return [layer for layer in self._layers if not isinstance(layer, InputLayer)]

    def add(self, layer):
        """Append a layer; builds it at once if the model's input shape is known."""
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add() takes a Layer, got {layer!r}")
        if isinstance(layer, InputLayer) and self._layers:
            raise ValueError("an Input can only be the first entry of a Sequential model")
        if any(existing.name == layer.name for existing in self._layers):
            raise ValueError(f"model {self.name!r} already has a layer named {layer.name!r}")
        if not self._layers and layer.input_shape_arg is not None:
            self._input_shape = layer.input_shape_arg
        self._layers.append(layer)
        if self._input_shape is not None:
            self.build((None,) + self._input_shape)

    def pop(self):
        """Remove and return the last layer."""
        if not self.layers:
            raise ValueError(f"model {self.name!r} has no layers to pop")
        return self._layers.pop()

    def build(self, input_shape):
        """Build every layer for inputs of ``input_shape`` (batch axis first), propagating shapes."""
        if not self._layers:
            raise ValueError(f"model {self.name!r} has no layers; add some before building or calling it")
        input_shape = tuple(input_shape)
        if self._input_shape is None:
            self._input_shape = input_shape[1:]
        shape = (None,) + self._input_shape
        for layer in self._layers:
            shape = layer.build_for(shape)
        self.built = True

    @property
    def input_shape(self):
        return None if self._input_shape is None else (None,) + self._input_shape

    @property
    def output_shape(self):
        return self._layers[-1].output_shape if self.built else None

    def call(self, inputs, training=None):
        if inputs.shape[1:] != self._input_shape and not _compatible(inputs.shape[1:], self._input_shape):
            raise ValueError(f"model {self.name!r} expects inputs of shape {(None,) + self._input_shape}, "
                             f"got {inputs.shape}")
        x = inputs
        for layer in self._layers:
            x = layer(x, training=training)
        return x

    def get_config(self):
        """The architecture: every layer's class and config, in order."""
        return {"name": self.name, "layers": [serialize_layer(layer) for layer in self._layers]}

    @classmethod
    def from_config(cls, config):
        return cls([deserialize_layer(c) for c in config["layers"]], name=config.get("name"))


def _compatible(actual, expected):
    return len(actual) == len(expected) and all(e is None or a == e for a, e in zip(actual, expected))
