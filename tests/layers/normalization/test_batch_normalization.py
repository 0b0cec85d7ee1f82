"""BatchNormalization: shapes, weights, config, training vs inference, moving averages, freezing, gradients."""

import json

import numpy as np
import pytest

import neurona as nr
from neurona import initializers, layers, models, ops

DATA_SEED = 42  # not 0: gradcheck's projection is drawn from default_rng(0)


def _round_trip(layer):
    config = json.loads(json.dumps(layers.serialize(layer)))
    clone = layers.deserialize(config)
    assert type(clone) is type(layer) and clone.get_config() == layer.get_config()
    return clone


@pytest.mark.parametrize("shape", [(16, 5), (4, 3, 3, 5)])
def test_shape_weights_and_config(device, shape):
    layer = layers.BatchNormalization(momentum=0.9, epsilon=1e-4, gamma_regularizer="l2")
    out = layer(np.ones(shape, np.float32), training=True)
    assert out.shape == shape and layer.compute_output_shape((None,) + shape[1:]) == (None,) + shape[1:]
    assert [w.name.split("/")[1] for w in layer.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert all(w.shape == (5,) for w in layer.weights) and layer.count_params() == 20
    assert len(layer.trainable_weights) == 2 and len(layer.non_trainable_weights) == 2
    clone = _round_trip(layer)
    assert clone.momentum == 0.9 and clone.epsilon == 1e-4 and clone.gamma_regularizer.l2 == 0.01


def test_center_and_scale_off_leave_only_the_moving_statistics():
    layer = layers.BatchNormalization(center=False, scale=False)
    layer(np.ones((4, 3), np.float32))
    assert [w.name.split("/")[1] for w in layer.weights] == ["moving_mean", "moving_variance"]
    assert layer.trainable_weights == []


def test_training_output_has_zero_mean_and_unit_variance_per_feature(device):
    x = np.random.default_rng(DATA_SEED).normal([1.0, -20.0, 300.0], [0.5, 4.0, 50.0], (512, 3)).astype(np.float32)
    y = layers.BatchNormalization(epsilon=1e-3)(x, training=True).numpy()
    np.testing.assert_allclose(y.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(y.var(axis=0), x.var(axis=0) / (x.var(axis=0) + 1e-3), rtol=1e-4)


def test_conv_layout_normalizes_per_channel_over_batch_and_space():
    rng = np.random.default_rng(DATA_SEED)
    x = rng.normal(2.0, 3.0, (6, 4, 4, 2))
    nr.set_floatx("float64")
    layer = layers.BatchNormalization(gamma_initializer=initializers.Constant(2.0),
                                      beta_initializer=initializers.Constant(-1.0))
    y = layer(x, training=True).numpy()
    mean, var = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))
    np.testing.assert_allclose(y, 2.0 * (x - mean) / np.sqrt(var + 1e-3) - 1.0, rtol=1e-12)


def test_after_conv2d_normalizes_each_output_channel():
    x = np.random.default_rng(DATA_SEED).normal(1.0, 2.0, (8, 6, 6, 2)).astype(np.float32)
    model = models.Sequential([layers.Input((6, 6, 2)), layers.Conv2D(3, 3, bias_initializer="ones"),
                               layers.BatchNormalization()])
    y = model(x, training=True).numpy()
    assert y.shape == (8, 4, 4, 3) and model.layers[1].moving_mean.shape == (3,)
    np.testing.assert_allclose(y.mean(axis=(0, 1, 2)), 0.0, atol=1e-5)
    np.testing.assert_allclose(y.std(axis=(0, 1, 2)), 1.0, rtol=1e-2)


def test_moving_averages_follow_the_keras_update_with_the_biased_variance():
    x = np.array([[0.0], [1.0], [5.0]], np.float32)  # mean 2, biased variance 14/3 (unbiased would be 7)
    layer = layers.BatchNormalization(momentum=0.8)
    layer(x, training=True)
    np.testing.assert_allclose(layer.moving_mean.numpy(), [0.2 * 2.0], rtol=1e-6)
    np.testing.assert_allclose(layer.moving_variance.numpy(), [0.8 * 1.0 + 0.2 * 14 / 3], rtol=1e-6)
    layer(x, training=True)
    np.testing.assert_allclose(layer.moving_mean.numpy(), [0.8 * 0.4 + 0.2 * 2.0], rtol=1e-6)


def test_the_layer_assigns_its_moving_averages_from_the_statistics_the_op_returns(monkeypatch):
    x = np.random.default_rng(DATA_SEED).normal(1.0, 2.0, (16, 3, 3, 4)).astype(np.float32)
    layer = layers.BatchNormalization(momentum=0.9)
    layer.build(x.shape)
    start = np.random.default_rng(1).random(4).astype(np.float32)
    layer.moving_mean.assign(start)
    calls = []
    real = ops.batch_normalization
    monkeypatch.setattr(ops, "batch_normalization", lambda *a, **k: calls.append(k) or real(*a, **k))
    layer(x, training=True)
    (kwargs,) = calls
    assert kwargs.get("moving_mean") is None and kwargs["return_statistics"]  # the op updates nothing
    _, mean, _ = real(x, axes=(0, 1, 2), epsilon=layer.epsilon, return_statistics=True)
    np.testing.assert_array_equal(layer.moving_mean.numpy(), start * 0.9 + mean.numpy() * (1 - 0.9))
    assert layer.moving_mean.dtype == np.float32


