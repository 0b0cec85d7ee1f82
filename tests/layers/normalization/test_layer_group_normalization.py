"""LayerNormalization, GroupNormalization and InstanceNormalization against NumPy, gradients and configs."""

import json

import numpy as np
import pytest

import neurona as nr
from neurona import layers

DATA_SEED = 42  # not 0: gradcheck's projection is drawn from default_rng(0)


def _round_trip(layer):
    config = json.loads(json.dumps(layers.serialize(layer)))
    clone = layers.deserialize(config)
    assert type(clone) is type(layer) and clone.get_config() == layer.get_config()
    return clone


def _normalize(x, axes, eps):
    return (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)


def _group_norm_reference(x, groups, gamma, beta, eps):
    """Wu & He (2018), channels last, written with a loop over the groups."""
    out = np.empty_like(x)
    size = x.shape[-1] // groups
    spatial = tuple(range(1, x.ndim))
    for g in range(groups):
        part = x[..., g * size:(g + 1) * size]
        out[..., g * size:(g + 1) * size] = _normalize(part, spatial, eps)
    return out * gamma + beta


def _random_affine(layer, rng):
    layer.set_weights([rng.normal(1.0, 0.5, w.shape) for w in layer.weights])
    return [w.numpy() for w in layer.weights]


# ---- LayerNormalization ------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape,axis,param_shape", [((4, 6), -1, (6,)), ((2, 3, 5), -1, (5,)),
                                                     ((2, 3, 4, 5), [1, 2, 3], (3, 4, 5)),
                                                     ((2, 3, 4, 5), [-1, 1], (3, 5))])
def test_layer_normalization_matches_numpy(device, shape, axis, param_shape):
    nr.set_floatx("float64")
    rng = np.random.default_rng(DATA_SEED)
    x = rng.normal(2.0, 3.0, shape)
    layer = layers.LayerNormalization(axis=axis, epsilon=1e-3)
    layer.build_for(shape)
    assert [w.shape for w in layer.weights] == [param_shape, param_shape] and layer.count_params() == 2 * np.prod(
        param_shape)
    gamma, beta = _random_affine(layer, rng)
    axes = tuple(sorted(a % len(shape) for a in ([axis] if isinstance(axis, int) else axis)))
    bshape = tuple(s if i in axes else 1 for i, s in enumerate(shape))
    expected = _normalize(x, axes, 1e-3) * gamma.reshape(bshape) + beta.reshape(bshape)
    for training in (True, False):  # no batch statistics: both modes agree
        np.testing.assert_allclose(layer(x, training=training).numpy(), expected, rtol=1e-10, atol=1e-12)
    _round_trip(layer)


def test_layer_normalization_normalizes_each_sample_on_its_own():
    x = np.random.default_rng(DATA_SEED).normal(0.0, 1.0, (3, 8)).astype(np.float32)
    x[1] = x[1] * 100.0 + 50.0  # one sample on another scale does not affect the others
    y = layers.LayerNormalization(epsilon=0.0)(x).numpy()
    np.testing.assert_allclose(y.mean(axis=1), 0.0, atol=1e-5)
    np.testing.assert_allclose(y.std(axis=1), 1.0, rtol=1e-4)
    np.testing.assert_allclose(y[1], (x[1] - x[1].mean()) / x[1].std(), rtol=1e-4, atol=1e-5)


def test_layer_normalization_rejects_bad_axes():
    with pytest.raises(TypeError, match="axis must be an int or a non-empty list"):
        layers.LayerNormalization(axis="last")
    with pytest.raises(ValueError, match="out of range for inputs of rank 2"):
        layers.LayerNormalization(axis=2)(np.ones((2, 3), np.float32))
    with pytest.raises(ValueError, match="batch axis 0"):
        layers.LayerNormalization(axis=[0, 1])(np.ones((2, 3), np.float32))


# ---- GroupNormalization and InstanceNormalization ---------------------------------------------------------

