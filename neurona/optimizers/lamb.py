"""LAMB: Adam's update rescaled per variable by the ratio of the weight norm to the update norm."""

from .. import backend
from .moments import MomentOptimizer


class Lamb(MomentOptimizer):
    """LAMB, layer-wise adaptive moments (You et al. 2020, Algorithm 2), Keras 3 form.

    With gradient ``g`` at step ``t = 1, 2, ...`` and moments ``m``, ``v`` starting at zero::

        m   <- m + (1 - beta_1) * (g - m)
        v   <- v + (1 - beta_2) * (g^2 - v)
        r    = (m / (1 - beta_1^t)) / (sqrt(v / (1 - beta_2^t)) + epsilon)      # Adam's direction
        var <- var - lr * (||var|| / ||r||) * r       # the trust ratio is 1 when either norm is 0

    The norms are over the whole variable (one "layer" of the paper), so each variable takes a step of
    ``lr * ||var||``: the same relative change whatever its scale, which keeps very large batches stable.
    Decoupled weight decay (``weight_decay``) is applied by the base before the rule, as in Keras.

    Reference:
        Y. You et al., "Large Batch Optimization for Deep Learning: Training BERT in 76 minutes", ICLR 2020.

    Args:
        learning_rate, beta_1, beta_2, epsilon, **kwargs: as in ``MomentOptimizer`` (defaults 0.001, 0.9, 0.999,
            1e-7, as in Keras).
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, **kwargs)
        self._corrections = (1.0, 1.0)

    def _prepare_step(self, lr, step):
        self._corrections = (1.0 - self.beta_1**step, 1.0 - self.beta_2**step)

    def update_step(self, grad, var_array, lr, slots):
        xp = backend.xp_of(var_array)
        m, v = slots["momentum"], slots["velocity"]
        first, second = self._corrections
        m += (grad - m) * (1.0 - self.beta_1)
        v += (grad * grad - v) * (1.0 - self.beta_2)
        update = (m / first) / (xp.sqrt(v / second) + self.epsilon)
        w_norm = float(xp.sqrt(xp.sum(var_array * var_array)))
        u_norm = float(xp.sqrt(xp.sum(update * update)))
        ratio = w_norm / u_norm if w_norm > 0 and u_norm > 0 else 1.0
        var_array -= ratio * lr * update
