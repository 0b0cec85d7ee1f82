"""Unregistered custom layers and models save (as in Keras) and load with ``custom_objects``, a
``custom_object_scope`` or ``get_custom_objects()``; without them the load names the class, its module and the fix.

Lookup order, as in Keras: the ``custom_objects`` argument, then the scopes (innermost first), then the global
dict, then the registries. Nothing named in a file is imported."""

import json
import threading

import numpy as np
import pytest
from _harness.custom_layers import CustomDense

import neurona as nr
from neurona import layers, losses, models, ops, registry, saving
from neurona.saving import FileFormatError


class DoubledDense(CustomDense):
    """Another class to put under the name ``"CustomDense"``: twice CustomDense's output."""

    def call(self, inputs):
        return super().call(inputs) * 2.0


DoubledDense.__name__ = "CustomDense"  # another version of the class, as another program may define it


class CustomScale(layers.Layer):
    """A custom layer with Keras's full config convention (``**kwargs`` to the base, names kept)."""

    def __init__(self, factor=1.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        return x * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


CUSTOM = {"CustomDense": CustomDense, "CustomScale": CustomScale}
MISSING = r"unknown layer 'CustomDense' \(class saved from module '{module}'\).*custom_objects=\{{'CustomDense': " \
          r"CustomDense\}}.*custom_object_scope.*register_keras_serializable"


def _missing(module=CustomDense.__module__):
    return MISSING.format(module=module.replace(".", r"\."))


def _x(n=6, d=4, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)


def _guide_model():
    nr.seed(1)
    inputs = nr.Input((4,), name="features")
    outputs = CustomScale(0.5, name="half")(CustomDense(10)(inputs))
    return models.Model(inputs, outputs, name="guide")


def _predict(model, x):
    return model.predict(x, verbose=0)


def _check_same(loaded, model, x):
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    assert all(np.array_equal(a, b) for a, b in zip(loaded.get_weights(), model.get_weights()))
    np.testing.assert_array_equal(_predict(loaded, x), _predict(model, x))


# ---- get_config / from_config ----------------------------------------------------------------------------
def test_the_guide_pattern_round_trips_through_get_config_with_custom_objects():
    model = _guide_model()
    config = model.get_config()
    entry = config["layers"][1]
    # Keras 3's layout for a custom layer: module, class name, its config, registered name (its __name__)
    assert {k: entry[k] for k in ("module", "class_name", "config", "registered_name")} == {
        "module": CustomDense.__module__, "class_name": "CustomDense", "config": {"units": 10},
        "registered_name": "CustomDense"}
    assert config["layers"][0]["registered_name"] is None  # a built-in layer (InputLayer)
    with pytest.raises(ValueError, match=r"layer 'custom_dense.*' \(CustomDense\): " + _missing()):
        models.Model.from_config(config)
    rebuilt = models.Model.from_config(config, custom_objects=CUSTOM)
    rebuilt.set_weights(model.get_weights())
    x = _x()
    w, b = model.layers[1].get_weights()
    np.testing.assert_allclose(_predict(rebuilt, x), (x @ w + b) * 0.5, rtol=1e-6, atol=1e-6)  # NumPy's answer
    _check_same(rebuilt, model, x)


def test_to_json_and_model_from_json_with_custom_objects():
    model = _guide_model()
    text = model.to_json()
    doc = json.loads(text)
    assert (doc["module"], doc["class_name"], doc["registered_name"]) == ("neurona.models.functional",
                                                                          "Functional", None)
    with pytest.raises(FileFormatError, match=r"^JSON: layer '.*' \(CustomDense\): " + _missing()):
        models.model_from_json(text)
    twin = saving.model_from_json(text, custom_objects=CUSTOM)
    twin.set_weights(model.get_weights())
    _check_same(twin, model, _x())
    with pytest.raises(TypeError, match=r"model_from_json: custom_objects must be a dict"):
        saving.model_from_json(text, custom_objects="CustomDense")


# ---- save / load_model --------------------------------------------------------------------------------------
def test_save_and_load_model_with_custom_objects_is_bit_identical_and_keeps_training_state(tmp_path):
    model = _guide_model()
    model.compile(optimizer="adam", loss="mse")
    x, y = _x(16), _x(16, 5, seed=2) @ np.ones((5, 10), np.float32)
    model.fit(x, y, batch_size=4, epochs=2, verbose=0)
    model.save(tmp_path / "m")
    with pytest.raises(FileFormatError, match=r"model\.json at .*layer '.*' \(CustomDense\): " + _missing()):
        saving.load_model(tmp_path / "m")
    loaded = saving.load_model(tmp_path / "m", custom_objects=CUSTOM)
    assert type(loaded.layers[1]) is CustomDense and loaded.layers[1].units == 10
    _check_same(loaded, model, x)
    assert loaded.optimizer.iterations == model.optimizer.iterations
    loaded.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)  # the optimizer's slots came back too
    model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    _check_same(loaded, model, x)


