"""Lambda (functions saved by name, never as code) and Identity.

The harness (test_harness_merging.py) runs both through the shape, gradient, config and
save checks; here: what the config holds, where ``from_config`` looks (and does not), the
errors for functions that cannot be saved, and the arguments passed to the function.
"""

import functools
import json
import os
import tempfile

import numpy as np
import pytest

import neurona as nr
from neurona import layers


@layers.register_function
def lambda_test_shift(x, offset=0.0):
    """``x + offset``."""
    return x + offset


def lambda_test_half_shape(input_shape):
    """The full output shape of a layer halving the last axis."""
    return tuple(input_shape[:-1]) + (input_shape[-1] // 2,)


layers.register_function(lambda_test_half_shape, name="half_shape")


def round_trip(layer):
    config = json.loads(json.dumps(layer.get_config()))
    return config, layers.Lambda.from_config(config)


def test_a_registered_function_round_trips_with_its_arguments():
    layer = layers.Lambda(lambda_test_shift, arguments={"offset": 2.5}, name="shifted")
    config, twin = round_trip(layer)
    assert config["function"] == {"module": "neurona.layers.register_function", "class_name": "function",
                                  "config": "lambda_test_shift", "registered_name": "lambda_test_shift"}
    assert config["arguments"] == {"offset": 2.5} and twin.get_config() == config
    x = np.arange(6.0).reshape(2, 3)
    assert twin.function is lambda_test_shift
    np.testing.assert_array_equal(twin(x).numpy(), x + 2.5)


def test_functions_of_ops_and_activations_are_stored_by_name():
    config, twin = round_trip(layers.Lambda(nr.ops.square))
    assert config["function"]["module"] == "neurona.ops" and config["function"]["config"] == "square"
    assert twin.function is nr.ops.square
    np.testing.assert_array_equal(twin(np.array([[1.0, -3.0]])).numpy(), [[1.0, 9.0]])
    config, twin = round_trip(layers.Lambda(nr.activations.linear))
    assert config["function"]["module"] == "neurona.activations" and twin.function is nr.activations.linear


def test_tuple_arguments_and_output_shapes_come_back_as_given():
    layer = layers.Lambda(nr.ops.sum, arguments={"axis": (1, 2)}, output_shape=(4,))
    config, twin = round_trip(layer)
    assert twin.arguments == {"axis": (1, 2)} and twin.output_shape_arg == (4,)
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 4))
    np.testing.assert_allclose(twin(x).numpy(), x.sum(axis=(1, 2)), rtol=1e-6)
    assert twin.compute_output_shape((None, 3, 5, 4)) == (None, 4)
    shaped = layers.Lambda(nr.ops.reshape, output_shape=lambda_test_half_shape, arguments={"shape": (-1, 2, 2)})
    config, twin = round_trip(shaped)
    assert config["output_shape"]["registered_name"] == "half_shape"
    assert twin.output_shape_arg is lambda_test_half_shape
    assert twin.compute_output_shape((None, 4)) == (None, 2)


def unregistered_double(x):
    return x * 2


@pytest.mark.parametrize("function", [lambda x: x * 2, unregistered_double, functools.partial(nr.ops.mul, 2.0)],
                         ids=["lambda", "def", "partial"])
def test_a_function_that_cannot_be_found_by_name_cannot_be_saved(function):
    layer = layers.Lambda(function, name="custom")
    np.testing.assert_allclose(layer(np.array([[0.5]])).numpy(), [[1.0]])
    with pytest.raises(ValueError) as error:
        layer.get_config()
    message = str(error.value)
    assert "'custom'" in message and repr(function) in message and "without its code" in message
    assert "register_function" in message and "neurona.ops" in message


def test_a_model_with_an_unsaveable_lambda_writes_nothing():
    model = nr.models.Sequential([layers.Input((3,)), layers.Lambda(lambda x: x * 2)])
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model")
        with pytest.raises(ValueError, match="register_function"):
            model.save(path)
        assert os.listdir(folder) == []


def test_a_model_with_a_registered_lambda_saves_and_loads():
    model = nr.models.Sequential([layers.Input((3,)), layers.Lambda(lambda_test_shift, arguments={"offset": 1.0}),
                                  layers.Dense(2)])
    x = np.random.default_rng(1).standard_normal((4, 3)).astype("float32")
    with tempfile.TemporaryDirectory() as folder:
        model.save(os.path.join(folder, "model"))
        loaded = nr.models.load_model(os.path.join(folder, "model"))
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.layers[0].function is lambda_test_shift


