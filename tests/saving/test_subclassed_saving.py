"""Subclassed models and layers made of layers save and load exactly; an unregistered one saves (as in Keras) and
loads with custom_objects, and without them the load says what to pass; Keras's register_keras_serializable
registers."""

import json

import h5py
import numpy as np
import pytest

import neurona as nr
from neurona import layers, models, saving


@saving.register_keras_serializable(package="SavingTests")
class ResidualBlock(layers.Layer):
    """``x + dropout(b(a(x))) * scale``: sub-layers in attributes and in a list, and a weight of its own."""

    def __init__(self, units=4, rate=0.3, **kwargs):
        super().__init__(**kwargs)
        self.units, self.rate = units, rate
        self.pair = [layers.Dense(units, activation="relu"), layers.Dense(units)]
        self.drop = layers.Dropout(rate)

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(self.units,), initializer="random_normal", name="scale")

    def call(self, x, training=None):
        return x + self.drop(self.pair[1](self.pair[0](x)), training=training) * self.scale

    def get_config(self):
        return {**super().get_config(), "units": self.units, "rate": self.rate}


@layers.register
class Classifier(nr.Model):
    """A subclassed model: a block, a head, and a weight of the model itself created in ``build``."""

    def __init__(self, units=4, classes=3, **kwargs):
        super().__init__(**kwargs)
        self.units, self.classes = units, classes
        self.embed = layers.Dense(units)
        self.block = ResidualBlock(units)
        self.head = layers.Dense(classes, activation="softmax")

    def build(self, input_shape):
        self.temperature = self.add_weight(shape=(), initializer="ones", name="temperature")
        super().build(input_shape)

    def call(self, x, training=None):
        return self.head(self.block(self.embed(x), training=training) * self.temperature)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "classes": self.classes}


