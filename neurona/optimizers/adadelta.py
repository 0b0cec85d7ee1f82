"""Adadelta: step sizes from running averages of squared gradients and squared updates."""

from .. import backend
from ..backend import kernels
from .base import Optimizer, check_float


class Adadelta(Optimizer):
    """Adadelta (Zeiler 2012, Algorithm 1), with Keras 3's extra learning-rate factor.

    With accumulators ``E[g^2]`` and ``E[dx^2]`` starting at zero::

        E[g^2]  <- rho * E[g^2] + (1 - rho) * g^2
        dx       = -sqrt(E[dx^2] + epsilon) / sqrt(E[g^2] + epsilon) * g
        E[dx^2] <- rho * E[dx^2] + (1 - rho) * dx^2
        var     <- var + lr * dx

    The ratio of RMS values gives the update the units of the parameter, so the paper
    needs no learning rate: ``learning_rate=1.0`` reproduces it exactly. Keras scales
    ``dx`` by ``learning_rate`` (default 0.001) when applying it, but not inside
    ``E[dx^2]``; this class does the same.

    Reference:
        M. D. Zeiler, "ADADELTA: An Adaptive Learning Rate Method", arXiv:1212.5701, 2012.

    Args:
        learning_rate: float >= 0 or schedule ``step -> float``. Defaults to 0.001.
        rho: decay rate of both averages, in [0, 1). Defaults to 0.95.
        epsilon: small constant > 0 (it also starts the updates: with ``E[dx^2] = 0`` the first
            step is ``sqrt(epsilon / (E[g^2] + epsilon)) * g``). Defaults to 1e-7.
        **kwargs: weight_decay, clipnorm, clipvalue, global_clipnorm, name (see ``Optimizer``).
    """

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        owner = type(self).__name__
        self.rho = check_float("rho", rho, 0.0, 1.0, high_open=True, owner=owner)
        self.epsilon = check_float("epsilon", epsilon, 0.0, low_open=True, owner=owner)

    def _create_slots(self, var_array):
        xp = backend.xp_of(var_array)
        return {"accumulated_grad": xp.zeros_like(var_array), "accumulated_delta_var": xp.zeros_like(var_array)}

    def update_step(self, grad, var_array, lr, slots):
        kernels.adadelta_update(var_array, grad, slots["accumulated_grad"], slots["accumulated_delta_var"], lr,
                                self.rho, self.epsilon)

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}
