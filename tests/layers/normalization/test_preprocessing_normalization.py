"""The Normalization preprocessing layer: adapt() statistics, application, streaming, invert, config, weights."""

import json

import numpy as np
import pytest

import neurona as nr
from neurona import layers, models

DATA_SEED = 42


def _data(shape=(500, 4), seed=DATA_SEED):
    rng = np.random.default_rng(seed)
    scale = np.linspace(0.1, 100.0, shape[-1])
    return (rng.standard_normal(shape) * scale + 3.0 * scale).astype(np.float32)


def test_adapt_on_train_and_apply_to_test(device):
    train, test = _data(), _data(seed=7)
    layer = layers.Normalization()
    layer.adapt(train)
    np.testing.assert_allclose(layer.mean.numpy(), train.astype(np.float64).mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(layer.variance.numpy(), train.astype(np.float64).var(axis=0), rtol=1e-6)
    out = layer(test).numpy()
    expected = (test - train.mean(axis=0)) / train.std(axis=0)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer(train).numpy().std(axis=0), 1.0, rtol=1e-4)
    assert layer.trainable_weights == [] and [w.name.split("/")[1] for w in layer.weights] == ["mean", "variance"]


def test_streaming_adapt_equals_one_pass():
    data = _data((1001, 3))
    whole, chunked, batches = layers.Normalization(), layers.Normalization(), layers.Normalization()
    whole.adapt(data)
    chunked.adapt(data, batch_size=17)  # 59 chunks, the last one short
    batches.adapt((part, np.zeros(len(part))) for part in np.array_split(data, 9))  # an iterable of (x, y)
    for layer in (chunked, batches):
        np.testing.assert_allclose(layer.mean.numpy(), whole.mean.numpy(), rtol=1e-6)
        np.testing.assert_allclose(layer.variance.numpy(), whole.variance.numpy(), rtol=1e-6)


def test_adapt_merges_chunks_exactly_for_a_large_offset():
    # float64 Chan update: a naive running sum of squares in float32 would be far off here
    data = (1e4 + np.random.default_rng(DATA_SEED).standard_normal((20000, 1))).astype(np.float32)
    layer = layers.Normalization()
    layer.adapt(data, batch_size=1000)
    np.testing.assert_allclose(layer.variance.numpy(), data.astype(np.float64).var(axis=0), rtol=1e-5)


@pytest.mark.parametrize("axis,stat_shape", [(None, ()), (-1, (4,)), ((1, 2), (3, 4)), (1, (3,))])
def test_axis_chooses_the_kept_axes(axis, stat_shape):
    data = _data((50, 3, 4))
    layer = layers.Normalization(axis=axis)
    layer.adapt(data)
    assert layer.mean.shape == stat_shape
    kept = () if axis is None else tuple(a % 3 for a in ((axis,) if isinstance(axis, int) else axis))
    reduced = tuple(i for i in range(3) if i not in kept)
    mean = data.astype(np.float64).mean(axis=reduced, keepdims=True)
    std = data.astype(np.float64).std(axis=reduced, keepdims=True)
    np.testing.assert_allclose(layer(data).numpy(), (data - mean) / std, rtol=1e-4, atol=1e-4)


def test_given_mean_and_variance_and_invert_round_trip():
    layer = layers.Normalization(mean=[1.0, 2.0], variance=[4.0, 0.25])
    x = np.array([[3.0, 2.5], [1.0, 0.0]], np.float32)
    y = layer(x).numpy()
    np.testing.assert_allclose(y, [[1.0, 1.0], [0.0, -4.0]], rtol=1e-6)
    inverse = layers.Normalization(mean=[1.0, 2.0], variance=[4.0, 0.25], invert=True)
    np.testing.assert_allclose(inverse(y).numpy(), x, rtol=1e-6)
    scalar = layers.Normalization(mean=3.0, variance=2.0)
    np.testing.assert_allclose(scalar(np.array([[1.0], [3.0]], np.float32)).numpy(), [[-np.sqrt(2)], [0.0]],
                               rtol=1e-6)


def test_constant_feature_is_guarded_by_epsilon():
    data = np.column_stack([np.full(10, 5.0), np.arange(10.0)]).astype(np.float32)
    layer = layers.Normalization()
    layer.adapt(data)
    out = layer(data).numpy()
    assert np.isfinite(out).all() and np.all(out[:, 0] == 0.0)


