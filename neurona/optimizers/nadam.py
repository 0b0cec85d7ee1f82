"""Nadam: Adam with Nesterov momentum."""

from .. import backend
from .moments import MomentOptimizer


class Nadam(MomentOptimizer):
    """Nadam (Dozat 2016), in the Keras 3 form with Timothy Dozat's momentum schedule.

    With gradient ``g`` at step ``t = 1, 2, ...``, the momentum schedule ``u_t = beta_1 (1 - 0.5 * 0.96^t)``
    and its running product ``U_t = u_1 u_2 ... u_t``::

        m     <- m + (1 - beta_1) * (g - m)
        v     <- v + (1 - beta_2) * (g^2 - v)
        m_hat  = u_{t+1} m / (1 - U_t u_{t+1}) + (1 - u_t) g / (1 - U_t)
        v_hat  = v / (1 - beta_2^t)
        var   <- var - lr * m_hat / (sqrt(v_hat) + epsilon)

    The Nesterov look-ahead uses the next step's momentum ``u_{t+1}`` on ``m`` and the current one on the
    raw gradient. ``U_t`` is a function of ``t`` alone, so it is recomputed from the step count (nothing
    beyond the slots needs saving).

    Reference:
        T. Dozat, "Incorporating Nesterov Momentum into Adam", ICLR 2016 workshop
        (http://cs229.stanford.edu/proj2015/054_report.pdf).

    Args:
        learning_rate, beta_1, beta_2, epsilon ("epsilon hat", added to ``sqrt(v_hat)``), **kwargs: as in
            ``MomentOptimizer`` (defaults 0.001, 0.9, 0.999, 1e-7, as in Keras).
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, **kwargs)
        self._product, self._product_step = 1.0, 0  # U_t and its t
        self._coefficients = (0.0, 0.0, 1.0)

    def _u(self, t):
        return self.beta_1 * (1.0 - 0.5 * 0.96**t)

    def _prepare_step(self, lr, step):
        if self._product_step != step - 1:  # a restored or reset step count: U_{t-1} from scratch
            self._product, self._product_step = 1.0, 0
            for t in range(1, step):
                self._product *= self._u(t)
            self._product_step = step - 1
        u_t, u_next = self._u(step), self._u(step + 1)
        self._product *= u_t
        self._product_step = step
        self._coefficients = (u_next / (1.0 - self._product * u_next), (1.0 - u_t) / (1.0 - self._product),
                              1.0 - self.beta_2**step)

    def update_step(self, grad, var_array, lr, slots):
        xp = backend.xp_of(var_array)
        m, v = slots["momentum"], slots["velocity"]
        on_m, on_g, correction = self._coefficients
        m += (grad - m) * (1.0 - self.beta_1)
        v += (grad * grad - v) * (1.0 - self.beta_2)
        m_hat = on_m * m + on_g * grad
        var_array -= m_hat * lr / (xp.sqrt(v / correction) + self.epsilon)
