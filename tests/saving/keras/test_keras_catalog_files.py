"""Issue 21's catalog in Keras's own files, both ways: a Keras model of these layers loads into Neurona and a
Neurona model into Keras, predicting alike."""

import numpy as np
import pytest

import neurona as nr

keras = pytest.importorskip("keras")


def _stacks(L):
    return [
        ((6, 3), [L.ZeroPadding1D((1, 2)), L.Cropping1D((2, 0)), L.UpSampling1D(3), L.SpatialDropout1D(0.5, seed=0),
                  L.GaussianNoise(0.5, seed=0), L.AlphaDropout(0.2, seed=1), L.Permute((2, 1)),
                  L.UnitNormalization(axis=1), L.ActivityRegularization(l2=0.1)]),
        ((4,), [L.RepeatVector(3), L.GaussianDropout(0.3, seed=0)]),
        ((5, 7, 3), [L.Rescaling(0.5, offset=-0.25), L.ZeroPadding2D(((1, 0), (2, 1))), L.Cropping2D(((0, 1), (1, 1))),
                     L.UpSampling2D((2, 3)), L.UpSampling2D(2, interpolation="bilinear"),
                     L.SpatialDropout2D(0.3, seed=1), L.Resizing(9, 11, crop_to_aspect_ratio=True),
                     L.Resizing(4, 5, interpolation="nearest"), L.CenterCrop(3, 3)]),
        # the augmentations: the identity at inference, their options carried both ways
        ((8, 8, 3), [L.RandomFlip("horizontal", seed=1), L.RandomRotation(0.1, fill_mode="constant", seed=2),
                     L.RandomTranslation(0.1, 0.2, interpolation="nearest", seed=3),
                     L.RandomZoom((-0.2, 0.1), seed=4), L.RandomContrast(0.2, value_range=(0, 1), seed=5)]),
    ]


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")  # Keras's rsqrt of the zero-padded steps
@pytest.mark.parametrize("index", range(4))
def test_catalog_models_cross_both_ways(index, tmp_path):
    if keras.backend.backend() != "numpy":
        pytest.skip("these comparisons run on Keras's numpy backend")
    shape, stack = _stacks(keras.layers)[index]
    km = keras.Sequential([keras.Input(shape), *stack])
    x = np.random.default_rng(index).standard_normal((2, *shape)).astype("float32")
    expected = np.asarray(km.predict(x, verbose=0))
    km.save(tmp_path / "k.keras")
    loaded = nr.models.load_model(tmp_path / "k.keras")
    np.testing.assert_allclose(loaded.predict(x), expected, rtol=1e-5, atol=1e-6)

    shape, stack = _stacks(nr.layers)[index]
    model = nr.models.Sequential([nr.layers.Input(shape), *stack])
    model.save(tmp_path / "n.keras")
    back = keras.models.load_model(tmp_path / "n.keras")
    np.testing.assert_allclose(np.asarray(back.predict(x, verbose=0)), model.predict(x), rtol=1e-5, atol=1e-6)
    assert [type(layer).__name__ for layer in back.layers] == [type(layer).__name__ for layer in model.layers]
    assert [layer.get_config().get("seed") for layer in loaded.layers] == \
        [layer.get_config().get("seed") for layer in km.layers]
