"""Learning-rate schedules: hand-computed values of every formula, config round trips, use by an optimizer."""

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import neurona as nr
from neurona import optimizers
from neurona.optimizers import schedules as S

HALF_SQRT = 0.5**0.5


@pytest.mark.parametrize("schedule, expected", [
    (S.ExponentialDecay(0.1, 10, 0.5), {0: 0.1, 5: 0.1 * HALF_SQRT, 10: 0.05, 20: 0.025, 25: 0.025 * HALF_SQRT}),
    (S.ExponentialDecay(0.1, 10, 0.5, staircase=True), {0: 0.1, 9: 0.1, 10: 0.05, 19: 0.05, 20: 0.025}),
    (S.StepDecay(1.0, 3), {0: 1.0, 2: 1.0, 3: 0.1, 5: 0.1, 6: 0.01}),
    (S.StepDecay(0.4, 2, gamma=0.5), {1: 0.4, 2: 0.2, 4: 0.1}),
    (S.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1]), {0: 1.0, 10: 1.0, 10.5: 0.5, 11: 0.5, 20: 0.5, 21: 0.1}),
    (S.InverseTimeDecay(1.0, 10, 0.5), {0: 1.0, 10: 1 / 1.5, 15: 1 / 1.75, 20: 0.5}),
    (S.InverseTimeDecay(1.0, 10, 0.5, staircase=True), {9: 1.0, 15: 1 / 1.5, 20: 0.5}),
    (S.PolynomialDecay(1.0, 10, end_learning_rate=0.0, power=2.0), {0: 1.0, 5: 0.25, 10: 0.0, 15: 0.0}),
    (S.PolynomialDecay(1.0, 10, end_learning_rate=0.1), {5: 0.55, 10: 0.1, 100: 0.1}),
    # cycling: at step 15 the horizon is 20 steps, (1 - 15/20) * 0.9 + 0.1
    (S.PolynomialDecay(1.0, 10, end_learning_rate=0.1, cycle=True), {0: 1.0, 5: 0.55, 10: 0.1, 15: 0.325}),
    (S.CosineDecay(1.0, 10), {0: 1.0, 5: 0.5, 10: 0.0, 20: 0.0, 2.5: (1 + HALF_SQRT) / 2}),
    (S.CosineDecay(2.0, 10, alpha=0.1), {0: 2.0, 5: 2 * (0.9 * 0.5 + 0.1), 10: 0.2, 50: 0.2}),
    (S.CosineDecay(2.0, 10, warmup_steps=5), {0: 2.0, 5: 1.0}),  # no target: the warm-up is ignored (Keras)
    # warm-up from 0 to 1 over 4 steps, then a cosine from 1 over 10 steps
    (S.CosineDecay(0.0, 10, warmup_target=1.0, warmup_steps=4), {0: 0.0, 1: 0.25, 3: 0.75, 4: 1.0, 9: 0.5, 14: 0.0,
                                                                 100: 0.0}),
    (S.CosineDecay(0.1, 10, alpha=0.5, warmup_target=0.5, warmup_steps=2), {1: 0.3, 2: 0.5, 12: 0.25}),
    # restarts: periods [0, 10), [10, 30), [30, 70) with restart levels 1, 0.5, 0.25
    (S.CosineDecayRestarts(1.0, 10, t_mul=2.0, m_mul=0.5), {0: 1.0, 5: 0.5, 10: 0.5, 20: 0.25, 30: 0.25, 50: 0.125}),
    (S.CosineDecayRestarts(1.0, 10, t_mul=1.0), {0: 1.0, 5: 0.5, 10: 1.0, 15: 0.5, 20: 1.0}),
    (S.CosineDecayRestarts(1.0, 10, t_mul=1.0, alpha=0.2), {5: 0.6, 9.999999: 0.2}),
])
def test_hand_computed_values(schedule, expected):
    for step, value in expected.items():
        assert schedule(step) == pytest.approx(value, rel=1e-9, abs=1e-12), (schedule, step)
        assert isinstance(schedule(step), float)


def test_step_decay_is_a_staircase_exponential():
    a, b = S.StepDecay(0.3, 7, gamma=0.2), S.ExponentialDecay(0.3, 7, 0.2, staircase=True)
    for step in range(60):
        assert a(step) == pytest.approx(b(step), rel=1e-12)


def _restart_start(k, t_mul, first):
    """Start step of period k, by summing period lengths one by one (independent of the closed form)."""
    total, length = 0.0, first
    for _ in range(k):
        total += length
        length *= t_mul
    return total


@pytest.mark.parametrize("t_mul", [1.5, 2.0, 3.0, 10.0])
def test_restarts_happen_exactly_at_period_starts(t_mul):
    """Period starts are exact here (powers of these t_mul are exact floats); floor(log(...) / log(t_mul))
    alone puts e.g. the start of period 5 for t_mul = 3 at the end of period 4."""
    sched = S.CosineDecayRestarts(1.0, 8, t_mul=t_mul, m_mul=0.9)
    for k in range(12 if t_mul < 10 else 8):
        start = _restart_start(k, t_mul, 8.0)
        assert sched(start) == pytest.approx(0.9**k, rel=1e-9)  # a full restart at the period's first step
        length = 8.0 * t_mul**k
        assert sched(start + length / 2) == pytest.approx(0.9**k * 0.5, rel=1e-6)
        assert sched(start + length * (1 - 1e-9)) == pytest.approx(0.0, abs=1e-9)  # fully annealed at its end