def test_load_model_inside_a_custom_object_scope(tmp_path):
    model = _guide_model()
    model.save(tmp_path / "m")
    x = _x()
    for scope in (saving.custom_object_scope, saving.CustomObjectScope):
        with scope(CUSTOM) as entered:
            assert isinstance(entered, saving.CustomObjectScope)
            loaded = saving.load_model(tmp_path / "m")
        _check_same(loaded, model, x)
    with pytest.raises(FileFormatError, match=_missing()):  # the scope ended
        saving.load_model(tmp_path / "m")


def test_scopes_nest_and_the_argument_comes_first(tmp_path):
    model = _guide_model()
    model.save(tmp_path / "m")
    x = _x()
    with saving.custom_object_scope({"CustomDense": CustomDense}):
        with saving.custom_object_scope({"CustomScale": CustomScale}):  # the inner scope adds its names to the outer's
            _check_same(saving.load_model(tmp_path / "m"), model, x)
        # the inner one wins
        with saving.custom_object_scope({"CustomDense": DoubledDense, "CustomScale": CustomScale}):
            doubled = saving.load_model(tmp_path / "m")
            assert type(doubled.layers[1]) is DoubledDense
            np.testing.assert_allclose(_predict(doubled, x), 2.0 * _predict(model, x), rtol=1e-6)
            # the argument beats every scope
            assert type(saving.load_model(tmp_path / "m", custom_objects=CUSTOM).layers[1]) is CustomDense
        with pytest.raises(FileFormatError, match=r"unknown layer 'CustomScale'"):
            saving.load_model(tmp_path / "m")  # back to the outer scope alone


def test_the_global_custom_objects_dict_is_consulted_after_the_scopes(tmp_path):
    model = _guide_model()
    model.save(tmp_path / "m")
    table = saving.get_custom_objects()
    assert table is saving.get_custom_objects()  # a live reference, as in Keras
    table.update(CUSTOM)
    try:
        _check_same(saving.load_model(tmp_path / "m"), model, _x())
        with saving.custom_object_scope({"CustomDense": DoubledDense}):
            assert type(saving.load_model(tmp_path / "m").layers[1]) is DoubledDense
    finally:
        for name in CUSTOM:
            table.pop(name)
    with pytest.raises(FileFormatError, match=_missing()):
        saving.load_model(tmp_path / "m")


def test_a_scope_belongs_to_the_thread_that_entered_it():
    seen = {}

    def other():
        seen["other"] = nr.registry.custom_object("CustomDense")

    with saving.custom_object_scope(CUSTOM):
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
        seen["here"] = nr.registry.custom_object("CustomDense")
    assert seen == {"other": None, "here": CustomDense}


def test_sequential_with_a_custom_layer_saves_and_loads(tmp_path):
    nr.seed(4)
    model = models.Sequential([layers.Input((4,)), CustomDense(6), CustomScale(2.0, name="twice"),
                               layers.Dense(3, activation="softmax")], name="stack")
    model.save(tmp_path / "m")
    with pytest.raises(FileFormatError, match=_missing()):
        models.load_model(tmp_path / "m")
    loaded = saving.load_model(tmp_path / "m", custom_objects=CUSTOM)
    assert type(loaded) is models.Sequential
    _check_same(loaded, model, _x())


def test_nested_functional_models_with_custom_layers(tmp_path):
    nr.seed(6)
    inner_in = nr.Input((4,))
    inner = models.Model(inner_in, CustomScale(3.0, name="triple")(CustomDense(5)(inner_in)), name="inner")
    outer_in = nr.Input((4,))
    outputs = CustomDense(2)(layers.Dense(5, name="mix")(inner(outer_in)))
    model = models.Model(outer_in, outputs, name="outer")
    model.save(tmp_path / "m")
    # the message gives the path to the missing class
    with pytest.raises(FileFormatError, match=r"layer 'inner' \(Functional\): layer '.*' \(CustomDense\): "
                                              + _missing()):
        saving.load_model(tmp_path / "m", custom_objects={"CustomScale": CustomScale})
    loaded = saving.load_model(tmp_path / "m", custom_objects=CUSTOM)
    assert type(loaded.get_layer("inner").get_layer("triple")) is CustomScale
    _check_same(loaded, model, _x(seed=3))


