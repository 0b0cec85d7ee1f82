"""Subclassed layers and models, written the way the Keras guides write them."""

import numpy as np
import pytest

import neurona as nr
from neurona import layers


class Linear(nr.Layer):
    """The Keras guide's first custom layer: weights made in build() with add_weight keywords."""

    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal", trainable=True)
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True)

    def call(self, inputs):  # no training argument: it must not be passed
        return nr.ops.matmul(inputs, self.w) + self.b


class Block(nr.Layer):
    """A layer made of layers, held in attributes and in a list."""

    def __init__(self):
        super().__init__()
        self.first = layers.Dense(8, activation="relu")
        self.rest = [layers.Dense(6, activation="relu"), layers.Dense(4)]

    def call(self, inputs):
        x = self.first(inputs)
        for layer in self.rest:
            x = layer(x)
        return x


class ActivityPenalty(nr.Layer):
    def __init__(self, rate=1e-2):
        super().__init__()
        self.rate = rate

    def call(self, inputs):
        self.add_loss(self.rate * nr.ops.mean(nr.ops.square(inputs)))
        return inputs


class Classifier(nr.Model):
    def __init__(self, classes=3):
        super().__init__(name="classifier")
        self.block = Block()
        self.dropout = layers.Dropout(0.5, seed=1)
        self.penalty = ActivityPenalty()
        self.head = layers.Dense(classes, activation="softmax")

    def call(self, inputs, training=False):
        x = self.penalty(self.block(inputs))
        return self.head(self.dropout(x, training=training))


def test_a_custom_layer_with_add_weight_keywords(rng):
    layer = Linear(4)
    x = rng.standard_normal((3, 2)).astype(np.float32)
    y = layer(x)
    assert y.shape == (3, 4) and layer.count_params() == 2 * 4 + 4
    assert [w.name for w in layer.weights] == [f"{layer.name}/variable", f"{layer.name}/variable_1"]
    np.testing.assert_allclose(y.numpy(), x @ layer.w.numpy() + layer.b.numpy(), rtol=1e-6)


def test_keras_2_positional_add_weight_order_still_works():
    class Old(nr.Layer):
        def build(self, input_shape):
            self.k = self.add_weight("kernel", (input_shape[-1], 2), "ones")

        def call(self, inputs):
            return inputs @ self.k

    layer = Old()
    layer(np.ones((1, 3), np.float32))
    assert layer.weights[0].name.endswith("/kernel") and layer.weights[0].numpy().sum() == 6


def test_a_layer_of_layers_tracks_their_weights_shape_and_training(rng):
    block = Block()
    x = rng.standard_normal((5, 3)).astype(np.float32)
    assert block(x).shape == (5, 4)
    assert block.count_params() == (3 * 8 + 8) + (8 * 6 + 6) + (6 * 4 + 4)
    assert len(block.trainable_weights) == 6 and block.output_shape == (None, 4)
    inputs = nr.Input((3,))
    model = nr.Model(inputs, block(inputs))
    model.compile(optimizer="sgd", loss="mse")
    before = model.get_weights()
    model.fit(x, np.zeros((5, 4), np.float32), epochs=1, verbose=0)
    assert all(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_a_subclassed_model_builds_fits_and_passes_training_only_where_taken(rng):
    model = Classifier()
    model.build((None, 3))
    assert model.built and model.count_params() == 114 + (4 * 3 + 3)  # block: 32 + 54 + 28
    lines = []
    model.summary(print_fn=lines.append)
    assert "block" in "\n".join(lines) and "Total params: 129" in "\n".join(lines)
    x = rng.standard_normal((32, 3)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 32)]
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert len(history.history["loss"]) == 2
    np.testing.assert_array_equal(model(x).numpy(), model(x).numpy())  # inference: dropout off
    assert not np.array_equal(model(x, training=True).numpy(), model(x).numpy())


def test_add_loss_terms_are_part_of_the_training_loss_and_do_not_pile_up(rng):
    model = Classifier()
    x = rng.standard_normal((4, 3)).astype(np.float32)
    model(x)
    assert len(model.losses) == 1
    model(x)
    assert len(model.losses) == 1  # recomputed at each forward pass
    features = model.block(x).numpy()
    np.testing.assert_allclose(model.losses[0].item(), 1e-2 * np.mean(features ** 2), rtol=1e-5)


def test_training_flows_from_the_outer_call_to_layers_that_are_not_told():
    class Outer(nr.Model):
        def __init__(self):
            super().__init__()
            self.dropout = layers.Dropout(0.5, seed=0)

        def call(self, inputs):  # no training argument: the dropout gets it from model(x, training=...)
            return self.dropout(inputs)

    model, x = Outer(), np.ones((4, 10), np.float32)
    np.testing.assert_array_equal(model(x).numpy(), x)
    assert (model(x, training=True).numpy() == 0).any()


def test_subclassed_model_fit_raises_clear_errors_not_bare_not_implemented():
    class NoCall(nr.Model):
        pass

    with pytest.raises(NotImplementedError, match="NoCall must implement call"):
        NoCall()(np.ones((1, 2), np.float32))


def test_attribute_variables_and_dicts_of_layers_are_tracked():
    class Heads(nr.Layer):
        def __init__(self):
            super().__init__()
            self.scale = nr.Variable(np.ones(2, np.float32), name="scale")
            self.heads = {"a": layers.Dense(2), "b": layers.Dense(2)}

        def call(self, inputs):
            return (self.heads["a"](inputs) + self.heads["b"](inputs)) * self.scale

    layer = Heads()
    layer(np.ones((1, 3), np.float32))
    assert layer.count_params() == 2 + 2 * (3 * 2 + 2)
    layer.trainable = False
    assert layer.trainable_weights == [] and not layer.heads["a"].trainable
