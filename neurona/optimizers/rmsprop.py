"""RMSprop: divide the gradient by a running root mean square of recent gradients."""

from .. import backend
from ..backend import kernels
from .base import Optimizer, check_bool, check_float


class RMSprop(Optimizer):
    """RMSprop (Tieleman & Hinton 2012), with optional momentum and centering (Keras 3 form).

    With ``v`` (and, when centered, ``a``) starting at zero::

        v   <- rho * v + (1 - rho) * g^2
        a   <- rho * a + (1 - rho) * g                    # centered only
        d    = lr * g / sqrt(v - a^2 + epsilon)           # centered: ``v - a^2`` estimates Var[g]
        d    = lr * g / sqrt(v + epsilon)                 # otherwise
        var <- var - d                                    # momentum = 0
        b   <- momentum * b + d;  var <- var - b          # momentum > 0

    The centered variant follows Graves (2013), "Generating Sequences With Recurrent
    Neural Networks", eq. 38-45. Epsilon sits inside the square root, as in Keras.

    Reference:
        T. Tieleman, G. Hinton, "Lecture 6.5 - RMSProp: divide the gradient by a running average
        of its recent magnitude", COURSERA: Neural Networks for Machine Learning, 2012.

    Args:
        learning_rate: float >= 0 or schedule ``step -> float``. Defaults to 0.001.
        rho: decay of the squared-gradient average, in [0, 1). Defaults to 0.9.
        momentum: momentum coefficient in [0, 1]. Defaults to 0 (no momentum slot).
        epsilon: small constant > 0 under the square root. Defaults to 1e-7.
        centered: normalize by the estimated variance instead of the second moment. Defaults to False.
        **kwargs: weight_decay, clipnorm, clipvalue, global_clipnorm, name (see ``Optimizer``).
    """

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        owner = type(self).__name__
        self.rho = check_float("rho", rho, 0.0, 1.0, high_open=True, owner=owner)
        self.momentum = check_float("momentum", momentum, 0.0, 1.0, owner=owner)
        # epsilon keeps sqrt(v + epsilon) (and, centered, sqrt(v - a^2 + epsilon)) away from zero
        self.epsilon = check_float("epsilon", epsilon, 0.0, low_open=True, owner=owner)
        self.centered = check_bool("centered", centered, owner=owner)

    def _create_slots(self, var_array):
        xp = backend.xp_of(var_array)
        slots = {"velocity": xp.zeros_like(var_array)}
        if self.momentum > 0:
            slots["momentum"] = xp.zeros_like(var_array)
        if self.centered:
            slots["average_gradient"] = xp.zeros_like(var_array)
        return slots

    def update_step(self, grad, var_array, lr, slots):
        kernels.rmsprop_update(var_array, grad, slots["velocity"], slots.get("average_gradient"),
                               slots.get("momentum"), lr, self.rho, self.momentum, self.epsilon)

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon,
                "centered": self.centered}
