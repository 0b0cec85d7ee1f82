"""Patterns of the public keras-io programs that ported programs met: a layer called with keyword inputs only,
metrics held by inner layers, Conv's convolution_op hook."""

import numpy as np
import pytest

import neurona as nr
from neurona import layers, ops


class Endpoint(layers.Layer):
    """A loss-and-metric endpoint: call(logits, targets) adds its own loss and updates its own metric."""

    def __init__(self, name=None):
        super().__init__(name=name)
        self.loss_fn = nr.losses.BinaryCrossentropy(from_logits=True)
        self.accuracy_metric = nr.metrics.BinaryAccuracy(name="accuracy")

    def call(self, logits, targets=None):
        if targets is not None:
            self.add_loss(self.loss_fn(targets, logits))
            self.accuracy_metric.update_state(targets, ops.sigmoid(logits))
        return ops.sigmoid(logits)


def _endpoint_model():
    nr.seed(0)
    inputs, targets = nr.Input((3,), name="inputs"), nr.Input((1,), name="targets")
    logits = layers.Dense(1)(inputs)
    return nr.Model([inputs, targets], Endpoint()(logits=logits, targets=targets))  # keyword inputs only


def test_the_first_call_argument_may_be_passed_by_its_name():
    model = _endpoint_model()
    x, t = np.random.default_rng(0).standard_normal((6, 3)).astype("float32"), np.ones((6, 1), "float32")
    out = model([x, t])
    np.testing.assert_allclose(out.numpy(), 1 / (1 + np.exp(-(x @ model.layers[2].kernel.numpy() +
                                                               model.layers[2].bias.numpy()))), rtol=1e-6)
    endpoint = Endpoint()
    np.testing.assert_array_equal(endpoint(logits=np.zeros((2, 1))).numpy(), np.full((2, 1), 0.5))
    with pytest.raises(TypeError, match=r"called without inputs: expected them as the first argument or as logits="):
        endpoint(targets=np.zeros((2, 1)))


def test_a_metric_held_by_an_inner_layer_is_logged_and_reset_each_epoch():
    model = _endpoint_model()
    rng = np.random.default_rng(1)
    data = {"inputs": rng.standard_normal((40, 3)).astype("float32"),
            "targets": (rng.random((40, 1)) > 0.5).astype("float32")}
    model.compile(nr.optimizers.SGD(0.0))  # no compiled loss: the endpoint's add_loss is the objective
    history = model.fit(data, batch_size=40, epochs=2, verbose=0)
    assert sorted(history.history) == ["accuracy", "loss"]
    probs = model.predict([data["inputs"], data["targets"]], verbose=0)
    expected = float(((probs > 0.5) == (data["targets"] > 0.5)).mean())
    assert history.history["accuracy"] == pytest.approx([expected, expected])  # reset: not averaged over epochs
    assert any(m.name == "accuracy" for m in model.metrics)


class ZeroConv(layers.Conv2D):
    def convolution_op(self, inputs, kernel):
        return ops.zeros_like(super().convolution_op(inputs, kernel))


class StandardizedConv(layers.Conv2D):
    def call(self, inputs):
        mean, var = ops.moments(self.kernel, axes=[0, 1, 2], keepdims=True)
        return self.convolution_op(inputs, (self.kernel - mean) / ops.sqrt(var + 1e-10)) + self.bias


def test_conv_layers_go_through_an_overridden_convolution_op():
    x = np.random.default_rng(2).standard_normal((2, 6, 6, 3)).astype("float32")
    zero = ZeroConv(4, 3, bias_initializer="ones", activation="relu")
    np.testing.assert_array_equal(zero(x).numpy(), np.ones((2, 4, 4, 4), "float32"))  # zeros, + bias, relu
    layer = StandardizedConv(4, 3, padding="same")
    out = layer(x)
    w = layer.kernel.numpy()
    w = (w - w.mean(axis=(0, 1, 2))) / np.sqrt(w.var(axis=(0, 1, 2)) + 1e-10)
    plain = layers.Conv2D(4, 3, padding="same")
    plain.build(x.shape)
    plain.set_weights([w, layer.bias.numpy()])
    np.testing.assert_allclose(out.numpy(), plain(x).numpy(), rtol=1e-5, atol=1e-6)


def test_a_compiled_nested_model_keeps_its_trackers_out_of_the_outer_logs():
    nr.seed(3)
    base = nr.Sequential([nr.Input((3,)), layers.Dense(2)], name="base")
    base.compile("sgd", "mse", metrics=["mae"])  # a pretrained model, compiled once
    inputs = nr.Input((3,))
    outer = nr.Model(inputs, layers.Dense(1)(base(inputs)))
    outer.compile(nr.optimizers.SGD(0.0), "mse")
    x, y = np.ones((4, 3), "float32"), np.full((4, 1), 3.0, "float32")
    history = outer.fit(x, y, epochs=1, verbose=0)
    assert [m.name for m in outer.metrics] == ["loss"] and sorted(history.history) == ["loss"]
    np.testing.assert_allclose(history.history["loss"][0], ((outer.predict(x, verbose=0) - y) ** 2).mean(),
                               rtol=1e-6)


def test_a_metric_assigned_after_the_first_read_is_seen():
    model = _endpoint_model()
    model.compile(nr.optimizers.SGD(0.0))
    before = [m.name for m in model.metrics]  # cached from here on
    model.layers[-1].extra = nr.metrics.Mean(name="extra")
    assert [m.name for m in model.metrics] == before + ["extra"]


def _doubled_relu(x):
    return ops.relu(x) * 2.0


def test_clone_model_keeps_an_unregistered_custom_activation():
    model = nr.Sequential([nr.Input((3,)), layers.Dense(2, activation=_doubled_relu)])
    clone = nr.models.clone_model(model)
    assert clone.layers[0].activation is _doubled_relu
    clone.set_weights(model.get_weights())
    x = np.random.default_rng(4).standard_normal((5, 3)).astype("float32")
    np.testing.assert_array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))
