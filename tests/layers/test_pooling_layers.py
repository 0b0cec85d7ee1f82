"""Pooling layers: shapes, values, config round trips, errors."""

import json

import numpy as np
import pytest

from neurona import layers


@pytest.mark.parametrize("cls,kwargs,input_shape,expected", [
    (layers.MaxPooling2D, {}, (2, 7, 6, 3), (2, 3, 3, 3)),
    (layers.AveragePooling2D, dict(pool_size=3, strides=2, padding="same"), (2, 7, 6, 3), (2, 4, 3, 3)),
    (layers.MaxPooling1D, dict(pool_size=3), (2, 10, 4), (2, 3, 4)),
    (layers.AveragePooling1D, dict(pool_size=2, strides=1), (2, 10, 4), (2, 9, 4)),
    (layers.GlobalAveragePooling2D, {}, (2, 5, 4, 3), (2, 3)),
    (layers.GlobalMaxPooling2D, dict(keepdims=True), (2, 5, 4, 3), (2, 1, 1, 3)),
    (layers.GlobalAveragePooling1D, {}, (2, 6, 4), (2, 4)),
    (layers.GlobalMaxPooling1D, {}, (2, 6, 4), (2, 4)),
])
def test_pooling_layers(device, rng, cls, kwargs, input_shape, expected):
    layer = cls(**kwargs)
    x = rng.standard_normal(input_shape).astype(np.float32)
    out = layer(x)
    assert out.shape == expected and layer.count_params() == 0
    assert layer.compute_output_shape((None,) + input_shape[1:]) == (None,) + expected[1:]
    clone = layers.deserialize(json.loads(json.dumps(layers.serialize(layer))))
    np.testing.assert_array_equal(clone(x).numpy(), out.numpy())


def test_global_average_is_the_spatial_mean(rng):
    x = rng.standard_normal((2, 5, 4, 3)).astype(np.float32)
    np.testing.assert_allclose(layers.GlobalAveragePooling2D()(x).numpy(), x.mean(axis=(1, 2)), rtol=1e-6)


def test_max_pooling_values():
    x = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1)
    np.testing.assert_array_equal(layers.MaxPooling2D()(x).numpy()[0, :, :, 0], [[5, 7], [13, 15]])


def test_pooling_rank_error_names_the_layer():
    with pytest.raises(ValueError, match=r"'pool' \(MaxPooling2D\) expects inputs of rank 4"):
        layers.MaxPooling2D(name="pool")(np.ones((2, 4, 4), np.float32))
