"""Adam against Kingma & Ba's Algorithm 1 written out in float64, and AMSGrad against Reddi et al."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import neurona as nr
from neurona.optimizers import Adam


def paper_adam(w, grads, lr, b1, b2, eps_hat, amsgrad=False):
    """Algorithm 1 of Kingma & Ba (2015) with the "epsilon hat" of its Section 2, in float64.

    The paper's last line is theta -= lr * m_hat / (sqrt(v_hat) + eps). Keras adds epsilon before
    undoing the bias of v (eps_hat, the form the paper gives just before Section 2.1); in the
    paper's variables that is eps = eps_hat / sqrt(1 - b2^t).
    """
    m = v = v_max = np.zeros_like(w)
    out = []
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        v_max = np.maximum(v_max, v)  # Reddi et al. (2018), Algorithm 2 (AMSGrad), with Keras's bias correction
        m_hat = m / (1 - b1**t)
        v_hat = (v_max if amsgrad else v) / (1 - b2**t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps_hat / np.sqrt(1 - b2**t))
        out.append(w)
    return out


def test_defaults_match_keras():
    opt = Adam()
    assert (opt.learning_rate, opt.beta_1, opt.beta_2, opt.epsilon, opt.amsgrad) == (0.001, 0.9, 0.999, 1e-7, False)


def test_first_step_by_hand(run):
    # g = 0.5, lr = 0.1: m = 0.05, v = 0.00025, alpha = 0.1 sqrt(0.001) / 0.1 = 0.0316227766...
    # w = 1 - alpha * 0.05 / (sqrt(0.00025) + 1e-7) = 0.9000006324515321
    (w1,) = run(Adam(learning_rate=0.1), [1.0], [[0.5]])
    np.testing.assert_allclose(w1, [0.9000006324515321], rtol=0, atol=1e-15)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_matches_algorithm_1(run, grad_sequence, amsgrad):
    w0 = np.linspace(-1, 1, 5)
    opt = Adam(learning_rate=0.05, beta_1=0.8, beta_2=0.95, epsilon=1e-3, amsgrad=amsgrad)
    got = run(opt, w0, grad_sequence)
    want = paper_adam(w0, grad_sequence, 0.05, 0.8, 0.95, 1e-3, amsgrad)
    for t, (a, b) in enumerate(zip(got, want), start=1):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-13, err_msg=f"step {t}")


@settings(max_examples=25, deadline=None)
@given(lr=st.floats(1e-4, 1.0), b1=st.floats(0.0, 0.99), b2=st.floats(0.0, 0.9999), eps=st.floats(1e-8, 1.0),
       seed=st.integers(0, 2**16))
def test_matches_algorithm_1_for_any_hyperparameters(lr, b1, b2, eps, seed):
    grads = list(np.random.default_rng(seed).standard_normal((5, 3)))
    var, opt = nr.Variable(np.zeros(3)), Adam(learning_rate=lr, beta_1=b1, beta_2=b2, epsilon=eps)
    for g in grads:
        var.grad = g
        opt.apply([var])
    np.testing.assert_allclose(var.data, paper_adam(np.zeros(3), grads, lr, b1, b2, eps)[-1], rtol=1e-9, atol=1e-12)


def test_bias_correction_makes_constant_gradient_steps_lr_sized(run):
    """With a constant g, m_hat = g and v_hat = g^2 exactly, so every step is lr * |g| / (|g| + eps'):
    without the correction the first step would be lr (1 - b1) / sqrt(1 - b2) = 3.16 lr."""
    g, lr = 2.0, 0.01
    # epsilon must be > 0; 1e-300 is below float64 resolution next to |g|, so the closed form stays exact
    history = run(Adam(learning_rate=lr, epsilon=1e-300), [0.0], [[g]] * 6)
    steps = -np.diff(np.concatenate([[0.0], np.ravel(history)]))
    np.testing.assert_allclose(steps, lr, rtol=1e-12)


def test_amsgrad_denominator_is_the_running_max():
    var = nr.Variable(np.zeros(3))
    opt = Adam(amsgrad=True, beta_2=0.5)  # a short memory, so v falls after a large gradient
    peak = np.zeros(3)
    for g in ([3.0, 0.1, 1.0], [0.1, 3.0, 1.0], [0.1, 0.1, 0.0]):
        var.grad = np.array(g)
        opt.apply([var])
        peak = np.maximum(peak, opt.slots(var)["velocity"])
        np.testing.assert_array_equal(opt.slots(var)["velocity_hat"], peak)
    assert (opt.slots(var)["velocity_hat"] > opt.slots(var)["velocity"]).all()


def test_amsgrad_never_steps_further_than_adam_after_a_large_gradient(run):
    grads = [[10.0]] + [[0.1]] * 20
    adam = np.ravel(run(Adam(learning_rate=0.1, beta_2=0.9), [0.0], grads))
    ams = np.ravel(run(Adam(learning_rate=0.1, beta_2=0.9, amsgrad=True), [0.0], grads))
    adam_steps, ams_steps = np.abs(np.diff(adam)), np.abs(np.diff(ams))
    assert (ams_steps <= adam_steps + 1e-15).all() and ams_steps[-1] < 0.5 * adam_steps[-1]


def test_slots_are_float32_zeros_like_the_variable(device):
    var = nr.Variable(nr.backend.get_xp().ones((4, 3), dtype="float32"))
    opt = Adam(amsgrad=True)
    opt.build([var])
    slots = opt.slots(var)
    assert set(slots) == {"momentum", "velocity", "velocity_hat"}
    for arr in slots.values():
        assert arr.shape == (4, 3) and arr.dtype == np.float32
        assert type(arr) is type(var.data)  # same device
        assert float(abs(arr).sum()) == 0.0


@pytest.mark.parametrize("arg, value", [("beta_1", 1.0), ("beta_1", -0.1), ("beta_2", 1.5), ("epsilon", -1e-8)])
def test_bad_hyperparameters_are_rejected(arg, value):
    with pytest.raises(ValueError, match=arg):
        Adam(**{arg: value})
