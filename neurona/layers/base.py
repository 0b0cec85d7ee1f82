"""The ``Layer`` base class: config in ``__init__``, weights in ``build``, math in ``call``.

Lifecycle (as in Keras): ``__init__`` validates and stores configuration only;
the first call (or an explicit ``build(input_shape)``) creates the weights with
``add_weight`` once the input shape is known; ``call`` holds the forward math;
``get_config`` returns JSON-safe constructor arguments and ``from_config``
rebuilds the layer from them.
"""

import itertools
from collections import defaultdict

from .. import arguments, backend, initializers, ops, regularizers
from ..arguments import is_int
from ..autograd import Tensor, Variable
from ..registry import construct, snake_case

_name_counters = defaultdict(itertools.count)


def unique_name(prefix):
    """``"dense"``, then ``"dense_1"``, ``"dense_2"`` ... as Keras names layers."""
    n = next(_name_counters[prefix])
    return prefix if n == 0 else f"{prefix}_{n}"


def normalize_shape(shape, what="input_shape"):
    """A shape as a tuple of ints or None (None = unknown size), with a clear error otherwise.

    Entries must be Python or NumPy integers (or None): ``int()`` would silently
    truncate ``2.5`` to 2 and parse ``"3"``, so floats, strings and bools are refused.
    """
    if is_int(shape):
        shape = (shape,)
    try:
        entries = tuple(shape)
    except TypeError:
        raise ValueError(f"{what} must be a tuple of ints (or None), got {shape!r}") from None
    if isinstance(shape, str) or not all(s is None or is_int(s) for s in entries):
        raise ValueError(f"{what} must be a tuple of ints (or None), got {shape!r}")
    if any(s is not None and s <= 0 for s in entries):
        raise ValueError(f"{what} must have positive sizes, got {shape!r}")
    return tuple(None if s is None else int(s) for s in entries)


def check_bool(value, what):
    """``value`` as a Python bool, after checking it is one (Python or NumPy): ``arguments.check_bool``.

    Truthiness is not enough: ``use_bias="no"`` is a non-empty string, hence true.

    Args:
        value: the argument received.
        what: the argument's owner and name for the error, e.g. ``"Dense use_bias"``.

    Raises:
        TypeError: ``value`` is not a bool.
    """
    return arguments.check_bool(value, None, what)


