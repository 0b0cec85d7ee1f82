"""Dropout (inverted, training only, seeded) and Reshape."""

import json

import numpy as np
import pytest

import neurona as nr
from neurona import layers


def test_dropout_is_the_identity_at_inference(rng):
    x = rng.standard_normal((4, 10)).astype(np.float32)
    layer = layers.Dropout(0.5)
    np.testing.assert_array_equal(layer(x).numpy(), x)
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x)


def test_dropout_preserves_the_expectation_and_drops_the_rate():
    x = np.ones((400, 500), np.float32)
    out = layers.Dropout(0.3, seed=1)(x, training=True).numpy()
    dropped = (out == 0).mean()
    n = out.size
    assert abs(dropped - 0.3) < 5 * np.sqrt(0.3 * 0.7 / n)  # binomial standard errors
    np.testing.assert_allclose(out[out != 0], 1 / 0.7, rtol=1e-6)
    assert abs(out.mean() - 1.0) < 5 * np.sqrt(0.3 / 0.7 / n)


def test_dropout_gradient_flows_only_through_kept_units():
    x = nr.Tensor(np.ones((3, 50), np.float32), requires_grad=True)
    out = layers.Dropout(0.5, seed=3)(x, training=True)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, out.numpy())  # d(out)/dx = mask / keep = out for x = 1


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_dropout_mask_is_the_seeded_draw_thresholded_in_the_input_dtype(dtype, rng):
    # the mask is built in place over the draw when the dtypes agree (float32, float64) and by a copy
    # otherwise (float16, drawn in float32): either way keep = draw >= rate, scaled by 1 / (1 - rate)
    x = rng.standard_normal((6, 7, 5)).astype(dtype)
    out = layers.Dropout(0.4, seed=11, dtype=np.dtype(dtype).name)(x, training=True).numpy()
    draw = np.random.default_rng(11).random(x.shape, dtype=np.float64 if dtype == np.float64 else np.float32)
    expected = x * ((draw >= 0.4).astype(dtype) * dtype(1 / 0.6))
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, expected)


def test_dropout_seeds_and_noise_shape():
    x = np.ones((4, 3, 3, 2), np.float32)
    a = layers.Dropout(0.5, seed=7)(x, training=True).numpy()
    b = layers.Dropout(0.5, seed=7)(x, training=True).numpy()
    np.testing.assert_array_equal(a, b)
    maps = layers.Dropout(0.5, noise_shape=(None, 1, 1, None), seed=2)(x, training=True).numpy()
    assert (maps == maps[:, :1, :1, :]).all()  # whole feature maps are kept or dropped
    layer = layers.Dropout(0.25, noise_shape=(None, 1, 1, None), seed=2)
    clone = layers.deserialize(json.loads(json.dumps(layers.serialize(layer))))
    assert clone.get_config() == layer.get_config()
    with pytest.raises(ValueError, match=r"rate must be a number in \[0, 1\)"):
        layers.Dropout(1.0)


def test_reshape(rng):
    x = rng.standard_normal((2, 12)).astype(np.float32)
    layer = layers.Reshape((3, -1))
    assert layer(x).shape == (2, 3, 4)
    assert layer.compute_output_shape((None, 12)) == (None, 3, 4)
    clone = layers.deserialize(json.loads(json.dumps(layers.serialize(layer))))
    assert clone.get_config() == layer.get_config()
    with pytest.raises(ValueError, match=r"cannot reshape samples of shape \(12,\) \(12 values\) to \(5, -1\)"):
        layers.Reshape((5, -1))(x)
    with pytest.raises(ValueError, match="at most one -1"):
        layers.Reshape((-1, -1))


def test_dropout_takes_numpy_numbers_and_stores_plain_ones():
    # NumPy scalars (from np.arange sweeps or a config read by NumPy) used to give a config json.dumps refused,
    # so a model holding the layer could not be saved
    layer = layers.Dropout(np.float32(0.5), noise_shape=np.array([1, 3]), seed=np.int64(2))
    config = json.loads(json.dumps(layer.get_config()))
    assert (config["rate"], config["seed"], config["noise_shape"]) == (0.5, 2, [1, 3])
    assert type(layer.seed) is int and all(type(n) is int for n in layer.noise_shape)


@pytest.mark.parametrize("seed", [-1, "1", 1.5, True])
def test_dropout_seed_must_be_a_non_negative_int(seed):
    with pytest.raises(ValueError, match=r"Dropout seed must be None or a non-negative int, got "):
        layers.Dropout(0.5, seed=seed)


def test_dropout_noise_shape_must_broadcast_to_the_inputs():
    with pytest.raises(ValueError, match="Dropout noise_shape must be a tuple of ints"):
        layers.Dropout(0.5, noise_shape="ab")
    layer = layers.Dropout(0.5, noise_shape=(3, 1), name="drop")
    with pytest.raises(ValueError, match=r"'drop' \(Dropout\): noise_shape \(3, 1\) does not broadcast to inputs of "
                                         r"shape \(2, 3\) \(expected 2 entries, each None, 1 or the input's size\)"):
        layer(np.ones((2, 3), np.float32), training=True)
    with pytest.raises(ValueError, match=r"noise_shape \(None, 1\) does not broadcast to inputs of shape \(2, 3, 4\)"):
        layers.Dropout(0.5, noise_shape=(None, 1))(np.ones((2, 3, 4), np.float32), training=True)


@pytest.mark.parametrize("target_shape", ["ab", (2.5, -1), 3, (3, None)])
def test_reshape_target_shape_must_be_a_sequence_of_ints(target_shape):
    # int() used to truncate 2.5 to 2 silently and to fail on "ab" with a message about parsing
    with pytest.raises(ValueError, match=r"Reshape target_shape must be a sequence of ints \(positive sizes, at most "
                                         r"one -1\), got "):
        layers.Reshape(target_shape)


def test_reshape_takes_a_numpy_shape():
    layer = layers.Reshape(np.array([3, 4]))
    assert layer.target_shape == (3, 4) and json.loads(json.dumps(layer.get_config()))["target_shape"] == [3, 4]
