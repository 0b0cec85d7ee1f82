"""Learning-rate schedules: callables ``schedule(step) -> float`` over optimizer steps (Keras 3 names and formulas).

Give one to any optimizer as its learning rate; the optimizer evaluates it once
per update with ``step`` = the number of updates already applied (0 for the first)::

    from neurona import optimizers
    lr = optimizers.schedules.CosineDecay(1e-3, decay_steps=10_000, warmup_target=1e-2, warmup_steps=500)
    opt = optimizers.SGD(learning_rate=lr, momentum=0.9)

Schedules count optimizer steps, not epochs: for a decay every ``E`` epochs use
``E * steps_per_epoch`` steps (``steps_per_epoch = ceil(n_samples / batch_size)``).
For per-epoch rules written as functions of the epoch, use the
``LearningRateScheduler`` callback instead.

Every schedule is ``Configurable`` and registered, so an optimizer with a
schedule round-trips through ``get_config``/``from_config`` (the optimizer base
calls ``serialize``/``deserialize`` of this module). All arithmetic is in
Python floats (float64).
"""

import bisect
import math
import numbers

from ..registry import Configurable, Registry
from .base import check_float

#: Registry of schedule classes.
registry = Registry("learning-rate schedule")


def _check_step(step, owner):
    if isinstance(step, bool) or not isinstance(step, numbers.Real) or not step >= 0:
        raise ValueError(f"{owner}: step must be a number >= 0, got {step!r}")
    return float(step)


def _check_steps(name, value, owner):
    """A positive step count (an int, or a float for fractional decay periods)."""
    return check_float(name, value, 0.0, low_open=True, owner=owner)


class LearningRateSchedule(Configurable):
    """Base class: a subclass stores its arguments, implements ``rate(step)`` and returns them from ``get_config``.

    ``schedule(step)`` checks the step and returns ``rate(step)`` as a Python float.

    Args:
        name: an optional label, kept in the config (Keras compatibility).
    """

    def __init__(self, name=None):
        self.name = name

    def rate(self, step):  # pragma: no cover - abstract
        """The learning rate at ``step`` (a float >= 0) (override)."""
        raise NotImplementedError

    def __call__(self, step):
        return float(self.rate(_check_step(step, type(self).__name__)))

    def get_config(self):
        return {"name": self.name}


