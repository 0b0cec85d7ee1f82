"""Conv1D's ``padding="causal"``, ``groups=`` and ``data_format="channels_first"`` on the conv and pooling layers:
against real Keras 3 (numpy backend) with the same weights, through Keras's own files, and through ONNX."""

import numpy as np
import pytest
from _harness.keras_oracle import numpy_keras
from _harness.model_round_trip import check_saved_and_exported

from neurona import layers, models

RNG = np.random.default_rng(0)

CONFIGS = [
    ("Conv1D", dict(filters=4, kernel_size=3, padding="causal"), (2, 7, 3)),
    ("Conv1D", dict(filters=4, kernel_size=3, padding="causal", dilation_rate=2), (2, 9, 3)),
    ("Conv1D", dict(filters=4, kernel_size=2, padding="causal", strides=2), (2, 7, 3)),
    ("Conv1D", dict(filters=6, kernel_size=3, groups=3), (2, 7, 3)),
    ("Conv2D", dict(filters=4, kernel_size=3, groups=2, padding="same"), (2, 5, 6, 6)),
    ("Conv2D", dict(filters=3, kernel_size=3, groups=3, strides=2), (1, 7, 7, 3)),  # depthwise, x1
    ("Conv2D", dict(filters=4, kernel_size=(3, 2), data_format="channels_first"), (2, 3, 6, 5)),
    ("Conv2D", dict(filters=4, kernel_size=3, data_format="channels_first", groups=2, padding="same",
                    activation="relu"), (2, 4, 5, 5)),
    ("Conv1D", dict(filters=2, kernel_size=3, data_format="channels_first", padding="same"), (2, 3, 8)),
]
DEPTHWISE = [
    ("DepthwiseConv2D", dict(kernel_size=3), (2, 6, 5, 3)),
    ("DepthwiseConv2D", dict(kernel_size=(3, 2), depth_multiplier=2, strides=2, padding="same",
                             activation="relu"), (2, 7, 6, 3)),
    ("DepthwiseConv2D", dict(kernel_size=2, dilation_rate=2, use_bias=False, data_format="channels_first"),
     (1, 2, 6, 6)),
    ("SeparableConv2D", dict(filters=4, kernel_size=3), (2, 6, 5, 3)),
    ("SeparableConv2D", dict(filters=5, kernel_size=3, depth_multiplier=2, padding="same", strides=2,
                             activation="tanh"), (2, 7, 7, 2)),
    ("SeparableConv2D", dict(filters=3, kernel_size=2, data_format="channels_first", dilation_rate=2),
     (1, 2, 6, 5)),
]
POOLS = [
    ("MaxPooling2D", dict(pool_size=2, data_format="channels_first"), (2, 3, 6, 5)),
    ("AveragePooling2D", dict(pool_size=(3, 2), strides=1, padding="same", data_format="channels_first"),
     (2, 3, 5, 4)),
    ("MaxPooling1D", dict(pool_size=2, data_format="channels_first"), (2, 3, 8)),
    ("GlobalAveragePooling2D", dict(data_format="channels_first"), (2, 3, 4, 5)),
    ("GlobalMaxPooling1D", dict(data_format="channels_first", keepdims=True), (2, 3, 6)),
]


def _pair(keras, name, kwargs, shape):
    """The same layer in Neurona and in Keras, with Keras's random weights copied into Neurona's."""
    x = RNG.normal(size=shape).astype("float32")
    theirs = getattr(keras.layers, name)(**kwargs)
    expected = np.asarray(theirs(x))
    ours = getattr(layers, name)(**kwargs)
    ours(x)
    assert [tuple(w.shape) for w in ours.weights] == [w.shape for w in theirs.get_weights()]  # Keras's layout
    for mine, weights in zip(ours.weights, theirs.get_weights()):
        mine.assign(weights)
    return ours, x, expected


@pytest.mark.parametrize("name, kwargs, shape", CONFIGS + DEPTHWISE + POOLS,
                         ids=lambda v: str(v) if isinstance(v, str) else None)
