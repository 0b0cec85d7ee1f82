"""RMSprop against Tieleman & Hinton's rule (and Graves's centered form) written out in float64."""

import math

import numpy as np
import pytest

import neurona as nr
from neurona.optimizers import RMSprop


def reference_rmsprop(w, grads, lr, rho, eps, momentum=0.0, centered=False):
    """MeanSquare <- rho MeanSquare + (1 - rho) g^2; w -= lr g / sqrt(MeanSquare + eps) (lecture 6.5).

    Centered (Graves 2013, eq. 38-41): also track the mean gradient a and divide by sqrt(MS - a^2 + eps).
    Momentum (Graves eq. 40): b <- momentum b + step; w -= b.
    """
    ms, a, b = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    out = []
    for g in grads:
        ms = rho * ms + (1 - rho) * g**2
        a = rho * a + (1 - rho) * g
        denom = ms - a**2 if centered else ms
        step = lr * g / np.sqrt(denom + eps)
        b = momentum * b + step
        w = w - b
        out.append(w)
    return out


def test_defaults_match_keras():
    opt = RMSprop()
    assert (opt.learning_rate, opt.rho, opt.momentum, opt.epsilon, opt.centered) == (0.001, 0.9, 0.0, 1e-7, False)


def test_first_step_by_hand(run):
    # v = 0.1 * 0.5^2 = 0.025; w = 1 - 0.1 * 0.5 / sqrt(0.025 + 1e-7)
    (w1,) = run(RMSprop(learning_rate=0.1), [1.0], [[0.5]])
    np.testing.assert_allclose(w1, [1 - 0.05 / math.sqrt(0.0250001)], rtol=0, atol=1e-15)


@pytest.mark.parametrize("momentum", [0.0, 0.7])
@pytest.mark.parametrize("centered", [False, True])
def test_matches_reference(run, grad_sequence, momentum, centered):
    w0 = np.linspace(-1, 1, 5)
    opt = RMSprop(learning_rate=0.02, rho=0.8, momentum=momentum, epsilon=1e-4, centered=centered)
    got = run(opt, w0, grad_sequence)
    want = reference_rmsprop(w0, grad_sequence, 0.02, 0.8, 1e-4, momentum, centered)
    for t, (a, b) in enumerate(zip(got, want), start=1):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-13, err_msg=f"step {t}")


def test_centered_divides_by_the_variance_not_the_second_moment(run):
    """A constant gradient has zero variance: once the averages have settled, centered RMSprop steps by
    about lr g / sqrt(eps), far more than the uncentered lr g / sqrt(g^2 + eps) = lr."""
    grads = [[2.0]] * 60
    plain = np.ravel(run(RMSprop(learning_rate=0.01, rho=0.5), [0.0], grads))
    centered = np.ravel(run(RMSprop(learning_rate=0.01, rho=0.5, centered=True), [0.0], grads))
    np.testing.assert_allclose(-np.diff(plain)[-1], 0.01, rtol=1e-6)
    assert -np.diff(centered)[-1] > 100 * 0.01


def test_slots_follow_the_options():
    var = nr.Variable(np.ones(2, dtype="float32"))
    assert set(RMSprop()._create_slots(var.data)) == {"velocity"}
    assert set(RMSprop(momentum=0.5, centered=True)._create_slots(var.data)) == {"velocity", "momentum",
                                                                                  "average_gradient"}


@pytest.mark.parametrize("arg, value", [("rho", 1.0), ("rho", -0.5), ("momentum", -0.1), ("epsilon", -1.0)])
def test_bad_hyperparameters_are_rejected(arg, value):
    with pytest.raises(ValueError, match=arg):
        RMSprop(**{arg: value})
