"""The weights of a layer: ``add_weight``, the weight lists Keras has, freezing, ``get/set_weights``.

``Layer`` inherits this; a layer's weights are those it created (``add_weight``)
or holds in attributes, then those of its sub-layers (tracking.py), each once.
"""

from .. import arguments, backend, initializers, regularizers
from ..autograd import Variable
from . import tracking
from .shapes import normalize_shape


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


class WeightsMixin:
    """Weight creation, listing and freezing (the ``_weights``, ``_fixed`` and ``_regularized`` lists are made by
    ``Layer.__init__``)."""

    def add_weight(self, *args, shape=None, initializer=None, dtype=None, trainable=True, regularizer=None,
                   constraint=None, name=None, autocast=True, aggregation="none", **kwargs):
        """Create, initialize and track a weight (Keras 3's keywords).

        Args:
            shape: the weight's shape (``()`` for a scalar, the default).
            initializer: a name, object or callable ``(shape, dtype) -> array``; default
                ``"glorot_uniform"`` for float weights and ``"zeros"`` otherwise, as in Keras.
            dtype: default the layer's dtype.
            trainable: whether training updates it.
            regularizer: a penalty of the weight added to the losses.
            name: the weight's name within the layer (default ``"variable"``, numbered).
            constraint, autocast, aggregation: accepted for Keras compatibility; a constraint is refused
                (not supported yet) rather than silently ignored.

        Positionally, Keras 3's order is ``(shape, initializer, dtype, trainable)``; a first positional
        string is Keras 2's (and earlier Neurona's) ``(name, shape, initializer, regularizer)``.
        """
        if kwargs:
            raise TypeError(f"layer {self.name!r}: add_weight() got unexpected keyword arguments {sorted(kwargs)}")
        if args and isinstance(args[0], str):
            names = ("name", "shape", "initializer", "regularizer", "trainable")
        else:
            names = ("shape", "initializer", "dtype", "trainable")
        if len(args) > len(names):
            raise TypeError(f"layer {self.name!r}: add_weight() takes at most {len(names)} positional arguments "
                            f"({', '.join(names)}), got {len(args)}")
        given = dict(zip(names, args))
        shape = given.get("shape", shape)
        initializer = given.get("initializer", initializer)
        dtype = given.get("dtype", dtype) or self.dtype
        trainable = given.get("trainable", trainable)
        regularizer = given.get("regularizer", regularizer)
        name = given.get("name", name)
        if constraint is not None:
            raise NotImplementedError(f"layer {self.name!r}: weight constraints are not supported yet "
                                      f"(add_weight(constraint={constraint!r}))")
        shape = () if shape is None else normalize_shape(shape, f"layer {self.name!r}: add_weight shape")
        if name is None:
            name = "variable" if not any(w.name.endswith("/variable") for w in self._weights) else \
                f"variable_{len(self._weights)}"
        elif not isinstance(name, str) or not name or "/" in name:
            raise ValueError(f"layer {self.name!r}: add_weight name must be a non-empty string without '/', "
                             f"got {name!r}")
        trainable = check_bool(trainable, f"layer {self.name!r} add_weight trainable")
        if initializer is None:
            initializer = "glorot_uniform" if backend.is_floating(dtype) else "zeros"
        init = initializers.get(initializer)
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
        tracking.changed()
        if not trainable:
            self._fixed.append(var)
        regularizer = regularizers.get(regularizer)
        if regularizer is not None:
            self._regularized.append((var, regularizer))
        return var

    def add_variable(self, *args, **kwargs):
        """Keras 3's other name of ``add_weight``."""
        return self.add_weight(*args, **kwargs)

    def _own_weights(self):
        """The weights this layer created or holds in attributes, not those of its sub-layers."""
        own, seen = list(self._weights), {id(w) for w in self._weights}
        for var in tracking.attribute_variables(self):
            if id(var) not in seen:
                seen.add(id(var))
                own.append(var)
        return own

    def _sublayers(self):
        """The layers this layer holds directly (tracked attributes)."""
        return tracking.sublayers(self)

    def _all_sublayers(self):
        """Every layer inside this one, at any depth, each once."""
        return tracking.walk_layers(self)

    @property
    def weights(self):
        """Every weight: the layer's own (in creation order), then each sub-layer's, each weight once."""
        return list(tracking.cached(self, "_weights_cache", self._collect_weights))

    def _collect_weights(self):
        out, seen = [], set()
        for w in [*self._own_weights(), *(w for layer in self._sublayers() for w in layer.weights)]:
            if id(w) not in seen:
                seen.add(id(w))
                out.append(w)
        return out

    @property
    def variables(self):
        return self.weights

    @property
    def trainable_weights(self):
        """The weights training updates: none when the layer is frozen (``trainable=False``), as in Keras."""
        return [w for w in self.weights if w.trainable] if self._trainable else []

    @property
    def non_trainable_weights(self):
        return [w for w in self.weights if not w.trainable] if self._trainable else self.weights

    @property
    def trainable_variables(self):
        return self.trainable_weights

    @property
    def non_trainable_variables(self):
        return self.non_trainable_weights

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, flag):
        """Freeze (False) or unfreeze (True) the layer and everything inside it, as for transfer learning."""
        self._trainable = check_bool(flag, f"layer {self.name!r} ({type(self).__name__}) trainable")
        for w in self._own_weights():
            w.trainable = self._trainable and not any(w is fixed for fixed in self._fixed)
        for layer in self._sublayers():
            layer.trainable = self._trainable

    def get_weights(self):
        """The weights as a list of NumPy arrays (copies), in ``weights`` order."""
        return [w.numpy() for w in self.weights]

    def set_weights(self, arrays):
        """Replace the weight values (in place), checking count and shapes before changing any."""
        weights, arrays = self.weights, list(arrays)
        if len(arrays) != len(weights):
            raise ValueError(f"{self._kind()} {self.name!r} has {len(weights)} weights, got {len(arrays)} arrays")
        for w, a in zip(weights, arrays):
            if tuple(getattr(a, "shape", ())) != w.shape:
                raise ValueError(f"{self._kind()} {self.name!r}: weight {w.name!r} has shape {w.shape}, got "
                                 f"{tuple(getattr(a, 'shape', ()))}")
        for w, a in zip(weights, arrays):
            w.assign(a)

    def _kind(self):
        return "layer"

    def count_params(self):
        """Number of scalar weights (sub-layers included)."""
        return sum(int(w.size) for w in self.weights)
