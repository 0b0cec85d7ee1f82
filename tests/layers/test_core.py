"""Core layers: output shapes, weight counts, config round trips, forward math, errors."""

import json

import numpy as np
import pytest

import neurona as nr
from neurona import initializers, layers


def _round_trip(layer):
    config = json.loads(json.dumps(layers.serialize(layer)))  # must be JSON-safe
    clone = layers.deserialize(config)
    assert type(clone) is type(layer)
    assert clone.get_config() == layer.get_config()
    return clone


@pytest.mark.parametrize("input_shape,units,expected", [((5, 3), 4, (5, 4)), ((2, 7, 3), 6, (2, 7, 6))])
def test_dense_shape_weights_and_math(device, rng, input_shape, units, expected):
    layer = layers.Dense(units, activation="relu", kernel_initializer=initializers.RandomNormal(seed=1),
                         bias_initializer=initializers.Constant(0.1))
    x = rng.standard_normal(input_shape).astype(np.float32)
    out = layer(x)
    assert out.shape == expected
    assert [w.shape for w in layer.weights] == [(input_shape[-1], units), (units,)]
    assert layer.count_params() == input_shape[-1] * units + units
    kernel, bias = layer.get_weights()
    np.testing.assert_allclose(out.numpy(), np.maximum(x @ kernel + bias, 0), rtol=1e-5, atol=1e-6)
    assert layer.compute_output_shape((None,) + input_shape[1:]) == (None,) + expected[1:]
    _round_trip(layer)


def test_dense_without_bias_and_names():
    layer = layers.Dense(3, use_bias=False, name="head")
    layer(np.ones((2, 4), np.float32))
    assert [w.name for w in layer.weights] == ["head/kernel"]
    assert layer.count_params() == 12


def test_dense_kernel_initializer_is_used_by_name_and_alias():
    nr.seed(3)
    a = layers.Dense(64, kernel_initializer="he_normal")
    a.build_for((None, 500))
    nr.seed(3)
    b = layers.Dense(64, kernel_initializer="kaiming_normal")
    b.build_for((None, 500))
    np.testing.assert_array_equal(a.kernel.numpy(), b.kernel.numpy())
    assert type(a.kernel.initializer).__name__ == "HeNormal"
    assert abs(a.kernel.numpy().std() - np.sqrt(2 / 500)) < 0.1 * np.sqrt(2 / 500)


def test_dense_rejects_bad_config_and_inputs():
    with pytest.raises(ValueError, match="positive integer"):
        layers.Dense(0)
    with pytest.raises(ValueError, match="unknown initializer 'he_norml'"):
        layers.Dense(3, kernel_initializer="he_norml")
    layer = layers.Dense(3, name="fc")
    layer(np.ones((2, 4), np.float32))
    with pytest.raises(ValueError, match=r"'fc' \(Dense\) expects inputs with last dimension 4.*\(2, 5\)"):
        layer(np.ones((2, 5), np.float32))
    with pytest.raises(ValueError, match="rank >= 2"):
        layers.Dense(3)(np.ones(4, np.float32))


def test_activation_flatten_input_layers(device, rng):
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    act = layers.Activation("softmax")
    np.testing.assert_allclose(act(x).numpy().sum(-1), np.ones((2, 3)), rtol=1e-6)
    flat = layers.Flatten()
    assert flat(x).shape == (2, 12)
    assert flat.compute_output_shape((None, 3, 4)) == (None, 12)
    inp = layers.InputLayer(shape=(3, 4))
    assert inp.input_shape_arg == (3, 4)
    assert layers.Input((3, 4)).shape == (None, 3, 4)  # Input() is the layer's symbolic output, as in Keras
    for layer in (act, flat, inp):
        assert layer.count_params() == 0
        _round_trip(layer)


def test_numpy_integer_arguments_give_plain_json_safe_configs():
    # Dense used to refuse np.int64 units, and InputLayer kept an np.int64 batch_size that json.dumps refuses
    dense = layers.Dense(np.int64(3))
    inp = layers.InputLayer(shape=(2,), batch_size=np.int64(4))
    assert type(dense.units) is int and type(inp.batch_size) is int
    assert json.loads(json.dumps(inp.get_config()))["batch_size"] == 4
    assert json.loads(json.dumps(dense.get_config()))["units"] == 3


@pytest.mark.parametrize("batch_size", [0, -2, 2.5, True, "8"])
def test_input_layer_batch_size_must_be_a_positive_int(batch_size):
    with pytest.raises(ValueError, match=r"InputLayer batch_size must be None or a positive int, got "):
        layers.InputLayer(shape=(2,), batch_size=batch_size)


def test_unknown_activation_lists_valid_names():
    with pytest.raises(ValueError, match="valid names: .*relu.*softmax"):
        layers.Dense(3, activation="rleu")


def test_freezing_a_layer_stops_gradients():
    layer = layers.Dense(2)
    layer(np.ones((1, 3), np.float32))
    layer.trainable = False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 2
    out = layer(np.ones((1, 3), np.float32))
    assert not out.requires_grad


def test_set_weights_checks_every_shape_before_changing_any():
    layer = layers.Dense(2)
    layer(np.ones((1, 3), np.float32))
    before = layer.get_weights()
    with pytest.raises(ValueError, match=r"has shape \(2,\), got \(3,\)"):
        layer.set_weights([np.zeros((3, 2)), np.zeros(3)])
    for old, new in zip(before, layer.get_weights()):
        np.testing.assert_array_equal(old, new)


def test_custom_layer_registers_and_round_trips():
    @layers.register
    class Scale(layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, inputs, training=None):
            return inputs * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    clone = _round_trip(Scale(3.0))
    np.testing.assert_allclose(clone(np.ones((1, 2), np.float32)).numpy(), [[3.0, 3.0]])


@pytest.mark.parametrize("name", [True, 3, "", "block/dense", ["a"]])
def test_layer_names_must_be_non_empty_strings_without_slashes(name):
    with pytest.raises(ValueError, match="name must be a non-empty string"):
        layers.Dense(2, name=name)


@pytest.mark.parametrize("shape", [(2.5,), (28, 28.0), ("784",), (True,)])
def test_input_refuses_non_integer_shapes(shape):
    # (2.5,) used to be truncated to (2,) silently
    with pytest.raises(ValueError, match=r"Input shape must be a tuple of ints \(or None\), got "):
        layers.Input(shape)


def test_input_accepts_numpy_integer_and_unknown_sizes():
    config = layers.InputLayer(shape=(np.int64(28), None, np.int32(1))).get_config()
    assert config["shape"] == [28, None, 1] and json.loads(json.dumps(config))["shape"] == [28, None, 1]


@pytest.mark.parametrize("use_bias", ["no", "False", 0, 1, None])
def test_kernel_layers_refuse_a_use_bias_that_is_not_a_bool(use_bias):
    # use_bias="no" is truthy: the layer used to get a bias it was told not to have
    with pytest.raises(TypeError, match=r"Dense use_bias must be True or False, got "):
        layers.Dense(3, use_bias=use_bias)
    with pytest.raises(TypeError, match=r"Conv2D use_bias must be True or False, got "):
        layers.Conv2D(2, 3, use_bias=use_bias)


def test_kernel_layers_accept_a_numpy_bool_use_bias():
    layer = layers.Dense(3, use_bias=np.bool_(False))
    layer(np.ones((1, 2), np.float32))
    assert layer.bias is None and layer.get_config()["use_bias"] is False

