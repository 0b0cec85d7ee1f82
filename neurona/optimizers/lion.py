"""Lion: the sign of an interpolated momentum as the update."""

from .. import backend
from .base import Optimizer, check_float


class Lion(Optimizer):
    """Lion, "EvoLved Sign Momentum" (Chen et al. 2023), Keras 3 form.

    With gradient ``g`` and the momentum ``m`` starting at zero::

        var <- var - lr * sign(beta_1 * m + (1 - beta_1) * g)
        m   <- beta_2 * m + (1 - beta_2) * g

    Every coordinate moves by exactly ``lr`` (or not at all), so the update has a larger norm than Adam's:
    the paper uses a learning rate 3-10x smaller than AdamW's and a weight decay 3-10x larger. Only one
    slot is kept.

    Reference:
        X. Chen et al., "Symbolic Discovery of Optimization Algorithms", NeurIPS 2023 (arXiv:2302.06675).

    Args:
        learning_rate: float >= 0 or schedule ``step -> float``. Defaults to 0.001.
        beta_1: weight of the momentum in the update's sign, in (0, 1] (0 would make it sign SGD).
            Defaults to 0.9.
        beta_2: decay of the momentum, in [0, 1]. Defaults to 0.99.
        **kwargs: the base options (see ``Optimizer``).
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, **kwargs):
        super().__init__(learning_rate, **kwargs)
        owner = type(self).__name__
        self.beta_1 = check_float("beta_1", beta_1, 0.0, 1.0, low_open=True, owner=owner)
        self.beta_2 = check_float("beta_2", beta_2, 0.0, 1.0, owner=owner)

    def _create_slots(self, var_array):
        return {"momentum": backend.xp_of(var_array).zeros_like(var_array)}

    def update_step(self, grad, var_array, lr, slots):
        xp = backend.xp_of(var_array)
        m = slots["momentum"]
        var_array -= lr * xp.sign(m * self.beta_1 + grad * (1.0 - self.beta_1))
        m[...] = m * self.beta_2 + grad * (1.0 - self.beta_2)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}
