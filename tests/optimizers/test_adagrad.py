"""Adagrad against Duchi et al.'s diagonal update written out in float64."""

import math

import numpy as np
import pytest

from neurona.optimizers import Adagrad


def test_defaults_match_keras():
    opt = Adagrad()
    assert (opt.learning_rate, opt.initial_accumulator_value, opt.epsilon) == (0.001, 0.1, 1e-7)


def test_first_step_by_hand(run):
    # s = 0.1 + 0.5^2 = 0.35; w = 1 - 0.1 * 0.5 / sqrt(0.35 + 1e-7)
    (w1,) = run(Adagrad(learning_rate=0.1), [1.0], [[0.5]])
    np.testing.assert_allclose(w1, [1 - 0.05 / math.sqrt(0.3500001)], rtol=0, atol=1e-15)


def test_matches_diagonal_adagrad(run, grad_sequence):
    """Duchi et al. (2011), diagonal form: w_{t+1} = w_t - lr g_t / sqrt(s0 + sum_{k<=t} g_k^2 + eps)."""
    w = np.linspace(-1, 1, 5)
    got = run(Adagrad(learning_rate=0.3, initial_accumulator_value=0.2, epsilon=1e-3), w, grad_sequence)
    for t, g in enumerate(grad_sequence):
        total = 0.2 + np.sum(np.square(grad_sequence[: t + 1]), axis=0)
        w = w - 0.3 * g / np.sqrt(total + 1e-3)
        np.testing.assert_allclose(got[t], w, rtol=0, atol=1e-13, err_msg=f"step {t + 1}")


def test_steps_decay_like_one_over_sqrt_t(run):
    """With a constant gradient the t-th step is lr g / sqrt(s0 + t g^2) -> lr / sqrt(t)."""
    # epsilon must be > 0; 1e-300 vanishes next to t g^2 in float64, so the closed form stays exact
    history = np.ravel(run(Adagrad(learning_rate=1.0, initial_accumulator_value=0.0, epsilon=1e-300), [0.0],
                           [[3.0]] * 50))
    steps = -np.diff(np.concatenate([[0.0], history]))
    np.testing.assert_allclose(steps, 1 / np.sqrt(np.arange(1, 51)), rtol=1e-12)


@pytest.mark.parametrize("arg, value", [("initial_accumulator_value", -0.1), ("epsilon", -1e-7),
                                        ("learning_rate", -0.01)])
def test_bad_hyperparameters_are_rejected(arg, value):
    with pytest.raises(ValueError, match=arg):
        Adagrad(**{arg: value})