@pytest.mark.parametrize("reference,words", [
    ({"module": "neurona.ops", "class_name": "function", "config": "nope", "registered_name": "nope"},
     ["'nope'", "neurona.ops"]),
    ({"module": "neurona.ops", "class_name": "function", "config": "Tensor", "registered_name": "Tensor"},
     ["'Tensor'"]),
    ({"module": "os", "class_name": "function", "config": "system", "registered_name": "system"},
     ["'system'", "register_function"]),
    ({"module": "neurona.activations", "class_name": "function", "config": "relu6x", "registered_name": "relu6x"},
     ["'relu6x'"]),
    ("lambda_test_shift", ["expected a function reference"]),
    ({"class_name": "__lambda__", "config": {"code": "4wAAAA=="}}, ["expected a function reference"]),
])
def test_from_config_looks_only_in_ops_activations_and_the_registry(reference, words):
    with pytest.raises(ValueError) as error:
        layers.Lambda.from_config({"name": "loaded", "function": reference})
    for word in words:
        assert word in str(error.value)


def test_register_function_checks_its_arguments():
    assert layers.register_function(name="lambda_test_cube")(lambda x: x ** 3)(2.0) == 8.0
    with pytest.raises(ValueError, match="needs a name"):
        layers.register_function(lambda x: x)
    with pytest.raises(TypeError, match="needs a function, got 3"):
        layers.register_function(3)
    with pytest.raises(TypeError, match="name must be a string"):
        layers.register_function(np.tanh, name=7)

    def other(x):
        return x

    with pytest.raises(ValueError, match="'lambda_test_shift' is already registered"):
        layers.register_function(other, name="lambda_test_shift")
    assert layers.register_function(lambda_test_shift) is lambda_test_shift  # the same function again: fine


def test_constructor_arguments_are_checked():
    with pytest.raises(TypeError, match="Lambda function must be callable, got 'square'"):
        layers.Lambda("square")
    with pytest.raises(TypeError, match="arguments must be None or a dict"):
        layers.Lambda(nr.ops.square, arguments=[1])
    with pytest.raises(TypeError, match="output_shape must be None, a shape"):
        layers.Lambda(nr.ops.square, output_shape="3")
    with pytest.raises(TypeError, match="mask must be None or a function"):
        layers.Lambda(nr.ops.square, mask=True)
    with pytest.raises(ValueError, match="arguments must hold numbers"):
        layers.Lambda(lambda_test_shift, arguments={"offset": nr.Tensor([1.0])}).get_config()


def test_training_and_mask_reach_a_function_that_takes_them():
    seen = {}

    def record(x, training=None, mask=None):
        seen.update(training=training, mask=mask)
        return x

    layer = layers.Lambda(record)
    layer(np.ones((1, 2)), training=True)
    assert seen == {"training": True, "mask": None}
    layer(np.ones((1, 2)))
    assert seen["training"] is None
    masking = layers.Lambda(nr.ops.square, mask=lambda inputs, mask: "given")
    assert masking.compute_mask(None, None) == "given" and layers.Lambda(nr.ops.square).compute_mask(None) is None


def test_a_lambda_on_symbolic_inputs_keeps_the_function_output_dtype_and_shape():
    x = nr.Input((5,))
    ids = layers.Lambda(nr.ops.argmax, arguments={"axis": -1})(x)
    assert ids.shape == (None,) and ids.dtype.startswith("int")
    a, b = nr.Input((3,)), nr.Input((2,))
    joined = layers.Lambda(nr.ops.concatenate, arguments={"axis": -1})([a, b])
    assert joined.shape == (None, 5)
    stated = layers.Lambda(nr.ops.square, output_shape=(3,))(a)
    assert stated.shape == (None, 3)


def test_identity_passes_tensors_and_structures_through():
    x = np.random.default_rng(2).standard_normal((2, 3)).astype("float32")
    out = layers.Identity()(x)
    np.testing.assert_array_equal(out.numpy(), x)
    ids = np.array([[1, 2]], dtype="int32")
    pair = layers.Identity()([x, ids])
    assert pair[1].dtype == np.dtype("int32") and np.array_equal(pair[1].numpy(), ids)
    a, b = nr.Input((3,)), nr.Input((2,), dtype="int32")
    spec = layers.Identity()([a, b])
    assert [t.shape for t in spec] == [(None, 3), (None, 2)] and [t.dtype for t in spec] == ["float32", "int32"]
    t = nr.Tensor(x.astype("float64"), requires_grad=True)
    assert nr.gradcheck(layers.Identity(dtype="float64"), t)
