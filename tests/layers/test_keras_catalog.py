"""Issue 21's catalog against real Keras 3 (numpy backend): the same outputs and the same config options, and the
random layers' statistics (their draws cannot match Keras's generator, so their formulas are checked instead)."""

import json

import numpy as np
import pytest
from _harness.keras_oracle import numpy_keras

import neurona as nr
from neurona import layers

DETERMINISTIC = [
    ("UpSampling1D", dict(size=3), (2, 4, 3)),
    ("UpSampling2D", dict(size=(2, 3)), (2, 3, 2, 2)),
    ("UpSampling2D", dict(size=2, interpolation="bilinear"), (2, 3, 4, 2)),
    ("UpSampling2D", dict(size=(3, 2), interpolation="bilinear", data_format="channels_first"), (2, 2, 3, 3)),
    ("ZeroPadding1D", dict(padding=(1, 2)), (2, 3, 2)),
    ("ZeroPadding1D", dict(padding=2, data_format="channels_first"), (2, 3, 4)),
    ("ZeroPadding2D", dict(padding=((1, 0), (2, 1))), (2, 3, 3, 2)),
    ("ZeroPadding2D", dict(padding=(1, 2), data_format="channels_first"), (2, 2, 3, 3)),
    ("ZeroPadding2D", dict(padding=3), (1, 2, 2, 1)),
    ("Cropping1D", dict(cropping=(0, 2)), (2, 5, 3)),
    ("Cropping1D", dict(cropping=1), (2, 4, 2)),
    ("Cropping2D", dict(cropping=((1, 0), (0, 2))), (2, 4, 5, 2)),
    ("Cropping2D", dict(cropping=1, data_format="channels_first"), (2, 2, 4, 4)),
    ("Cropping2D", dict(cropping=(2, 1)), (2, 6, 5, 1)),
    ("Permute", dict(dims=(2, 1)), (2, 3, 4)),
    ("Permute", dict(dims=(3, 1, 2)), (2, 3, 4, 2)),
    ("RepeatVector", dict(n=3), (2, 4)),
    ("UnitNormalization", dict(), (3, 5)),
    ("UnitNormalization", dict(axis=[1, 2]), (2, 3, 4)),
    ("UnitNormalization", dict(axis=1), (2, 3, 4)),
    ("Rescaling", dict(scale=1 / 255), (2, 4, 4, 3)),
    ("Rescaling", dict(scale=2.0, offset=-1.0), (2, 5)),
    ("Rescaling", dict(scale=[1.0, 2.0, 3.0], offset=0.5), (2, 2, 2, 3)),
    ("Resizing", dict(height=3, width=5), (2, 4, 4, 2)),
    ("Resizing", dict(height=7, width=3), (2, 4, 9, 2)),
    ("Resizing", dict(height=4, width=2, interpolation="nearest"), (2, 3, 5, 1)),
    ("Resizing", dict(height=5, width=7, interpolation="nearest"), (2, 3, 4, 1)),
    ("Resizing", dict(height=3, width=3, crop_to_aspect_ratio=True), (2, 4, 6, 2)),
    ("Resizing", dict(height=5, width=3, crop_to_aspect_ratio=True), (2, 4, 7, 2)),
    ("Resizing", dict(height=4, width=4, pad_to_aspect_ratio=True, fill_value=0.5), (2, 2, 4, 1)),
    ("Resizing", dict(height=6, width=3, pad_to_aspect_ratio=True), (2, 5, 5, 2)),
    ("Resizing", dict(height=3, width=2, antialias=True, data_format="channels_first"), (2, 2, 6, 5)),
    ("CenterCrop", dict(height=2, width=3), (2, 4, 5, 2)),
    ("CenterCrop", dict(height=3, width=2), (2, 6, 6, 1)),
    ("CenterCrop", dict(height=4, width=4), (2, 3, 5, 1)),
    ("CenterCrop", dict(height=2, width=2, data_format="channels_first"), (2, 3, 4, 3)),
    ("ActivityRegularization", dict(l1=0.1, l2=0.2), (2, 3)),
]

# identity at inference, and their configs
RANDOM = [
    ("SpatialDropout1D", dict(rate=0.5, seed=1), (4, 5, 6)),
    ("SpatialDropout2D", dict(rate=0.3, data_format="channels_first", seed=4), (3, 5, 4, 4)),
    ("GaussianNoise", dict(stddev=0.5, seed=1), (2, 6)),
    ("GaussianDropout", dict(rate=0.3, seed=1), (2, 6)),
    ("AlphaDropout", dict(rate=0.5, noise_shape=(None, 1, 3), seed=2), (2, 4, 3)),
]

