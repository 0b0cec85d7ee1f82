"""Conv1D / Conv2D layers: shapes, weights, fans, config round trips, errors."""

import json

import numpy as np
import pytest

import neurona as nr
from neurona import initializers, layers


def _round_trip(layer):
    clone = layers.deserialize(json.loads(json.dumps(layers.serialize(layer))))
    assert type(clone) is type(layer) and clone.get_config() == layer.get_config()


@pytest.mark.parametrize("kwargs,input_shape,expected", [
    (dict(filters=4, kernel_size=3), (2, 9, 8, 3), (2, 7, 6, 4)),
    (dict(filters=4, kernel_size=(3, 2), strides=2, padding="same"), (2, 9, 8, 3), (2, 5, 4, 4)),
    (dict(filters=2, kernel_size=3, dilation_rate=2, padding="same"), (1, 7, 7, 1), (1, 7, 7, 2)),
])
def test_conv2d_layer(device, rng, kwargs, input_shape, expected):
    layer = layers.Conv2D(activation="relu", **kwargs)
    out = layer(rng.standard_normal(input_shape).astype(np.float32))
    assert out.shape == expected
    kernel_size = (kwargs["kernel_size"],) * 2 if isinstance(kwargs["kernel_size"], int) else kwargs["kernel_size"]
    assert layer.kernel.shape == kernel_size + (input_shape[-1], kwargs["filters"])
    assert layer.count_params() == np.prod(layer.kernel.shape) + kwargs["filters"]
    assert layer.compute_output_shape((None,) + input_shape[1:]) == (None,) + expected[1:]
    assert float(out.numpy().min()) >= 0
    _round_trip(layer)


def test_conv1d_layer(rng):
    layer = layers.Conv1D(5, 3, strides=2, padding="same", use_bias=False)
    assert layer(rng.standard_normal((2, 10, 3)).astype(np.float32)).shape == (2, 5, 5)
    assert [w.shape for w in layer.weights] == [(3, 3, 5)]
    _round_trip(layer)


def test_conv_kernel_fans_use_the_receptive_field():
    # He: variance 2 / fan_in with fan_in = 3 * 3 * 32, not 32
    nr.seed(0)
    layer = layers.Conv2D(64, 3, kernel_initializer="he_normal")
    layer.build_for((None, 12, 12, 32))
    assert initializers.compute_fans(layer.kernel.shape) == (3 * 3 * 32, 3 * 3 * 64)
    std = layer.kernel.numpy().std()
    assert abs(std - np.sqrt(2 / 288)) < 0.05 * np.sqrt(2 / 288)


def test_conv_gradients_through_the_layer(rng):
    nr.set_floatx("float64")
    layer = layers.Conv2D(2, 3, padding="same", activation="tanh")
    x = rng.standard_normal((2, 5, 4, 3))
    layer(x)
    assert nr.gradcheck(lambda k, b, t: nr.ops.tanh(nr.ops.conv2d(t, k, padding="same", bias=b)),
                        layer.kernel, layer.bias, x)


@pytest.mark.parametrize("layer_class,input_shape", [(layers.Conv2D, (2, 6, 5, 3)), (layers.Conv1D, (2, 9, 3))])
def test_relu_layers_use_the_fused_op_with_the_same_results(monkeypatch, rng, layer_class, input_shape):
    """activation="relu" goes into the convolution op (one pass); outputs and gradients are those of
    the same layer without activation followed by a separate ReLU."""
    from neurona.ops import convolution as conv

    seen = []
    original = conv.Conv2D.forward
    monkeypatch.setattr(conv.Conv2D, "forward", lambda self, *a, **k: seen.append(k["activation"]) or
                        original(self, *a, **k))
    nr.set_floatx("float64")
    x = rng.standard_normal(input_shape)
    fused, plain = layer_class(4, 3, activation="relu"), layer_class(4, 3)
    fused.build_for((None,) + input_shape[1:])
    plain.build_for((None,) + input_shape[1:])
    plain.set_weights(fused.get_weights())
    out_fused, out_plain = fused(x), nr.ops.relu(plain(x))
    assert seen == ["relu", None]
    np.testing.assert_allclose(out_fused.numpy(), out_plain.numpy(), rtol=1e-12)
    (out_fused * out_fused).sum().backward()
    (out_plain * out_plain).sum().backward()
    for a, b in zip(fused.weights, plain.weights):
        np.testing.assert_allclose(a.grad, b.grad, rtol=1e-12)


