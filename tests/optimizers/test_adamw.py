"""AdamW: weight decay decoupled from the adaptive gradient step (Loshchilov & Hutter 2019)."""

import numpy as np
import pytest

import neurona as nr
from neurona.optimizers import SGD, Adam, AdamW


def test_defaults_match_keras():
    opt = AdamW()
    assert (opt.learning_rate, opt.weight_decay, opt.beta_1, opt.beta_2, opt.epsilon) == (0.001, 0.004, 0.9, 0.999,
                                                                                          1e-7)


def test_zero_gradient_still_shrinks_weights_by_lr_times_decay(run):
    w0 = np.array([1.0, -2.0, 3.0])
    history = run(AdamW(learning_rate=0.1, weight_decay=0.2), w0, [np.zeros(3)] * 3)
    for t, w in enumerate(history, start=1):
        np.testing.assert_allclose(w, w0 * (1 - 0.1 * 0.2) ** t, rtol=1e-14)


def test_step_is_decay_then_adam_step(run, grad_sequence):
    """Decoupled: AdamW(w) = Adam((1 - lr wd) w) with the same gradient and the same moments."""
    lr, wd = 0.05, 0.1
    w0 = np.linspace(-1, 1, 5)
    got = run(AdamW(learning_rate=lr, weight_decay=wd), w0, grad_sequence)
    var, adam = nr.Variable(w0.copy()), Adam(learning_rate=lr)
    for g, w in zip(grad_sequence, got):
        var.data *= 1 - lr * wd
        var.grad = g
        adam.apply([var])
        np.testing.assert_allclose(w, var.data, rtol=0, atol=1e-14)


@pytest.mark.parametrize("g", [1e-3, 1.0, 1e3])
def test_decay_does_not_depend_on_gradient_scale(run, g):
    """Coupled L2 (adding wd * w to the gradient) is divided by Adam's sqrt(v) and vanishes for large
    gradients; decoupled decay shrinks by lr * wd * w whatever the gradient scale.

    With a negligible epsilon (1e-300: epsilon must be > 0) a first Adam step is exactly lr * sign(g), which
    makes both closed forms exact.
    """
    w0, lr, wd = 1.0, 0.01, 0.5
    (decoupled,) = run(AdamW(learning_rate=lr, weight_decay=wd, epsilon=1e-300), [w0], [[g]])
    (coupled,) = run(Adam(learning_rate=lr, epsilon=1e-300), [w0], [[g + wd * w0]])
    np.testing.assert_allclose(decoupled, [w0 * (1 - lr * wd) - lr], rtol=1e-14)
    np.testing.assert_allclose(coupled, [w0 - lr], rtol=1e-14)  # the L2 term had no effect at all


def test_weight_decay_lives_in_the_base_for_every_optimizer(run):
    # SGD(lr=0.5, weight_decay=0.1): w <- w (1 - 0.05) - 0.5 g
    (w1,) = run(SGD(learning_rate=0.5, weight_decay=0.1), [2.0], [[1.0]])
    np.testing.assert_allclose(w1, [2.0 * 0.95 - 0.5], atol=1e-15)


def test_exclude_from_weight_decay_by_name_and_variable():
    kernel = nr.Variable(np.ones(2), name="dense/kernel")
    bias = nr.Variable(np.ones(2), name="dense/bias")
    other = nr.Variable(np.ones(2), name="other")
    opt = AdamW(learning_rate=0.1, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_list=[other], var_names=["bias"])
    for v in (kernel, bias, other):
        v.grad = np.zeros(2)
    opt.apply([kernel, bias, other])
    np.testing.assert_allclose(kernel.data, 0.95)
    np.testing.assert_array_equal(bias.data, 1.0)
    np.testing.assert_array_equal(other.data, 1.0)


def test_none_weight_decay_is_rejected():
    with pytest.raises(ValueError, match="weight_decay"):
        AdamW(weight_decay=None)
    with pytest.raises(ValueError, match="weight_decay"):
        AdamW(weight_decay=-0.01)
