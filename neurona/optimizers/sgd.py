"""Stochastic gradient descent with optional (Nesterov) momentum."""

from .. import backend
from ..backend import kernels
from .base import Optimizer, check_bool, check_float


class SGD(Optimizer):
    """Gradient descent, with heavy-ball or Nesterov momentum (Keras 3 form).

    Without momentum: ``var <- var - lr * g``. With momentum ``mu`` (Polyak 1964),
    the velocity ``m`` (zero at first) accumulates the steps::

        m   <- mu * m - lr * g
        var <- var + m

    With ``nesterov=True`` (Nesterov 1983, in the form of Sutskever et al. 2013)
    the step looks ahead along the new velocity::

        m   <- mu * m - lr * g
        var <- var + mu * m - lr * g

    References:
        B. T. Polyak, "Some methods of speeding up the convergence of iteration methods", 1964.
        Y. Nesterov, "A method of solving a convex programming problem with convergence rate O(1/k^2)", 1983.
        I. Sutskever, J. Martens, G. Dahl, G. Hinton, "On the importance of initialization and momentum
        in deep learning", ICML 2013.

    Args:
        learning_rate: float >= 0 or schedule ``step -> float``. Defaults to 0.01.
        momentum: ``mu`` in [0, 1]. Defaults to 0 (plain gradient descent, no slot).
        nesterov: use Nesterov momentum (needs ``momentum > 0``). Defaults to False.
        **kwargs: weight_decay, clipnorm, clipvalue, global_clipnorm, name (see ``Optimizer``).

    Example:
        >>> opt = SGD(learning_rate=0.1, momentum=0.9, nesterov=True)
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        owner = type(self).__name__
        self.momentum = check_float("momentum", momentum, 0.0, 1.0, owner=owner)
        self.nesterov = check_bool("nesterov", nesterov, owner=owner)
        # nesterov=True with momentum 0 is plain gradient descent; Keras accepts it (PyTorch refuses), and Keras
        # programs and configs must port unchanged, so it is accepted here too

    def _create_slots(self, var_array):
        if self.momentum == 0.0:
            return {}
        return {"momentum": backend.xp_of(var_array).zeros_like(var_array)}

    def update_step(self, grad, var_array, lr, slots):
        kernels.sgd_update(var_array, grad, slots.get("momentum"), lr, self.momentum, self.nesterov)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
