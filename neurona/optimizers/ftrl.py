"""FTRL-Proximal: follow the regularized leader, with L1, L2 and L2-shrinkage regularization."""

from .. import backend
from .base import Optimizer, check_float


class Ftrl(Optimizer):
    """FTRL-Proximal (McMahan et al. 2013, Algorithm 1), Keras 3 form.

    With gradient ``g``, the accumulator ``n`` (starting at ``initial_accumulator_value``), the linear term
    ``z`` (starting at zero), ``p = learning_rate_power`` and the regularization strengths
    ``l1``, ``l2``, ``l2_shrinkage``::

        g'    = g + 2 * l2_shrinkage * var               # shrinkage: an L2 penalty added to the loss
        n'    = n + g^2
        z    <- z + g' - (n'^(-p) - n^(-p)) / lr * var
        q     = n'^(-p) / lr + 2 * (l2 + beta / (2 lr))
        var  <- (clip(z, -l1, l1) - z) / q               # 0 where |z| <= l1: L1 gives exact zeros
        n    <- n'

    With ``p = -1/2`` the per-coordinate learning rate is ``lr / sqrt(n)``, the paper's ``alpha / (beta +
    sqrt(n))`` up to ``beta``'s placement (Keras folds ``beta`` into the L2 term). Suited to large sparse
    linear models (click-through prediction); the weights follow from ``z`` and ``n`` in closed form.

    Reference:
        H. B. McMahan et al., "Ad Click Prediction: a View from the Trenches", KDD 2013.

    Args:
        learning_rate: float > 0 or schedule ``step -> float``. Defaults to 0.001.
        learning_rate_power: ``p <= 0``; 0 keeps the learning rate fixed. Defaults to -0.5.
        initial_accumulator_value: starting value >= 0 of ``n``. Defaults to 0.1.
        l1_regularization_strength: ``l1 >= 0``. Defaults to 0.
        l2_regularization_strength: ``l2 >= 0`` (a stabilizing penalty). Defaults to 0.
        l2_shrinkage_regularization_strength: ``l2_shrinkage >= 0`` (a magnitude penalty). Defaults to 0.
        beta: ``beta >= 0`` of the paper. Defaults to 0.
        **kwargs: the base options (see ``Optimizer``).
    """

    def __init__(self, learning_rate=0.001, learning_rate_power=-0.5, initial_accumulator_value=0.1,
                 l1_regularization_strength=0.0, l2_regularization_strength=0.0,
                 l2_shrinkage_regularization_strength=0.0, beta=0.0, **kwargs):
        super().__init__(learning_rate, **kwargs)
        owner = type(self).__name__
        self.learning_rate_power = check_float("learning_rate_power", learning_rate_power, high=0.0, owner=owner)
        self.initial_accumulator_value = check_float("initial_accumulator_value", initial_accumulator_value, 0.0,
                                                     owner=owner)
        self.l1_regularization_strength = check_float("l1_regularization_strength", l1_regularization_strength,
                                                      0.0, owner=owner)
        self.l2_regularization_strength = check_float("l2_regularization_strength", l2_regularization_strength,
                                                      0.0, owner=owner)
        self.l2_shrinkage_regularization_strength = check_float(
            "l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength, 0.0, owner=owner)
        self.beta = check_float("beta", beta, 0.0, owner=owner)

    def _create_slots(self, var_array):
        xp = backend.xp_of(var_array)
        return {"accumulator": xp.full_like(var_array, self.initial_accumulator_value),
                "linear": xp.zeros_like(var_array)}

    def update_step(self, grad, var_array, lr, slots):
        xp = backend.xp_of(var_array)
        n, z = slots["accumulator"], slots["linear"]
        power, l1 = -self.learning_rate_power, self.l1_regularization_strength
        l2 = self.l2_regularization_strength + self.beta / (2.0 * lr)
        shrunk = grad + 2 * self.l2_shrinkage_regularization_strength * var_array
        new_n = n + grad * grad
        new_n_power = new_n**power
        z += shrunk - (new_n_power - n**power) / lr * var_array
        quadratic = new_n_power / lr + 2 * l2
        var_array[...] = (xp.clip(z, -l1, l1) - z) / quadratic
        n[...] = new_n

    def get_config(self):
        return {**super().get_config(), "learning_rate_power": self.learning_rate_power,
                "initial_accumulator_value": self.initial_accumulator_value,
                "l1_regularization_strength": self.l1_regularization_strength,
                "l2_regularization_strength": self.l2_regularization_strength,
                "l2_shrinkage_regularization_strength": self.l2_shrinkage_regularization_strength,
                "beta": self.beta}