def test_config_round_trip_and_statistics_travel_as_weights():
    layer = layers.Normalization(axis=[-1], mean=[0.5, 1.5], variance=[1.0, 4.0], invert=True, name="norm")
    config = json.loads(json.dumps(layers.serialize(layer)))
    clone = layers.deserialize(config)
    assert clone.get_config() == layer.get_config() and clone.axis == [-1] and clone.invert
    adapted = layers.Normalization()
    adapted.adapt(_data())
    assert adapted.get_config()["mean"] is None  # adapted statistics live in the weights, not the config
    restored = layers.deserialize(json.loads(json.dumps(layers.serialize(adapted))))
    restored.build_for((None, 4))
    restored.set_weights(adapted.get_weights())
    x = _data(seed=3)
    np.testing.assert_allclose(restored(x).numpy(), adapted(x).numpy())


def test_adapted_layer_as_the_first_layer_of_a_model(device):
    train = _data()
    norm = layers.Normalization()
    norm.adapt(train)
    model = models.Sequential([layers.Input((4,)), norm, layers.Dense(1)])
    assert model.output_shape == (None, 1) and model.count_params() == 8 + 5
    model.compile(optimizer="sgd", loss="mse")
    model.fit(train, train[:, :1], epochs=1, verbose=0)
    np.testing.assert_allclose(norm.mean.numpy(), train.astype(np.float64).mean(axis=0), rtol=1e-6)  # untouched


def test_gradient_flows_to_the_inputs():
    nr.set_floatx("float64")
    layer = layers.Normalization(mean=[1.0, -1.0], variance=[4.0, 9.0])
    x = nr.Tensor(np.ones((3, 2)), requires_grad=True)
    layer(x).sum().backward()
    np.testing.assert_allclose(x.grad, np.tile([0.5, 1 / 3], (3, 1)))


def test_errors():
    with pytest.raises(ValueError, match="both mean and variance"):
        layers.Normalization(mean=1.0)
    with pytest.raises(TypeError, match="axis must be an int"):
        layers.Normalization(axis="features")
    with pytest.raises(ValueError, match="keeps the batch axis 0"):
        layers.Normalization().adapt(np.arange(5.0))
    layer = layers.Normalization(name="norm")
    layer.adapt(_data())
    with pytest.raises(ValueError, match=r"'norm' \(Normalization\) was built for inputs of shape \(None, 4\)"):
        layer.adapt(_data((10, 3)))
    with pytest.raises(ValueError, match="do not broadcast to the kept shape"):
        layers.Normalization(mean=[1.0, 2.0], variance=[1.0, 1.0])(np.ones((2, 3), np.float32))
    with pytest.raises(ValueError, match="received no data"):
        layers.Normalization().adapt([])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_adapt_refuses_non_finite_data_and_keeps_the_statistics(bad):
    # a single NaN used to give NaN mean and variance, hence NaN for every later output
    layer = layers.Normalization(name="norm")
    layer.adapt(np.array([[0.0, 1.0], [2.0, 3.0]], np.float32))
    before = layer.get_weights()
    with pytest.raises(ValueError, match=r"layer 'norm' \(Normalization\): adapt\(\) received non-finite values"):
        layer.adapt(np.array([[bad, 1.0], [2.0, 3.0]], np.float32))
    with pytest.raises(ValueError, match=r"'norm' .*non-finite"):
        layer.adapt([np.ones((2, 2), np.float32), np.array([[1.0, bad]], np.float32)])  # in a later batch
    for kept, old in zip(layer.get_weights(), before):
        np.testing.assert_array_equal(kept, old)


def test_adapt_refuses_empty_data_naming_the_layer():
    with pytest.raises(ValueError, match=r"layer 'empty' \(Normalization\): adapt\(\) needs data with a batch axis "
                                         r"and at least one sample, got an array of shape \(0, 3\)"):
        layers.Normalization(name="empty").adapt(np.zeros((0, 3), np.float32))
    with pytest.raises(ValueError, match=r"layer 'batches' \(Normalization\): adapt\(\) received no samples"):
        layers.Normalization(name="batches").adapt([np.zeros((0, 3), np.float32)] * 2)


def test_adapt_skips_empty_batches_among_real_ones():
    layer = layers.Normalization()
    layer.adapt([np.zeros((0, 2), np.float32), np.array([[0.0, 2.0], [2.0, 4.0]], np.float32)])
    np.testing.assert_allclose(layer.mean.numpy(), [1.0, 3.0])
    np.testing.assert_allclose(layer.variance.numpy(), [1.0, 1.0])


@pytest.mark.parametrize("data", ["text", np.array([["a", "b"]])])
def test_adapt_refuses_non_numeric_data(data):
    with pytest.raises(TypeError, match=r"\(Normalization\): adapt\(\) needs "):
        layers.Normalization().adapt(data)


@pytest.mark.parametrize("invert", ["yes", 1, None])
def test_invert_must_be_a_bool(invert):
    with pytest.raises(TypeError, match="Normalization invert must be True or False, got "):
        layers.Normalization(invert=invert)