@saving.register_keras_serializable(package="SavingTests", name="TwoTower")
class TwoTower(nr.Model):
    """Two inputs given as a list: ``build_input_shape`` is a list of shapes."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.left, self.right = layers.Dense(3), layers.Dense(3)

    def call(self, inputs):
        a, b = inputs
        return self.left(a) * self.right(b)


def _same_weights(a, b):
    wa, wb = a.get_weights(), b.get_weights()
    return len(wa) == len(wb) and all(p.dtype == q.dtype and np.array_equal(p, q) for p, q in zip(wa, wb))


def _xy(n=16, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 5)).astype(np.float32), np.eye(3, dtype=np.float32)[rng.integers(0, 3, n)]


def _trained():
    model = Classifier(units=6, name="clf")
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    x, y = _xy()
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    return model, x, y


def test_a_registered_subclassed_model_round_trips(tmp_path):
    model, x, y = _trained()
    model.save(tmp_path / "m")
    doc = json.loads((tmp_path / "m" / "model.json").read_text())
    assert doc["model"] == {"module": __name__, "class_name": "Classifier", "registered_name": "Classifier",
                            "build_input_shape": [None, 5],
                            "config": {"name": "clf", "trainable": True, "dtype": "float32", "units": 6,
                                       "classes": 3}}
    loaded = models.load_model(tmp_path / "m")  # in this process, where the counters gave other layer names
    assert type(loaded) is Classifier and loaded.units == 6 and loaded.block.rate == 0.3
    assert [layer.name for layer in loaded.layers] != [layer.name for layer in model.layers]
    assert _same_weights(loaded, model)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)
    model.train_step(x[:8], y[:8])  # optimizer slots and the block's dropout generator were restored
    loaded.train_step(x[:8], y[:8])
    assert _same_weights(loaded, model)


def test_layers_built_by_code_are_found_by_attribute(tmp_path):
    """Names drawn from counters differ between instances; attribute names and list positions do not."""
    model, _, _ = _trained()
    model.save(tmp_path / "m")
    with h5py.File(tmp_path / "m" / "model.h5", "r") as f:
        assert json.loads(f["weights"].attrs["layer_names"]) == ["", "embed", "block", "block/pair/dense",
                                                                 "block/pair/dense_1", "head"]
        assert list(f["weights"]) == ["block", "embed", "head", "temperature"]  # the model's own weight at the top
        assert f["weights"].attrs["class_name"] == "Classifier"
        assert f["weights/block"].attrs["class_name"] == "ResidualBlock"
        np.testing.assert_array_equal(f["weights/block/scale"][()], model.block.scale.numpy())
        assert "block/pair/dense_1/kernel" in f["optimizer"]
    doc = json.loads((tmp_path / "m" / "model.json").read_text())
    assert list(doc["rng"]["layers"]) == ["block/drop"]


def test_weights_load_into_another_instance_by_path(tmp_path):
    model, x, _ = _trained()
    model.save_weights(tmp_path / "w.h5")
    other = Classifier(units=6)
    other.build((None, 5))
    other(x[:2])  # builds the layers its build() does not
    other.load_weights(tmp_path / "w.h5", by_name=True)
    np.testing.assert_array_equal(other.predict(x), model.predict(x))
    unbuilt = Classifier(units=6)  # built for the input shape the file records, then loaded
    unbuilt.load_weights(tmp_path / "w.h5", by_name=True)
    np.testing.assert_array_equal(unbuilt.predict(x), model.predict(x))
    smaller = Classifier(units=4)
    smaller(x[:2])
    with pytest.raises(saving.FileFormatError, match=r"layer 'embed' \(Dense\) weight 'kernel' expects .*\(5, 4\)"
                                                     r".*the file has shape \(5, 6\)"):
        smaller.load_weights(tmp_path / "w.h5", by_name=True)


def test_a_subclassed_model_with_several_inputs_records_a_list_of_shapes(tmp_path):
    model = TwoTower(name="towers")
    x = [np.ones((2, 4), np.float32), np.arange(6, dtype=np.float32).reshape(2, 3)]
    expected = model.predict(x)
    model.save(tmp_path / "m")
    doc = json.loads((tmp_path / "m" / "model.json").read_text())
    assert doc["model"]["build_input_shape"] == [[None, 4], [None, 3]]
    loaded = models.load_model(tmp_path / "m")
    assert type(loaded) is TwoTower
    np.testing.assert_array_equal(loaded.predict(x), expected)
    assert saving.get_registered_name(TwoTower) == "SavingTests>TwoTower"
    assert saving.get_registered_object("SavingTests>TwoTower") is TwoTower


def test_to_json_and_model_from_json_of_a_subclassed_model():
    model, x, _ = _trained()
    twin = models.model_from_json(model.to_json())
    assert type(twin) is Classifier and twin.built and not _same_weights(twin, model)
    twin.set_weights(model.get_weights())
    np.testing.assert_array_equal(twin.predict(x), model.predict(x))


def test_an_unregistered_subclassed_model_saves_and_loads_with_custom_objects(tmp_path):
    class Unregistered(nr.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    model = Unregistered(name="mystery")
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    model(x)
    model.save(tmp_path / "m")  # saved by class name, as Keras does
    assert json.loads(model.to_json())["registered_name"] == "Unregistered"
    with pytest.raises(saving.FileFormatError, match=r"'class_name' is 'Unregistered' \(class saved from module "
                                                     rf"'{__name__}'\).*custom_objects=\{{'Unregistered': "
                                                     r"Unregistered\}.*register_keras_serializable"):
        models.load_model(tmp_path / "m")
    loaded = saving.load_model(tmp_path / "m", custom_objects={"Unregistered": Unregistered})
    assert type(loaded) is Unregistered and loaded.name == "mystery"
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_a_get_config_without_the_constructor_arguments_is_refused_at_save(tmp_path):
    @layers.register
    class NeedsUnits(nr.Model):
        def __init__(self, units, **kwargs):  # required, but get_config is the inherited one
            super().__init__(**kwargs)
            self.dense = layers.Dense(units)

        def call(self, x):
            return self.dense(x)

    model = NeedsUnits(3)
    model(np.ones((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"NeedsUnits.get_config\(\) returns keys \['dtype', 'name', 'trainable'\], "
                                         r"but the constructor requires \['units'\].*override get_config"):
        model.save(tmp_path / "m")


def test_an_unregistered_layer_inside_a_functional_model_saves_and_needs_custom_objects_to_load(tmp_path):
    class Loose(layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def build(self, input_shape):
            self.shift = self.add_weight(shape=(input_shape[-1],), initializer="random_normal", name="shift")

        def call(self, x):
            return x * self.factor + self.shift

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    nr.seed(3)
    inputs = nr.Input((3,))
    model = models.Model(inputs, Loose(1.5, name="loose")(layers.Dense(3)(inputs)))
    model.save(tmp_path / "m")
    with pytest.raises(saving.FileFormatError, match=r"layer 'loose' \(Loose\): unknown layer 'Loose' \(class "
                                                     rf"saved from module '{__name__}'\).*custom_objects="
                                                     r"\{'Loose': Loose\}.*register_keras_serializable"):
        models.load_model(tmp_path / "m")
    loaded = saving.load_model(tmp_path / "m", custom_objects={"Loose": Loose})
    x = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    assert type(loaded.get_layer("loose")) is Loose and loaded.get_layer("loose").factor == 1.5
    assert _same_weights(loaded, model)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_a_saved_class_that_is_not_registered_when_loading_is_a_clear_error(tmp_path):
    model, _, _ = _trained()
    model.save(tmp_path / "m")
    doc = json.loads((tmp_path / "m" / "model.json").read_text())
    doc["model"]["class_name"] = doc["model"]["registered_name"] = "NotRegisteredAnywhere"
    (tmp_path / "m" / "model.json").write_text(json.dumps(doc))
    with pytest.raises(saving.FileFormatError, match=r"'class_name' is 'NotRegisteredAnywhere'.*registered with "
                                                     r".*@neurona.layers.register \(run the code that registers it"):
        models.load_model(tmp_path / "m")
    doc["model"]["class_name"], doc["model"]["registered_name"] = "Dense", None  # registered, but a layer
    (tmp_path / "m" / "model.json").write_text(json.dumps(doc))
    with pytest.raises(saving.FileFormatError, match=r"'class_name' is 'Dense' \(class saved from module .*\), "
                                                     r"which is not a model class"):
        models.load_model(tmp_path / "m")


def test_register_keras_serializable_registers_functions_metrics_and_refuses_other_things():
    @saving.register_keras_serializable(package="SavingTests")
    def saving_tests_cube(x):
        return x * x * x

    model = models.Sequential([layers.Input((2,)), layers.Lambda(saving_tests_cube)])
    rebuilt = models.model_from_json(model.to_json())
    assert rebuilt.layers[0].function is saving_tests_cube
    assert saving.get_registered_name(saving_tests_cube) == "saving_tests_cube"

    @saving.register_keras_serializable(package="SavingTests")
    class SavingTestsMetric(nr.metrics.Mean):
        pass

    assert nr.metrics.get("SavingTestsMetric").__class__ is SavingTestsMetric
    with pytest.raises(TypeError, match=r"NotAThing is not a subclass of Layer, Model, Metric, Loss"):
        saving.register_keras_serializable()(type("NotAThing", (), {}))
    with pytest.raises(TypeError, match=r"package must be a string, got 3"):
        saving.register_keras_serializable(package=3)
    with pytest.raises(ValueError, match=r"package must not contain '>'"):
        saving.register_keras_serializable(package="a>b")


def test_two_weights_of_one_name_are_refused_before_anything_is_written(tmp_path):
    @layers.register
    class TwoScales(layers.Layer):
        def build(self, input_shape):
            self.a = self.add_weight(shape=(1,), name="scale")
            self.b = nr.Variable(np.ones(1, np.float32), name="scale")  # an attribute variable of the same name

        def call(self, x):
            return x * self.a * self.b

    model = models.Sequential([layers.Input((2,)), TwoScales(name="scales")])
    with pytest.raises(ValueError, match=r"cannot save layer 'scales' \(TwoScales\): two of its weights are both "
                                         r"named 'scale'"):
        model.save(tmp_path / "m")
    assert not (tmp_path / "m").exists()
    with pytest.raises(ValueError, match="both named 'scale'"):
        model.save_weights(tmp_path / "w.h5")
    assert not (tmp_path / "w.h5").exists()


def test_a_subclassed_model_called_on_a_dict_records_shapes_by_key(tmp_path):
    @layers.register
    class DictTowers(nr.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.a, self.b = layers.Dense(2), layers.Dense(2)

        def call(self, inputs):
            return self.a(inputs["x"]) + self.b(inputs["y"])

    model = DictTowers()
    x = {"x": np.ones((2, 3), np.float32), "y": np.arange(10, dtype=np.float32).reshape(2, 5)}
    expected = model.predict(x)
    model.save(tmp_path / "m")
    doc = json.loads((tmp_path / "m" / "model.json").read_text())
    assert doc["model"]["build_input_shape"] == {"x": [None, 3], "y": [None, 5]}
    np.testing.assert_array_equal(models.load_model(tmp_path / "m").predict(x), expected)


@pytest.mark.parametrize("default", [None, 1.0])
def test_a_functional_subclass_with_arguments_its_graph_config_lacks_is_refused_at_save(tmp_path, default):
    """Keras revives (inputs, outputs, name) or (*args, **kwargs) constructors from the graph alone; another
    argument would be missing at load, or silently come back as its default."""
    if default is None:
        class Extra(nr.Model):
            def __init__(self, inputs, outputs, scale, **kwargs):
                super().__init__(inputs, outputs, **kwargs)
                self.scale = scale
    else:
        class Extra(nr.Model):
            def __init__(self, inputs, outputs, scale=default, **kwargs):
                super().__init__(inputs, outputs, **kwargs)
                self.scale = scale

    inputs = nr.Input((3,))
    model = Extra(inputs, layers.Dense(2)(inputs), scale=2.0)
    with pytest.raises(ValueError, match=r"Extra's constructor takes arguments besides inputs, outputs and name.*"
                                         r"define Extra.get_config\(\)"):
        model.save(tmp_path / "m")
    assert not (tmp_path / "m").exists()
