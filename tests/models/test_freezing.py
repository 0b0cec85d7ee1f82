"""Freezing (``layer.trainable = False``) for transfer learning: the optimizer never touches a frozen weight.

Bit-exact through ``fit`` with every optimizer whose update could move a weight without a gradient (momentum,
Adam's moments, AdamW's decoupled decay) and with an L2 penalty on the frozen layer; a frozen BatchNormalization
normalizes with its moving statistics in training mode and never updates them (as Keras).
"""

import math

import numpy as np
import pytest

import neurona as nr
from neurona import layers, optimizers, regularizers

OPTIMIZERS = {
    "sgd_momentum": lambda: optimizers.SGD(0.1, momentum=0.9),
    "sgd_nesterov": lambda: optimizers.SGD(0.1, momentum=0.9, nesterov=True),
    "adam": lambda: optimizers.Adam(0.01),
    "adamw": lambda: optimizers.AdamW(0.01, weight_decay=0.5),  # large decay: any decay of a frozen weight shows
    "rmsprop": lambda: optimizers.RMSprop(0.01, momentum=0.5),
}


def _data(rng, n=48, features=6, classes=3):
    x = rng.standard_normal((n, features)).astype(np.float32)
    return x, np.eye(classes, dtype=np.float32)[rng.integers(0, classes, n)]


def _values(weights):
    return [w.numpy() for w in weights]


def _assert_same(before, weights):
    for a, w in zip(before, weights):
        np.testing.assert_array_equal(a, w.numpy(), err_msg=w.name)


def _assert_all_changed(before, weights):
    for a, w in zip(before, weights):
        assert not np.array_equal(a, w.numpy()), f"{w.name} did not change"


def _regularized_sequential():
    return nr.Sequential([
        nr.Input((6,)),
        layers.Dense(8, activation="tanh", name="frozen", kernel_regularizer=regularizers.L2(0.1),
                     bias_regularizer=regularizers.L2(0.1), bias_initializer="ones"),
        layers.Dense(3, activation="softmax", name="trained"),
    ])


def _no_slot_for(optimizer, weights):
    return all(id(w) not in optimizer._records and optimizer.slots(w) == {} for w in weights)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_a_frozen_layer_of_a_sequential_is_bit_exact_through_fit(name, rng):
    model = _regularized_sequential()
    frozen, trained = model.get_layer("frozen"), model.get_layer("trained")
    frozen.trainable = False
    model.compile(optimizer=OPTIMIZERS[name](), loss="categorical_crossentropy")
    before_frozen, before_trained = _values(frozen.weights), _values(trained.weights)
    model.fit(*_data(rng), epochs=3, batch_size=8, verbose=0)
    assert model.losses  # the L2 penalty of the frozen layer is still in the loss ...
    _assert_same(before_frozen, frozen.weights)  # ... and still moves nothing: no gradient reaches the weight
    _assert_all_changed(before_trained, trained.weights)
    assert _no_slot_for(model.optimizer, frozen.weights)  # never touched: not even a slot
    assert all(model.optimizer.slots(w) for w in trained.weights)  # the trained layer has its slots


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_a_frozen_nested_model_inside_a_functional_model_is_bit_exact_through_fit(name, rng):
    base = nr.Sequential([nr.Input((6,)), layers.Dense(8, activation="relu", name="base_dense",
                                                       kernel_regularizer=regularizers.L2(0.1)),
                          layers.BatchNormalization(name="base_bn"), layers.Dense(5, name="base_top")], name="base")
    inputs = nr.Input((6,))
    outputs = layers.Dense(3, activation="softmax", name="head")(base(inputs))
    model = nr.Model(inputs, outputs)
    base.trainable = False
    assert [w.name for w in model.trainable_weights] == ["head/kernel", "head/bias"]
    assert {w.name for w in model.non_trainable_weights} == {w.name for w in base.weights}
    model.compile(optimizer=OPTIMIZERS[name](), loss="categorical_crossentropy")
    before_base, before_head = _values(base.weights), _values(model.get_layer("head").weights)
    model.fit(*_data(rng), epochs=3, batch_size=8, verbose=0)
    _assert_same(before_base, base.weights)  # moving statistics included
    _assert_all_changed(before_head, model.get_layer("head").weights)
    assert _no_slot_for(model.optimizer, base.weights)


@pytest.mark.parametrize("name", ["sgd_momentum", "adam", "adamw", "rmsprop"])
def test_freezing_after_training_stops_momentum_and_decay_from_moving_the_weights(name, rng):
    """Slots already built (momentum, moments) must not keep moving a weight once it is frozen."""
    model = _regularized_sequential()
    model.compile(optimizer=OPTIMIZERS[name](), loss="categorical_crossentropy")
    data = _data(rng)
    model.fit(*data, epochs=1, batch_size=8, verbose=0)
    frozen = model.get_layer("frozen")
    assert all(model.optimizer.slots(w) for w in frozen.weights)  # momentum / moments built while it trained
    frozen.trainable = False  # no compile() again: Neurona reads the trainable weights at every step
    before = _values(frozen.weights)
    model.fit(*data, epochs=2, batch_size=8, verbose=0)
    _assert_same(before, frozen.weights)


