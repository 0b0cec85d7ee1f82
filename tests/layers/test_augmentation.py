"""What the augmentation layers compute: a flip is a flip, a rotation by a drawn angle moves pixels where the
rotation says (and as Keras's layer does for the same angle), translations and zooms match Keras, contrast
follows Keras's formula, and every layer is the identity at inference."""

import numpy as np
import pytest
from _harness.keras_oracle import numpy_keras

from neurona import layers, models

AUGMENTATIONS = [
    lambda: layers.RandomFlip(seed=0),
    lambda: layers.RandomRotation(0.3, seed=0),
    lambda: layers.RandomTranslation(0.2, 0.2, seed=0),
    lambda: layers.RandomZoom(0.2, seed=0),
    lambda: layers.RandomContrast(0.5, seed=0),
]
FILL_MODES = ["reflect", "wrap", "constant", "nearest"]


def images(shape=(4, 6, 6, 2), seed=0):
    return np.random.default_rng(seed).uniform(0, 255, shape).astype("float32")


@pytest.mark.parametrize("make", AUGMENTATIONS)
def test_identity_at_inference(make):
    x = images()
    layer = make()
    for training in (None, False):
        np.testing.assert_array_equal(layer(x, training=training).numpy(), x)
    assert not np.array_equal(layer(x, training=True).numpy(), x)


@pytest.mark.parametrize("mode, axes", [("horizontal", (2,)), ("vertical", (1,)),
                                        ("horizontal_and_vertical", (1, 2))])
def test_a_flip_is_a_flip(mode, axes):
    x = images((16, 3, 4, 2))
    out = layers.RandomFlip(mode, seed=1)(x, training=True).numpy()
    flipped = np.flip(x, axis=axes)
    was_flipped = [np.array_equal(o, f) for o, f in zip(out, flipped)]
    kept = [np.array_equal(o, i) for o, i in zip(out, x)]
    assert all(f != k for f, k in zip(was_flipped, kept))  # each image exactly one of the two
    assert 0 < sum(was_flipped) < len(x)


def test_a_quarter_turn_moves_pixels_as_rot90():
    x = images((3, 5, 5, 1))
    out = layers.RandomRotation((0.25, 0.25), seed=0)(x, training=True).numpy()
    # +90 degrees: output (x, y) reads input (cx - (y - cy), cy + (x - cx)), i.e. a counter-clockwise turn
    np.testing.assert_allclose(out, np.rot90(x, k=1, axes=(1, 2)), atol=1e-3)


def test_rotation_angle_is_drawn_in_the_range():
    layer = layers.RandomRotation((0.05, 0.1), seed=3)
    transforms = layer.transforms(200, 8, 8)
    angles = np.degrees(np.arctan2(transforms[:, 3], transforms[:, 0]))
    assert angles.min() >= 18 and angles.max() <= 36 and angles.max() - angles.min() > 15


@pytest.mark.parametrize("fill_mode", FILL_MODES)
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_rotation_matches_keras_for_the_same_angle(monkeypatch, fill_mode, interpolation):
    keras = numpy_keras(monkeypatch)
    x = images((2, 7, 6, 3))
    kwargs = dict(factor=(0.1, 0.1), fill_mode=fill_mode, interpolation=interpolation, fill_value=17.0)
    ours = layers.RandomRotation(seed=0, **kwargs)(x, training=True).numpy()
    theirs = np.asarray(keras.layers.RandomRotation(seed=0, **kwargs)(x, training=True))
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-2)


