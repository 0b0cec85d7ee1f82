"""Adafactor: adaptive steps from a factored (row and column) second moment."""

import math

from .. import backend
from .base import Optimizer, check_bool, check_float


class Adafactor(Optimizer):
    """Adafactor (Shazeer & Stern 2018, Algorithms 4 and 5, without first moment), Keras 3 form.

    With gradient ``g`` at step ``t = 1, 2, ...``, ``beta_2_t = 1 - t^beta_2_decay`` and
    ``G = g^2 + epsilon_1``; for a variable of two or more dimensions (the last two factored)::

        r   <- beta_2_t r + (1 - beta_2_t) mean(G, axis=-1)       # row second moments, shape[:-1]
        c   <- beta_2_t c + (1 - beta_2_t) mean(G, axis=-2)       # column ones, shape[:-2] + shape[-1:]
        v    = (r / mean(r, axis=-1)) outer c                     # rank-1 estimate of E[g^2]

    and for a vector or scalar ``v <- beta_2_t v + (1 - beta_2_t) G``. Then::

        rho  = min(lr, 1 / sqrt(t))          # (lr itself first capped so, with relative_step and no schedule)
        u    = g / sqrt(v);  u_hat = u / max(1, rms(u) / clip_threshold)
        var <- var - max(epsilon_2, rms(var)) * rho * u_hat

    The factored moments take ``O(n + m)`` memory for an ``n x m`` matrix instead of Adam's ``O(n m)``;
    steps are relative to the weights' scale (``rms(var)``) and the update is clipped by its own RMS.
    Slots: ``r`` and ``c`` (0-d placeholders for variables of fewer than two dimensions) and ``velocity``
    (a 0-d placeholder for factored variables, whose ``v`` is rebuilt from ``r`` and ``c`` at every step).

    Reference:
        N. Shazeer, M. Stern, "Adafactor: Adaptive Learning Rates with Sublinear Memory Cost", ICML 2018.

    Args:
        learning_rate: float >= 0 or schedule ``step -> float``. Defaults to 0.001.
        beta_2_decay: ``<= 0``, the exponent of ``t`` in ``beta_2_t``. Defaults to -0.8.
        epsilon_1: ``> 0`` added to the squared gradients. Defaults to 1e-30.
        epsilon_2: ``>= 0``, the least relative scale of a step. Defaults to 1e-3.
        clip_threshold: ``> 0``, the update's RMS limit. Defaults to 1.0.
        relative_step: cap a constant learning rate at ``1 / sqrt(t)``. Defaults to True.
        **kwargs: the base options (see ``Optimizer``).
    """

    def __init__(self, learning_rate=0.001, beta_2_decay=-0.8, epsilon_1=1e-30, epsilon_2=1e-3,
                 clip_threshold=1.0, relative_step=True, **kwargs):
        super().__init__(learning_rate, **kwargs)
        owner = type(self).__name__
        self.beta_2_decay = check_float("beta_2_decay", beta_2_decay, high=0.0, owner=owner)
        self.epsilon_1 = check_float("epsilon_1", epsilon_1, 0.0, low_open=True, owner=owner)
        self.epsilon_2 = check_float("epsilon_2", epsilon_2, 0.0, owner=owner)
        self.clip_threshold = check_float("clip_threshold", clip_threshold, 0.0, low_open=True, owner=owner)
        self.relative_step = check_bool("relative_step", relative_step, owner=owner)
        self._step = (0.0, 0.0)

    @staticmethod
    def _factored_shapes(shape):
        shape = tuple(shape)
        if len(shape) < 2:
            return {"r": (), "c": (), "velocity": shape}
        return {"r": shape[:-1], "c": shape[:-2] + shape[-1:], "velocity": ()}

    def _slot_shapes(self, shape):
        return {**super()._slot_shapes(shape), **self._factored_shapes(shape)}

    def _create_slots(self, var_array):
        xp = backend.xp_of(var_array)
        return {name: xp.zeros(shape, dtype=var_array.dtype)
                for name, shape in self._factored_shapes(var_array.shape).items()}

    def _flush_tiny_slots(self):
        """Nothing to flush: the second moments never fall below epsilon_1 (flushing one to 0 would divide
        0 by 0), and the rule keeps no decaying first moment."""

    def _prepare_step(self, lr, step):
        t = float(step)
        if self.schedule is None and self.relative_step:
            lr = min(lr, 1.0 / math.sqrt(t))
        self._step = (min(lr, 1.0 / math.sqrt(t)), 1.0 - t**self.beta_2_decay)

    def update_step(self, grad, var_array, lr, slots):
        xp = backend.xp_of(var_array)
        rho, beta = self._step
        alpha = max(self.epsilon_2, _rms(xp, var_array)) * rho
        squared = grad * grad + self.epsilon_1
        if var_array.ndim >= 2:
            r, c = slots["r"], slots["c"]
            r[...] = beta * r + (1.0 - beta) * xp.mean(squared, axis=-1)
            c[...] = beta * c + (1.0 - beta) * xp.mean(squared, axis=-2)
            v = xp.expand_dims(r / xp.mean(r, axis=-1, keepdims=True), -1) * xp.expand_dims(c, -2)
        else:
            v = slots["velocity"]
            v[...] = beta * v + (1.0 - beta) * squared
        u = grad / xp.sqrt(v)
        u_hat = u / max(1.0, _rms(xp, u) / self.clip_threshold)
        var_array -= alpha * u_hat

    def get_config(self):
        return {**super().get_config(), "beta_2_decay": self.beta_2_decay, "epsilon_1": self.epsilon_1,
                "epsilon_2": self.epsilon_2, "clip_threshold": self.clip_threshold,
                "relative_step": self.relative_step}


def _rms(xp, x):
    return float(xp.sqrt(xp.mean(x * x)))
