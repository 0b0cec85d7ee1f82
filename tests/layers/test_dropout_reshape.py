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