def test_wrong_channels_or_rank_name_the_layer_and_expected_shape():
    layer = layers.Conv2D(8, 3, name="conv_a")
    layer(np.ones((1, 6, 6, 3), np.float32))
    with pytest.raises(ValueError, match=r"'conv_a' \(Conv2D\) expects inputs of shape \(batch, size, size, 3\), "
                                         r"got \(1, 6, 6, 1\)"):
        layer(np.ones((1, 6, 6, 1), np.float32))
    with pytest.raises(ValueError, match=r"expects inputs of rank 4, shape \(batch, size, size, C\), got shape"):
        layers.Conv2D(8, 3)(np.ones((6, 6, 3), np.float32))
    with pytest.raises(ValueError, match="padding must be 'valid' or 'same'"):
        layers.Conv2D(8, 3, padding="full")
    with pytest.raises(ValueError, match="data_format must be 'channels_last' or 'channels_first'"):
        layers.Conv2D(8, 3, data_format="NCHW")
    with pytest.raises(ValueError, match="groups must be a positive integer that divides filters"):
        layers.Conv2D(8, 3, groups=3)
    with pytest.raises(ValueError, match="padding must be 'valid' or 'same', got 'causal'"):
        layers.Conv2D(8, 3, padding="causal")  # causal is Conv1D's only, as in Keras
    with pytest.raises(ValueError, match="cannot be combined"):
        layers.Conv2D(8, 3, strides=2, dilation_rate=2)


@pytest.mark.parametrize("layer, input_shape, message", [
    (layers.Conv2D(2, 5, name="c"), (None, 3, 3, 1),
     r"'c' \(Conv2D\): kernel_size \(5, 5\) with strides \(1, 1\) and padding 'valid' does not fit inputs of shape "
     r"\(None, 3, 3, 1\): the output would have spatial size \(-1, -1\)"),
    (layers.Conv2D(2, (1, 4), strides=3, name="c"), (None, 5, 3, 2),
     r"kernel_size \(1, 4\) with strides \(3, 3\) and padding 'valid' .* spatial size \(2, 0\)"),
    (layers.Conv1D(2, 3, dilation_rate=3, name="c"), (None, 6, 1),
     r"'c' \(Conv1D\): kernel_size \(3,\) with strides \(1,\), dilation_rate \(3,\) \(a window spanning \(7,\)\) "
     r"and padding 'valid' does not fit inputs of shape \(None, 6, 1\)"),
])
def test_a_kernel_larger_than_its_input_fails_at_build_naming_layer_shapes_and_settings(layer, input_shape, message):
    with pytest.raises(ValueError, match=message):
        layer.build_for(input_shape)
    assert not layer.built and layer.weights == []


def test_oversized_kernels_fail_when_a_model_is_built_not_at_its_first_call():
    with pytest.raises(ValueError, match=r"'too_big' \(Conv2D\): kernel_size \(3, 3\).*shape \(None, 2, 2, 4\)"):
        nr.models.Sequential([layers.Input((4, 4, 1)), layers.Conv2D(4, 3), layers.Conv2D(1, 3, name="too_big")])


def test_same_padding_never_fails_and_unknown_sizes_are_checked_at_call(rng):
    layer = layers.Conv2D(2, 5, strides=2, padding="same")
    assert layer.build_for((None, 3, 3, 1)) == (None, 2, 2, 2)
    assert layers.Conv1D(2, 9, padding="same")(rng.standard_normal((1, 1, 2)).astype(np.float32)).shape == (1, 1, 2)
    late = layers.Conv1D(2, 4, name="late")
    late.build_for((None, None, 1))  # the sizes are only known at the call
    with pytest.raises(ValueError, match=r"'late' \(Conv1D\): kernel_size \(4,\).*shape \(1, 3, 1\)"):
        late(np.ones((1, 3, 1), np.float32))
    with pytest.raises(ValueError, match=r"\(Conv2D\) got inputs of shape \(None, 0, 4, 1\) with an empty spatial"):
        layers.Conv2D(2, 3, padding="same").build_for((None, 0, 4, 1))


def test_config_records_the_data_format_argument():
    # every constructor argument is in the config, so a Keras-style round trip keeps it
    for layer in (layers.Conv2D(2, 3), layers.Conv1D(2, 3)):
        assert layer.get_config()["data_format"] == "channels_last"
        _round_trip(layer)
