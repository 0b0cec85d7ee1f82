"""``PReLU``: the leaky ReLU whose negative slopes are learned."""

from ... import initializers, ops, regularizers
from ...arguments import is_int
from ..base import ShapePreservingLayer


class PReLU(ShapePreservingLayer):
    """Parametric ReLU (He et al., 2015, "Delving Deep into Rectifiers"; ``keras.layers.PReLU``)::

        f(x) = x            for x >= 0
        f(x) = alpha * x    for x < 0

    computed as Keras does, ``relu(x) - alpha * relu(-x)``. ``alpha`` is a trainable weight of the input's
    shape without the batch axis, with size 1 along each of ``shared_axes`` (so ``shared_axes=[1, 2]`` on
    ``(batch, height, width, channels)`` learns one slope per channel).

    Args:
        alpha_initializer: initializer of ``alpha`` (Keras's default ``"Zeros"``: a ReLU at first).
        alpha_regularizer: penalty on ``alpha`` added to the losses, or None.
        alpha_constraint: must be None (weight constraints are not supported yet; refused, not ignored).
        shared_axes: an int or a list of ints (axes >= 1 of the input) along which ``alpha`` is shared.
        **kwargs: base Layer arguments.
    """

    supports_masking = True

    def __init__(self, alpha_initializer="Zeros", alpha_regularizer=None, alpha_constraint=None, shared_axes=None,
                 **kwargs):
        if alpha_constraint is not None:
            raise NotImplementedError("PReLU: weight constraints are not supported yet (alpha_constraint="
                                      f"{alpha_constraint!r:.80})")
        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        axes = shared_axes if shared_axes is None or isinstance(shared_axes, (list, tuple)) else [shared_axes]
        if axes is not None and not all(is_int(a) and a >= 1 for a in axes):
            raise ValueError(f"PReLU: shared_axes must be None, an int or a list of ints >= 1 (input axes after "
                             f"the batch axis), got {shared_axes!r:.80}")
        self.shared_axes = None if axes is None else [int(a) for a in axes]
        self.alpha = None

    def build(self, input_shape):
        shape = list(input_shape[1:])
        for axis in self.shared_axes or ():
            if axis >= len(input_shape):
                raise ValueError(f"layer {self.name!r} (PReLU): shared axis {axis} is out of range for inputs of "
                                 f"shape {tuple(input_shape)}")
            shape[axis - 1] = 1
        if any(s is None for s in shape):
            raise ValueError(f"layer {self.name!r} (PReLU) needs known input sizes outside shared_axes, got "
                             f"inputs of shape {tuple(input_shape)} with shared_axes={self.shared_axes}")
        self.alpha = self.add_weight(name="alpha", shape=tuple(shape), initializer=self.alpha_initializer,
                                     regularizer=self.alpha_regularizer)

    def call(self, inputs):
        return ops.sub(ops.relu(inputs), ops.mul(self.alpha, ops.relu(ops.neg(inputs))))

    def get_config(self):
        return {**super().get_config(), "alpha_initializer": initializers.serialize(self.alpha_initializer),
                "alpha_regularizer": regularizers.serialize(self.alpha_regularizer), "alpha_constraint": None,
                "shared_axes": self.shared_axes}
