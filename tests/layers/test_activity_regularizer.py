"""activity_regularizer= on any layer: the penalty of the output enters the model's loss and its gradient."""

import json

import numpy as np
import pytest

import neurona as nr
from neurona import layers, models, regularizers


def _dense(units, **kwargs):
    return layers.Dense(units, use_bias=False, kernel_initializer="glorot_uniform", **kwargs)


def test_penalty_of_the_latest_output_is_divided_by_the_batch_size():
    nr.set_floatx("float64")
    layer = _dense(3, activity_regularizer=regularizers.L2(0.1))
    x = np.random.default_rng(5).standard_normal((4, 2))
    out = layer(x)
    (penalty,) = layer.losses
    np.testing.assert_allclose(penalty.item(), 0.1 * (out.numpy() ** 2).sum() / 4, rtol=1e-12)
    layer(np.concatenate([x, x]))  # twice the batch, the same penalty (Keras 3.10+ divides by the batch size)
    np.testing.assert_allclose(layer.losses[0].item(), penalty.item(), rtol=1e-12)
    assert len(layer.losses) == 1  # replaced at each call, never piling up


def test_penalty_enters_compute_loss_and_the_gradient():
    nr.set_floatx("float64")
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((6, 2)), rng.standard_normal((6, 3))
    model = models.Sequential([layers.Input((2,)), _dense(3, activity_regularizer=regularizers.L1L2(l1=0.01, l2=0.1))])
    model.compile(optimizer="sgd", loss="mse")
    kernel = model.layers[0].kernel
    out = model(x, training=True)
    loss = model.compute_loss(y, out)
    h = x @ kernel.numpy()
    mse = ((h - y) ** 2).mean()
    n = len(x)
    np.testing.assert_allclose(loss.item(), mse + (0.01 * np.abs(h).sum() + 0.1 * (h ** 2).sum()) / n, rtol=1e-12)
    model.zero_grad()
    loss.backward()
    d_h = 2 * (h - y) / h.size + (0.01 * np.sign(h) + 0.2 * h) / n
    np.testing.assert_allclose(kernel.grad, x.T @ d_h, rtol=1e-10)


def test_evaluate_reports_the_penalty_and_fit_shrinks_activations():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((64, 4)).astype(np.float32)
    y = np.zeros((64, 1), np.float32)
    plain = models.Sequential([layers.Input((4,)), layers.Dense(1, kernel_initializer="ones")])
    penalized = models.Sequential([layers.Input((4,)), layers.Dense(1, kernel_initializer="ones",
                                                                    activity_regularizer=regularizers.L2(8.0))])
    for model in (plain, penalized):
        model.compile(optimizer="sgd", loss="mse")
    out = plain.predict(x)
    assert penalized.evaluate(x, y, batch_size=64, verbose=0) == pytest.approx(
        float((out ** 2).mean() + 8.0 * (out ** 2).sum() / len(x)), rel=1e-5)
    for model in (plain, penalized):
        model.fit(x, x.sum(axis=1, keepdims=True), epochs=2, batch_size=16, verbose=0, shuffle=False)
    assert np.abs(penalized.predict(x)).mean() < 0.5 * np.abs(plain.predict(x)).mean()


def test_config_round_trip_of_the_activity_regularizer():
    layer = layers.Dense(2, activity_regularizer="l2")
    config = json.loads(json.dumps(layers.serialize(layer)))
    clone = layers.deserialize(config)
    assert isinstance(clone.activity_regularizer, regularizers.L2) and clone.get_config() == layer.get_config()
    assert "activity_regularizer" not in layers.Dense(2).get_config()
