"""Sparsity schedules: the fraction of a layer's weights pruned at training step ``t``.

``PolynomialDecay`` is the gradual schedule of Zhu and Gupta 2017 ("To prune, or not to prune: exploring the
efficacy of pruning for model compression", equation 1)::

    s_t = s_f + (s_i - s_f) * (1 - (t - t_0) / (t_end - t_0)) ** power      for t_0 <= t <= t_end  (power 3)

rising fast at first, while the network still has redundant weights, then slowly; ``ConstantSparsity`` prunes
to one level from ``begin_step`` on. Masks are recomputed every ``frequency`` steps inside
``[begin_step, end_step]`` (Zhu and Gupta's pruning frequency) and kept fixed in between and afterwards.
The names and arguments are those of the TensorFlow Model Optimization toolkit.
"""

from ..arguments import is_int


def _check_fraction(value, what):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= float(value) < 1.0:
        raise ValueError(f"{what} must be a fraction in [0, 1), got {value!r}")
    return float(value)


def _check_step(value, what, minimum=0):
    if not is_int(value) or int(value) < minimum:
        raise ValueError(f"{what} must be an integer >= {minimum}, got {value!r}")
    return int(value)


class SparsitySchedule:
    """Base class: ``sparsity(step)`` and whether masks are recomputed at ``step``."""

    def __init__(self, begin_step=0, end_step=-1, frequency=100):
        self.begin_step = _check_step(begin_step, f"{type(self).__name__} begin_step")
        self.end_step = int(end_step) if is_int(end_step) else end_step
        if not is_int(end_step) or (end_step != -1 and end_step < self.begin_step):
            raise ValueError(f"{type(self).__name__} end_step must be -1 (never stop) or an integer >= begin_step, "
                             f"got {end_step!r}")
        self.frequency = _check_step(frequency, f"{type(self).__name__} frequency", minimum=1)

    def updates_at(self, step):
        """Whether masks are recomputed at ``step`` (every ``frequency`` steps from ``begin_step`` to ``end_step``)."""
        if step < self.begin_step or (self.end_step != -1 and step > self.end_step):
            return False
        return (step - self.begin_step) % self.frequency == 0 or step == self.end_step

    def sparsity(self, step):  # pragma: no cover - abstract
        raise NotImplementedError

    def get_config(self):
        return {"begin_step": self.begin_step, "end_step": self.end_step, "frequency": self.frequency}


class ConstantSparsity(SparsitySchedule):
    """``target_sparsity`` from ``begin_step`` on."""

    def __init__(self, target_sparsity, begin_step=0, end_step=-1, frequency=100):
        super().__init__(begin_step, end_step, frequency)
        self.target_sparsity = _check_fraction(target_sparsity, "ConstantSparsity target_sparsity")

    def sparsity(self, step):
        return self.target_sparsity if step >= self.begin_step else 0.0

    def get_config(self):
        return {"target_sparsity": self.target_sparsity, **super().get_config()}


class PolynomialDecay(SparsitySchedule):
    """Zhu and Gupta's schedule from ``initial_sparsity`` at ``begin_step`` to ``final_sparsity`` at
    ``end_step``."""

    def __init__(self, initial_sparsity, final_sparsity, begin_step, end_step, power=3, frequency=100):
        super().__init__(begin_step, end_step, frequency)
        if self.end_step == -1 or self.end_step <= self.begin_step:
            raise ValueError(f"PolynomialDecay needs end_step > begin_step, got {begin_step!r}, {end_step!r}")
        self.initial_sparsity = _check_fraction(initial_sparsity, "PolynomialDecay initial_sparsity")
        self.final_sparsity = _check_fraction(final_sparsity, "PolynomialDecay final_sparsity")
        if isinstance(power, bool) or not isinstance(power, (int, float)) or power <= 0:
            raise ValueError(f"PolynomialDecay power must be a positive number, got {power!r}")
        self.power = power

    def sparsity(self, step):
        if step < self.begin_step:
            return 0.0
        progress = min(1.0, (step - self.begin_step) / (self.end_step - self.begin_step))
        return self.final_sparsity + (self.initial_sparsity - self.final_sparsity) * (1.0 - progress) ** self.power

    def get_config(self):
        return {"initial_sparsity": self.initial_sparsity, "final_sparsity": self.final_sparsity,
                "power": self.power, **super().get_config()}


SCHEDULES = {cls.__name__: cls for cls in (ConstantSparsity, PolynomialDecay)}


def serialize(schedule):
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(entry):
    """A schedule from ``serialize``'s dict (or the schedule itself)."""
    if isinstance(entry, SparsitySchedule):
        return entry
    if not isinstance(entry, dict) or entry.get("class_name") not in SCHEDULES:
        raise ValueError(f"a sparsity schedule must be one of {sorted(SCHEDULES)} (or its serialized dict), "
                         f"got {entry!r:.200}")
    return SCHEDULES[entry["class_name"]](**entry.get("config", {}))
