"""``MomentOptimizer``: the shared arguments of Adam's relatives that keep two moment estimates per variable."""

from .. import backend
from .base import Optimizer, check_float


class MomentOptimizer(Optimizer):
    """An optimizer with two decays and an epsilon (Nadam, Adamax, Lamb): a subclass names its two slots
    (``SLOTS``) and gives its rule.

    Args:
        learning_rate: float >= 0 or schedule ``step -> float``. Defaults to 0.001.
        beta_1: decay of the first-moment estimate, in [0, 1). Defaults to 0.9.
        beta_2: decay of the second estimate (second moment or infinity norm), in [0, 1). Defaults to 0.999.
        epsilon: small constant > 0 that keeps the denominator away from zero. Defaults to 1e-7.
        **kwargs: the base options (see ``Optimizer``).
    """

    SLOTS = ("momentum", "velocity")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        owner = type(self).__name__
        self.beta_1 = check_float("beta_1", beta_1, 0.0, 1.0, high_open=True, owner=owner)
        self.beta_2 = check_float("beta_2", beta_2, 0.0, 1.0, high_open=True, owner=owner)
        self.epsilon = check_float("epsilon", epsilon, 0.0, low_open=True, owner=owner)

    def _create_slots(self, var_array):
        xp = backend.xp_of(var_array)
        return {name: xp.zeros_like(var_array) for name in self.SLOTS}

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}
