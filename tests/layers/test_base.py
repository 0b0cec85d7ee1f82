"""The Layer base: shape and bool argument checks, the ``training`` flag, config rebuilding."""

import numpy as np
import pytest

import neurona as nr
from neurona import layers
from neurona.layers import base


@pytest.mark.parametrize("shape", [(2.5,), (3.0,), ("3",), "ab", (True,), (4, np.float64(2.0)), 2.5])
def test_normalize_shape_refuses_non_integer_sizes(shape):
    # int() used to turn 2.5 into 2 and "3" into 3 without a word
    with pytest.raises(ValueError, match=r"input_shape must be a tuple of ints \(or None\), got "):
        base.normalize_shape(shape)


def test_normalize_shape_keeps_numpy_ints_and_none_as_plain_values():
    shape = base.normalize_shape((np.int64(4), None, np.int32(2)))
    assert shape == (4, None, 2) and all(s is None or type(s) is int for s in shape)
    assert base.normalize_shape(np.int64(3)) == (3,)


@pytest.mark.parametrize("value", ["no", "yes", 1, 0, None, 1.0, [True]])
def test_check_bool_refuses_non_bools_and_names_the_argument(value):
    with pytest.raises(TypeError, match=r"Thing flag must be True or False, got .*\("):
        base.check_bool(value, "Thing flag")


def test_check_bool_accepts_python_and_numpy_bools():
    assert base.check_bool(np.bool_(False), "x") is False and base.check_bool(True, "x") is True


@pytest.mark.parametrize("training", ["yes", "no", 1, 0.0, [True]])
def test_layer_call_refuses_a_training_flag_that_is_not_a_bool(training):
    # "no" is truthy: Dropout used to drop units when told training="no"
    x = np.ones((2, 3), np.float32)
    with pytest.raises(TypeError, match=r"layer 'drop' \(Dropout\): training must be True, False or None, got "):
        layers.Dropout(0.5, name="drop")(x, training=training)


def test_layer_call_accepts_numpy_bool_training():
    layer = layers.Dropout(0.5, seed=1)
    x = np.ones((4, 50), np.float32)
    assert (layer(x, training=np.bool_(True)).numpy() == 0).any()
    np.testing.assert_array_equal(layer(x, training=np.bool_(False)).numpy(), x)


def test_trainable_must_be_a_bool_in_the_constructor_and_the_setter():
    with pytest.raises(TypeError, match="Dense trainable must be True or False, got 'no'"):
        layers.Dense(2, trainable="no")
    layer = layers.Dense(2, name="fc")
    layer(np.ones((1, 3), np.float32))
    with pytest.raises(TypeError, match=r"layer 'fc' \(Dense\) trainable must be True or False, got 'off'"):
        layer.trainable = "off"
    assert layer.trainable and all(w.trainable for w in layer.weights)  # the refused value changed nothing
    layer.trainable = np.bool_(False)
    assert layer.trainable is False and not layer.trainable_weights


def test_deserialize_names_missing_constructor_arguments():
    # used to be Python's raw "__init__() missing 1 required positional argument: 'units'"
    with pytest.raises(ValueError, match=r"layer class Dense does not fit its constructor: missing required "
                                         r"'units' \(got keys \[\]\)"):
        layers.deserialize({"class_name": "Dense"})
    with pytest.raises(ValueError, match="layer class Conv2D .* missing required 'kernel_size'"):
        layers.deserialize({"class_name": "Conv2D", "config": {"filters": 4}})


def test_deserialize_names_unexpected_keys_and_refuses_a_non_dict_config():
    with pytest.raises(ValueError, match=r"layer class Dense does not fit its constructor: unexpected 'colour'"):
        layers.deserialize({"class_name": "Dense", "config": {"units": 3, "colour": "red"}})
    with pytest.raises(ValueError, match="Dense.from_config needs a dict of constructor arguments, got 3"):
        layers.deserialize({"class_name": "Dense", "config": 3})


def test_deserialize_keeps_the_layers_own_validation_errors():
    with pytest.raises(TypeError, match="Dense use_bias must be True or False, got 'no'"):
        layers.deserialize({"class_name": "Dense", "config": {"units": 3, "use_bias": "no"}})


def test_from_config_accepts_subclass_that_fills_a_parent_argument():
    class FourUnits(layers.Dense):
        def __init__(self, **kwargs):
            super().__init__(4, **kwargs)

    layer = FourUnits.from_config({"name": "four"})
    assert layer.units == 4 and layer.name == "four"
    out = layer(nr.Tensor(np.ones((2, 3), np.float32)))
    assert out.shape == (2, 4)


def test_a_weight_too_large_for_memory_names_the_layer_and_shape():
    # 784 x 10**12 floats (PiB) exceed any address space: the allocation fails at once, nothing is written
    layer = layers.Dense(10 ** 12, name="huge")
    with pytest.raises(MemoryError, match=r"layer 'huge' \(Dense\): cannot create weight 'kernel' of shape "
                                          r"\(784, 1000000000000\): GlorotUniform: not enough memory"):
        layer.build((None, 784))
    assert layer.weights == []