IGNORED = {"name", "dtype", "trainable", "autocast"}  # base options, compared by the saving tests


def _label(entry):
    return f"{entry[0]}({', '.join(f'{k}={v}' for k, v in entry[1].items())})"


def _plain(value):
    return json.loads(json.dumps(value))


def _compare_configs(ours, theirs):
    theirs = _plain(theirs.get_config())
    for key, value in _plain(ours.get_config()).items():
        if key not in IGNORED:
            assert key in theirs, f"{key!r} is not an option of Keras's {type(ours).__name__}"
            assert value == theirs[key], f"{type(ours).__name__}.{key}: ours {value!r}, Keras's {theirs[key]!r}"


@pytest.mark.parametrize("name,kwargs,shape", DETERMINISTIC + RANDOM, ids=[_label(e) for e in DETERMINISTIC + RANDOM])
def test_outputs_and_configs_match_keras(monkeypatch, name, kwargs, shape):
    keras = numpy_keras(monkeypatch)
    x = np.random.default_rng(0).standard_normal(shape).astype("float32")
    ours, theirs = getattr(layers, name)(**kwargs), getattr(keras.layers, name)(**kwargs)
    expected = np.asarray(theirs(x, training=False) if (name, kwargs, shape) in RANDOM else theirs(x))
    got = ours(x).numpy()
    assert got.shape == expected.shape and got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)
    assert tuple(ours.compute_output_shape((None,) + shape[1:])) == tuple(theirs.compute_output_shape(
        (None,) + shape[1:]))
    _compare_configs(ours, theirs)


def test_activity_regularization_adds_keras_penalty(monkeypatch):
    keras = numpy_keras(monkeypatch)
    x = np.random.default_rng(1).standard_normal((3, 4)).astype("float32")
    ours, theirs = layers.ActivityRegularization(l1=0.1, l2=0.2), keras.layers.ActivityRegularization(l1=0.1, l2=0.2)
    ours(x), theirs(x)
    assert len(ours.losses) == len(theirs.losses) == 1
    penalty = (0.1 * np.abs(x).sum() + 0.2 * (x ** 2).sum()) / len(x)  # divided by the batch size, as Keras 3.15
    np.testing.assert_allclose(float(ours.losses[0].item()), penalty, rtol=1e-6)
    np.testing.assert_allclose(float(np.asarray(theirs.losses[0])), penalty, rtol=1e-6)
    model = nr.models.Sequential([layers.Input((4,)), layers.Dense(2), layers.ActivityRegularization(l2=0.5)])
    model(x, training=True)
    assert len(model.losses) == 1


# ---- the random layers in training: statistics --------------------------------------------------------------
BIG = (400, 8, 50)  # 20,000 channels per sample axis for the spatial ones


def _train(layer, x):
    return layer(x, training=True).numpy()


@pytest.mark.parametrize("rate", [0.2, 0.5])
def test_spatial_dropout_drops_whole_channels(rate):
    x = np.ones(BIG, dtype="float32")
    out = _train(layers.SpatialDropout1D(rate, seed=0), x)
    dropped = out[:, 0, :] == 0
    assert np.array_equal(out == 0, np.broadcast_to(dropped[:, None, :], out.shape))  # the same along the steps
    assert abs(dropped.mean() - rate) < 0.02
    np.testing.assert_allclose(out[out != 0], 1 / (1 - rate), rtol=1e-6)
    images = np.ones((200, 3, 3, 40), dtype="float32")
    maps = _train(layers.SpatialDropout2D(rate, seed=1), images)
    assert np.array_equal(maps == 0, np.broadcast_to((maps[:, :1, :1, :] == 0), maps.shape))
    first = _train(layers.SpatialDropout2D(rate, data_format="channels_first", seed=1), images.transpose(0, 3, 1, 2))
    assert np.array_equal(first == 0, np.broadcast_to(first[:, :, :1, :1] == 0, first.shape))
    assert abs((first[:, :, 0, 0] == 0).mean() - rate) < 0.03


def test_gaussian_noise_and_dropout_statistics():
    x = np.full((200, 500), 2.0, dtype="float32")
    noise = _train(layers.GaussianNoise(0.3, seed=0), x) - x
    assert abs(noise.mean()) < 0.005 and abs(noise.std() - 0.3) < 0.005
    factor = _train(layers.GaussianDropout(0.2, seed=0), x) / x
    assert abs(factor.mean() - 1) < 0.005 and abs(factor.std() - np.sqrt(0.2 / 0.8)) < 0.005


