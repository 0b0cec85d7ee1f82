"""Adam: adaptive moment estimation, with the AMSGrad variant."""

import math

from .. import backend
from ..backend import kernels
from .base import Optimizer, check_bool, check_float


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015), in the Keras 3 form with the bias corrections folded into the step size.

    With gradient ``g`` at step ``t = 1, 2, ...`` and moments ``m``, ``v`` starting at zero::

        m     <- m + (1 - beta_1) * (g - m)            # = beta_1 m + (1 - beta_1) g
        v     <- v + (1 - beta_2) * (g^2 - v)
        alpha  = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)
        var   <- var - alpha * m / (sqrt(v) + epsilon)

    This is Algorithm 1 of the paper with the "epsilon hat" placement of its Section 2
    (epsilon is added to the bias-corrected ``sqrt(v)`` divided by ``sqrt(1 - beta_2^t)``).
    With ``amsgrad=True`` (Reddi, Kale & Kumar 2018) the denominator uses the running
    maximum ``v_hat <- max(v_hat, v)`` instead of ``v``, so the effective step never grows.

    References:
        D. P. Kingma, J. Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015.
        S. J. Reddi, S. Kale, S. Kumar, "On the Convergence of Adam and Beyond", ICLR 2018.

    Args:
        learning_rate: float >= 0 or schedule ``step -> float``. Defaults to 0.001.
        beta_1: decay of the first-moment estimate, in [0, 1). Defaults to 0.9.
        beta_2: decay of the second-moment estimate, in [0, 1). Defaults to 0.999.
        epsilon: small constant > 0 added to the denominator. Defaults to 1e-7.
        amsgrad: use the AMSGrad variant. Defaults to False.
        **kwargs: weight_decay, clipnorm, clipvalue, global_clipnorm, name (see ``Optimizer``).
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        owner = type(self).__name__
        self.beta_1 = check_float("beta_1", beta_1, 0.0, 1.0, high_open=True, owner=owner)
        self.beta_2 = check_float("beta_2", beta_2, 0.0, 1.0, high_open=True, owner=owner)
        # epsilon keeps the denominator sqrt(v) + epsilon away from zero for weights whose gradients are all zero
        self.epsilon = check_float("epsilon", epsilon, 0.0, low_open=True, owner=owner)
        self.amsgrad = check_bool("amsgrad", amsgrad, owner=owner)
        self._alpha = 0.0

    def _create_slots(self, var_array):
        xp = backend.xp_of(var_array)
        slots = {"momentum": xp.zeros_like(var_array), "velocity": xp.zeros_like(var_array)}
        if self.amsgrad:
            slots["velocity_hat"] = xp.zeros_like(var_array)
        return slots

    def _prepare_step(self, lr, step):
        self._alpha = lr * math.sqrt(1.0 - self.beta_2**step) / (1.0 - self.beta_1**step)

    def update_step(self, grad, var_array, lr, slots):
        kernels.adam_update(var_array, grad, slots["momentum"], slots["velocity"], slots.get("velocity_hat"),
                            self._alpha, self.beta_1, self.beta_2, self.epsilon)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "amsgrad": self.amsgrad}
