"""Conv3D and the 3-D pooling layers against real Keras 3 (numpy backend), files and ONNX; ops.conv3d and the 3-D
pools against PyTorch where it is installed (their gradients: the op harness, tests/ops/test_harness_keras_ops.py)."""

import numpy as np
import pytest
from _harness.keras_oracle import numpy_keras
from _harness.model_round_trip import check_keras_file, check_saved_and_exported

from neurona import layers, models, ops

RNG = np.random.default_rng(2)

LAYERS = [
    ("Conv3D", dict(filters=3, kernel_size=2), (2, 4, 5, 4, 2)),
    ("Conv3D", dict(filters=2, kernel_size=(3, 2, 2), strides=(2, 1, 2), padding="same", activation="relu"),
     (2, 5, 4, 5, 3)),
    ("Conv3D", dict(filters=4, kernel_size=2, dilation_rate=2, groups=2), (1, 5, 5, 5, 2)),
    ("Conv3D", dict(filters=2, kernel_size=2, data_format="channels_first"), (1, 3, 4, 4, 4)),
    ("MaxPooling3D", dict(pool_size=2), (2, 4, 5, 6, 2)),
    ("MaxPooling3D", dict(pool_size=(2, 3, 2), strides=1, padding="same"), (1, 3, 4, 5, 2)),
    ("AveragePooling3D", dict(pool_size=3, strides=2, padding="same"), (2, 5, 5, 4, 2)),
    ("AveragePooling3D", dict(pool_size=2, data_format="channels_first"), (1, 2, 4, 4, 6)),
    ("GlobalAveragePooling3D", dict(), (2, 3, 4, 2, 5)),
    ("GlobalMaxPooling3D", dict(keepdims=True, data_format="channels_first"), (2, 3, 4, 2, 5)),
]


@pytest.mark.parametrize("name, kwargs, shape", LAYERS)
def test_the_layers_compute_what_keras_computes(monkeypatch, name, kwargs, shape):
    keras = numpy_keras(monkeypatch)
    x = RNG.normal(size=shape).astype("float32")
    theirs = getattr(keras.layers, name)(**kwargs)
    expected = np.asarray(theirs(x))
    ours = getattr(layers, name)(**kwargs)
    ours(x)
    assert [tuple(w.shape) for w in ours.weights] == [w.shape for w in theirs.get_weights()]
    for mine, value in zip(ours.weights, theirs.get_weights()):
        mine.assign(value)
    got = ours(x).numpy()
    assert got.shape == expected.shape == tuple(ours.compute_output_shape(shape))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_the_ops_match_pytorch():
    torch = pytest.importorskip("torch")
    x = RNG.normal(size=(2, 5, 6, 7, 3))
    k = RNG.normal(size=(2, 3, 2, 3, 4))
    first = torch.tensor(x).permute(0, 4, 1, 2, 3)
    expected = torch.nn.functional.conv3d(first, torch.tensor(k).permute(4, 3, 0, 1, 2), stride=(2, 1, 2),
                                          dilation=1).permute(0, 2, 3, 4, 1).numpy()
    np.testing.assert_allclose(ops.conv3d(x, k, strides=(2, 1, 2)).numpy(), expected, atol=1e-12)
    pooled = torch.nn.functional.max_pool3d(first, (2, 3, 2), stride=(1, 2, 2)).permute(0, 2, 3, 4, 1).numpy()
    np.testing.assert_array_equal(ops.max_pool3d(x, (2, 3, 2), strides=(1, 2, 2)).numpy(), pooled)
    mean = torch.nn.functional.avg_pool3d(first, 2).permute(0, 2, 3, 4, 1).numpy()
    np.testing.assert_allclose(ops.avg_pool3d(x, 2).numpy(), mean, atol=1e-12)


def test_saved_loaded_exported_and_read_from_keras(monkeypatch, tmp_path):
    model = models.Sequential([layers.Input((6, 6, 6, 2)), layers.Conv3D(3, 3, padding="same", activation="relu"),
                               layers.MaxPooling3D(2), layers.AveragePooling3D(2, padding="same"),
                               layers.Conv3D(2, 2, padding="same"), layers.GlobalAveragePooling3D()])
    x = RNG.normal(size=(2, 6, 6, 6, 2)).astype("float32")
    check_saved_and_exported(model, x, tmp_path)
    keras = numpy_keras(monkeypatch)
    theirs = keras.Sequential([keras.layers.Input((6, 6, 6, 2)), keras.layers.Conv3D(3, 3, activation="relu"),
                               keras.layers.MaxPooling3D(2), keras.layers.GlobalMaxPooling3D()])
    check_keras_file(theirs, x, tmp_path)
