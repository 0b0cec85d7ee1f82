"""inspect() on recurrent models: the objective's gradient at each input time step shows vanishing through time."""

import numpy as np

import neurona as nr
from neurona import diagnostics, layers, models


def _ratio(layer, steps=60, seed=0):
    x = np.random.default_rng(seed).standard_normal((16, steps, 2)).astype("float64")
    model = models.Sequential([layers.Input((steps, 2)), layer, layers.Dense(1, dtype="float64")])
    report = diagnostics.inspect(model, x)
    through = report.network["through_time"]
    assert len(through["per_step_rms"]) == steps
    return through, report


def test_a_small_random_recurrent_kernel_vanishes_far_faster_than_an_orthogonal_one():
    small, _ = _ratio(layers.SimpleRNN(32, recurrent_initializer=nr.initializers.RandomNormal(stddev=0.05, seed=1),
                                       dtype="float64"))
    orthogonal, report = _ratio(layers.SimpleRNN(32, recurrent_initializer=nr.initializers.Orthogonal(seed=1),
                                                 dtype="float64"))
    # the state's gradient meets U^T once per step: with singular values ~0.05 * sqrt(32) = 0.28 it shrinks by
    # about that factor per step, with an orthogonal U only by tanh's derivative
    assert small["first_last_ratio"] < 1e-20 < orthogonal["first_last_ratio"]
    # the gradient reaching step t shrinks geometrically as t moves away from the end (by e^-1 or more a step)
    rms = np.array(small["per_step_rms"])
    slope = np.polyfit(np.arange(20), np.log(rms[-20:]), 1)[0]
    assert slope > 1.0
    assert "gradient through time" in str(report)


def test_the_measurement_is_the_gradient_with_respect_to_the_inputs():
    """Against an independent backward pass of the same objective (inspect's random output gradient, seed 0)."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 5, 2))
    model = models.Sequential([layers.Input((5, 2)), layers.GRU(4, dtype="float64")])
    report = diagnostics.inspect(model, x)
    probe = np.random.default_rng(0).standard_normal((6, 4))
    xt = nr.Tensor(x, requires_grad=True)
    (model(xt) * nr.Tensor(probe)).sum().backward()
    want = np.sqrt((xt.grad ** 2).mean(axis=(0, 2)))
    np.testing.assert_allclose(report.network["through_time"]["per_step_rms"], want, rtol=1e-10)


def test_models_without_recurrent_layers_have_no_such_figure():
    model = models.Sequential([layers.Input((5, 2)), layers.Dense(3)])
    report = diagnostics.inspect(model, np.zeros((4, 5, 2), "float32"))
    assert report.network["through_time"] is None
