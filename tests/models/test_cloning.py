"""clone_model: the same architecture with new weights (Keras semantics), for Sequential, functional (shared
layers, nested models, ops on symbolic tensors) and subclassed models; clone_function, call_function,
input_tensors and recursive."""

import numpy as np
import pytest

import neurona as nr
from neurona import layers, models


def _functional():
    inputs = nr.Input((4,), name="features")
    shared = layers.Dense(3, activation="tanh", name="shared")
    base = models.Sequential([layers.Input((4,)), layers.Dense(4, activation="relu", name="base_dense")],
                             name="base")
    base.trainable = False
    a = shared(inputs)
    b = shared(base(inputs, training=False))
    x = layers.Add(name="sum")([a, b]) * 0.5 + a[:, :1]
    return models.Model(inputs, layers.Dense(2, name="out")(x), name="graph")


def _x(n=5, seed=0):
    return np.random.default_rng(seed).normal(size=(n, 4)).astype(np.float32)


def _weights_equal(a, b):
    wa, wb = a.get_weights(), b.get_weights()
    return len(wa) == len(wb) and all(np.array_equal(p, q) for p, q in zip(wa, wb))


def test_functional_clone_has_the_architecture_and_new_weights():
    model = _functional()
    copy = models.clone_model(model)
    assert type(copy) is models.Functional and copy is not model
    assert copy.get_config() == model.get_config()
    assert all(c is not o for c, o in zip(copy.layers, model.layers))
    assert not any(c is o for c in copy.weights for o in model.weights)
    assert not _weights_equal(copy, model)  # freshly initialized
    assert len(copy.get_layer("shared")._inbound_nodes) == 2  # still one shared layer, called twice
    assert copy.get_layer("base").trainable is False and copy.get_layer("base").layers[0].trainable is False
    copy.set_weights(model.get_weights())
    np.testing.assert_array_equal(copy.predict(_x()), model.predict(_x()))


def test_sequential_clone_keeps_the_input_and_compile_settings():
    model = models.Sequential([layers.Input((4,), name="pixels"), layers.Dense(5, activation="relu"),
                               layers.Dropout(0.5), layers.Dense(2)], name="seq")
    model.compile(optimizer=nr.optimizers.SGD(learning_rate=0.05, momentum=0.9), loss="mse", metrics=["mae"])
    model.fit(_x(8), np.zeros((8, 2), np.float32), epochs=1, verbose=0)
    copy = models.clone_model(model)
    assert type(copy) is models.Sequential and copy.name == "seq"
    assert copy.get_config() == model.get_config() and copy.input_shape == (None, 4)
    assert copy.inputs[0].layer.name == "pixels" and copy.inputs[0] is not model.inputs[0]
    assert copy.optimizer is not model.optimizer and copy.optimizer.get_config() == model.optimizer.get_config()
    assert copy.optimizer.iterations == 0  # a fresh optimizer, as Keras compiles the copy from its config
    assert [m.name for m in copy.compiled_metrics] == ["mae"] and copy.compiled_metrics[0] is not \
        model.compiled_metrics[0]
    built_later = models.Sequential([layers.Dense(3)])
    built_later.build((None, 6))
    assert models.clone_model(built_later).input_shape == (None, 6)


def test_clone_function_is_applied_to_each_layer_but_the_inputs():
    model = _functional()
    seen = []

    def widen(layer):
        seen.append(layer.name)
        config = layer.get_config()
        if layer.name == "out":
            config["units"] = 7
        return type(layer).from_config(config)

    copy = models.clone_model(model, clone_function=widen)
    assert copy.output_shape == (None, 7)
    assert sorted(seen) == sorted(layer.name for layer in model.layers if not isinstance(layer, layers.InputLayer))
    same = models.clone_model(model, clone_function=lambda layer: layer)  # reuse the layers: shared weights
    np.testing.assert_array_equal(same.predict(_x()), model.predict(_x()))


def test_recursive_clones_nested_models_with_the_same_clone_function():
    model = _functional()
    renamed = []

    def clone(layer):
        renamed.append(layer.name)
        return type(layer).from_config(layer.get_config())

    models.clone_model(model, clone_function=clone)
    assert "base" in renamed and "base_dense" not in renamed  # the nested model is cloned as one layer
    renamed.clear()
    copy = models.clone_model(model, clone_function=clone, recursive=True)
    assert "base" not in renamed and "base_dense" in renamed  # cloned layer by layer
    assert isinstance(copy.get_layer("base"), models.Sequential)


def test_input_tensors_and_call_function():
    model = _functional()
    fresh = nr.Input((4,), name="new_input")
    copy = models.clone_model(model, input_tensors=fresh)
    assert copy.inputs[0] is fresh and copy.input_names == ["new_input"]
    assert models.clone_model(model, input_tensors=[nr.Input((4,))]).count_params() == model.count_params()

    def add_dropout(layer, *args, **kwargs):
        out = layer(*args, **kwargs)
        return layers.Dropout(0.5)(out) if isinstance(layer, layers.Dense) and layer.name == "out" else out

    with_dropout = models.clone_model(model, clone_function=lambda layer: layer, call_function=add_dropout)
    assert isinstance(with_dropout.layers[-1], layers.Dropout)
    np.testing.assert_array_equal(with_dropout.predict(_x()), model.predict(_x()))  # inference: identity


def test_a_registered_subclassed_model_is_cloned_from_its_config():
    @layers.register
    class CloneNet(nr.Model):
        def __init__(self, units=3, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.dense = layers.Dense(units)

        def call(self, x):
            return self.dense(x)

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    model = CloneNet(5)
    model(_x())
    copy = models.clone_model(model)
    assert type(copy) is CloneNet and copy.units == 5 and copy.built and copy.count_params() == 25
    assert not _weights_equal(copy, model)
    with pytest.raises(ValueError, match=r"clone_function can only be given for Sequential and functional models; "
                                         r"model '\w+' is a subclassed CloneNet"):
        models.clone_model(model, clone_function=lambda layer: layer)


def test_bad_arguments_are_refused():
    model = _functional()
    with pytest.raises(TypeError, match=r"model must be a Model .*got <Dense"):
        models.clone_model(layers.Dense(2))
    with pytest.raises(TypeError, match=r"clone_function must be a function fn\(layer\) -> layer, got 3"):
        models.clone_model(model, clone_function=3)
    with pytest.raises(TypeError, match=r"recursive must be a bool, got 'yes'"):
        models.clone_model(model, recursive="yes")
    with pytest.raises(TypeError, match=r"unexpected keyword arguments \['depth'\]"):
        models.clone_model(model, depth=2)
    with pytest.raises(ValueError, match=r"input_tensors of model 'graph' must be tensors made by nr.Input"):
        models.clone_model(model, input_tensors=layers.Dense(4)(nr.Input((4,))))
    with pytest.raises(ValueError, match=r"input_tensors must have the structure of model 'graph'"):
        models.clone_model(model, input_tensors=[nr.Input((4,)), nr.Input((4,))])
    sequential = models.Sequential([layers.Input((4,)), layers.Dense(2)])
    with pytest.raises(ValueError, match=r"call_function is not supported for Sequential model"):
        models.clone_model(sequential, call_function=lambda layer, *a, **k: layer(*a, **k))