@registry.register
class ExponentialDecay(LearningRateSchedule):
    """``lr(step) = initial_learning_rate * decay_rate ** (step / decay_steps)``.

    With ``staircase=True`` the exponent is ``floor(step / decay_steps)``, so the
    rate drops by ``decay_rate`` every ``decay_steps`` steps.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: steps over which the rate is multiplied by ``decay_rate`` (> 0).
        decay_rate: the multiplier per ``decay_steps`` (> 0).
        staircase: decay in discrete intervals.
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name=None):
        super().__init__(name)
        owner = type(self).__name__
        self.initial_learning_rate = check_float("initial_learning_rate", initial_learning_rate, 0.0, owner=owner)
        self.decay_steps = _check_steps("decay_steps", decay_steps, owner)
        self.decay_rate = check_float("decay_rate", decay_rate, 0.0, low_open=True, owner=owner)
        self.staircase = bool(staircase)

    def rate(self, step):
        p = step / self.decay_steps
        return self.initial_learning_rate * self.decay_rate ** (math.floor(p) if self.staircase else p)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase, **super().get_config()}


@registry.register
class StepDecay(LearningRateSchedule):
    """``lr(step) = initial_learning_rate * gamma ** floor(step / step_size)`` (not in Keras; PyTorch's ``StepLR``).

    The classic "divide by 10 every N epochs" rule of He et al. (2016, ResNet)
    and Krizhevsky et al. (2012). It equals
    ``ExponentialDecay(initial_learning_rate, step_size, gamma, staircase=True)``;
    it exists under this name because that is what the rule is called. Give
    ``step_size`` in optimizer steps (``epochs * steps_per_epoch``).

    Args:
        initial_learning_rate: the rate of the first ``step_size`` steps.
        step_size: steps between drops (> 0).
        gamma: the multiplier at each drop (> 0). Defaults to 0.1.
    """

    def __init__(self, initial_learning_rate, step_size, gamma=0.1, name=None):
        super().__init__(name)
        owner = type(self).__name__
        self.initial_learning_rate = check_float("initial_learning_rate", initial_learning_rate, 0.0, owner=owner)
        self.step_size = _check_steps("step_size", step_size, owner)
        self.gamma = check_float("gamma", gamma, 0.0, low_open=True, owner=owner)

    def rate(self, step):
        return self.initial_learning_rate * self.gamma ** math.floor(step / self.step_size)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "step_size": self.step_size,
                "gamma": self.gamma, **super().get_config()}


@registry.register
class PiecewiseConstantDecay(LearningRateSchedule):
    """Constant rates between step boundaries.

    ``lr(step) = values[0]`` for ``step <= boundaries[0]``, ``values[i]`` for
    ``boundaries[i-1] < step <= boundaries[i]``, and ``values[-1]`` for
    ``step > boundaries[-1]``.

    Args:
        boundaries: strictly increasing steps.
        values: ``len(boundaries) + 1`` rates (>= 0).
    """

    def __init__(self, boundaries, values, name=None):
        super().__init__(name)
        owner = type(self).__name__
        boundaries, values = list(boundaries), list(values)
        if len(values) != len(boundaries) + 1:
            raise ValueError(f"{owner}: need len(values) == len(boundaries) + 1, got {len(boundaries)} boundaries "
                             f"and {len(values)} values")
        self.boundaries = [check_float("boundaries", b, owner=owner) for b in boundaries]
        if any(b >= c for b, c in zip(self.boundaries, self.boundaries[1:])):
            raise ValueError(f"{owner}: boundaries must be strictly increasing, got {boundaries}")
        self.values = [check_float("values", v, 0.0, owner=owner) for v in values]

    def rate(self, step):
        return self.values[bisect.bisect_left(self.boundaries, step)]

    def get_config(self):
        return {"boundaries": list(self.boundaries), "values": list(self.values), **super().get_config()}


@registry.register
class InverseTimeDecay(LearningRateSchedule):
    """``lr(step) = initial_learning_rate / (1 + decay_rate * step / decay_steps)``.

    With ``staircase=True``, ``step / decay_steps`` is floored.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: the step scale (> 0).
        decay_rate: how fast the rate falls (>= 0).
        staircase: decay in discrete intervals.
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name=None):
        super().__init__(name)
        owner = type(self).__name__
        self.initial_learning_rate = check_float("initial_learning_rate", initial_learning_rate, 0.0, owner=owner)
        self.decay_steps = _check_steps("decay_steps", decay_steps, owner)
        self.decay_rate = check_float("decay_rate", decay_rate, 0.0, owner=owner)
        self.staircase = bool(staircase)

    def rate(self, step):
        p = step / self.decay_steps
        return self.initial_learning_rate / (1.0 + self.decay_rate * (math.floor(p) if self.staircase else p))

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase, **super().get_config()}


