"""SGD against hand-computed steps and against the paper forms of momentum (Polyak; Sutskever et al.)."""

import numpy as np
import pytest

import neurona as nr
from neurona.optimizers import SGD


def test_defaults_match_keras():
    opt = SGD()
    assert (opt.learning_rate, opt.momentum, opt.nesterov, opt.weight_decay) == (0.01, 0.0, False, None)


def test_plain_step_is_lr_times_gradient(run, grad_sequence):
    w0 = np.linspace(-1, 1, 5)
    history = run(SGD(learning_rate=0.3), w0, grad_sequence)
    np.testing.assert_allclose(history[-1], w0 - 0.3 * np.sum(grad_sequence, axis=0), rtol=0, atol=1e-12)


def test_momentum_first_two_steps_by_hand(run):
    # m1 = -0.1*g = [-0.05, -0.1]; w1 = [0.95, -2.1]
    # m2 = 0.9*m1 - 0.1*g = [-0.095, -0.19]; w2 = [0.855, -2.29]
    g = [0.5, 1.0]
    w1, w2 = run(SGD(learning_rate=0.1, momentum=0.9), [1.0, -2.0], [g, g])
    np.testing.assert_allclose(w1, [0.95, -2.1], atol=1e-15)
    np.testing.assert_allclose(w2, [0.855, -2.29], atol=1e-15)


def test_nesterov_first_step_by_hand(run):
    # m1 = -0.05; w1 = 1 + 0.9*(-0.05) - 0.1*0.5 = 0.905
    (w1,) = run(SGD(learning_rate=0.1, momentum=0.9, nesterov=True), [1.0], [[0.5]])
    np.testing.assert_allclose(w1, [0.905], atol=1e-15)


def test_heavy_ball_matches_polyak(run, grad_sequence):
    lr, mu = 0.05, 0.8
    w = np.linspace(-1, 1, 5)
    history = run(SGD(learning_rate=lr, momentum=mu), w, grad_sequence)
    velocity = np.zeros(5)
    for g, got in zip(grad_sequence, history):  # Polyak 1964: w_{t+1} = w_t - lr g_t + mu (w_t - w_{t-1})
        velocity = mu * velocity - lr * g
        w = w + velocity
        np.testing.assert_allclose(got, w, rtol=0, atol=1e-13)


def test_nesterov_matches_sutskever_lookahead_form():
    """Keras's Nesterov update is Sutskever et al.'s NAG after the change of variables phi = theta + mu v.

    NAG (2013, eq. 3-4): v <- mu v - lr grad f(theta + mu v); theta <- theta + v, the gradient taken
    at the look-ahead point. The optimizer only ever sees gradients at its own variable, so if it
    stores phi = theta + mu v, its trajectory must equal theta_t + mu v_t at every step.
    """
    rng = np.random.default_rng(3)
    a = rng.uniform(0.5, 2.0, 4)
    c = rng.standard_normal(4)
    grad_f = lambda x: a * (x - c)  # f(x) = 0.5 sum a (x - c)^2
    lr, mu = 0.1, 0.9
    theta, v = rng.standard_normal(4), np.zeros(4)
    var = nr.Variable(theta.copy())  # phi_0 = theta_0 since v_0 = 0
    opt = SGD(learning_rate=lr, momentum=mu, nesterov=True)
    for _ in range(15):
        var.grad = grad_f(var.data)
        opt.apply([var])
        v = mu * v - lr * grad_f(theta + mu * v)
        theta = theta + v
        np.testing.assert_allclose(var.data, theta + mu * v, rtol=0, atol=1e-12)


def test_momentum_slot_only_when_needed():
    var = nr.Variable(np.ones(3, dtype="float32"))
    var.grad = np.ones(3, dtype="float32")
    plain, heavy = SGD(), SGD(momentum=0.5)
    plain.apply([var])
    heavy.apply([var])
    assert plain.slots(var) == {}
    assert set(heavy.slots(var)) == {"momentum"}


@pytest.mark.parametrize("momentum", [-0.1, 1.5, float("nan")])
def test_momentum_out_of_range_is_rejected(momentum):
    with pytest.raises(ValueError, match="momentum"):
        SGD(momentum=momentum)