def test_a_custom_model_class_built_functionally_saves_and_loads(tmp_path):
    class TaggedModel(nr.Model):  # Keras's "subclass Model, call it with inputs and outputs" pattern
        pass

    inputs = nr.Input((4,))
    model = TaggedModel(inputs, CustomDense(3)(inputs), name="tagged")
    model.save(tmp_path / "m")
    with pytest.raises(FileFormatError, match=r"'class_name' is 'TaggedModel' \(class saved from module "
                                              rf"'{__name__}'\).*custom_objects=\{{'TaggedModel': TaggedModel\}}"):
        saving.load_model(tmp_path / "m", custom_objects=CUSTOM)
    loaded = saving.load_model(tmp_path / "m", custom_objects={**CUSTOM, "TaggedModel": TaggedModel})
    assert isinstance(loaded, TaggedModel) and isinstance(loaded, models.Functional)
    _check_same(loaded, model, _x())
    outer_in = nr.Input((4,))  # nested in a functional model, it comes back as a TaggedModel too
    outer = models.Model(outer_in, layers.Dense(2, name="head")(model(outer_in)), name="outer")
    outer.save(tmp_path / "outer")
    loaded = saving.load_model(tmp_path / "outer", custom_objects={**CUSTOM, "TaggedModel": TaggedModel})
    assert isinstance(loaded.get_layer("tagged"), TaggedModel)
    _check_same(loaded, outer, _x())


def test_a_custom_class_named_like_a_built_in_is_not_replaced_by_the_built_in(tmp_path):
    class Dense(layers.Layer):  # a user's class that shares a built-in's name
        def call(self, x):
            return x + 1.0

    inputs = nr.Input((3,))
    model = models.Model(inputs, Dense(name="plus_one")(inputs))
    model.save(tmp_path / "m")
    with pytest.raises(FileFormatError, match=r"unknown layer 'Dense' \(class saved from module .*custom_objects="
                                              r"\{'Dense': Dense\}"):
        saving.load_model(tmp_path / "m")
    loaded = saving.load_model(tmp_path / "m", custom_objects={"Dense": Dense})
    x = _x(d=3)
    np.testing.assert_array_equal(_predict(loaded, x), x + 1.0)


def test_custom_objects_override_a_registered_class(tmp_path):
    @saving.register_keras_serializable(package="CustomObjectsTests")
    class RegisteredShift(layers.Layer):
        def call(self, x):
            return x + 1.0

    class OtherShift(RegisteredShift):
        def call(self, x):
            return x - 1.0

    inputs = nr.Input((3,))
    model = models.Model(inputs, RegisteredShift(name="shift")(inputs))
    assert model.get_config()["layers"][1]["registered_name"] == "CustomObjectsTests>RegisteredShift"
    model.save(tmp_path / "m")
    x = _x(d=3)
    np.testing.assert_array_equal(_predict(saving.load_model(tmp_path / "m"), x), x + 1.0)  # the registry
    for key in ("RegisteredShift", "CustomObjectsTests>RegisteredShift"):  # either name Keras writes
        loaded = saving.load_model(tmp_path / "m", custom_objects={key: OtherShift})
        np.testing.assert_array_equal(_predict(loaded, x), x - 1.0)


def test_a_custom_object_that_is_not_a_layer_class_is_a_clear_error(tmp_path):
    model = _guide_model()
    model.save(tmp_path / "m")
    with pytest.raises(FileFormatError, match=r"custom object 'CustomDense' is <function .*a layer config needs a "
                                              r"Layer \(or Model\) subclass"):
        saving.load_model(tmp_path / "m", custom_objects={"CustomDense": lambda: None, "CustomScale": CustomScale})


# ---- custom losses, metrics and other registries -------------------------------------------------------
class HalfSquared(losses.Loss):
    """``mean((y - p)^2) / 2`` per sample."""

    def call(self, y_true, y_pred):
        return ops.mean((y_true - y_pred) ** 2, axis=-1) * 0.5


def half_squared_error(y_true, y_pred):
    return ops.mean((y_true - y_pred) ** 2, axis=-1) * 0.5


def _saved_with_compile_loss(tmp_path, loss):
    inputs = nr.Input((4,))
    model = models.Model(inputs, layers.Dense(2)(inputs))
    model.compile(optimizer="sgd", loss="mse")
    model.save(tmp_path / "m")
    path = tmp_path / "m" / "model.json"
    doc = json.loads(path.read_text())
    doc["compile"]["loss"] = loss  # as a program that registered the loss when it saved would have written it
    path.write_text(json.dumps(doc))
    return model