@registry.register
class PolynomialDecay(LearningRateSchedule):
    """``lr(step) = (initial - end) * (1 - s / decay_steps) ** power + end`` with ``s = min(step, decay_steps)``.

    With ``cycle=True`` the decay restarts: ``decay_steps`` is replaced by
    ``decay_steps * ceil(step / decay_steps)`` (by ``decay_steps`` at step 0),
    so the rate jumps back up at each multiple of ``decay_steps`` and then
    decays more slowly. ``power=1`` is a linear decay.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: steps to reach ``end_learning_rate`` (> 0).
        end_learning_rate: the final rate. Defaults to 1e-4.
        power: the polynomial's power (> 0). Defaults to 1.
        cycle: restart the decay after ``decay_steps``.
    """

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0, cycle=False,
                 name=None):
        super().__init__(name)
        owner = type(self).__name__
        self.initial_learning_rate = check_float("initial_learning_rate", initial_learning_rate, 0.0, owner=owner)
        self.decay_steps = _check_steps("decay_steps", decay_steps, owner)
        self.end_learning_rate = check_float("end_learning_rate", end_learning_rate, 0.0, owner=owner)
        self.power = check_float("power", power, 0.0, low_open=True, owner=owner)
        self.cycle = bool(cycle)

    def rate(self, step):
        decay_steps = self.decay_steps
        if self.cycle:
            decay_steps *= max(math.ceil(step / decay_steps), 1)
        else:
            step = min(step, decay_steps)
        fraction = 1.0 - step / decay_steps
        return (self.initial_learning_rate - self.end_learning_rate) * fraction ** self.power + self.end_learning_rate

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "end_learning_rate": self.end_learning_rate, "power": self.power, "cycle": self.cycle,
                **super().get_config()}


def _cosine(fraction, alpha):
    """``(1 - alpha) * (1 + cos(pi * fraction)) / 2 + alpha``: from 1 at fraction 0 down to ``alpha`` at 1."""
    return (1.0 - alpha) * 0.5 * (1.0 + math.cos(math.pi * fraction)) + alpha


