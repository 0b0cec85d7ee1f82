"""Adadelta against Zeiler's (2012) Algorithm 1 written out in float64."""

import math

import numpy as np
import pytest

import neurona as nr
from neurona.optimizers import Adadelta


def zeiler_algorithm_1(x, grads, rho, eps):
    """ADADELTA, Algorithm 1: E[g^2] and E[dx^2] start at 0, no learning rate."""
    eg2, edx2 = np.zeros_like(x), np.zeros_like(x)
    out = []
    for g in grads:
        eg2 = rho * eg2 + (1 - rho) * g**2
        dx = -np.sqrt(edx2 + eps) / np.sqrt(eg2 + eps) * g
        edx2 = rho * edx2 + (1 - rho) * dx**2
        x = x + dx
        out.append(x)
    return out


def test_defaults_match_keras():
    opt = Adadelta()
    assert (opt.learning_rate, opt.rho, opt.epsilon) == (0.001, 0.95, 1e-7)


def test_first_step_by_hand(run):
    # E[g^2] = 0.05 * 0.25 = 0.0125; dx = -sqrt(1e-6) / sqrt(0.0125 + 1e-6) * 0.5
    (w1,) = run(Adadelta(learning_rate=1.0, epsilon=1e-6), [1.0], [[0.5]])
    np.testing.assert_allclose(w1, [1 - 1e-3 * 0.5 / math.sqrt(0.012501)], rtol=0, atol=1e-15)


def test_learning_rate_one_reproduces_the_paper(run, grad_sequence):
    x0 = np.linspace(-1, 1, 5)
    got = run(Adadelta(learning_rate=1.0, rho=0.9, epsilon=1e-4), x0, grad_sequence)
    want = zeiler_algorithm_1(x0, grad_sequence, 0.9, 1e-4)
    for t, (a, b) in enumerate(zip(got, want), start=1):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-13, err_msg=f"step {t}")


def test_learning_rate_scales_the_applied_step_but_not_the_accumulator(grad_sequence):
    """Keras multiplies dx by lr when applying it, while E[dx^2] still accumulates the paper's dx."""
    x0 = np.linspace(-1, 1, 5)
    var = nr.Variable(x0.copy())
    opt = Adadelta(learning_rate=0.01, rho=0.9, epsilon=1e-4)
    eg2, edx2 = np.zeros(5), np.zeros(5)
    for g in grad_sequence:
        before = var.data.copy()
        var.grad = g
        opt.apply([var])
        eg2 = 0.9 * eg2 + 0.1 * g**2
        dx = -np.sqrt(edx2 + 1e-4) / np.sqrt(eg2 + 1e-4) * g
        edx2 = 0.9 * edx2 + 0.1 * dx**2
        np.testing.assert_allclose(var.data - before, 0.01 * dx, rtol=1e-9, atol=1e-15)
        np.testing.assert_allclose(opt.slots(var)["accumulated_delta_var"], edx2, rtol=1e-12)


@pytest.mark.parametrize("arg, value", [("rho", 1.0), ("epsilon", 0.0), ("epsilon", -1.0)])
def test_bad_hyperparameters_are_rejected(arg, value):
    with pytest.raises(ValueError, match=arg):
        Adadelta(**{arg: value})
