"""Adagrad: per-coordinate step sizes from the sum of all past squared gradients."""

from .. import backend
from ..backend import kernels
from .base import Optimizer, check_float


class Adagrad(Optimizer):
    """Adagrad (Duchi, Hazan & Singer 2011), diagonal form, Keras 3 defaults.

    With the accumulator ``s`` starting at ``initial_accumulator_value``::

        s   <- s + g^2
        var <- var - lr * g / sqrt(s + epsilon)

    Coordinates with large past gradients take small steps, rarely-updated ones take
    large steps. Since ``s`` only grows, the effective step size decays like ``1/sqrt(t)``.

    Reference:
        J. Duchi, E. Hazan, Y. Singer, "Adaptive Subgradient Methods for Online Learning and
        Stochastic Optimization", JMLR 12, 2011.

    Args:
        learning_rate: float >= 0 or schedule ``step -> float``. Defaults to 0.001.
        initial_accumulator_value: starting value >= 0 of ``s``. Defaults to 0.1.
        epsilon: small constant > 0 under the square root. Defaults to 1e-7.
        **kwargs: weight_decay, clipnorm, clipvalue, global_clipnorm, name (see ``Optimizer``).
    """

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        owner = type(self).__name__
        self.initial_accumulator_value = check_float("initial_accumulator_value", initial_accumulator_value, 0.0,
                                                     owner=owner)
        # epsilon keeps sqrt(s + epsilon) away from zero while s is still 0 (initial_accumulator_value=0)
        self.epsilon = check_float("epsilon", epsilon, 0.0, low_open=True, owner=owner)

    def _create_slots(self, var_array):
        return {"accumulator": backend.xp_of(var_array).full_like(var_array, self.initial_accumulator_value)}

    def update_step(self, grad, var_array, lr, slots):
        kernels.adagrad_update(var_array, grad, slots["accumulator"], lr, self.epsilon)

    def get_config(self):
        return {**super().get_config(), "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}
