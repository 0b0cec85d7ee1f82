"""Pooling layers: shapes, values, config round trips, errors."""

import json
import re

import numpy as np
import pytest

import neurona as nr
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


POOLS_2D = [layers.MaxPooling2D, layers.AveragePooling2D]
POOLS_1D = [layers.MaxPooling1D, layers.AveragePooling1D]


@pytest.mark.parametrize("cls", POOLS_2D + POOLS_1D)
def test_a_pool_larger_than_its_input_fails_at_build_naming_layer_shapes_and_settings(cls):
    rank = 2 if cls in POOLS_2D else 1
    shape = (None, 3, 8, 1)[:rank + 1] + (1,)
    window = (4,) * rank
    with pytest.raises(ValueError, match=rf"'p' \({cls.__name__}\): pool_size {re.escape(str(window))} with strides "
                                         rf"{re.escape(str(window))} and padding 'valid' does not fit inputs of "
                                         rf"shape {re.escape(str(shape))}: the output would have spatial size \(0"):
        cls(4, name="p").build_for(shape)
    same = cls(4, padding="same")
    assert same.build_for(shape)[1] == 1  # 'same' pads a short axis up to one window: never empty
    late = cls(4, name="late")
    late.build_for((None,) * (rank + 1) + (1,))
    with pytest.raises(ValueError, match=r"'late' .*does not fit inputs of shape \(1, 3"):
        late(np.ones((1,) + (3,) * rank + (1,), np.float32))


def test_pool_strides_larger_than_the_input_still_give_one_window():
    assert layers.MaxPooling2D(2, strides=5).build_for((None, 3, 3, 1)) == (None, 1, 1, 1)


@pytest.mark.parametrize("cls", [layers.GlobalAveragePooling1D, layers.GlobalMaxPooling1D])
def test_global_pooling_of_an_empty_axis_fails_at_build(cls):
    with pytest.raises(ValueError, match=rf"\({cls.__name__}\) got inputs of shape \(None, 0, 3\) with an empty "
                                         "spatial axis"):
        cls().build_for((None, 0, 3))


@pytest.mark.parametrize("cls", POOLS_2D + POOLS_1D + [layers.GlobalAveragePooling2D, layers.GlobalMaxPooling1D])
def test_config_records_the_data_format_argument(cls):
    config = cls().get_config()
    assert config["data_format"] == "channels_last" and cls.from_config(config).get_config() == config


@pytest.mark.parametrize("cls", [layers.GlobalAveragePooling1D, layers.GlobalMaxPooling1D,
                                 layers.GlobalAveragePooling2D, layers.GlobalMaxPooling2D])
@pytest.mark.parametrize("keepdims", ["y", "False", 1, None])
def test_global_pooling_refuses_a_keepdims_that_is_not_a_bool(cls, keepdims):
    # keepdims="y" is truthy: the output used to keep its spatial axes without a word
    with pytest.raises(TypeError, match=rf"{cls.__name__} keepdims must be True or False, got "):
        cls(keepdims=keepdims)


def test_global_pooling_accepts_a_numpy_bool_keepdims():
    layer = layers.GlobalMaxPooling2D(keepdims=np.bool_(True))
    assert layer(np.ones((2, 3, 3, 4), np.float32)).shape == (2, 1, 1, 4)
    assert json.loads(json.dumps(layer.get_config()))["keepdims"] is True


def test_masked_average_leaves_out_the_masked_steps_even_when_they_hold_inf_or_nan():
    x = np.random.default_rng(0).normal(size=(2, 4, 3))
    mask = np.array([[True, True, False, False], [True, False, True, True]])
    poisoned = x.copy()
    poisoned[0, 2], poisoned[0, 3], poisoned[1, 1] = np.inf, np.nan, -np.inf
    inputs = nr.Tensor(poisoned, requires_grad=True)
    out = layers.GlobalAveragePooling1D(dtype="float64")(inputs, mask=mask)
    expected = np.stack([x[0, :2].mean(0), x[1, [0, 2, 3]].mean(0)])
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    out.sum().backward()  # d mean / d x_t = m_t / sum(m): 0 at the masked steps, not NaN
    np.testing.assert_array_equal(np.asarray(inputs.grad), np.broadcast_to(
        (mask / mask.sum(1, keepdims=True))[:, :, None], x.shape))
