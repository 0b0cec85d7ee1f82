"""``reinitialize`` (``Model.reinitialize``): chosen weights re-drawn in place, the others bit-identical."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import neurona as nr
from neurona import initializers, layers
from neurona.models.reinitialize import reinitialize


def _mlp(name="mlp"):
    return nr.Sequential([nr.Input((400,)), layers.Dense(300, name="wide"), layers.BatchNormalization(name="bn"),
                          layers.Activation("relu"), layers.Dense(300, name="same_shape"),
                          layers.Dense(10, name="head")], name=name)


def _data(rng, n=64, features=400, classes=10):
    x = rng.standard_normal((n, features)).astype(np.float32)
    return x, np.eye(classes, dtype=np.float32)[rng.integers(0, classes, n)]


def _trained(rng, model=None):
    """A model whose weights all moved away from their initial values (biases and BN statistics too)."""
    model = model or _mlp()
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    model.fit(*_data(rng), epochs=1, batch_size=16, verbose=0)
    return model


def _by_name(model):
    return {w.name: w.numpy() for w in model.weights}


def test_only_the_chosen_layer_changes_and_the_others_stay_bit_identical(rng):
    model = _trained(rng)
    before = _by_name(model)
    names = reinitialize(model, "wide")
    assert names == ["wide/kernel", "wide/bias"]
    after = _by_name(model)
    for name in before:
        if name in names:
            assert not np.array_equal(before[name], after[name]), name
        else:
            np.testing.assert_array_equal(before[name], after[name], err_msg=name)


def test_own_initializers_give_back_glorot_statistics_zero_biases_and_fresh_batchnorm(rng):
    model = _trained(rng)
    bn = model.get_layer("bn")
    assert not np.allclose(bn.moving_mean.numpy(), 0) and not np.allclose(model.get_layer("wide").bias.numpy(), 0)
    reinitialize(model, ["wide", bn])
    kernel = model.get_layer("wide").kernel.numpy()
    limit = math.sqrt(6 / (400 + 300))  # Glorot & Bengio 2010: U[-limit, limit], std = limit / sqrt(3)
    assert np.abs(kernel).max() <= limit
    assert kernel.std() == pytest.approx(limit / math.sqrt(3), rel=0.01)  # 120,000 draws: std error ~0.2%
    assert abs(kernel.mean()) < 4 * limit / math.sqrt(3) / math.sqrt(kernel.size)
    np.testing.assert_array_equal(model.get_layer("wide").bias.numpy(), 0)
    for weight, value in ((bn.gamma, 1), (bn.beta, 0), (bn.moving_mean, 0), (bn.moving_variance, 1)):
        np.testing.assert_array_equal(weight.numpy(), value, err_msg=weight.name)


def test_another_initializer_redraws_kernels_and_sends_biases_back_to_zeros(rng):
    model = _trained(rng)
    reinitialize(model, ["wide", "same_shape"], initializer="he_normal", seed=0)
    for name in ("wide", "same_shape"):
        layer = model.get_layer(name)
        fan_in = layer.kernel.shape[0]
        # He et al. 2015: Var = 2 / fan_in, a truncated normal scaled so that its own std is exactly that
        assert layer.kernel.numpy().std() == pytest.approx(math.sqrt(2 / fan_in), rel=0.015)
        assert np.abs(layer.kernel.numpy()).max() <= 2 * math.sqrt(2 / fan_in) / initializers.TRUNCATED_NORMAL_STDDEV
        np.testing.assert_array_equal(layer.bias.numpy(), 0)
        assert isinstance(layer.kernel.initializer, initializers.HeNormal)  # summary() shows what drew it
        assert isinstance(layer.bias.initializer, initializers.Zeros)


def test_conv_kernels_follow_their_fan_in(rng):
    model = nr.Sequential([nr.Input((12, 12, 16)), layers.Conv2D(64, 3, name="conv"), layers.Flatten(),
                           layers.Dense(2)])
    reinitialize(model, "conv", initializer=initializers.VarianceScaling(2.0, "fan_in", "untruncated_normal"))
    kernel = model.get_layer("conv").kernel.numpy()
    assert kernel.std() == pytest.approx(math.sqrt(2 / (3 * 3 * 16)), rel=0.02)  # fan_in = 3 * 3 * 16


class _Embedding(layers.Layer):
    """A lookup table whose weight is named as Keras's Embedding's, ``embeddings``, beside a ``scale``."""

    def build(self, input_shape):
        self.embeddings = self.add_weight(name="embeddings", shape=(50, 8), initializer="random_uniform")
        self.scale = self.add_weight(name="scale", shape=(8,), initializer="ones")

    def call(self, inputs):
        return nr.ops.matmul(inputs, self.embeddings) * self.scale


def test_the_initializer_reaches_every_kernel_name_and_nothing_else(rng):
    layer = _Embedding(name="lookup")
    model = nr.Sequential([nr.Input((50,)), layer])
    layer.scale.assign(np.full(8, 3.0))
    names = reinitialize(model, initializer=initializers.Constant(0.5))
    assert names == ["lookup/embeddings", "lookup/scale"]
    np.testing.assert_array_equal(layer.embeddings.numpy(), 0.5)
    np.testing.assert_array_equal(layer.scale.numpy(), 1.0)  # not a kernel: its own initializer (ones)


def test_the_same_seed_gives_bit_identical_weights_and_another_seed_others(rng):
    first, second = _mlp("first"), _mlp("second")  # independent initial draws
    reinitialize(first, seed=11)
    reinitialize(second, seed=11)
    for a, b in zip(first.get_weights(), second.get_weights()):
        np.testing.assert_array_equal(a, b)
    reinitialize(second, seed=12)
    assert not np.array_equal(first.get_layer("wide").kernel.numpy(), second.get_layer("wide").kernel.numpy())


def test_a_seed_gives_each_weight_its_own_draw_and_never_mutates_a_seeded_initializer():
    model = nr.Sequential([nr.Input((300,)), layers.Dense(300, name="one"), layers.Dense(300, name="two")])
    init = initializers.HeNormal(seed=5)
    reinitialize(model, initializer=init, seed=3)
    one, two = model.get_layer("one").kernel.numpy(), model.get_layer("two").kernel.numpy()
    assert not np.array_equal(one, two)  # init as is would give both the same values
    assert abs(np.corrcoef(one.ravel(), two.ravel())[0, 1]) < 0.01  # independent draws
    assert init.seed == 5
    # without seed=, the initializer's own seed fixes the draws (again different per weight)
    reinitialize(model, initializer=init)
    again = model.get_layer("one").kernel.numpy()
    reinitialize(model, initializer=init)
    np.testing.assert_array_equal(again, model.get_layer("one").kernel.numpy())
    assert not np.array_equal(again, model.get_layer("two").kernel.numpy())


def test_a_layer_redrawn_alone_gets_the_values_it_gets_with_all_the_others():
    alone, together = _mlp("alone"), _mlp("together")
    reinitialize(alone, "same_shape", seed=4)
    reinitialize(together, seed=4)  # the seed is tied to the weight's position in model.weights
    np.testing.assert_array_equal(alone.get_layer("same_shape").kernel.numpy(),
                                  together.get_layer("same_shape").kernel.numpy())


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), chosen=st.sets(st.sampled_from(["a", "b", "c"]), min_size=1))
def test_property_seeded_redraws_are_repeatable_and_touch_only_the_chosen(seed, chosen):
    def small(name):
        return nr.Sequential([nr.Input((6,)), layers.Dense(5, name="a"), layers.Dense(5, name="b"),
                              layers.Dense(3, name="c")], name=name)

    x, y = small("x"), small("y")
    before = _by_name(x)
    names = reinitialize(x, sorted(chosen), seed=seed)
    reinitialize(y, sorted(chosen), seed=seed)
    assert names == [w.name for w in x.weights if w.name.split("/")[0] in chosen]
    for wx, wy in zip(x.weights, y.weights):
        if wx.name in names:
            np.testing.assert_array_equal(wx.numpy(), wy.numpy())
        else:
            np.testing.assert_array_equal(wx.numpy(), before[wx.name])


def test_without_a_seed_each_call_draws_afresh_and_nr_seed_repeats_a_program():
    model = _mlp()
    reinitialize(model, "wide")
    first = model.get_layer("wide").kernel.numpy()
    reinitialize(model, "wide")
    assert not np.array_equal(first, model.get_layer("wide").kernel.numpy())
    nr.seed(99)
    reinitialize(model, "wide")
    repeated = model.get_layer("wide").kernel.numpy()
    nr.seed(99)
    reinitialize(model, "wide")
    np.testing.assert_array_equal(repeated, model.get_layer("wide").kernel.numpy())


def _functional_with_nested_base():
    base = nr.Sequential([nr.Input((8,)), layers.Dense(16, activation="relu", name="base_dense"),
                          layers.BatchNormalization(name="base_bn")], name="base")
    inputs = nr.Input((8,))
    outputs = layers.Dense(3, name="new_head")(base(inputs))
    return nr.Model(inputs, outputs, name="transfer"), base


def test_a_nested_model_is_redrawn_by_object_or_name_and_its_layers_by_their_own_names():
    model, base = _functional_with_nested_base()
    head_before, base_before = model.get_layer("new_head").get_weights(), base.get_weights()
    assert reinitialize(model, base) == reinitialize(model, "base") == [
        "base_dense/kernel", "base_dense/bias", "base_bn/gamma", "base_bn/beta", "base_bn/moving_mean",
        "base_bn/moving_variance"]
    assert not np.array_equal(base_before[0], base.get_weights()[0])
    for a, b in zip(head_before, model.get_layer("new_head").get_weights()):
        np.testing.assert_array_equal(a, b)
    assert reinitialize(model, "base_dense") == ["base_dense/kernel", "base_dense/bias"]  # found at depth 2
    assert reinitialize(model) == [w.name for w in model.weights]  # None: every weight, nested ones included


def test_a_frozen_layer_is_redrawn_and_stays_frozen():
    model, base = _functional_with_nested_base()
    base.trainable = False
    before = base.get_weights()[0]
    reinitialize(model, base, seed=0)
    assert not np.array_equal(before, base.get_weights()[0])
    assert not base.trainable and all(not w.trainable for w in base.weights)
    assert [w.name for w in model.trainable_weights] == ["new_head/kernel", "new_head/bias"]


class _Subclassed(nr.Model):
    def __init__(self):
        super().__init__(name="sub")
        self.hidden = layers.Dense(32, activation="relu", name="hidden")
        self.out = layers.Dense(2, name="out")

    def call(self, x):
        return self.out(self.hidden(x))


def test_a_subclassed_model_once_built(rng):
    model = _Subclassed()
    with pytest.raises(ValueError, match="not built yet"):
        reinitialize(model)
    model(rng.standard_normal((2, 5)).astype(np.float32))
    out_before = model.out.kernel.numpy()
    assert reinitialize(model, "hidden", initializer="lecun_normal", seed=1) == ["hidden/kernel", "hidden/bias"]
    np.testing.assert_array_equal(model.out.kernel.numpy(), out_before)


def test_weights_stay_the_same_objects_and_optimizer_slots_are_kept(rng):
    model = _trained(rng, _mlp())
    kernel = model.get_layer("head").kernel
    array, slots = kernel.data, model.optimizer.slots(kernel)
    assert slots  # Adam's moments exist after fit
    reinitialize(model, "head", seed=0)
    assert model.get_layer("head").kernel is kernel and kernel.data is array  # written in place
    kept = model.optimizer.slots(kernel)
    assert kept.keys() == slots.keys() and all(kept[k] is slots[k] for k in slots)
    model.fit(*_data(rng), epochs=1, batch_size=16, verbose=0)  # training goes on from the new values
    assert np.isfinite(kernel.numpy()).all()


def test_float64_weights_are_redrawn_in_float64():
    nr.set_floatx("float64")
    model = nr.Sequential([nr.Input((4,)), layers.Dense(3)])
    reinitialize(model, seed=0)
    kernel = model.weights[0].numpy()
    assert kernel.dtype == np.float64
    assert not np.array_equal(kernel, kernel.astype(np.float32))  # drawn in float64, not a float32 draw widened


def test_a_plain_function_initializer_is_called_and_refused_with_a_seed():
    model = nr.Sequential([nr.Input((4,)), layers.Dense(3, name="d")])

    def eye_like(shape, dtype=None):
        return np.eye(*shape, dtype=dtype)

    reinitialize(model, initializer=eye_like)
    np.testing.assert_array_equal(model.get_layer("d").kernel.numpy(), np.eye(4, 3))
    before = model.get_weights()
    with pytest.raises(ValueError, match="plain callable that takes no seed"):
        reinitialize(model, initializer=eye_like, seed=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_names_are_looked_up_directly_first_and_ambiguous_ones_refused():
    inner_a = nr.Sequential([nr.Input((4,)), layers.Dense(4, name="twin")], name="inner_a")
    inner_b = nr.Sequential([nr.Input((4,)), layers.Dense(4, name="twin")], name="inner_b")
    inputs = nr.Input((4,))
    model = nr.Model(inputs, layers.Add()([inner_a(inputs), inner_b(inputs)]))
    with pytest.raises(ValueError, match="2 different layers named 'twin'.*layer object"):
        reinitialize(model, "twin")
    assert reinitialize(model, inner_b.layers[0]) == ["twin/kernel", "twin/bias"]
    outer = nr.Sequential([nr.Input((4,)), nr.Sequential([nr.Input((4,)), layers.Dense(4, name="dup")]),
                           layers.Dense(4, name="dup2")])
    direct = outer.layers[-1]
    before = direct.kernel.numpy()
    reinitialize(outer, "dup2")
    assert not np.array_equal(before, direct.kernel.numpy())


class _RawVariable(layers.Layer):
    """A layer holding a Variable made by hand (no initializer recorded)."""

    def build(self, input_shape):
        self.w = nr.Variable(np.ones((4, 2), dtype=np.float32), name="raw/w")

    def call(self, x):
        return nr.ops.matmul(x, self.w)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"layers": "nope"}, ValueError, r"no layer named 'nope'; its layers \(at every depth\) are \['input_layer.*', "
                                     r"'first', 'flat', 'second'\]"),
    ({"layers": ["first", "nope"]}, ValueError, "no layer named 'nope'"),
    ({"layers": []}, ValueError, "empty list; give None"),
    ({"layers": 3}, TypeError, "layers must be None, a layer, a layer name or a list of those, got 3 \\(int\\)"),
    ({"layers": ["first", 2.5]}, TypeError, "got 2.5 \\(float\\) in list"),
    ({"layers": "flat"}, ValueError, "hold no weights: nothing to re-draw"),
    ({"initializer": "not_an_initializer"}, ValueError, "reinitialize: initializer must be"),
    ({"initializer": 3}, TypeError, "reinitialize: initializer must be"),
    ({"seed": -1}, ValueError, "seed must be None or a non-negative integer, got -1"),
    ({"seed": 1.5}, TypeError, "seed must be None or a non-negative integer, got 1.5 \\(float\\)"),
    ({"seed": True}, TypeError, "got True \\(bool\\)"),
])
def test_bad_arguments_are_refused_before_any_weight_changes(kwargs, error, match):
    model = nr.Sequential([nr.Input((4,)), layers.Dense(3, name="first"), layers.Flatten(name="flat"),
                           layers.Dense(2, name="second")])
    before = model.get_weights()
    with pytest.raises(error, match=match):
        reinitialize(model, **kwargs)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_layer_outside_the_model_and_a_model_that_is_no_layer_are_refused():
    model = nr.Sequential([nr.Input((4,)), layers.Dense(3, name="inside")])
    with pytest.raises(ValueError, match="layer 'elsewhere' \\(Dense\\) is not part of model"):
        reinitialize(model, layers.Dense(2, name="elsewhere"))
    with pytest.raises(TypeError, match="model must be a Model or Layer, got 'model' \\(str\\)"):
        reinitialize("model")


def test_a_weight_without_an_initializer_is_named_and_nothing_changes():
    raw = _RawVariable(name="raw")
    model = nr.Sequential([nr.Input((4,)), layers.Dense(4, name="before"), raw])
    before = model.get_weights()
    with pytest.raises(ValueError, match="weight 'raw/w' has no recorded initializer"):
        reinitialize(model)  # 'before' comes first in model.weights and is not re-drawn either
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert reinitialize(model, "before") == ["before/kernel", "before/bias"]


def test_an_initializer_of_the_wrong_shape_changes_nothing():
    model = nr.Sequential([nr.Input((4,)), layers.Dense(3, name="d")])
    before = model.get_weights()
    with pytest.raises(ValueError, match="returned shape \\(2, 2\\) for weight 'd/kernel', expected \\(4, 3\\)"):
        reinitialize(model, initializer=lambda shape, dtype=None: np.zeros((2, 2), dtype=dtype))
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.skipif(not hasattr(nr.Model, "reinitialize"), reason="Model.reinitialize is added in models/model.py")
def test_the_model_method_is_this_function():
    a, b = _mlp("a"), _mlp("b")
    assert a.reinitialize(layers=["head"], initializer="he_uniform", seed=2) == ["head/kernel", "head/bias"]
    reinitialize(b, layers=["head"], initializer="he_uniform", seed=2)
    np.testing.assert_array_equal(a.get_layer("head").kernel.numpy(), b.get_layer("head").kernel.numpy())
