"""Functional configs key the rebuilt tensors by the name each layer entry was saved under (as Keras does), so a
custom layer whose get_config returns only its own arguments (the keras-io functional API guide's pattern: no
name, no **kwargs) rebuilds, keeps its saved name, and computes what the original computes."""

import numpy as np
import pytest
from _harness.custom_layers import CustomDense

import neurona as nr
from neurona import layers, models

CUSTOM = {"CustomDense": CustomDense}


def _x(n=5, d=4, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)


def _graph_model():
    """A bare-config layer called twice (shared), another after a built-in layer, and a merge."""
    nr.seed(11)
    inputs = nr.Input((4,), name="features")
    shared = CustomDense(4)
    a = shared(inputs)
    b = shared(layers.Dense(4, name="pre")(inputs))
    outputs = CustomDense(2)(layers.add([a, b]))
    return models.Model(inputs, outputs, name="graph")


def test_a_layer_config_without_a_name_rebuilds_under_its_saved_name():
    nr.seed(0)
    inputs = nr.Input((4,))
    model = models.Model(inputs, CustomDense(10)(inputs))
    config = model.get_config()
    entry = config["layers"][1]
    assert entry["config"] == {"units": 10} and entry["name"] == model.layers[1].name
    assert config["output_layers"] == [model.layers[1].name, 0, 0]
    rebuilt = models.Model.from_config(config, custom_objects=CUSTOM)
    assert type(rebuilt) is models.Functional
    assert [type(layer) for layer in rebuilt.layers] == [layers.InputLayer, CustomDense]
    # the bare config drew a new default name; the rebuilt layer carries the saved one
    assert [layer.name for layer in rebuilt.layers] == [layer.name for layer in model.layers]
    rebuilt.set_weights(model.get_weights())
    x = _x()
    w, b = model.get_weights()
    np.testing.assert_allclose(rebuilt(x).numpy(), x @ w + b, rtol=1e-6, atol=1e-6)  # the layer's math, by NumPy
    np.testing.assert_array_equal(rebuilt(x).numpy(), model(x).numpy())


def test_a_shared_bare_layer_keeps_both_calls_and_their_node_indices():
    model = _graph_model()
    config = model.get_config()
    rebuilt = models.Model.from_config(config, custom_objects=CUSTOM)
    shared_name = model.layers[1].name
    assert [len([n for n in rebuilt._nodes if n.layer is layer]) for layer in rebuilt.layers if
            layer.name == shared_name] == [2]
    assert [layer.name for layer in rebuilt.layers] == [layer.name for layer in model.layers]
    assert rebuilt.get_config() == config  # the same graph, layer for layer, call for call
    rebuilt.set_weights(model.get_weights())
    x = _x(seed=1)
    np.testing.assert_array_equal(rebuilt(x).numpy(), model(x).numpy())
    # independently: shared(x) + shared(pre(x)), then the head, in NumPy
    by_name = {layer.name: layer.get_weights() for layer in model.layers}
    ws, bs = by_name[shared_name]
    wp, bp = by_name["pre"]
    wh, bh = by_name[model.layers[-1].name]
    expected = ((x @ ws + bs) + ((x @ wp + bp) @ ws + bs)) @ wh + bh
    np.testing.assert_allclose(rebuilt(x).numpy(), expected, rtol=1e-5, atol=1e-5)


def test_an_entry_without_a_saved_name_falls_back_to_the_layer_name():
    inputs = nr.Input((3,), name="only_input")
    model = models.Model(inputs, layers.Dense(2, name="head")(inputs))
    config = model.get_config()
    for entry in config["layers"]:
        del entry["name"]  # a hand-written config: the names inside the layer configs are used
    rebuilt = models.Model.from_config(config)
    assert [layer.name for layer in rebuilt.layers] == ["only_input", "head"]


def test_a_registered_bare_layer_rebuilds_without_custom_objects():
    @layers.register
    class RegisteredBareScale(layers.Layer):
        def __init__(self, factor=2.0):
            super().__init__()
            self.factor = factor

        def call(self, x):
            return x * self.factor

        def get_config(self):
            return {"factor": self.factor}

    inputs = nr.Input((3,))
    model = models.Model(inputs, RegisteredBareScale(3.0)(inputs))
    rebuilt = models.Model.from_config(model.get_config())
    x = _x(d=3)
    np.testing.assert_array_equal(rebuilt(x).numpy(), x * np.float32(3.0))


def test_two_entries_saved_under_one_name_are_refused():
    config = _graph_model().get_config()
    config["layers"][2]["name"] = config["layers"][1]["name"]
    with pytest.raises(ValueError, match=r"two layers are saved under the name '.*'; layer names must be unique"):
        models.Model.from_config(config, custom_objects=CUSTOM)


@pytest.mark.parametrize("bad", [7, "", "a/b"])
def test_a_saved_name_that_is_not_a_name_is_refused(bad):
    config = _graph_model().get_config()
    config["layers"][1]["name"] = bad
    with pytest.raises(ValueError, match=r"saved under the name .*expected a non-empty string without '/'"):
        models.Model.from_config(config, custom_objects=CUSTOM)


def test_sequential_with_a_bare_custom_layer_round_trips_through_its_config():
    nr.seed(5)
    model = models.Sequential([layers.Input((4,)), CustomDense(3), layers.Dense(2, name="out")], name="seq")
    config = model.get_config()
    assert [entry["name"] for entry in config["layers"]] == [layer.name for layer in model._layers]
    with pytest.raises(ValueError, match=r"unknown layer 'CustomDense' \(class saved from module"):
        models.Sequential.from_config(config)
    rebuilt = models.Sequential.from_config(config, custom_objects=CUSTOM)
    assert [layer.name for layer in rebuilt.layers] == [layer.name for layer in model.layers]
    rebuilt.set_weights(model.get_weights())
    x = _x()
    np.testing.assert_array_equal(rebuilt(x).numpy(), model(x).numpy())


def test_a_model_subclass_built_as_a_functional_model_rebuilds_as_that_class():
    class Wrapped(nr.Model):
        pass

    inputs = nr.Input((4,))
    model = Wrapped(inputs, layers.Dense(2, name="d")(inputs), name="wrapped")
    assert isinstance(model, models.Functional)
    rebuilt = Wrapped.from_config(model.get_config())
    assert isinstance(rebuilt, Wrapped) and isinstance(rebuilt, models.Functional) and rebuilt.name == "wrapped"


def test_custom_objects_that_are_not_a_dict_of_names_are_refused():
    config = _graph_model().get_config()
    with pytest.raises(TypeError, match=r"Model.from_config: custom_objects must be a dict mapping names to "
                                        r"classes or functions .* got \[<class"):
        models.Model.from_config(config, custom_objects=[CustomDense])
    with pytest.raises(TypeError, match=r"Sequential.from_config: custom_objects keys must be non-empty names"):
        models.Sequential.from_config({"layers": []}, custom_objects={CustomDense: CustomDense})