def test_unfreezing_without_recompiling_trains_the_layer_again(rng):
    model = _regularized_sequential()
    frozen = model.get_layer("frozen")
    frozen.trainable = False
    model.compile(optimizer=optimizers.Adam(0.01), loss="categorical_crossentropy")
    data = _data(rng)
    model.fit(*data, epochs=1, batch_size=8, verbose=0)
    before = _values(frozen.weights)
    frozen.trainable = True  # Keras asks for compile() here; in Neurona the next fit already trains it
    assert [w.name for w in model.trainable_weights] == [w.name for w in model.weights]
    model.fit(*data, epochs=1, batch_size=8, verbose=0)
    _assert_all_changed(before, frozen.weights)


def _bn_model(rng):
    """Dense -> BatchNormalization -> Dense, trained once so the moving statistics are far from 0 and 1."""
    model = nr.Sequential([nr.Input((6,)), layers.Dense(4, name="pre"), layers.BatchNormalization(name="bn",
                                                                                                  momentum=0.5),
                           layers.Dense(3, activation="softmax", name="post")])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    x, y = _data(rng)
    model.fit(x * 3 + 2, y, epochs=2, batch_size=8, verbose=0)
    return model


def test_a_frozen_batchnorm_keeps_its_moving_statistics_through_fit(rng):
    model = _bn_model(rng)
    bn = model.get_layer("bn")
    assert not np.allclose(bn.moving_mean.numpy(), 0) and not np.allclose(bn.moving_variance.numpy(), 1)
    bn.trainable = False
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    before_bn, before_post = _values(bn.weights), _values(model.get_layer("post").weights)
    model.fit(*_data(rng), epochs=2, batch_size=8, verbose=0)  # other inputs: batch statistics would differ
    _assert_same(before_bn, bn.weights)
    _assert_all_changed(before_post, model.get_layer("post").weights)