def test_the_options_compute_what_keras_computes(monkeypatch, name, kwargs, shape):
    keras = numpy_keras(monkeypatch)
    ours, x, expected = _pair(keras, name, kwargs, shape)
    got = ours(x).numpy()
    assert got.shape == expected.shape == tuple(ours.compute_output_shape(shape))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_a_causal_output_depends_on_the_past_only():
    layer = layers.Conv1D(2, 3, padding="causal", dilation_rate=2)
    x = RNG.normal(size=(1, 10, 1)).astype("float32")
    before = layer(x).numpy()
    x[0, 6:] += 5.0  # change the future of step 5
    after = layer(x).numpy()
    np.testing.assert_array_equal(after[0, :6], before[0, :6])
    assert not np.allclose(after[0, 6:], before[0, 6:])


def test_a_group_sees_only_its_channels():
    layer = layers.Conv2D(4, 1, groups=2, use_bias=False)
    x = np.zeros((1, 3, 3, 4), "float32")
    layer(x)
    x[..., 2:] = 1.0  # only the second group's channels
    out = layer(x).numpy()
    assert not out[..., :2].any() and out[..., 2:].any()


def _model():
    inputs = layers.Input((3, 12, 10))  # channels_first
    x = layers.Conv2D(4, 3, groups=1, data_format="channels_first", activation="relu")(inputs)
    x = layers.Conv2D(6, 3, groups=2, padding="same", data_format="channels_first")(x)
    x = layers.MaxPooling2D(2, data_format="channels_first")(x)
    x = layers.GlobalAveragePooling2D(data_format="channels_first")(x)
    outputs = layers.Dense(2, activation="softmax")(x)
    return models.Model(inputs, outputs)


def _separable_model():
    return models.Sequential([layers.Input((9, 8, 3)), layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same"),
                              layers.SeparableConv2D(4, 3, strides=2, activation="relu"),
                              layers.DepthwiseConv2D(2, data_format="channels_first"), layers.Flatten()])


def _sequence_model():
    return models.Sequential([layers.Input((9, 3)), layers.Conv1D(4, 3, padding="causal", dilation_rate=2),
                              layers.Conv1D(4, 2, padding="causal", groups=2, activation="tanh"),
                              layers.GlobalMaxPooling1D()])


@pytest.mark.parametrize("make, shape", [(_model, (2, 3, 12, 10)), (_sequence_model, (2, 9, 3)),
                                         (_separable_model, (2, 9, 8, 3))])
def test_saved_loaded_and_exported_to_onnx(tmp_path, make, shape):
    check_saved_and_exported(make(), RNG.normal(size=shape).astype("float32"), tmp_path)


def test_keras_files_with_the_options_load_with_keras_outputs(monkeypatch, tmp_path):
    keras = numpy_keras(monkeypatch)
    theirs = keras.Sequential([keras.layers.Input((3, 12, 10)),
                               keras.layers.Conv2D(4, 3, groups=1, data_format="channels_first"),
                               keras.layers.Conv2D(6, 3, groups=2, padding="same", data_format="channels_first"),
                               keras.layers.AveragePooling2D(2, data_format="channels_first"),
                               keras.layers.GlobalMaxPooling2D(data_format="channels_first")])
    x = RNG.normal(size=(2, 3, 12, 10)).astype("float32")
    theirs.save(tmp_path / "m.keras")
    ours = models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(ours.predict(x, verbose=0), np.asarray(theirs(x)), rtol=1e-5, atol=1e-5)
    separable = keras.Sequential([keras.layers.Input((9, 8, 3)), keras.layers.DepthwiseConv2D(3, depth_multiplier=2),
                                  keras.layers.SeparableConv2D(4, 3, padding="same", activation="relu")])
    separable.save(tmp_path / "s.keras")
    images = RNG.normal(size=(2, 9, 8, 3)).astype("float32")
    np.testing.assert_allclose(models.load_model(tmp_path / "s.keras").predict(images, verbose=0),
                               np.asarray(separable(images)), rtol=1e-5, atol=1e-5)
    causal = keras.Sequential([keras.layers.Input((9, 3)), keras.layers.Conv1D(4, 3, padding="causal", groups=1)])
    causal.save(tmp_path / "c.keras")
    np.testing.assert_allclose(models.load_model(tmp_path / "c.keras").predict(x[:, 0, :9, :3], verbose=0),
                               np.asarray(causal(x[:, 0, :9, :3])), rtol=1e-5, atol=1e-5)
