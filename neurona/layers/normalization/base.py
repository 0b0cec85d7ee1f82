"""What the normalization layers share: epsilon, the optional ``gamma``/``beta`` weights, axis checks."""

import numbers

from ... import initializers, regularizers
from ..base import ShapePreservingLayer, check_bool


def normalize_axes(axis, rank, layer, allow_batch=False):
    """``axis`` (int or sequence of ints) as sorted non-negative axes of a rank-``rank`` input."""
    axes = [axis] if isinstance(axis, numbers.Integral) else list(axis)
    if not axes:
        raise ValueError(f"layer {layer.name!r} ({type(layer).__name__}) needs at least one axis, got {axis!r}")
    out = []
    for a in axes:
        if isinstance(a, bool) or not isinstance(a, numbers.Integral) or not -rank <= a < rank:
            raise ValueError(f"layer {layer.name!r} ({type(layer).__name__}): axis {a!r} is out of range for "
                             f"inputs of rank {rank} (expected an int in [{-rank}, {rank - 1}])")
        out.append(int(a) % rank)
    if 0 in out and not allow_batch:
        raise ValueError(f"layer {layer.name!r} ({type(layer).__name__}): axis {axis!r} includes the batch axis 0 "
                         "(the axis or axes named are the features axes, e.g. -1 for channels-last inputs)")
    return tuple(sorted(set(out)))


def check_axis_argument(axis, owner):
    """Validate an ``axis`` constructor argument (an int or a list/tuple of ints) and return it JSON-safe."""
    if isinstance(axis, numbers.Integral) and not isinstance(axis, bool):
        return int(axis)
    if isinstance(axis, (list, tuple)) and axis and all(
            isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in axis):
        return [int(a) for a in axis]
    raise TypeError(f"{owner}: axis must be an int or a non-empty list of ints, got {axis!r}")


class AffineNormalization(ShapePreservingLayer):
    """Base of normalization layers: normalized values are scaled by ``gamma`` and shifted by ``beta``.

    Args:
        epsilon: small float added to the variance before the square root.
        center: learn an offset ``beta`` (initialized by ``beta_initializer``).
        scale: learn a scale ``gamma`` (initialized by ``gamma_initializer``).
        beta_initializer, gamma_initializer: initializers (Keras defaults: zeros, ones).
        beta_regularizer, gamma_regularizer: optional weight penalties.
        **kwargs: base Layer arguments.

    Under a mixed policy the statistics are computed in float32 (a float16 variance of activations near
    255 overflows; Keras does the same) and the output is cast to the compute dtype.
    """

    computes_in_float32 = True

    def __init__(self, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros", gamma_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real) or not epsilon >= 0:
            raise ValueError(f"{type(self).__name__}: epsilon must be a number >= 0, got {epsilon!r}")
        self.epsilon = float(epsilon)
        self.center = check_bool(center, f"{type(self).__name__} center")
        self.scale = check_bool(scale, f"{type(self).__name__} scale")
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.gamma = self.beta = None
        self._expected = None  # (rank, {axis: size}) of the inputs the layer was built for

    def add_affine_weights(self, shape):
        """Create ``gamma`` (if ``scale``) and ``beta`` (if ``center``) of ``shape``, in Keras's order."""
        if self.scale:
            self.gamma = self.add_weight(name="gamma", shape=shape, initializer=self.gamma_initializer,
                                         regularizer=self.gamma_regularizer)
        if self.center:
            self.beta = self.add_weight(name="beta", shape=shape, initializer=self.beta_initializer,
                                        regularizer=self.beta_regularizer)

    def known_sizes(self, input_shape, axes):
        """The sizes of ``input_shape`` along ``axes``, which must be known; remembered to check later inputs."""
        sizes = tuple(input_shape[a] for a in axes)
        if any(s is None for s in sizes):
            raise ValueError(f"layer {self.name!r} ({type(self).__name__}) needs known sizes along axes {axes}, "
                             f"got input shape {tuple(input_shape)}")
        self._expected = (len(input_shape), dict(zip(axes, sizes)))
        return sizes

    def check_inputs(self, inputs):
        """Raise a clear error when ``inputs`` do not match the shape the layer was built for."""
        rank, sizes = self._expected
        if inputs.ndim != rank or any(inputs.shape[a] != s for a, s in sizes.items()):
            expected = tuple(sizes.get(i) for i in range(rank))
            raise ValueError(f"layer {self.name!r} ({type(self).__name__}) expects inputs of rank {rank} with "
                             f"shape {expected} (None = any size), got {inputs.shape}")

    def get_config(self):
        return {
            **super().get_config(),
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
        }
