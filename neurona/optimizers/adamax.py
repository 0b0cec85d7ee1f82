"""Adamax: Adam with the infinity norm in place of the second moment."""

from .. import backend
from .moments import MomentOptimizer


class Adamax(MomentOptimizer):
    """Adamax (Kingma & Ba 2015, Section 7.1), Keras 3 form.

    With gradient ``g`` at step ``t = 1, 2, ...``, ``m`` and ``u`` starting at zero::

        m   <- m + (1 - beta_1) * (g - m)
        u   <- max(beta_2 * u, |g|)                 # an exponentially weighted infinity norm
        var <- var - lr * m / ((1 - beta_1^t) * (u + epsilon))

    ``u`` needs no bias correction (a maximum is not biased towards zero), and the step is bounded by ``lr``.

    Reference:
        D. P. Kingma, J. Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015, Section 7.1.

    Args:
        learning_rate, beta_1, beta_2 (the infinity norm's decay), epsilon (added to the norm), **kwargs: as in
            ``MomentOptimizer`` (defaults 0.001, 0.9, 0.999, 1e-7, as in Keras).
    """

    SLOTS = ("momentum", "norm")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, **kwargs)
        self._correction = 1.0

    def _prepare_step(self, lr, step):
        self._correction = 1.0 - self.beta_1**step

    def update_step(self, grad, var_array, lr, slots):
        xp = backend.xp_of(var_array)
        m, u = slots["momentum"], slots["norm"]
        m += (grad - m) * (1.0 - self.beta_1)
        xp.maximum(self.beta_2 * u, xp.abs(grad), out=u)
        var_array -= lr * m / (self._correction * (u + self.epsilon))
