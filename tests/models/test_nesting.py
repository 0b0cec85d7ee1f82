"""Models inside models: nesting, freezing (transfer learning), trainable propagation."""

import numpy as np
import pytest

import neurona as nr
from neurona import layers


def _base():
    return nr.Sequential([nr.Input((6,)), layers.Dense(8, activation="relu", name="base_dense"),
                          layers.BatchNormalization(name="base_bn")], name="base")


def test_a_sequential_inside_a_sequential(rng):
    base = _base()
    model = nr.Sequential([base, layers.Dense(2)])
    assert model.count_params() == base.count_params() + 8 * 2 + 2
    assert model.layers[0] is base and model.output_shape == (None, 2)
    x = rng.standard_normal((3, 6)).astype(np.float32)
    np.testing.assert_array_equal(model(x).numpy(), model.layers[1](base(x)).numpy())


def test_trainable_false_on_a_sequential_freezes_every_weight(rng):
    model = nr.Sequential([nr.Input((6,)), layers.Dense(4), layers.Dense(2)])
    model.trainable = False
    assert model.trainable_weights == [] and len(model.non_trainable_weights) == 4
    model.compile(optimizer="sgd", loss="mse")
    before = model.get_weights()
    with pytest.warns(UserWarning, match="no trainable weights"):  # as Keras warns
        model.fit(rng.standard_normal((8, 6)), rng.standard_normal((8, 2)), epochs=1, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    model.trainable = True
    assert len(model.trainable_weights) == 4


def test_freezing_a_nested_base_leaves_its_weights_bit_identical_through_fit(rng):
    base = _base()
    inputs = nr.Input((6,))
    outputs = layers.Dense(3, activation="softmax", name="new_head")(base(inputs, training=False))
    model = nr.Model(inputs, outputs)
    base.trainable = False
    assert [w.name for w in model.trainable_weights] == ["new_head/kernel", "new_head/bias"]
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    frozen = base.get_weights()  # moving statistics of the BatchNormalization included
    head = model.get_layer("new_head").get_weights()
    x = rng.standard_normal((32, 6)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 32)]
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(frozen, base.get_weights()))
    assert not np.array_equal(head[0], model.get_layer("new_head").get_weights()[0])
    # fine-tuning: unfreeze, and the base trains too
    base.trainable = True
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert not np.array_equal(frozen[0], base.get_weights()[0])


def test_a_functional_model_called_as_a_layer_in_another(rng):
    inner_in = nr.Input((4,))
    inner = nr.Model(inner_in, layers.Dense(3, name="inner_dense")(inner_in), name="inner")
    outer_in = nr.Input((4,))
    twice = inner(outer_in) + inner(outer_in)  # the nested model is shared too
    outer = nr.Model(outer_in, layers.Dense(1)(twice))
    assert inner in outer.layers and outer.count_params() == 15 + 4
    x = rng.standard_normal((2, 4)).astype(np.float32)
    expected = outer.layers[-1](2 * inner(x).numpy()).numpy()
    np.testing.assert_allclose(outer(x).numpy(), expected, rtol=1e-6)


def test_add_refuses_what_is_not_a_layer_and_accepts_models():
    model = nr.Sequential()
    with pytest.raises(TypeError, match="takes a Layer"):
        model.add("dense")
    model.add(nr.Input((3,)))
    model.add(_base_like())
    assert model.output_shape == (None, 2)


def _base_like():
    return nr.Sequential([layers.Dense(2)])


def test_a_failed_add_leaves_the_model_as_it_was():
    model = nr.Sequential([nr.Input((3,)), layers.Dense(2)])
    with pytest.raises(ValueError):
        model.add(layers.Conv2D(2, 3))
    assert len(model.layers) == 1 and model.output_shape == (None, 2)
