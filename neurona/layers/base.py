"""The ``Layer`` base class: config in ``__init__``, weights in ``build``, math in ``call``.

Lifecycle (as in Keras): ``__init__`` validates and stores configuration only;
the first call (or an explicit ``build(input_shape)``) creates the weights with
``add_weight`` once the input shape is known; ``call`` holds the forward math;
``get_config`` returns JSON-safe constructor arguments and ``from_config``
rebuilds the layer from them.

A layer holds other layers and weights in its attributes (tracked
automatically, see ``tracking.py``); its ``weights``, ``trainable`` flag,
``losses`` and ``count_params`` cover them all, so a model (itself a Layer)
and a layer made of layers are one thing (the weight machinery is in ``weights.py``,
the hooks in ``hooks.py``). Called on symbolic tensors
(``nr.Input``) a layer records a node of a functional graph instead of
computing (``symbolic.py``).
"""

import contextlib
import functools

from .. import arguments, backend, nest, ops, regularizers
from ..autograd import Tensor, Variable
from ..backend import policy as dtype_policies
from ..naming import unique_name
from ..registry import construct, snake_case
from . import autocast, calling, masking, probe, symbolic, tracking
from .hooks import HookMixin
from .shapes import as_shape_structure, is_shape, map_shapes, normalize_shape, shape_structure, to_tensors
from .weights import WeightsMixin, check_bool

_UNTAPPED = contextlib.nullcontext()  # a layer without pre-activation hooks calls its activation as it is


def _build_wrapper(build):
    """A subclass's ``build``, run once: afterwards the layer is built (as Keras wraps every ``build``).

    So ``layer.build(shape)`` called by hand (Keras 3 code builds sub-layers that way) and the first call do not
    both create the weights.
    """
    @functools.wraps(build)
    def wrapped(self, *args, **kwargs):
        if self.__dict__.get("built"):
            return None
        result = build(self, *args, **kwargs)
        self.built = True
        if self._built_input_shape is None and args and args[0] is not None:
            shape = args[0]
            self._built_input_shape = map_shapes(lambda s: (None,) + tuple(s)[1:], as_shape_structure(shape)) \
                if is_shape(shape) or isinstance(shape, (list, tuple, dict)) else None
        return result

    wrapped.is_build_wrapper = True
    return wrapped


def _default_build(fn):
    """Mark a base class's ``build`` as the default one, which ``__call__`` need not run before ``call``."""
    fn.is_default_build = True
    return fn


def activity_penalty(regularizer, output):
    """``regularizer(output)`` divided by the batch size (the output's first axis; a scalar output is not
    divided), as Keras 3 does (3.10 and later: the strength does not grow with the batch)."""
    penalty = regularizer(output)
    if getattr(output, "ndim", 0) > 0 and output.shape[0]:
        penalty = penalty / float(output.shape[0])
    return penalty


