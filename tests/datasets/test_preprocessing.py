"""scale_pixels, standardize (fit on train, apply to test) and flatten_images against hand-computed values."""

import numpy as np
import pytest

from neurona.datasets import StandardizeStats, flatten_images, scale_pixels, standardize


def test_scale_pixels_exact_values():
    x = np.array([[0, 51, 102], [153, 204, 255]], dtype=np.uint8)
    out = scale_pixels(x)
    assert out.dtype == np.float32 and out.shape == x.shape
    np.testing.assert_allclose(out, [[0.0, 0.2, 0.4], [0.6, 0.8, 1.0]], rtol=0, atol=1e-7)
    assert out[0, 0] == 0.0 and out[1, 2] == 1.0
    assert scale_pixels(x, dtype="float64").dtype == np.float64
    with pytest.raises(TypeError, match="floating dtype, got int32"):
        scale_pixels(x, dtype="int32")


def test_standardize_global_hand_computed():
    x = np.array([[1.0, 3.0], [5.0, 7.0]])  # mean 4, deviations -3 -1 1 3, variance 20 / 4 = 5
    z, stats = standardize(x, dtype="float64")
    assert isinstance(stats, StandardizeStats)
    assert stats.mean == pytest.approx(4.0) and stats.std == pytest.approx(np.sqrt(5.0))
    np.testing.assert_allclose(z, np.array([[-3, -1], [1, 3]]) / np.sqrt(5.0), rtol=1e-12)


def test_fit_on_train_apply_to_test(rng):
    x_train = rng.integers(0, 256, size=(200, 6, 6)).astype(np.uint8)
    x_test = (rng.integers(0, 128, size=(50, 6, 6)) + 100).astype(np.uint8)  # a shifted distribution
    z_train, stats = standardize(x_train)
    assert z_train.dtype == np.float32
    assert abs(float(z_train.astype(np.float64).mean())) < 1e-6
    assert float(z_train.astype(np.float64).std()) == pytest.approx(1.0, abs=1e-6)
    z_test, test_stats = standardize(x_test, *stats)
    np.testing.assert_allclose(z_test, (x_test - x_train.mean()) / x_train.std(), rtol=1e-6, atol=1e-6)
    assert test_stats.mean == stats.mean and test_stats.std == stats.std
    assert z_test.mean() > 0.3  # the test set keeps its shift: it was not refitted


def test_per_feature_statistics_and_constant_features(rng):
    x = rng.normal(size=(100, 4, 4)) * np.arange(1, 17).reshape(4, 4)
    x[:, 0, 0] = 7.0  # a constant "border pixel"
    z, stats = standardize(x, axis=0, dtype="float64")
    assert stats.mean.shape == (4, 4) and stats.std.shape == (4, 4)
    np.testing.assert_allclose(stats.mean, x.mean(axis=0), rtol=1e-12)
    assert stats.std[0, 0] == 1.0 and np.all(z[:, 0, 0] == 0.0)
    np.testing.assert_allclose(z[:, 1:, 1:].mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(z[:, 1:, 1:].std(axis=0), 1.0, rtol=1e-12)


def test_per_channel_statistics(rng):
    x = rng.normal(loc=[0.0, 5.0, -3.0], scale=[1.0, 2.0, 0.5], size=(40, 5, 5, 3))
    z, stats = standardize(x, axis=(0, 1, 2))
    assert stats.mean.shape == (1, 1, 3)
    np.testing.assert_allclose(stats.mean.ravel(), x.reshape(-1, 3).mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(z.reshape(-1, 3).std(axis=0), 1.0, rtol=1e-5)


def test_standardize_argument_errors(rng):
    x = rng.normal(size=(10, 4))
    with pytest.raises(ValueError, match="pass both mean and std"):
        standardize(x, mean=0.0)
    with pytest.raises(ValueError, match=r"mean of shape \(3,\) does not broadcast against x of shape \(10, 4\)"):
        standardize(x, np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match=r"std of shape \(2, 10, 4\)"):
        standardize(x, 0.0, np.ones((2, 10, 4)))


def test_flatten_images_row_major():
    x = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    flat = flatten_images(x)
    assert flat.shape == (2, 784) and flat.dtype == np.uint8
    assert flat[1, 3 * 28 + 5] == x[1, 3, 5]
    assert flatten_images(np.zeros((0, 28, 28))).shape == (0, 784)
    assert flatten_images(np.zeros((3, 4, 4, 2))).shape == (3, 32)
    with pytest.raises(ValueError, match=r"at least 2 dimensions, got shape \(5,\)"):
        flatten_images(np.zeros(5))


@pytest.mark.parametrize("axis", [None, 0])
def test_standardize_refuses_to_fit_on_empty_data(axis):
    # used to return NaN mean and std, which then turn every later sample into NaN
    with pytest.raises(ValueError, match=r"standardize cannot fit statistics on empty data \(x of shape \(0, 3\)\)"):
        standardize(np.zeros((0, 3)), axis=axis)


def test_standardize_applies_given_statistics_to_empty_data():
    z, stats = standardize(np.zeros((0, 3)), 1.0, 2.0)
    assert z.shape == (0, 3) and float(stats.mean) == 1.0


@pytest.mark.parametrize("axis,error,message", [
    (5, ValueError, r"standardize axis 5 is out of range or repeated for x with 2 dimensions"),
    ((0, 0), ValueError, r"standardize axis \(0, 0\) is out of range or repeated"),
    ("a", TypeError, r"standardize axis must be None, an int or a tuple of ints, got 'a'"),
    (True, TypeError, r"standardize axis must be None, an int or a tuple of ints, got True"),
])
def test_standardize_checks_the_axis(axis, error, message):
    with pytest.raises(error, match=message):
        standardize(np.ones((2, 3)), axis=axis)


def test_standardize_accepts_numpy_and_list_axes():
    x = np.array([[1.0, 2.0], [3.0, 6.0]])
    _, per_feature = standardize(x, axis=np.int64(0))
    _, everything = standardize(x, axis=[0, 1])
    np.testing.assert_allclose(per_feature.mean, [2.0, 4.0])
    np.testing.assert_allclose(everything.mean, [3.0])  # axis 1 kept with size 1, the sample axis dropped


def test_standardize_refuses_non_numeric_data_and_bad_dtypes():
    with pytest.raises(TypeError, match="standardize needs numeric data, got an array of dtype <U1"):
        standardize(np.array(["a", "b"]))
    with pytest.raises(TypeError, match=r"standardize needs a floating dtype \(e.g. 'float32'\), got 'bogus'"):
        standardize(np.ones((2, 2)), dtype="bogus")
    with pytest.raises(TypeError, match="scale_pixels needs a floating dtype .*got 'bogus'"):
        scale_pixels(np.ones(2, np.uint8), dtype="bogus")
