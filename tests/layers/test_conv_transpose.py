"""Conv1DTranspose and Conv2DTranspose: Keras 3's outputs for every padding rule, files and ONNX (their harness
cases are in test_harness_conv.py)."""

import itertools

import numpy as np
import pytest
from _harness.keras_oracle import numpy_keras
from _harness.model_round_trip import check_keras_file, check_saved_and_exported

from neurona import layers, models

RNG = np.random.default_rng(1)
GRID = [(k, s, p, d, o) for k, s, p, d, o in itertools.product([1, 2, 3], [1, 2, 3], ["valid", "same"], [1, 2],
                                                                  [None, 0, 1])
        if (o is None or o < s) and not (d > 1 and s > 1)]


def _copy(ours, theirs):
    assert [tuple(w.shape) for w in ours.weights] == [w.shape for w in theirs.get_weights()]
    for mine, value in zip(ours.weights, theirs.get_weights()):
        mine.assign(value)


@pytest.mark.parametrize("kernel, stride, padding, dilation, output_padding", GRID)
def test_2d_outputs_and_shapes_are_keras_ones(monkeypatch, kernel, stride, padding, dilation, output_padding):
    keras = numpy_keras(monkeypatch)
    x = RNG.normal(size=(2, 4, 5, 3)).astype("float32")
    options = dict(strides=stride, padding=padding, dilation_rate=dilation, output_padding=output_padding)
    theirs = keras.layers.Conv2DTranspose(2, kernel, **options)
    expected = np.asarray(theirs(x))
    ours = layers.Conv2DTranspose(2, kernel, **options)
    ours(x)
    _copy(ours, theirs)
    got = ours(x).numpy()
    assert got.shape == expected.shape == tuple(ours.compute_output_shape(x.shape))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name, kwargs, shape", [
    ("Conv1DTranspose", dict(filters=3, kernel_size=3, strides=2), (2, 5, 2)),
    ("Conv1DTranspose", dict(filters=2, kernel_size=4, strides=3, padding="same", output_padding=1,
                             activation="relu"), (2, 4, 3)),
    ("Conv2DTranspose", dict(filters=2, kernel_size=3, strides=2, padding="same", data_format="channels_first"),
     (2, 3, 4, 5)),
])
def test_1d_and_channels_first_are_keras_ones(monkeypatch, name, kwargs, shape):
    keras = numpy_keras(monkeypatch)
    x = RNG.normal(size=shape).astype("float32")
    theirs = getattr(keras.layers, name)(**kwargs)
    expected = np.asarray(theirs(x))
    ours = getattr(layers, name)(**kwargs)
    ours(x)
    _copy(ours, theirs)
    np.testing.assert_allclose(ours(x).numpy(), expected, rtol=1e-5, atol=1e-5)


def test_the_transpose_is_the_adjoint_of_the_convolution():
    """<conv(x), y> == <x, conv_transpose(y)> with the same kernel: what "transposed" means."""
    conv = layers.Conv2D(2, 3, strides=2, use_bias=False)
    up = layers.Conv2DTranspose(3, 3, strides=2, use_bias=False)
    x = RNG.normal(size=(1, 7, 7, 3)).astype("float64")
    y = RNG.normal(size=(1, 3, 3, 2)).astype("float64")
    conv(x.astype("float32"))
    up(y.astype("float32"))
    up.kernel.assign(conv.kernel.numpy())  # (3, 3, in=3, out=2) is the transpose's (k, k, filters=3, in=2)
    left = float((conv(x.astype("float32")).numpy() * y).sum())
    right = float((x * up(y.astype("float32")).numpy()).sum())
    assert left == pytest.approx(right, rel=1e-4)


def _model():
    return models.Sequential([layers.Input((5, 4, 2)), layers.Conv2DTranspose(3, 3, strides=2, padding="same"),
                              layers.Conv2DTranspose(2, 2, strides=2, output_padding=1, activation="relu"),
                              layers.Reshape((-1, 2)), layers.Conv1DTranspose(2, 3, strides=2)])


def test_saved_loaded_exported_and_read_from_keras(monkeypatch, tmp_path):
    model = _model()
    x = RNG.normal(size=(2, 5, 4, 2)).astype("float32")
    check_saved_and_exported(model, x, tmp_path)
    keras = numpy_keras(monkeypatch)
    theirs = keras.Sequential([keras.layers.Input((5, 4, 2)),
                               keras.layers.Conv2DTranspose(3, 3, strides=2, padding="same"),
                               keras.layers.Conv2DTranspose(2, 2, strides=2, output_padding=1)])
    check_keras_file(theirs, x, tmp_path)