class Layer(WeightsMixin, HookMixin):
    """Base class of all layers (and of models: ``Model`` is a ``Layer``).

    Args:
        name: unique name (default: snake_case class name with a counter).
        trainable: whether the layer's weights are updated by training.
        dtype: the layer's dtype policy: a dtype name (weights and computations in it), a mixed policy
            (``"mixed_float16"``, ``"mixed_bfloat16"``: float32 weights, 16-bit computations), a
            ``mixed_precision.Policy``, or None for the global policy (``mixed_precision.set_policy``;
            by default ``backend.floatx()``).
        input_shape: shape of one sample (no batch axis), for a model's first layer.
        batch_input_shape: the same with the batch axis first (Keras 2 style).
        input_dim: shorthand for ``input_shape=(input_dim,)`` (Keras 2 style).
        activity_regularizer: penalty of the layer's output divided by the batch size (as Keras 3), recomputed at
            every call
            (Keras 3: not divided by the batch size) and added to the model's loss.
        autocast: accepted for Keras compatibility (float inputs are always cast to the compute dtype).

    Under a mixed policy ``dtype`` (and ``variable_dtype``) is the weights' dtype and ``compute_dtype`` the
    dtype of the call: float inputs are cast to it, and so are the layer's float weights for the duration of
    the call (``autocast.py``), through the differentiable cast, so the gradients reach the float32 weights.
    Layers whose statistics need float32 (the normalizations) set ``computes_in_float32``.
    """

    computes_in_float32 = False  # under a 16-bit compute dtype, call in float32 and cast the output back
    supports_masking = False  # Keras's flag: True where the output keeps the input's time axis (masking.py)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        build = cls.__dict__.get("build")
        if build is not None and not getattr(build, "is_default_build", False) and \
                not getattr(build, "is_build_wrapper", False):
            cls.build = _build_wrapper(build)

    def __init__(self, name=None, trainable=True, dtype=None, input_shape=None, batch_input_shape=None,
                 input_dim=None, activity_regularizer=None, autocast=True):
        if name is not None and (not isinstance(name, str) or not name or "/" in name):
            # weights are named "<layer>/<weight>" in files: a "/" in a layer name would make them ambiguous
            raise ValueError(f"{type(self).__name__}: name must be a non-empty string without '/' (as in Keras), "
                             f"got {name!r}")
        self.name = name or unique_name(snake_case(type(self).__name__))
        self._trainable = check_bool(trainable, f"{type(self).__name__} trainable")
        self._dtype_policy = dtype_policies.get(dtype)
        self.dtype = self._dtype_policy.variable_dtype
        if input_dim is not None:
            input_shape = (input_dim,)
        if batch_input_shape is not None:
            input_shape = tuple(batch_input_shape)[1:]
        self.input_shape_arg = None if input_shape is None else normalize_shape(input_shape)
        self.built = False
        self._weights = []
        self._regularized = []  # (variable, regularizer) pairs
        self._fixed = []  # weights created non-trainable (moving statistics) stay so when the layer is unfrozen
        self._losses = []  # add_loss() values of the latest forward pass (scalar Tensors)
        self._inbound_nodes = []  # the calls of this layer in functional graphs
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self._built_input_shape = None  # full shape with batch axis (None), known once built
        self._built_output_shape = None

    @property
    def dtype_policy(self):
        """The layer's ``mixed_precision.Policy`` (settable, as in Keras, while its weights' dtype is free)."""
        return self._dtype_policy

    @dtype_policy.setter
    def dtype_policy(self, value):
        policy = dtype_policies.get(value)
        if policy.variable_dtype != self.dtype and self._weights:
            raise ValueError(f"layer {self.name!r} holds {self.dtype} weights: its policy can change to one with "
                             f"{self.dtype} weights, not to {policy.name!r} ({policy.variable_dtype} weights); "
                             "set the policy before the layer is built")
        self._dtype_policy = policy
        self.dtype = policy.variable_dtype

    @property
    def compute_dtype(self):
        """The dtype of the layer's computations and outputs (the weights' dtype unless the policy is mixed)."""
        return self._dtype_policy.compute_dtype

    @property
    def variable_dtype(self):
        """The dtype of the layer's weights (Keras's name; the same as ``dtype``)."""
        return self.dtype

    def __setattr__(self, name, value):
        value = tracking.tracked_value(value)
        object.__setattr__(self, name, value)
        tracking.note_attribute(self, name, value)
        # a frozen layer's add_weight weights are non-trainable too, and add_weight records those it made fixed:
        # only a Variable made by hand is judged here
        if isinstance(value, Variable) and not value.trainable and "_fixed" in self.__dict__ and \
                not any(value is w for w in self._weights) and not any(value is w for w in self._fixed):
            self._fixed.append(value)  # held non-trainable: unfreezing the layer leaves it so

    def __delattr__(self, name):
        object.__delattr__(self, name)
        tracking.forget_attribute(self, name)

    # ---- losses ----------------------------------------------------------------------------------
    def add_loss(self, loss):
        """Add a scalar term to the training loss, from ``call`` (recomputed at every forward pass)."""
        if not isinstance(loss, Tensor):
            loss = Tensor(backend.get_xp().asarray(loss, dtype=backend.floatx()))
        if loss.size != 1:
            raise ValueError(f"layer {self.name!r}: add_loss() takes a scalar, got a tensor of shape {loss.shape}; "
                             "reduce it first (e.g. nr.ops.mean)")
        self._losses.append(loss.reshape(()) if loss.ndim else loss)

    def regularization_losses(self):
        """The weight penalties of this layer and its sub-layers (scalar Tensors), from the current weights."""
        # each layer once, however many paths reach it (a layer held by two parents is penalized once)
        return [reg(var) for layer in [self, *self._all_sublayers()] for var, reg in layer._regularized]

    @property
    def losses(self):
        """``add_loss`` terms (activity penalties included) of the latest forward pass, then weight penalties."""
        added = list(self._losses)
        for layer in self._all_sublayers():
            added.extend(layer._losses)
        return added + self.regularization_losses()

    def _clear_losses(self):
        self._losses = []
        for layer in self._all_sublayers():
            layer._losses = []

    # ---- building and calling -------------------------------------------------------------------
    @_default_build
    def build(self, input_shape):
        """Create the weights for inputs of ``input_shape`` (batch axis first). Subclasses extend it."""
        self.built = True

    def compute_mask(self, inputs, mask=None):
        """The mask of the output (Keras's masking, ``layers/masking.py``): the input's mask when the layer
        ``supports_masking`` (it keeps the time axis, e.g. Dense, Dropout), else None."""
        return mask if self.supports_masking else None

    def compute_output_shape(self, input_shape):
        """The output shape for ``input_shape`` (batch axis first).

        Layers that know it say so; by default the layer is run once on zeros (``probe.py``).
        """
        inputs = map_shapes(lambda s: symbolic.SymbolicTensor(s, self.dtype), as_shape_structure(input_shape))
        return nest.map_structure(lambda t: t.shape, probe.output_spec(self, (inputs,), {}))

    def compute_output_spec(self, *args, **kwargs):
        """The SymbolicTensors that calling the layer on symbolic ``args`` returns (shape and dtype)."""
        if type(self).compute_output_shape is Layer.compute_output_shape:
            return probe.output_spec(self, args, kwargs)
        inputs = args[0]
        shapes = self.compute_output_shape(shape_structure(inputs))
        first = nest.flatten(inputs)[0]
        # float inputs and layers with (float) weights give the layer's compute dtype; others keep theirs
        # (Reshape of ints)
        dtype = self.compute_dtype if backend.is_floating(first.dtype) or self._weights else first.dtype
        return map_shapes(lambda shape: symbolic.SymbolicTensor(shape, dtype, name=self.name), shapes)

    @property
    def input_shape(self):
        """The input shape (batch axis ``None``) the layer was built for; None before."""
        return self._built_input_shape

    @property
    def output_shape(self):
        """The output shape (batch axis ``None``) for that input; None before."""
        return self._built_output_shape

    def _has_own_build(self):
        return not getattr(type(self).build, "is_default_build", False)

    def _build_on_call(self, input_shape):
        """Build before the first call: check the shape, run ``build`` if the class defines one."""
        if is_shape(input_shape):
            input_shape = tuple(input_shape)
            self.check_input_shape(input_shape)
            self._built_input_shape = (None,) + input_shape[1:]
        else:
            self._built_input_shape = map_shapes(lambda s: (None,) + tuple(s)[1:], input_shape)
        if self._has_own_build():
            self.build(input_shape)
        self.built = True

    def build_for(self, input_shape):
        """Build once for ``input_shape`` (batch axis first) and return the output shape (Neurona's helper)."""
        input_shape = tuple(input_shape) if is_shape(input_shape) else input_shape
        if not self.built:
            self._build_on_call(input_shape)
            self._built_output_shape = map_shapes(tuple, self.compute_output_shape(self._built_input_shape))
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

    def __call__(self, *args, **kwargs):
        """Run ``call`` on tensors (or record a node when called on symbolic tensors, the functional API)."""
        if not args:
            first = calling.call_signature(self).first
            if first not in kwargs:
                raise TypeError(f"layer {self.name!r} ({type(self).__name__}) was called without inputs: expected "
                                f"them as the first argument or as {first}=, the first argument of its call()")
            args = (kwargs.pop(first),)
        training = kwargs.pop("training", None)
        if training is not None:  # "no" would be truthy
            training = arguments.check_bool(training, f"{self._kind()} {self.name!r} ({type(self).__name__})",
                                            "training", optional=True)
        plain = len(args) == 1 and not kwargs and isinstance(args[0], Tensor)  # the common case, fast
        if not plain and symbolic.any_symbolic([args, kwargs]):
            return self._symbolic_call(args, kwargs, training)
        mask = masking.mask_of(args[0])  # before the cast and the hooks, whose new tensors carry no mask
        inputs = self._cast_inputs(to_tensors(args[0]))
        args = (inputs, *args[1:])
        hooks, backward_call = self._hook_table, None
        if hooks:  # forward hooks, and gradients routed for backward hooks (layers/hooks.py)
            given = kwargs if training is None else {**kwargs, "training": training}  # as the caller wrote it
            args, kwargs, backward_call = hooks.before_call(self, args, given)
            kwargs = dict(kwargs)
            training = kwargs.pop("training", None)
            inputs = args[0]
        with calling.entered(training) as frame, (hooks.tapped(self) if hooks else _UNTAPPED):
            if frame.outermost:
                self._clear_losses()
            if not self.built:
                self._build_on_call(shape_structure(inputs))
            signature = calling.call_signature(self)
            if signature.training and (frame.training is not None or not signature.training_default):
                kwargs["training"] = frame.training
            if mask is not None and kwargs.get("mask") is None and masking.takes_mask(self) and \
                    masking.tensor_arguments(args, kwargs) == 1:
                kwargs["mask"] = mask
            if self._dtype_policy.is_mixed:
                outputs = autocast.call_autocast(self, args, kwargs)
            else:
                outputs = self.call(*args, **kwargs)
        if hooks:
            outputs = hooks.after_call(self, args, kwargs, outputs, backward_call)
        if mask is not None or masking.makes_masks(self):
            masking.attach(outputs, self.compute_mask(inputs, kwargs.get("mask", mask)))
        if self._built_output_shape is None:
            self._built_output_shape = map_shapes(lambda s: (None,) + tuple(s)[1:], shape_structure(outputs))
        if self.activity_regularizer is not None:
            for output in nest.flatten(outputs):
                self.add_loss(activity_penalty(self.activity_regularizer, output))
        return outputs

    def _cast_inputs(self, inputs):
        """Float inputs in the layer's compute dtype, as Keras does (through the differentiable cast)."""
        dtype = self.dtype if self.computes_in_float32 else self.compute_dtype

        def cast(t):
            if isinstance(t, Tensor) and t.dtype != dtype and backend.is_floating(t.dtype):
                return ops.cast(t, dtype)
            return t

        return cast(inputs) if isinstance(inputs, Tensor) else nest.map_structure(cast, inputs)

    def _symbolic_call(self, args, kwargs, training):
        """Called on SymbolicTensors: build for their shapes and record a ``Node``; no values are computed."""
        inputs = args[0]
        shapes = shape_structure(inputs)
        reused = self.built and map_shapes(lambda s: tuple(s)[1:], shapes) != map_shapes(
            lambda s: tuple(s)[1:], self._built_input_shape or ())
        if not self.built:
            self._build_on_call(shapes)
        if training is not None:
            kwargs = {**kwargs, "training": training}
        # a layer built for other shapes is run once on zeros of these: its own checks (a Dense's kernel size)
        # then fail now, naming it, rather than when the model first runs
        outputs = probe.output_spec(self, args, kwargs) if reused else self.compute_output_spec(*args, **kwargs)
        if self._built_output_shape is None:
            self._built_output_shape = map_shapes(lambda s: (None,) + tuple(s)[1:], shape_structure(outputs))
        symbolic.Node(self, args, kwargs, outputs)
        return outputs

    # ---- the functional graph ---------------------------------------------------------------------
    def _single_node(self, what):
        nodes = [node for node in self._inbound_nodes if not node.is_input]
        if not nodes:
            raise AttributeError(f"layer {self.name!r} has no {what}: it has not been called on symbolic inputs "
                                 "(nr.Input) yet, and is not part of a built Sequential or functional model")
        return nodes[0]  # a shared layer's first call, as in Keras

    @property
    def input(self):
        """The symbolic input of the layer's one call in a functional graph."""
        node = self._single_node("input")
        return node.args[0] if len(node.args) == 1 else list(node.args)

    @property
    def output(self):
        """The symbolic output of the layer's one call in a functional graph."""
        return self._single_node("output").outputs

    # ---- config ---------------------------------------------------------------------------------
    def get_config(self):
        """JSON-safe constructor arguments; ``from_config`` rebuilds an equal layer."""
        config = {"name": self.name, "trainable": self._trainable, "dtype": self._dtype_policy.name}
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


tracking.Layer = Layer


class ShapePreservingLayer(Layer):
    """A layer whose output has its input's shape (activations, dropout, normalizations, inputs)."""

    def compute_output_shape(self, input_shape):
        return input_shape