def test_a_frozen_batchnorm_normalizes_with_its_moving_statistics_in_training_mode(rng):
    model = _bn_model(rng)
    bn = model.get_layer("bn")
    bn.trainable = False
    x = rng.standard_normal((16, 4)).astype(np.float32)
    mean, var = bn.moving_mean.numpy(), bn.moving_variance.numpy()
    gamma, beta = bn.gamma.numpy(), bn.beta.numpy()
    expected = (x - mean) / np.sqrt(var + bn.epsilon) * gamma + beta  # Ioffe & Szegedy 2015, inference form
    np.testing.assert_allclose(bn(x, training=True).numpy(), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(bn(x, training=True).numpy(), bn(x, training=False).numpy())
    _assert_same([mean, var], [bn.moving_mean, bn.moving_variance])
    bn.trainable = True  # unfrozen: batch statistics again, and the moving ones move
    out = bn(x, training=True).numpy()
    np.testing.assert_allclose(out.mean(axis=0), beta, atol=1e-4)
    assert not np.array_equal(bn.moving_mean.numpy(), mean)
    assert not bn.moving_mean.trainable and not bn.moving_variance.trainable  # moving statistics never train


def test_unfreezing_a_nested_model_then_training_changes_every_weight(rng):
    base = nr.Sequential([nr.Input((6,)), layers.Dense(8, activation="relu", name="base_dense"),
                          layers.BatchNormalization(name="base_bn")], name="base")
    inputs = nr.Input((6,))
    model = nr.Model(inputs, layers.Dense(3, activation="softmax", name="head")(base(inputs)))
    base.trainable = False
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    data = _data(rng)
    model.fit(*data, epochs=1, batch_size=8, verbose=0)
    before = _values(base.weights)
    base.trainable = True
    assert base.get_layer("base_bn").trainable and base.get_layer("base_dense").kernel.trainable
    model.compile(optimizer=optimizers.Adam(1e-3), loss="categorical_crossentropy")  # fine-tuning, as Keras's guide
    model.fit(*data, epochs=1, batch_size=8, verbose=0)
    _assert_all_changed(before, base.weights)  # moving statistics included: the BN trains again


def test_the_low_level_loop_skips_frozen_weights_even_when_given_them(rng):
    model = _regularized_sequential()
    frozen = model.get_layer("frozen")
    frozen.trainable = False
    assert all(not w.requires_grad and w.grad is None for w in frozen.weights)
    x, y = _data(rng)
    opt = optimizers.SGD(0.1, momentum=0.9)
    before = _values(frozen.weights)
    for _ in range(3):
        loss = nr.losses.categorical_crossentropy(y, model(x, training=True)).mean()
        model.zero_grad()
        loss.backward()
        assert all(w.grad is None for w in frozen.weights)  # no gradient is even computed
        opt.apply(model.weights)  # every weight passed, frozen ones included
        opt.apply_gradients([(np.ones(w.shape, np.float32), w) for w in frozen.weights] +
                            [(w.grad, w) for w in model.get_layer("trained").weights])
    _assert_same(before, frozen.weights)
    opt.build(model.weights)
    assert _no_slot_for(opt, frozen.weights)


def test_trainable_weights_and_the_summary_count_exclude_frozen_layers():
    model = _regularized_sequential()
    model.get_layer("frozen").trainable = False
    assert [w.name for w in model.trainable_weights] == ["trained/kernel", "trained/bias"]
    assert [w.name for w in model.non_trainable_weights] == ["frozen/kernel", "frozen/bias"]
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert f"Trainable params: {8 * 3 + 3:,}" in text and f"Non-trainable params: {6 * 8 + 8:,}" in text


def test_a_frozen_layer_saves_its_flag_and_trains_exactly_like_an_unfrozen_copy_of_the_rest(rng):
    """The trained part of a model with a frozen layer follows the same updates as with a constant layer."""
    model = _regularized_sequential()
    model.get_layer("frozen").trainable = False
    twin = nr.Sequential([nr.Input((6,)), layers.Dense(8, activation="tanh", name="frozen", trainable=False),
                          layers.Dense(3, activation="softmax", name="trained")])
    twin.set_weights(model.get_weights())
    assert model.get_layer("frozen").get_config()["trainable"] is False
    data = _data(rng)
    for m in (model, twin):
        m.compile(optimizer=optimizers.SGD(0.1, momentum=0.9), loss="categorical_crossentropy")
        m.fit(*data, epochs=2, batch_size=8, shuffle=False, verbose=0)
    # the frozen layer's L2 penalty adds a constant to the loss: its gradient on the trained layer is zero
    for a, b in zip(model.get_layer("trained").get_weights(), twin.get_layer("trained").get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert math.isclose(float(sum(loss.numpy() for loss in model.losses)),
                        0.1 * sum(float((w ** 2).sum()) for w in model.get_layer("frozen").get_weights()),
                        rel_tol=1e-5)


def test_a_layer_built_frozen_can_be_unfrozen_for_fine_tuning(rng):
    """Keras: ``Dense(trainable=False)`` (or a layer loaded from a frozen config) trains once set trainable again."""
    dense = layers.Dense(3, trainable=False, name="built_frozen")
    frozen_model = nr.Sequential([nr.Input((6,)), layers.Dense(4), layers.BatchNormalization(name="bn")],
                                 trainable=False)
    model = nr.Sequential([nr.Input((6,)), frozen_model, dense])
    dense.trainable = frozen_model.trainable = True
    assert [w.trainable for w in dense.weights] == [True, True]
    bn = frozen_model.get_layer("bn")
    assert bn.gamma.trainable and not bn.moving_mean.trainable  # moving statistics stay non-trainable
    model.compile(optimizer="adam", loss="mse")
    before = _values(dense.weights)
    x = rng.standard_normal((16, 6)).astype(np.float32)
    model.fit(x, rng.standard_normal((16, 3)).astype(np.float32), epochs=1, batch_size=8, verbose=0)
    _assert_all_changed(before, dense.weights)


def test_a_layer_unfrozen_inside_a_frozen_nested_model_trains_with_the_outer_model_as_in_keras_3(rng):
    """Keras 3: ``trainable_weights`` is every weight whose own flag is set, if the model itself is trainable."""
    base = nr.Sequential([nr.Input((6,)), layers.Dense(5, name="kept"), layers.Dense(5, name="reopened")],
                         name="base")
    inputs = nr.Input((6,))
    model = nr.Model(inputs, layers.Dense(3, name="head")(base(inputs)))
    base.trainable = False
    base.get_layer("reopened").trainable = True
    assert base.trainable_weights == []  # the frozen nested model itself lists none
    assert [w.name for w in model.trainable_weights] == ["reopened/kernel", "reopened/bias", "head/kernel",
                                                          "head/bias"]
    model.compile(optimizer="adam", loss="mse")
    kept, reopened = _values(base.get_layer("kept").weights), _values(base.get_layer("reopened").weights)
    x = rng.standard_normal((16, 6)).astype(np.float32)
    model.fit(x, rng.standard_normal((16, 3)).astype(np.float32), epochs=1, batch_size=8, verbose=0)
    _assert_same(kept, base.get_layer("kept").weights)
    _assert_all_changed(reopened, base.get_layer("reopened").weights)