@pytest.mark.parametrize("fill_mode", FILL_MODES)
def test_translation_and_zoom_match_keras_for_fixed_factors(monkeypatch, fill_mode):
    keras = numpy_keras(monkeypatch)
    x = images((2, 6, 8, 1))
    shared = dict(fill_mode=fill_mode, interpolation="bilinear", fill_value=3.0, seed=0)
    for ours, theirs in (
            (layers.RandomTranslation((0.3, 0.3), (-0.26, -0.26), **shared),
             keras.layers.RandomTranslation((0.3, 0.3), (-0.26, -0.26), **shared)),
            (layers.RandomZoom((0.4, 0.4), (-0.3, -0.3), **shared),
             keras.layers.RandomZoom((0.4, 0.4), (-0.3, -0.3), **shared))):
        np.testing.assert_allclose(ours(x, training=True).numpy(), np.asarray(theirs(x, training=True)),
                                   rtol=1e-4, atol=1e-2)


def test_contrast_follows_keras_formula():
    x = images((8, 4, 4, 3), seed=2)
    out = layers.RandomContrast((0.3, 0.6), value_range=(-1000, 1000), seed=5)(x, training=True).numpy()
    mean = x.mean(axis=(1, 2), keepdims=True)
    factors = (out - mean)[:, 0, 0, 0] / (x - mean)[:, 0, 0, 0]  # one factor per image, shared by its channels
    assert np.all((factors >= 0.7 - 1e-5) & (factors <= 1.6 + 1e-5)) and np.ptp(factors) > 0.1
    np.testing.assert_allclose(out, (x - mean) * factors[:, None, None, None] + mean, rtol=1e-5, atol=1e-3)
    clipped = layers.RandomContrast(0.9, seed=5)(x * 2 - 100, training=True).numpy()
    assert clipped.min() >= 0 and clipped.max() <= 255  # the default value_range (0, 255)


def test_contrast_factor_range_is_keras():
    assert layers.RandomContrast(0.4).factor == [0.0, 0.4]  # Keras's bounds (0, 1) clamp -0.4 to 0
    assert layers.RandomRotation(0.4).factor == [-0.4, 0.4]
    assert layers.RandomZoom((0.3, -0.2)).height_factor == [-0.2, 0.3]


def test_one_image_without_batch_axis():
    x = images((5, 5, 2))
    out = layers.RandomFlip("horizontal", seed=0)
    results = [out(x, training=True).numpy() for _ in range(8)]
    assert all(r.shape == x.shape for r in results)
    assert any(np.array_equal(r, x[:, ::-1]) for r in results) and any(np.array_equal(r, x) for r in results)


def test_in_a_model_fit_and_predict():
    model = models.Sequential([layers.Input((6, 6, 1)), layers.RandomFlip(seed=0), layers.RandomRotation(0.1, seed=1),
                               layers.Flatten(), layers.Dense(2)])
    x = images((8, 6, 6, 1)) / 255
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, np.zeros((8, 2), "float32"), epochs=1, batch_size=4, verbose=0)
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))


@pytest.mark.parametrize("make, message", [
    (lambda: layers.RandomFlip("diagonal"), "mode must be one of"),
    (lambda: layers.RandomRotation(1.5), r"factor must be a number or a pair of numbers in \[-1, 1\]"),
    (lambda: layers.RandomRotation(0.1, fill_mode="mirror"), "fill_mode must be one of"),
    (lambda: layers.RandomZoom(0.1, interpolation="bicubic"), "interpolation must be one of"),
    (lambda: layers.RandomTranslation(0.1, (0.1, 0.2, 0.3)), "width_factor must be"),
    (lambda: layers.RandomContrast(-0.5), r"factor must be a number or a pair of numbers in \[0, 1\]"),
    (lambda: layers.RandomContrast(0.5, value_range=(1, 0)), "value_range must be a pair"),
    (lambda: layers.RandomFlip(data_format="NHWC"), "data_format must be"),
    (lambda: layers.RandomFlip(seed=-1), "seed must be an integer"),
])
def test_bad_arguments_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_wrong_rank_is_reported():
    with pytest.raises(ValueError, match=r"expected images of rank 4 .* got shape \(2, 3\)"):
        layers.RandomFlip(seed=0)(np.zeros((2, 3), "float32"), training=True)