class Layer:
    """Base class of all layers.

    Args:
        name: unique name (default: snake_case class name with a counter).
        trainable: whether the layer's weights are updated by training.
        dtype: weight dtype (default ``backend.floatx()``).
        input_shape: shape of one sample (no batch axis), for a model's first layer.
        batch_input_shape: the same with the batch axis first (Keras 2 style).
        input_dim: shorthand for ``input_shape=(input_dim,)`` (Keras 2 style).
        activity_regularizer: penalty of the layer's output, recomputed at every call
            (Keras 3: not divided by the batch size) and added to the model's loss.
    """

    def __init__(self, name=None, trainable=True, dtype=None, input_shape=None, batch_input_shape=None,
                 input_dim=None, activity_regularizer=None):
        if name is not None and (not isinstance(name, str) or not name or "/" in name):
            # weights are named "<layer>/<weight>" in files: a "/" in a layer name would make them ambiguous
            raise ValueError(f"{type(self).__name__}: name must be a non-empty string without '/' (as in Keras), "
                             f"got {name!r}")
        self.name = name or unique_name(snake_case(type(self).__name__))
        self._trainable = check_bool(trainable, f"{type(self).__name__} trainable")
        self.dtype = dtype or backend.floatx()
        if input_dim is not None:
            input_shape = (input_dim,)
        if batch_input_shape is not None:
            input_shape = tuple(batch_input_shape)[1:]
        self.input_shape_arg = None if input_shape is None else normalize_shape(input_shape)
        self.built = False
        self._weights = []
        self._regularized = []  # (variable, regularizer) pairs
        self._fixed = []  # weights created non-trainable (moving statistics) stay so when the layer is unfrozen
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.activity_losses = []  # the activity penalty of the latest call (scalar Tensors)
        self.input_shape = None  # full shape with batch axis, known once built
        self.output_shape = None

    # ---- weights -------------------------------------------------------------------------------
    def add_weight(self, name, shape, initializer="glorot_uniform", regularizer=None, trainable=True, dtype=None):
        """Create, initialize and track a weight; ``initializer`` is a name, object or callable."""
        init = initializers.get(initializer)
        dtype = dtype or self.dtype
        try:
            value = backend.to_device(init(tuple(shape), dtype=dtype))
        except MemoryError as err:  # e.g. Dense(10**12): say which layer asked for it
            raise MemoryError(f"layer {self.name!r} ({type(self).__name__}): cannot create weight {name!r} of shape "
                              f"{tuple(shape)}: {err}") from None
        if tuple(value.shape) != tuple(shape):
            raise ValueError(f"layer {self.name!r}: initializer {init!r} returned shape {value.shape} "
                             f"for weight {name!r}, expected {tuple(shape)}")
        var = Variable(value.astype(dtype, copy=False), name=f"{self.name}/{name}",
                       trainable=trainable and self._trainable, initializer=init)
        self._weights.append(var)
        if not trainable:
            self._fixed.append(var)
        regularizer = regularizers.get(regularizer)
        if regularizer is not None:
            self._regularized.append((var, regularizer))
        return var

    @property
    def weights(self):
        return list(self._weights)

    @property
    def trainable_weights(self):
        return [w for w in self._weights if w.trainable]

    @property
    def non_trainable_weights(self):
        return [w for w in self._weights if not w.trainable]

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, flag):
        """Freeze (False) or unfreeze (True) every weight of the layer, as for transfer learning."""
        self._trainable = check_bool(flag, f"layer {self.name!r} ({type(self).__name__}) trainable")
        for w in self._weights:
            w.trainable = self._trainable and not any(w is fixed for fixed in self._fixed)

    def get_weights(self):
        """The weights as a list of NumPy arrays (copies)."""
        return [w.numpy() for w in self._weights]

    def set_weights(self, arrays):
        """Replace the weight values (in place), checking count and shapes before changing any."""
        arrays = list(arrays)
        if len(arrays) != len(self._weights):
            raise ValueError(f"layer {self.name!r} has {len(self._weights)} weights, got {len(arrays)} arrays")
        for w, a in zip(self._weights, arrays):
            if tuple(a.shape) != w.shape:
                raise ValueError(f"layer {self.name!r}: weight {w.name!r} has shape {w.shape}, got {a.shape}")
        for w, a in zip(self._weights, arrays):
            w.assign(a)

    def count_params(self):
        """Number of scalar weights."""
        return sum(int(w.size) for w in self._weights)

    def regularization_losses(self):
        """The weight penalties (scalar Tensors), computed from the current weights."""
        return [reg(var) for var, reg in self._regularized]

    # ---- building and calling -------------------------------------------------------------------
    def build(self, input_shape):
        """Create the weights for inputs of ``input_shape`` (batch axis first). Subclasses extend it."""
        self.built = True

    def compute_output_shape(self, input_shape):
        """The output shape for ``input_shape`` (batch axis first); identity by default."""
        return tuple(input_shape)

    def build_for(self, input_shape):
        """Build once for ``input_shape`` and record input and output shapes."""
        input_shape = tuple(input_shape)
        if not self.built:
            self.check_input_shape(input_shape)
            self.build(input_shape)
            self.built = True
            self.input_shape = (None,) + input_shape[1:]
            self.output_shape = tuple(self.compute_output_shape(self.input_shape))
        return self.output_shape

    def check_input_shape(self, input_shape):
        """Raise a clear error if inputs of ``input_shape`` cannot go through this layer."""
        expected = self.input_shape_arg
        if expected is not None and (len(expected) + 1 != len(input_shape) or any(
                e is not None and e != s for e, s in zip(expected, input_shape[1:]))):
            raise ValueError(f"layer {self.name!r} ({type(self).__name__}) expects inputs of shape "
                             f"{(None,) + expected}, got {tuple(input_shape)}")

    def call(self, inputs, training=None):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must implement call()")

    def __call__(self, inputs, training=None):
        if training is not None:  # "no" would be truthy
            training = arguments.check_bool(training, f"layer {self.name!r} ({type(self).__name__})", "training",
                                            optional=True)
        if not isinstance(inputs, Tensor):
            inputs = Tensor(inputs)
        if inputs.dtype.kind == "f" and inputs.dtype != self.dtype:
            inputs = ops.cast(inputs, self.dtype)  # Keras casts float inputs to the layer dtype; the graph goes on
        if not self.built:
            self.build_for(inputs.shape)
        outputs = self.call(inputs, training=training)
        if self.activity_regularizer is not None:
            self.activity_losses = [self.activity_regularizer(outputs)]
        return outputs

    # ---- config ---------------------------------------------------------------------------------
    def get_config(self):
        """JSON-safe constructor arguments; ``from_config`` rebuilds an equal layer."""
        config = {"name": self.name, "trainable": self._trainable, "dtype": self.dtype}
        if self.input_shape_arg is not None:
            config["input_shape"] = list(self.input_shape_arg)
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config):
        """Rebuild the layer from ``get_config()``'s output, naming what does not fit the constructor."""
        return construct(cls, config, "layer")

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} built={self.built}>"
