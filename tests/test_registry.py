"""Registries rebuild any pluggable object from a config, and name what does not fit its constructor."""

import pytest

from neurona import initializers, layers, losses, metrics, optimizers, regularizers


@pytest.mark.parametrize("registry, class_name, config, problem", [
    (optimizers, "Adam", {"learning_rat": 0.1}, "unexpected 'learning_rat'"),
    (losses, "MeanSquaredError", {"foo": 1}, "unexpected 'foo'"),
    (regularizers, "L2", {"l3": 1.0}, "unexpected 'l3'"),
    (initializers, "HeNormal", {"sead": 1}, "unexpected 'sead'"),
    (metrics, "AUC", {"curves": 1}, "unexpected 'curves'"),
    (layers, "Dense", {}, "missing required 'units'"),
    (layers, "Conv2D", {"filters": 2, "kernel_size": 3, "bogus": 1}, "unexpected 'bogus'"),
])
def test_a_config_that_does_not_fit_names_the_class_and_the_keys(registry, class_name, config, problem):
    # Python's own TypeError ("Optimizer.__init__() got an unexpected keyword argument") named neither
    with pytest.raises(ValueError, match=rf"class {class_name} does not fit its constructor: {problem}"):
        registry.deserialize({"class_name": class_name, "config": config})


@pytest.mark.parametrize("registry, obj", [
    (optimizers, lambda: optimizers.Adam(0.01, amsgrad=True)),
    (losses, lambda: losses.CategoricalCrossentropy(label_smoothing=0.1)),
    (regularizers, lambda: regularizers.L1L2(0.1, 0.2)),
    (initializers, lambda: initializers.HeNormal(seed=3)),
    (metrics, lambda: metrics.AUC(num_thresholds=50)),
])
def test_valid_configs_still_round_trip(registry, obj):
    obj = obj()
    again = registry.deserialize(registry.serialize(obj))
    assert type(again) is type(obj) and again.get_config() == obj.get_config()
