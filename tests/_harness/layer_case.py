"""``LayerCase``, the declaration of one layer test case, and the building blocks the layer checks share.

See ``layer_harness`` for the checks every case runs.
"""

import dataclasses

import numpy as np

import neurona as nr
from neurona.autograd import engine
from neurona.autograd.gradcheck import ATOL, EPS

DATA_SEED = 42  # not 0: gradcheck projects the output on a direction drawn from default_rng(0)


@dataclasses.dataclass(frozen=True, eq=False)
class LayerCase:
    """One layer configuration and the facts it must satisfy.

    Args:
        layer_class: the class under test.
        kwargs: constructor arguments (use non-default values).
        input_shape: full input shape, batch axis first (keep it small: gradcheck perturbs every element);
            a list of such shapes for a layer called on a list of tensors (the merge layers).
        output_shape: expected output shape for that input.
        trainable, non_trainable: expected numbers of trainable and non-trainable weight tensors.
        params: expected ``count_params()`` (scalars), computed by hand.
        losses: expected number of penalty terms after a call (one per weight regularizer, one for
            an activity regularizer).
        input_dtype: dtype of the test input for the default-dtype layer.
        id_range: the inputs are ids drawn from [0, id_range) (an Embedding's), in the input dtype; 0: normal
            draws.
        stochastic: the layer draws random numbers in training (needs ``seed`` in ``kwargs``).
        input_grad: the output is differentiable w.r.t. the input (False: no gradient reaches it, e.g. ids).
        keeps_input_dtype: the output has the input's dtype, not the layer's (an op on tensors, as Keras's ops).
        updates_in_training: a training call changes non-trainable weights (moving statistics).
        training_differs: training and inference outputs differ without randomness (batch statistics).
        setup: optional ``f(layer)`` run after construction (e.g. ``adapt``).
        id: label in test ids (default: the class name and the kwargs).
        known_failures: ``{check name: reason}`` for defects reported but not yet fixed (strict xfails).
        surrogate_gradient: why the layer's backward is a chosen surrogate, not the derivative of its forward
            pass (quantization's straight-through estimator, whose forward is piecewise constant): the gradient
            checks then assert that every gradient is there, shaped and nonzero, and the layer's own tests
            compare it with the surrogate's formula instead of finite differences.
    """

    layer_class: type
    kwargs: dict
    input_shape: tuple
    output_shape: tuple
    trainable: int = 0
    non_trainable: int = 0
    params: int = 0
    losses: int = 0
    input_dtype: str = "float32"
    id_range: int = 0
    stochastic: bool = False
    input_grad: bool = True
    keeps_input_dtype: bool = False
    updates_in_training: bool = False
    training_differs: bool = False
    setup: object = None
    id: str = ""
    known_failures: dict = dataclasses.field(default_factory=dict)
    surrogate_gradient: str = ""

    def __post_init__(self):
        if self.stochastic and "seed" not in self.kwargs:
            raise ValueError(f"LayerCase {self.label}: a stochastic case needs a seed in kwargs to be reproducible")

    @property
    def label(self):
        return self.id or f"{self.layer_class.__name__}({', '.join(f'{k}={v!r}' for k, v in self.kwargs.items())})"

    @property
    def multi_input(self):
        """Whether the layer is called on a list of tensors (``input_shape`` is a list of shapes)."""
        return isinstance(self.input_shape, list)

    @property
    def symbolic_input(self):
        if self.multi_input:
            return [(None,) + tuple(s[1:]) for s in self.input_shape]
        return (None,) + tuple(self.input_shape[1:])

    def with_batch(self, size):
        """The input shape (or shapes) with batch size ``size``."""
        if self.multi_input:
            return [(size,) + tuple(s[1:]) for s in self.input_shape]
        return (size,) + tuple(self.input_shape[1:])

    @property
    def symbolic_output(self):
        return (None,) + tuple(self.output_shape[1:])


def make_layer(case, dtype=None):
    """A new layer of ``case`` (with ``dtype`` if given), after the case's ``setup``."""
    kwargs = dict(case.kwargs)
    if dtype is not None:
        kwargs["dtype"] = dtype
    layer = case.layer_class(**kwargs)
    if case.setup is not None:
        case.setup(layer)
    return layer