def test_alpha_dropout_follows_keras_formula_and_keeps_selu_statistics():
    rate = 0.1
    x = np.random.default_rng(0).standard_normal((400, 500)).astype("float32")
    out = _train(layers.AlphaDropout(rate, seed=0), x)
    alpha_p = -1.6732632423543772848170429916717 * 1.0507009873554804934193349852946
    a = ((1 - rate) * (1 + rate * alpha_p ** 2)) ** -0.5
    b = -a * alpha_p * rate
    dropped = np.isclose(out, a * alpha_p + b, rtol=0, atol=1e-6)
    assert abs(dropped.mean() - rate) < 0.005
    np.testing.assert_allclose(out[~dropped], a * x[~dropped] + b, rtol=1e-5, atol=1e-6)
    # inputs of mean 0 and variance 1 keep them (the point of alpha dropout)
    assert abs(out.mean()) < 0.01 and abs(out.std() - 1) < 0.01


@pytest.mark.parametrize("layer", [layers.SpatialDropout1D(0.5, seed=0), layers.GaussianNoise(1.0, seed=0),
                                   layers.GaussianDropout(0.5, seed=0), layers.AlphaDropout(0.5, seed=0)],
                         ids=lambda layer: type(layer).__name__)
def test_random_layers_are_the_identity_at_inference_and_reproducible_from_their_seed(layer):
    x = np.random.default_rng(2).standard_normal((4, 5, 6)).astype("float32")
    assert np.array_equal(layer(x).numpy(), x) and np.array_equal(layer(x, training=False).numpy(), x)
    twin = type(layer).from_config(layer.get_config())
    fresh = type(layer).from_config(layer.get_config())
    assert np.array_equal(_train(twin, x), _train(fresh, x))
    assert not np.array_equal(_train(twin, x), _train(fresh.__class__.from_config(layer.get_config()), x))


def test_clear_errors():
    with pytest.raises(ValueError, match=r"ZeroPadding2D: padding entry 1 must be an int >= 0"):
        layers.ZeroPadding2D(((1, 1), (1, -1)))
    with pytest.raises(ValueError, match=r"crops 4 of the 4 entries of axis 1"):
        layers.Cropping1D((2, 2))(np.zeros((1, 4, 2), "float32"))
    with pytest.raises(ValueError, match=r"Permute: dims must be a permutation"):
        layers.Permute((0, 1))
    with pytest.raises(ValueError, match=r"expects inputs of rank 2"):
        layers.RepeatVector(2)(np.zeros((1, 2, 3), "float32"))
    with pytest.raises(ValueError, match=r"UpSampling2D: interpolation must be 'nearest' or 'bilinear'"):
        layers.UpSampling2D(interpolation="bicubic")
    with pytest.raises(ValueError, match=r"only one of crop_to_aspect_ratio and pad_to_aspect_ratio"):
        layers.Resizing(2, 2, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
    with pytest.raises(ValueError, match=r"GaussianNoise.*stddev must be a finite number"):
        layers.GaussianNoise(2.0)
    with pytest.raises(ValueError, match=r"data_format must be one of"):
        layers.SpatialDropout2D(0.5, data_format="nhwc")


def test_integer_images_come_out_as_floats(monkeypatch):
    keras = numpy_keras(monkeypatch)
    x = np.random.default_rng(3).integers(0, 256, (2, 4, 4, 3)).astype("uint8")
    expected = np.asarray(keras.layers.Rescaling(1 / 255, offset=-0.5)(x))
    np.testing.assert_allclose(layers.Rescaling(1 / 255, offset=-0.5)(x).numpy(), expected, rtol=1e-6)
    inputs = nr.Input((4, 4, 3), dtype="uint8")
    resized = layers.Resizing(3, 3)(inputs)
    assert resized.dtype == "float32" and layers.CenterCrop(2, 2)(inputs).dtype == "float32"
    model = nr.Model(inputs, layers.Rescaling(1 / 255)(resized))
    assert model.predict(x, verbose=0).dtype == np.float32


def test_a_model_of_catalog_layers_trains():
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((32, 6, 3)).astype("float32"), rng.standard_normal((32, 2)).astype("float32")
    model = nr.models.Sequential([
        layers.Input((6, 3)), layers.GaussianNoise(0.1, seed=0), layers.ZeroPadding1D(1), layers.UpSampling1D(2),
        layers.SpatialDropout1D(0.2, seed=1), layers.Cropping1D((1, 1)), layers.Permute((2, 1)),
        layers.UnitNormalization(), layers.Flatten(), layers.Dense(4, activation="selu"),
        layers.AlphaDropout(0.1, seed=2), layers.GaussianDropout(0.1, seed=3), layers.ActivityRegularization(l2=1e-3),
        layers.RepeatVector(2), layers.Flatten(), layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    assert all(np.isfinite(history.history["loss"]))
    assert np.array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))  # inference is deterministic
