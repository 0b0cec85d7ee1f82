"""Sequential models: building, calling, summary, config, and the errors users meet first."""

import numpy as np
import pytest

import neurona as nr
from neurona import layers, models


def _mlp(**dense):
    return models.Sequential([
        layers.Input((20,)),
        layers.Dense(16, activation="relu", kernel_initializer="he_normal", **dense),
        layers.Dense(3, activation="softmax"),
    ])


def test_built_from_input_and_counts_params():
    model = _mlp()
    assert model.built
    assert model.count_params() == 20 * 16 + 16 + 16 * 3 + 3
    assert model.output_shape == (None, 3)
    assert len(model.layers) == 2 and len(model.trainable_weights) == 4


def test_input_dim_and_input_shape_build_like_keras():
    a = models.Sequential()
    a.add(layers.Dense(4, input_dim=6))
    b = models.Sequential([layers.Dense(4, input_shape=(6,))])
    assert a.built and b.built and a.count_params() == b.count_params() == 28


def test_deferred_build_on_first_call(device, rng):
    model = models.Sequential([layers.Flatten(), layers.Dense(5)])
    assert not model.built
    out = model(rng.standard_normal((2, 3, 4)))
    assert model.built and out.shape == (2, 5)
    assert model.input_shape == (None, 3, 4)


def test_summary_lists_layers_shapes_params_and_initializers():
    lines = []
    _mlp().summary(print_fn=lines.append)
    text = lines[0]
    assert "Output Shape" in text and "Initializer" in text
    assert "(None, 16)" in text and "HeNormal" in text and "GlorotUniform" in text
    assert "Total params: 387" in text and "Trainable params: 387" in text


def test_wrong_input_shape_names_model_and_shapes():
    model = _mlp()
    with pytest.raises(ValueError, match=r"expects inputs of shape \(None, 20\), got \(4, 21\)"):
        model(np.ones((4, 21), np.float32))


def test_wrong_input_for_first_layer_names_the_layer():
    with pytest.raises(ValueError, match=r"layer 'first' \(Dense\) expects inputs of shape \(None, 8\), got"):
        models.Sequential([layers.Input((5,)), layers.Dense(3, input_shape=(8,), name="first")])


def test_config_round_trip_rebuilds_the_same_architecture():
    model = _mlp()
    clone = models.Sequential.from_config(model.get_config())
    assert [type(layer) for layer in clone.layers] == [type(layer) for layer in model.layers]
    assert clone.count_params() == model.count_params()
    clone.set_weights(model.get_weights())
    x = np.random.default_rng(0).standard_normal((3, 20)).astype(np.float32)
    np.testing.assert_array_equal(clone(x).numpy(), model(x).numpy())


def test_set_weights_validates_before_changing():
    model = _mlp()
    before = model.get_weights()
    with pytest.raises(ValueError, match="has 4 weights, got 1"):
        model.set_weights([np.zeros((20, 16))])
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_uncompiled_fit_explains_what_to_do():
    with pytest.raises(RuntimeError, match="must be compiled before fit"):
        _mlp().fit(np.ones((2, 20)), np.ones((2, 3)))


def test_input_must_come_first():
    model = models.Sequential([layers.Dense(2, input_shape=(3,))])
    with pytest.raises(ValueError, match="Input can only be the first"):
        model.add(layers.Input((2,)))


def test_low_level_loop_updates_every_weight():
    nr.seed(0)
    model = _mlp()
    opt = nr.optimizers.SGD(learning_rate=0.1)
    x = np.random.default_rng(1).standard_normal((8, 20)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[np.arange(8) % 3]
    before = model.get_weights()
    logits = model(x, training=True)
    loss = nr.losses.categorical_crossentropy(y, logits).mean()
    model.zero_grad()
    loss.backward()
    assert all(w.grad is not None and w.grad.shape == w.shape for w in model.trainable_weights)
    opt.apply(model.trainable_weights)
    for old, w in zip(before, model.trainable_weights):
        np.testing.assert_allclose(w.numpy(), old - 0.1 * w.grad, rtol=1e-5, atol=1e-7)
