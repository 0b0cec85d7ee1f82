"""The Layer/Model contract as Keras 3 programs rely on it (each test was a defect found by review)."""

import collections
import threading

import numpy as np
import pytest

import neurona as nr
from neurona import layers


def test_calling_build_by_hand_then_calling_the_layer_makes_the_weights_once():
    dense = layers.Dense(2)
    dense.build((None, 3))
    dense(np.ones((1, 3), np.float32))
    assert dense.built and len(dense.weights) == 2 and dense.count_params() == 8 and dense.kernel is dense.weights[0]

    class Outer(nr.Layer):
        def __init__(self):
            super().__init__()
            self.inner = layers.Dense(4)

        def build(self, input_shape):  # Keras 3 style: build the sub-layer by hand
            self.inner.build(input_shape)

        def call(self, inputs):
            return self.inner(inputs)

    outer = Outer()
    outer(np.ones((2, 3), np.float32))
    assert len(outer.weights) == 2


def test_a_subclass_given_inputs_and_outputs_is_functional_and_keeps_its_train_step():
    class Counting(nr.Model):
        def train_step(self, data):
            self.steps = getattr(self, "steps", 0) + 1
            return super().train_step(data)

    x = nr.Input((3,))
    model = Counting(x, layers.Dense(1)(x))
    assert isinstance(model, Counting) and isinstance(model, nr.models.Functional)
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.ones((8, 3), np.float32), np.ones((8, 1), np.float32), batch_size=4, verbose=0)
    assert model.steps == 2


def test_symbolic_shapes_of_ops_that_move_the_batch_axis():
    x = nr.Input((4,))
    assert nr.ops.transpose(x).shape == (4, None)
    assert nr.Input((4, 6))[0].shape == (4, 6)
    assert nr.ops.sum(x, axis=0).shape == (4,)
    assert (nr.Input((4,), batch_size=8) * 2).shape == (8, 4)


def test_building_a_graph_changes_no_variable():
    class Counter(nr.Layer):
        def build(self, input_shape):
            self.n = self.add_weight(shape=(), initializer="zeros", trainable=False)

        def call(self, inputs):
            self.n.assign(self.n + 1)
            return inputs

    layer = Counter()
    layer(nr.Input((3,)))
    assert float(layer.n.item()) == 0.0


def test_inputs_must_be_input_tensors():
    x = nr.Input((4,))
    hidden = layers.Dense(3)(x)
    with pytest.raises(ValueError, match="inputs must be nr.Input"):
        nr.Model(hidden, layers.Dense(1)(hidden))


def test_trainable_false_given_to_a_container_freezes_it():
    x = nr.Input((3,))
    assert nr.Model(x, layers.Dense(2)(x), trainable=False).trainable_weights == []
    assert nr.Sequential([nr.Input((3,)), layers.Dense(2)], trainable=False).trainable_weights == []


def test_a_variable_held_non_trainable_stays_so_when_its_layer_is_unfrozen():
    class Holder(nr.Layer):
        def build(self, input_shape):
            self.k = self.add_weight(shape=(input_shape[-1], 2))
            self.v = nr.Variable(np.zeros(2, np.float32), trainable=False)

        def call(self, inputs):
            return nr.ops.matmul(inputs, self.k) + self.v

    layer = Holder()
    layer(np.ones((1, 3), np.float32))
    layer.trainable = False
    layer.trainable = True
    assert [w is layer.k for w in layer.trainable_weights] == [True]


def test_a_layer_reached_by_two_paths_is_penalized_once():
    x = nr.Input((2,))
    inner = nr.Model(x, layers.Dense(2, kernel_regularizer="l2")(x))

    class Wrapper(nr.Model):
        def __init__(self):
            super().__init__()
            self.inner, self.last = inner, inner.layers[-1]

        def call(self, inputs):
            return self.inner(inputs)

    wrapper = Wrapper()
    wrapper(np.ones((1, 2), np.float32))
    assert len(wrapper.losses) == 1


def test_weights_follow_nested_lists_and_untracked_containers():
    class Holder(nr.Layer):
        def __init__(self):
            super().__init__()
            self.nested = [[layers.Dense(2)]]
            self.ordered = collections.OrderedDict()

        def call(self, inputs):
            return self.nested[0][0](inputs)

    holder, extra, more = Holder(), layers.Dense(2), layers.Dense(2)
    data = np.ones((1, 2), np.float32)
    holder(data), extra(data), more(data)
    assert len(holder.weights) == 2
    holder.nested[0].append(extra)
    holder.ordered["more"] = more
    assert len(holder.weights) == 6


def test_dtypes_through_functional_models():
    x64 = nr.Input((3,), dtype="float64")
    assert (x64 * 2).dtype == "float64" and nr.Model(x64, x64 * 2)(np.ones((1, 3))).dtype == np.float64
    x = nr.Input((3,))
    assert nr.Model(x, layers.Dense(2)(x))(np.array([[1, 2, 3]])).dtype == np.float32  # ints become the Input's
    ints = nr.Input((3,), dtype="int32")
    out = layers.Dense(2)(ints)
    assert out.dtype == "float32" and nr.Model(ints, out)(np.ones((1, 3), "int32")).dtype == np.float32


def test_a_call_default_for_training_applies_when_nobody_says():
    class Default(nr.Layer):
        def call(self, inputs, training=True):
            self.seen = training
            return inputs

    layer = Default()
    layer(np.ones((1, 2), np.float32))
    assert layer.seen is True
    layer(np.ones((1, 2), np.float32), training=False)
    assert layer.seen is False


def test_nested_lists_of_inputs_and_comparisons_on_symbolic_tensors():
    class Sum(nr.Layer):
        def call(self, inputs):
            (a, b), c = inputs
            return a + b + c

    t = np.ones((1, 2), np.float32)
    assert Sum()([[t, t], t]).shape == (1, 2)
    x = nr.Input((3,))
    assert (x > 0).dtype == "bool" and (x // 2).shape == (None, 3)


def test_a_nested_model_does_not_leak_its_batch_size():
    inner_in = nr.Input((3,), batch_size=8)
    inner = nr.Model(inner_in, layers.Dense(2)(inner_in))
    assert inner(nr.Input((3,))).shape == (None, 2)


def test_no_grad_in_one_thread_leaves_the_others_recording():
    entered, release = threading.Event(), threading.Event()

    def hold():
        with nr.no_grad():
            entered.set()
            release.wait(5)

    worker = threading.Thread(target=hold)
    worker.start()
    entered.wait(5)
    try:
        w = nr.Tensor(np.ones(3), requires_grad=True)
        assert (w * 2).requires_grad
    finally:
        release.set()
        worker.join()