@pytest.mark.parametrize("shape,groups", [((3, 5, 5, 8), 4), ((3, 5, 5, 8), 1), ((3, 5, 5, 8), 8), ((4, 6), 3),
                                          ((2, 7, 6), 2)])
def test_group_normalization_matches_a_per_group_loop(device, shape, groups):
    nr.set_floatx("float64")
    rng = np.random.default_rng(DATA_SEED)
    x = rng.normal(1.0, 2.0, shape)
    layer = layers.GroupNormalization(groups=groups, epsilon=1e-3)
    layer.build_for(shape)
    gamma, beta = _random_affine(layer, rng)
    assert gamma.shape == (shape[-1],) and layer.count_params() == 2 * shape[-1]
    y = layer(x).numpy()
    np.testing.assert_allclose(y, _group_norm_reference(x, groups, gamma, beta, 1e-3), rtol=1e-10, atol=1e-12)
    _round_trip(layer)


def test_group_normalization_float32_fast_path_agrees_with_float64():
    rng = np.random.default_rng(DATA_SEED)
    x = rng.normal(1.0, 2.0, (4, 6, 6, 16))
    y = layers.GroupNormalization(groups=8)(x.astype(np.float32)).numpy()
    np.testing.assert_allclose(y, _group_norm_reference(x, 8, 1.0, 0.0, 1e-3), rtol=1e-4, atol=1e-4)


def test_instance_normalization_is_per_sample_per_channel_over_space(device):
    rng = np.random.default_rng(DATA_SEED)
    x = rng.normal([1.0, -5.0, 30.0], [1.0, 0.1, 10.0], (2, 4, 4, 3)).astype(np.float32)
    layer = layers.InstanceNormalization(epsilon=0.0)
    y = layer(x).numpy()
    np.testing.assert_allclose(y.mean(axis=(1, 2)), 0.0, atol=1e-5)
    np.testing.assert_allclose(y.std(axis=(1, 2)), 1.0, rtol=1e-4)
    np.testing.assert_allclose(y, _normalize(x, (1, 2), 0.0), rtol=1e-4, atol=1e-5)
    clone = _round_trip(layer)
    assert "groups" not in clone.get_config() and layer.count_params() == 6


def test_group_normalization_channels_first_matches_channels_last():
    x = np.random.default_rng(DATA_SEED).normal(0.0, 2.0, (2, 6, 3, 3)).astype(np.float32)
    first = layers.GroupNormalization(groups=3, axis=1)(x).numpy()
    last = layers.GroupNormalization(groups=3)(x.transpose(0, 2, 3, 1)).numpy()
    np.testing.assert_allclose(first, last.transpose(0, 3, 1, 2), rtol=1e-5, atol=1e-5)


def test_group_normalization_errors():
    with pytest.raises(ValueError, match="groups must be a positive int or -1"):
        layers.GroupNormalization(groups=0)
    with pytest.raises(ValueError, match="6 channels along axis -1 cannot be split into 4 groups"):
        layers.GroupNormalization(groups=4)(np.ones((2, 6), np.float32))
    layer = layers.GroupNormalization(groups=2, name="gn")
    layer(np.ones((2, 3, 4), np.float32))
    with pytest.raises(ValueError, match=r"'gn' \(GroupNormalization\) expects inputs of rank 3"):
        layer(np.ones((2, 4), np.float32))


@pytest.mark.parametrize("cls,kwargs", [(layers.LayerNormalization, {}), (layers.GroupNormalization, dict(groups=1)),
                                        (layers.InstanceNormalization, {})])
@pytest.mark.parametrize("argument", ["center", "scale"])
def test_center_and_scale_must_be_bools(cls, kwargs, argument):
    with pytest.raises(TypeError, match=rf"{cls.__name__} {argument} must be True or False, got 'no'"):
        cls(**kwargs, **{argument: "no"})
    with pytest.raises(TypeError, match=rf"{cls.__name__} {argument} must be True or False, got 1 \(int\)"):
        cls(**kwargs, **{argument: 1})