def sample(case, shape=None, dtype=None, seed=DATA_SEED):
    """The case's test input as a NumPy array (a list of arrays for a list of shapes)."""
    rng = np.random.default_rng(seed)
    shape = case.input_shape if shape is None else shape
    if case.id_range:
        return rng.integers(0, case.id_range, tuple(shape)).astype(dtype or case.input_dtype)
    if isinstance(shape, list):
        return [rng.standard_normal(tuple(s)).astype(dtype or case.input_dtype) for s in shape]
    return rng.standard_normal(tuple(shape)).astype(dtype or case.input_dtype)


def tensors(data, requires_grad=False):
    """``data`` (an array, or a list of arrays) as a Tensor (a list of Tensors)."""
    if isinstance(data, list):
        return [nr.Tensor(d, requires_grad=requires_grad) for d in data]
    return nr.Tensor(data, requires_grad=requires_grad)


def leaves(x):
    """The Tensors of an input: ``[x]``, or the list itself."""
    return list(x) if isinstance(x, list) else [x]


def gradcheck(fn, x):
    """``nr.gradcheck`` of ``fn`` at ``x``, a Tensor or a list of Tensors (each checked)."""
    if isinstance(x, list):
        return nr.gradcheck(lambda *xs: fn(list(xs)), *x)
    return nr.gradcheck(fn, x)


def randomize_weights(layer, seed=DATA_SEED + 1):
    """Trainable weights: +-[0.5, 1.5]; non-trainable ones (means, variances): [0.5, 1.5], so variances stay valid."""
    rng = np.random.default_rng(seed)
    values = []
    for w in layer.weights:
        magnitude = rng.uniform(0.5, 1.5, w.shape)
        values.append(magnitude * rng.choice([-1.0, 1.0], w.shape) if w.trainable else magnitude)
    layer.set_weights([v.astype(w.dtype) for v, w in zip(values, layer.weights)])


def built_layer(case, dtype=None):
    """A layer of ``case`` built for its input shape, with random weights."""
    layer = make_layer(case, dtype)
    layer.build_for(case.symbolic_input)
    randomize_weights(layer)
    return layer


def clone(layer):
    """A new layer from ``layer``'s config, built with a copy of its weights."""
    twin = type(layer).from_config(layer.get_config())
    if layer.built:
        twin.build_for(layer.input_shape)
        twin.set_weights(layer.get_weights())
    return twin


def forward(layer, case, training):
    """``t -> layer(t, training=training)``; a stochastic layer in training is re-created from its config
    (same seed, same weights) at each evaluation, so that finite differences see one fixed random draw."""
    if case.stochastic and training:
        return lambda t: clone(layer)(t, training=True)
    return lambda t: layer(t, training=training)


def projection(like, seed=DATA_SEED + 2):
    """A fixed random direction of ``like``'s shape and dtype: the backward pass checks ``sum(direction * out)``."""
    return nr.Tensor(np.random.default_rng(seed).standard_normal(like.shape).astype(like.dtype))


def relative_error(analytic, numeric):
    """gradcheck's measure: largest difference over the gradients' scale (0 when both are ~0)."""
    scale = max(np.abs(analytic).max(initial=0.0), np.abs(numeric).max(initial=0.0))
    return 0.0 if scale < ATOL else np.abs(analytic - numeric).max(initial=0.0) / scale


def weight_numerical_grad(fn, x, weight, direction):
    """Central differences of ``sum(direction * fn(x))`` w.r.t. ``weight``, perturbing it in place."""
    grad = np.zeros(weight.shape)
    proj = direction.numpy()
    with engine.no_grad():
        for idx in np.ndindex(*weight.shape):
            original = float(weight.data[idx])
            weight.data[idx] = original + EPS
            plus = float((fn(x).numpy() * proj).sum())
            weight.data[idx] = original - EPS
            minus = float((fn(x).numpy() * proj).sum())
            weight.data[idx] = original
            grad[idx] = (plus - minus) / (2 * EPS)
    return grad
