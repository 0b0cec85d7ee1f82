"""Helpers shared by the optimizer tests: run an optimizer over a sequence of gradients."""

import numpy as np
import pytest

import neurona as nr


def run_steps(opt, w0, grads, dtype="float64"):
    """Apply ``opt`` to one variable starting at ``w0`` with the given gradients; the weights after each step."""
    var = nr.Variable(np.array(w0, dtype=dtype), name="w")
    history = []
    for g in grads:
        var.grad = np.asarray(g, dtype=dtype)
        opt.apply([var])
        history.append(var.data.copy())
    return history


@pytest.fixture
def run():
    return run_steps


@pytest.fixture
def grad_sequence(rng):
    """Eight gradients of shape (5,) with mixed signs and scales (float64)."""
    return [rng.standard_normal(5) * rng.uniform(0.1, 3.0) for _ in range(8)]