@pytest.mark.parametrize("leaf, custom", [
    ({"class_name": "HalfSquared", "config": {"name": "half", "reduction": "sum_over_batch_size"}},
     {"HalfSquared": HalfSquared}),
    ("half_squared_error", {"half_squared_error": half_squared_error}),
])
def test_a_custom_loss_named_in_the_compile_settings_comes_from_custom_objects(tmp_path, leaf, custom):
    _saved_with_compile_loss(tmp_path, leaf)
    with pytest.raises(FileFormatError, match=r"compile settings cannot be rebuilt .*unknown loss"):
        saving.load_model(tmp_path / "m")
    assert saving.load_model(tmp_path / "m", compile=False).optimizer is None
    loaded = saving.load_model(tmp_path / "m", custom_objects=custom)
    y, p = _x(3, 2, seed=4), _x(3, 2, seed=5)
    expected = np.mean(np.mean((y - p) ** 2, axis=-1) * 0.5)  # NumPy's answer
    np.testing.assert_allclose(float(loaded.loss(nr.Tensor(y), nr.Tensor(p)).numpy()), expected, rtol=1e-6)


def test_the_scope_reaches_every_registry_lookup():
    def my_activation(x):
        return x * 3.0

    class MyInit(nr.initializers.Constant):
        def __init__(self):
            super().__init__(7.0)

    with saving.custom_object_scope({"my_activation": my_activation, "MyInit": MyInit, "HalfSquared": HalfSquared}):
        dense = layers.Dense(2, activation="my_activation", kernel_initializer="MyInit")
        assert nr.losses.get("HalfSquared").__class__ is HalfSquared
    assert dense.activation is my_activation
    dense.build((None, 3))
    np.testing.assert_array_equal(dense.kernel.numpy(), np.full((3, 2), 7.0, np.float32))
    with pytest.raises(ValueError, match=r"unknown activation 'my_activation'"):
        layers.Dense(2, activation="my_activation")


def test_get_registered_object_consults_the_argument_then_the_scope():
    assert saving.get_registered_object("CustomDense") is None
    with saving.custom_object_scope({"CustomDense": CustomDense}):
        assert saving.get_registered_object("CustomDense") is CustomDense
        assert saving.get_registered_object("CustomDense", custom_objects={"CustomDense": DoubledDense}) \
            is DoubledDense


# ---- what stays refused, and bad arguments ---------------------------------------------------------------
def test_a_custom_layer_whose_config_misses_constructor_arguments_is_refused_at_save(tmp_path):
    class NeedsUnits(layers.Layer):
        def __init__(self, units, **kwargs):  # required, but get_config is the inherited one
            super().__init__(**kwargs)
            self.units = units

        def call(self, x):
            return x

    inputs = nr.Input((3,))
    model = models.Model(inputs, NeedsUnits(3, name="needy")(inputs), name="m")
    with pytest.raises(ValueError, match=r"cannot save model 'm': layer 'needy': NeedsUnits.get_config\(\) returns "
                                         r"keys \['dtype', 'name', 'trainable'\], but the constructor requires "
                                         r"\['units'\]"):
        model.save(tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_a_lambda_of_an_anonymous_function_is_still_refused_at_save(tmp_path):
    inputs = nr.Input((3,))
    model = models.Model(inputs, layers.Lambda(lambda t: t * 2.0)(inputs))
    with pytest.raises(ValueError, match=r"cannot save model .*cannot be saved without its code"):
        model.save(tmp_path / "m")


@pytest.mark.parametrize("kwargs, message", [
    ({"custom_objects": ["CustomDense"]}, r"load_model: custom_objects must be a dict mapping names"),
    ({"custom_objects": {"CustomDense": None}}, r"load_model: custom_objects\['CustomDense'\] is None"),
    ({"safe_mode": "yes"}, r"load_model: safe_mode must be True or False"),
])
def test_bad_load_model_arguments_are_type_errors(tmp_path, kwargs, message):
    _guide_model().save(tmp_path / "m")
    with pytest.raises(TypeError, match=message):
        saving.load_model(tmp_path / "m", **kwargs)


def test_load_model_takes_keras_positional_order_and_safe_mode(tmp_path):
    model = _guide_model()
    model.save(tmp_path / "m")
    loaded = saving.load_model(tmp_path / "m", CUSTOM, False, False)  # filepath, custom_objects, compile, safe_mode
    _check_same(loaded, model, _x())
    with pytest.raises(TypeError, match=r"CustomObjectScope: custom_objects must be a dict"):
        saving.custom_object_scope([CustomDense])


def test_one_scope_object_entered_by_two_threads_restores_each_threads_own_scopes():
    shared = saving.custom_object_scope({"Shared": CustomDense})
    entered, leave_a = threading.Event(), threading.Event()
    seen = {}

    def thread_a():
        with saving.custom_object_scope({"OuterA": CustomScale}):
            with shared:
                entered.set()
                leave_a.wait(5)
            seen["a"] = registry.custom_object("OuterA")

    def thread_b():
        entered.wait(5)
        with shared:
            pass
        leave_a.set()
        seen["b"] = registry.custom_object("OuterA")

    threads = [threading.Thread(target=thread_a), threading.Thread(target=thread_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == {"a": CustomScale, "b": None}