def test_restart_periods_for_an_inexact_t_mul():
    sched = S.CosineDecayRestarts(1.0, 8, t_mul=1.1, m_mul=0.9)
    for k in range(12):
        start, length = _restart_start(k, 1.1, 8.0), 8.0 * 1.1**k
        assert sched(start + 1e-6 * length) == pytest.approx(0.9**k, rel=1e-9)
        assert sched(start + 0.25 * length) == pytest.approx(0.9**k * (1 + HALF_SQRT) / 2, rel=1e-9)


@settings(max_examples=50, deadline=None)
@given(st.floats(0, 1e4), st.floats(0, 1e4))
def test_decays_never_increase(a, b):
    lo, hi = sorted((a, b))
    for sched in (S.ExponentialDecay(1.0, 100, 0.9), S.InverseTimeDecay(1.0, 100, 2.0), S.CosineDecay(1.0, 5000),
                  S.PolynomialDecay(1.0, 5000, power=3.0), S.PiecewiseConstantDecay([100, 2000], [1.0, 0.5, 0.1])):
        assert sched(hi) <= sched(lo) + 1e-15


def test_the_optimizer_evaluates_the_schedule_at_each_step():
    sched = S.PiecewiseConstantDecay([1, 2], [0.5, 0.25, 0.125])
    var = nr.Variable(np.zeros(1))
    opt = optimizers.SGD(learning_rate=sched)
    for _ in range(4):
        var.grad = np.ones(1)
        opt.apply([var])
    # steps 0 and 1 use 0.5 (step <= 1), step 2 uses 0.25, step 3 uses 0.125
    np.testing.assert_allclose(var.data, [-(0.5 + 0.5 + 0.25 + 0.125)], rtol=1e-15)


ALL = [S.ExponentialDecay(0.1, 1000, 0.96, staircase=True), S.StepDecay(0.1, 300, gamma=0.5),
       S.PiecewiseConstantDecay([100, 200], [0.1, 0.01, 0.001]), S.InverseTimeDecay(0.1, 10, 0.5),
       S.PolynomialDecay(0.1, 500, end_learning_rate=0.001, power=0.5, cycle=True),
       S.CosineDecay(0.0, 900, alpha=0.1, warmup_target=0.1, warmup_steps=100),
       S.CosineDecayRestarts(0.1, 50, t_mul=1.5, m_mul=0.8, alpha=0.01, name="sgdr")]


@pytest.mark.parametrize("schedule", ALL, ids=lambda s: type(s).__name__)
def test_round_trips_alone_and_inside_an_optimizer(schedule):
    steps = [0, 1, 99, 100, 101, 250, 777, 5000]
    clone = S.deserialize(json.loads(json.dumps(S.serialize(schedule))))
    assert type(clone) is type(schedule) and clone.get_config() == schedule.get_config()
    assert [clone(s) for s in steps] == [schedule(s) for s in steps]
    for opt in (optimizers.SGD(learning_rate=schedule, momentum=0.9), optimizers.Adam(learning_rate=schedule)):
        config = json.loads(json.dumps(opt.get_config()))
        assert config["learning_rate"]["class_name"] == type(schedule).__name__
        rebuilt = type(opt).from_config(config)
        assert rebuilt.get_config() == opt.get_config()
        assert [rebuilt.schedule(s) for s in steps] == [schedule(s) for s in steps]
        restored = optimizers.deserialize(json.loads(json.dumps(optimizers.serialize(opt))))
        assert restored.get_config() == opt.get_config()


def test_registry_and_errors():
    assert S.get({"class_name": "cosine_decay", "config": {"initial_learning_rate": 1.0, "decay_steps": 4}})(2) == 0.5
    with pytest.raises(ValueError, match=r"cannot serialize learning-rate schedule .*lambda has no name"):
        S.serialize(lambda step: 0.1)
    with pytest.raises(ValueError, match="unknown learning-rate schedule 'cosine'"):
        S.deserialize({"class_name": "cosine", "config": {}})
    with pytest.raises(ValueError, match="ExponentialDecay: decay_steps must be > 0, got 0.0"):
        S.ExponentialDecay(0.1, 0, 0.5)
    with pytest.raises(ValueError, match="need len\\(values\\) == len\\(boundaries\\) \\+ 1"):
        S.PiecewiseConstantDecay([1, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="strictly increasing"):
        S.PiecewiseConstantDecay([2, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="t_mul must be >= 1"):
        S.CosineDecayRestarts(0.1, 10, t_mul=0.5)
    with pytest.raises(ValueError, match="CosineDecay: step must be a number >= 0, got -1"):
        S.CosineDecay(0.1, 10)(-1)
    assert math.isclose(S.CosineDecay(0.1, 10)(np.int64(5)), 0.05)