@registry.register
class CosineDecay(LearningRateSchedule):
    """Optional linear warm-up, then cosine annealing (Loshchilov & Hutter, "SGDR", ICLR 2017; Keras 3).

    Without ``warmup_target``: with ``s = min(step, decay_steps)``,

        lr(step) = initial_learning_rate * ((1 - alpha) * (1 + cos(pi * s / decay_steps)) / 2 + alpha)

    With ``warmup_target``: for ``step < warmup_steps`` the rate rises linearly,
    ``initial + (warmup_target - initial) * step / warmup_steps``; then it
    follows the cosine above from ``warmup_target`` over the next
    ``decay_steps`` steps, ending at ``alpha * warmup_target``. (Goyal et al.,
    2017, motivate the warm-up for large batches.) As in Keras,
    ``warmup_steps`` is ignored when ``warmup_target`` is None.

    Args:
        initial_learning_rate: the starting rate (of the decay, or of the warm-up).
        decay_steps: length of the cosine part (> 0).
        alpha: the final rate as a fraction of the decay's starting rate, in [0, 1].
        warmup_target: the rate reached at the end of the warm-up, or None.
        warmup_steps: length of the warm-up (>= 0).
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, warmup_target=None, warmup_steps=0,
                 name=None):
        super().__init__(name)
        owner = type(self).__name__
        self.initial_learning_rate = check_float("initial_learning_rate", initial_learning_rate, 0.0, owner=owner)
        self.decay_steps = _check_steps("decay_steps", decay_steps, owner)
        self.alpha = check_float("alpha", alpha, 0.0, 1.0, owner=owner)
        self.warmup_target = None if warmup_target is None else check_float("warmup_target", warmup_target, 0.0,
                                                                             owner=owner)
        self.warmup_steps = check_float("warmup_steps", warmup_steps, 0.0, owner=owner)

    def rate(self, step):
        if self.warmup_target is None:
            return self.initial_learning_rate * _cosine(min(step, self.decay_steps) / self.decay_steps, self.alpha)
        if step < self.warmup_steps:
            return self.initial_learning_rate + (self.warmup_target - self.initial_learning_rate) \
                * step / self.warmup_steps
        decayed = min(step - self.warmup_steps, self.decay_steps)
        return self.warmup_target * _cosine(decayed / self.decay_steps, self.alpha)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "alpha": self.alpha, "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps,
                **super().get_config()}


@registry.register
class CosineDecayRestarts(LearningRateSchedule):
    """Cosine annealing with warm restarts, SGDR (Loshchilov & Hutter, ICLR 2017).

    The run is cut into periods: the first lasts ``first_decay_steps`` and each
    next one ``t_mul`` times longer. In period ``i`` (0-based), at fraction
    ``f`` of the way through it,

        lr = initial_learning_rate * ((1 - alpha) * m_mul**i * (1 + cos(pi * f)) / 2 + alpha)

    so each period restarts from ``m_mul**i`` times the initial rate. Period
    ``i`` starts at step ``first_decay_steps * (1 + t_mul + ... + t_mul**(i-1))``.
    (Keras's formula; here the period index is found exactly at the restart
    steps, where a logarithm alone can be off by one in floating point.)

    Args:
        initial_learning_rate: the rate at step 0.
        first_decay_steps: length of the first period (> 0).
        t_mul: growth factor of period lengths (>= 1). Defaults to 2.
        m_mul: factor on the restart rate per period (> 0). Defaults to 1.
        alpha: the lowest rate as a fraction of ``initial_learning_rate``, in [0, 1].
    """

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0, name=None):
        super().__init__(name)
        owner = type(self).__name__
        self.initial_learning_rate = check_float("initial_learning_rate", initial_learning_rate, 0.0, owner=owner)
        self.first_decay_steps = _check_steps("first_decay_steps", first_decay_steps, owner)
        self.t_mul = check_float("t_mul", t_mul, 1.0, owner=owner)
        self.m_mul = check_float("m_mul", m_mul, 0.0, low_open=True, owner=owner)
        self.alpha = check_float("alpha", alpha, 0.0, 1.0, owner=owner)

    def _period(self, fraction):
        """``(i, f)``: the period holding ``fraction = step / first_decay_steps`` and the fraction through it."""
        if self.t_mul == 1.0:
            i = math.floor(fraction)
            return i, fraction - i
        start = lambda k: (1.0 - self.t_mul**k) / (1.0 - self.t_mul)  # periods 0..k-1 end here
        i = max(math.floor(math.log(1.0 - fraction * (1.0 - self.t_mul)) / math.log(self.t_mul)), 0)
        while start(i + 1) <= fraction:  # correct a floor that rounding put one period early or late
            i += 1
        while i > 0 and start(i) > fraction:
            i -= 1
        return i, (fraction - start(i)) / self.t_mul**i

    def rate(self, step):
        i, f = self._period(step / self.first_decay_steps)
        cosine = 0.5 * self.m_mul**i * (1.0 + math.cos(math.pi * f))
        return self.initial_learning_rate * ((1.0 - self.alpha) * cosine + self.alpha)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "first_decay_steps": self.first_decay_steps,
                "t_mul": self.t_mul, "m_mul": self.m_mul, "alpha": self.alpha, **super().get_config()}


register = registry.register


def serialize(schedule):
    """``{"class_name": ..., "config": {...}}`` (JSON-safe) for a registered schedule; a custom function
    ``step -> rate`` or an instance of an unregistered ``LearningRateSchedule`` subclass in Keras's layout,
    found when loading through ``custom_objects`` (see ``neurona.registry``).

    Raises:
        ValueError: for a lambda (no name to find it by when loading) or an object without ``get_config``.
    """
    return registry.serialize(schedule)


def deserialize(config):
    """Inverse of ``serialize``."""
    schedule = registry.deserialize(config)
    if not callable(schedule):
        raise TypeError(f"could not interpret {config!r} as a learning-rate schedule")
    return schedule


def get(identifier):
    """A schedule from a config dict, or an instance/callable returned unchanged (names need arguments)."""
    return registry.get(identifier)


__all__ = ["LearningRateSchedule", "ExponentialDecay", "StepDecay", "PiecewiseConstantDecay", "InverseTimeDecay",
           "PolynomialDecay", "CosineDecay", "CosineDecayRestarts", "registry", "register", "serialize",
           "deserialize", "get"]