def test_moving_averages_converge_to_the_data_statistics():
    rng = np.random.default_rng(DATA_SEED)
    data = rng.normal([3.0, -1.0], [2.0, 0.5], (20000, 2)).astype(np.float32)
    layer = layers.BatchNormalization(momentum=0.9)
    for batch in np.split(data, 200):
        layer(batch, training=True)
    np.testing.assert_allclose(layer.moving_mean.numpy(), data.mean(axis=0), atol=0.1)
    np.testing.assert_allclose(layer.moving_variance.numpy(), data.var(axis=0), rtol=0.06)


@pytest.mark.parametrize("training", [False, None])
def test_inference_uses_the_moving_statistics_and_changes_nothing(device, training):
    layer = layers.BatchNormalization(epsilon=0.01)
    layer.build_for((None, 2))
    gamma, beta, mean, var = [np.array(v, np.float32) for v in ([2.0, 0.5], [1.0, -1.0], [3.0, -2.0], [4.0, 0.25])]
    layer.set_weights([gamma, beta, mean, var])
    x = np.array([[3.0, -2.0], [5.0, 0.0], [-1.0, 1.0]], np.float32)
    y = layer(x, training=training).numpy()
    np.testing.assert_allclose(y, gamma * (x - mean) / np.sqrt(var + 0.01) + beta, rtol=1e-6)
    np.testing.assert_allclose(layer.moving_mean.numpy(), mean)  # inference leaves the averages alone
    np.testing.assert_allclose(layer.moving_variance.numpy(), var)


def test_frozen_layer_runs_in_inference_mode_and_unfreezing_keeps_statistics_non_trainable():
    layer = layers.BatchNormalization()
    layer.build_for((None, 2))
    layer.set_weights([np.ones(2), np.zeros(2), np.array([1.0, 2.0]), np.array([4.0, 9.0])])
    layer.trainable = False
    x = np.array([[1.0, 2.0], [3.0, 5.0]], np.float32)
    y = layer(x, training=True).numpy()
    np.testing.assert_allclose(y, (x - [1.0, 2.0]) / np.sqrt(np.array([4.0, 9.0]) + 1e-3), rtol=1e-6)
    np.testing.assert_allclose(layer.moving_mean.numpy(), [1.0, 2.0])  # not updated while frozen
    assert layer.trainable_weights == []
    layer.trainable = True
    assert [w.name.split("/")[1] for w in layer.trainable_weights] == ["gamma", "beta"]
    assert not layer.moving_mean.requires_grad and not layer.moving_variance.trainable


def test_channels_first_axis_matches_channels_last():
    x = np.random.default_rng(DATA_SEED).normal(0.0, 2.0, (4, 3, 5, 5)).astype(np.float32)
    first = layers.BatchNormalization(axis=1)(x, training=True).numpy()
    last = layers.BatchNormalization(axis=-1)(x.transpose(0, 2, 3, 1), training=True).numpy()
    np.testing.assert_allclose(first, last.transpose(0, 3, 1, 2), rtol=1e-5, atol=1e-5)


def test_trains_inside_a_sequential_model_and_predict_uses_moving_statistics():
    rng = np.random.default_rng(DATA_SEED)
    x = rng.normal(10.0, 5.0, (256, 4)).astype(np.float32)
    y = (x[:, :1] - 10.0) / 5.0
    model = models.Sequential([layers.Input((4,)), layers.BatchNormalization(momentum=0.8), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, batch_size=32, epochs=3, verbose=0)
    bn = model.layers[0]
    np.testing.assert_allclose(bn.moving_mean.numpy(), x.mean(axis=0), rtol=0.05)
    gamma, beta, mean, var = bn.get_weights()
    expected = gamma * (x - mean) / np.sqrt(var + 1e-3) + beta
    hidden = model.predict(x, batch_size=256) - model.layers[1].bias.numpy()
    np.testing.assert_allclose(hidden, expected @ model.layers[1].kernel.numpy(), rtol=1e-4, atol=1e-4)


def test_errors_name_the_layer_and_the_shapes():
    with pytest.raises(ValueError, match="momentum must be a number in"):
        layers.BatchNormalization(momentum=1.5)
    with pytest.raises(TypeError, match="axis must be an int"):
        layers.BatchNormalization(axis=[1, 2])
    layer = layers.BatchNormalization(name="bn")
    layer(np.ones((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"'bn' \(BatchNormalization\) expects inputs of rank 2.*\(2, 4\)"):
        layer(np.ones((2, 4), np.float32))
    with pytest.raises(ValueError, match="includes the batch axis 0"):
        layers.BatchNormalization(axis=0)(np.ones((2, 3), np.float32))


@pytest.mark.parametrize("argument", ["center", "scale"])
@pytest.mark.parametrize("value", ["no", "yes", 0, 1, None])
def test_center_and_scale_must_be_bools(argument, value):
    # center="no" is truthy: the layer used to learn the offset it was told not to have
    with pytest.raises(TypeError, match=rf"BatchNormalization {argument} must be True or False, got "):
        layers.BatchNormalization(**{argument: value})


def test_numpy_bool_center_and_scale_are_accepted():
    layer = layers.BatchNormalization(center=np.bool_(False), scale=np.bool_(True))
    layer(np.ones((2, 3), np.float32))
    assert [w.name.split("/")[-1] for w in layer.weights] == ["gamma", "moving_mean", "moving_variance"]
    assert json.loads(json.dumps(layer.get_config()))["center"] is False
