"""Identical units: zeros and constant initializers leave them identical through training, a random draw does not.

The argument under test (Goodfellow et al., *Deep Learning*, 8.4): units with the same incoming and outgoing
weights get the same gradient, take the same step, and stay identical; only the output layer escapes, because
each of its units meets its own target.
"""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hst

import neurona as nr
from neurona import initializers, layers
from neurona.diagnostics.monitor import InitWarning, warn_identical_units
from neurona.diagnostics.symmetry import identical_unit_groups, symmetric_units
from neurona.models import training


def _data(shape=(8,), n=96, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, *shape)).astype("float32")
    return x, rng.integers(0, classes, n)


def _dense_net(init):
    return nr.Sequential([nr.Input((8,)),
                          layers.Dense(6, activation="tanh", kernel_initializer=init, bias_initializer=init,
                                       name="hidden_1"),
                          layers.Dense(5, activation="tanh", kernel_initializer=init, bias_initializer=init,
                                       name="hidden_2"),
                          layers.Dense(3, kernel_initializer=init, name="out")])


def _conv_net(init):
    return nr.Sequential([nr.Input((6, 6, 2)),
                          layers.Conv2D(4, 3, activation="tanh", kernel_initializer=init, bias_initializer=init,
                                        name="conv"),
                          layers.Flatten(),
                          layers.Dense(3, kernel_initializer=init, name="out")])


def _train(model, x, y, epochs=4):
    model.compile(optimizer=nr.optimizers.SGD(0.1), loss=nr.losses.SparseCategoricalCrossentropy(from_logits=True))
    start = [w.numpy().copy() for w in model.weights]
    history = model.fit(x, y, batch_size=16, epochs=epochs, verbose=0)
    return start, history


def _moved(start, model, name):
    """How far the layer's kernel moved during training (max absolute change)."""
    layer = next(layer for layer in model.layers if layer.name == name)
    index = next(i for i, w in enumerate(model.weights) if w is layer.kernel)
    return float(np.abs(layer.kernel.numpy() - start[index]).max())


def _identical(model, hidden):
    return {name: identical_unit_groups(next(layer for layer in model.layers if layer.name == name))
            for name in hidden}


@pytest.mark.parametrize("init", ["zeros", initializers.Constant(0.1)], ids=["zeros", "constant"])
def test_dense_units_stay_identical_through_training_under_zeros_and_constant_init(init):
    model = _dense_net(init)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InitWarning)  # the point of the test is what happens despite the warning
        start, history = _train(model, *_data())
    groups = _identical(model, ["hidden_1", "hidden_2"])
    assert groups == {"hidden_1": [list(range(6))], "hidden_2": [list(range(5))]}
    found = symmetric_units(model)
    assert [(e["layer"], e["units"], e["groups"]) for e in found] == [
        ("hidden_1", 6, [list(range(6))]), ("hidden_2", 5, [list(range(5))])]
    assert history.history["loss"][-1] < history.history["loss"][0]  # it did train: the output layer learns
    if isinstance(init, initializers.Constant):
        # not a trivial fixed point: the hidden kernels took real steps, and every unit took the same one
        assert _moved(start, model, "hidden_1") > 1e-3 and _moved(start, model, "hidden_2") > 1e-3


def test_dense_units_differ_after_training_from_glorot_uniform():
    model = _dense_net(initializers.GlorotUniform(seed=0))
    _train(model, *_data())
    assert symmetric_units(model) == []
    assert _identical(model, ["hidden_1", "hidden_2", "out"]) == {"hidden_1": [], "hidden_2": [], "out": []}


def test_conv_filters_stay_identical_under_a_constant_and_differ_under_glorot():
    x, y = _data(shape=(6, 6, 2))
    model = _conv_net(initializers.Constant(0.1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InitWarning)
        start, _ = _train(model, x, y)
    assert _moved(start, model, "conv") > 1e-3
    assert symmetric_units(model) == [{"layer": "conv", "units": 4, "groups": [[0, 1, 2, 3]]}]
    random = _conv_net(initializers.GlorotUniform(seed=1))
    _train(random, x, y)
    assert symmetric_units(random) == []


def test_output_layer_units_are_not_reported():
    model = _dense_net(initializers.Constant(0.1))
    out = model.layers[-1]
    assert identical_unit_groups(out) == [[0, 1, 2]]  # identical incoming weights at init ...
    assert "out" not in [e["layer"] for e in symmetric_units(model)]  # ... but their gradients will differ
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InitWarning)
        _train(model, *_data(), epochs=2)
    assert identical_unit_groups(out) == []  # and indeed they did


def test_a_nested_model_is_searched_and_named_by_its_path():
    inner = nr.Sequential([nr.Input((8,)), layers.Dense(4, activation="tanh", kernel_initializer="zeros",
                                                        name="inner_dense")], name="block")
    model = nr.Sequential([nr.Input((8,)), inner, layers.Dense(3, name="head")])
    assert [e["layer"] for e in symmetric_units(model)] == ["block/inner_dense"]


def test_warn_identical_units_names_each_layer_and_returns_the_entries():
    model = _dense_net("zeros")
    with pytest.warns(InitWarning) as caught:
        entries = warn_identical_units(model)
    messages = [str(w.message) for w in caught if issubclass(w.category, InitWarning)]
    assert len(messages) == 2
    assert "'hidden_1'" in messages[0] and "6 of its 6 units" in messages[0]
    assert "'hidden_2'" in messages[1] and "5 of its 5 units" in messages[1]
    assert all("zeros or a constant" in m for m in messages)
    assert [e["layer"] for e in entries] == ["hidden_1", "hidden_2"]


def test_warn_identical_units_is_silent_on_a_random_init():
    model = _dense_net(initializers.GlorotUniform(seed=2))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert warn_identical_units(model) == []
    assert not [w for w in caught if issubclass(w.category, InitWarning)]


@pytest.mark.skipif(not hasattr(training, "_warn_identical_units"), reason="fit's symmetry check is not wired in yet")
def test_fit_warns_about_identical_hidden_units_when_it_starts():
    model = _dense_net("zeros")
    with pytest.warns(InitWarning) as caught:
        _train(model, *_data(), epochs=2)
    messages = [str(w.message) for w in caught if issubclass(w.category, InitWarning)]
    assert len(messages) == 2  # once per hidden layer, in the first step of the run only
    assert "'hidden_1'" in messages[0] and "'hidden_2'" in messages[1]
    assert not any("'out'" in m for m in messages)


@settings(max_examples=40, deadline=None)
@given(units=hst.integers(2, 9), copies=hst.lists(hst.tuples(hst.integers(0, 8), hst.integers(0, 8)), max_size=6),
       seed=hst.integers(0, 2 ** 16))
def test_identical_unit_groups_finds_exactly_the_copied_columns(units, copies, seed):
    """Copy some columns (with their bias) onto others: the groups are the classes of "copied from"."""
    layer = layers.Dense(units)
    layer.build((None, 5))
    rng = np.random.default_rng(seed)
    kernel, bias = rng.normal(size=(5, units)).astype("float32"), rng.normal(size=units).astype("float32")
    for src, dst in copies:
        src, dst = src % units, dst % units
        kernel[:, dst], bias[dst] = kernel[:, src], bias[src]
    layer.kernel.assign(kernel)
    layer.bias.assign(bias)
    # the expected classes: units whose columns are equal (a random normal draw repeats no value)
    expected = {}
    for i in range(units):
        expected.setdefault(tuple(kernel[:, i]) + (bias[i],), []).append(i)
    assert sorted(identical_unit_groups(layer)) == sorted(g for g in expected.values() if len(g) > 1)


@settings(max_examples=40, deadline=None)
@given(units=hst.integers(2, 40), fan_in=hst.integers(1, 30), clusters=hst.integers(1, 6),
       seed=hst.integers(0, 2 ** 16))
def test_near_identical_units_are_grouped_even_across_rounding_boundaries(units, fan_in, clusters, seed):
    """Units nudged by less than the tolerance from a shared column group with it, wherever the values fall.

    The nudges are placed on both sides of multiples of the tolerance: a check that rounds weights to a grid of
    that step would split them (as float rounding of identical units did, once BLAS had touched them).
    """
    rng = np.random.default_rng(seed)
    rtol = 1e-4
    centres = rng.uniform(-1, 1, size=(clusters, fan_in + 1))
    centres[0, 0] = 1.0  # the scale is known: max |w| = 1 (the nudges below stay under it)
    labels = rng.integers(0, clusters, units)
    labels[0] = 0  # the centre that sets the scale (max |w| = 1, so the tolerance is rtol) is always present
    # a centre on a grid line of step rtol, and its copies half a tolerance on either side of it
    centres = np.round(centres / rtol) * rtol + rtol / 2
    centres[0, 0] = 1.0 - rtol
    w = centres[labels] + rng.uniform(-0.45, 0.45, size=(units, fan_in + 1)) * rtol
    layer = layers.Dense(units, dtype="float64")
    layer.build((None, fan_in))
    layer.kernel.assign(w[:, :-1].T)
    layer.bias.assign(w[:, -1])
    groups = identical_unit_groups(layer, rtol=rtol)
    # distinct centres are a draw from [-1, 1] apart: never within the tolerance of one another (checked)
    apart = np.abs(centres[:, None] - centres[None]).max(axis=2) + np.eye(clusters) * 10
    if (apart > 10 * rtol).all():
        expected = sorted(members.tolist() for c in range(clusters)
                          if (members := np.flatnonzero(labels == c)).size > 1)
        assert groups == expected


@pytest.mark.parametrize("units, fan_in", [(4096, 4096), (2000, 1)])
def test_random_units_are_grouped_only_when_their_weights_are_within_the_tolerance(units, fan_in):
    """A random draw: no group (distinct values 1e-6 apart at fan-in 1 would be bad luck, not symmetry)."""
    layer = layers.Dense(units, kernel_initializer=initializers.GlorotUniform(seed=3))
    layer.build((None, fan_in))
    groups = identical_unit_groups(layer)
    if fan_in > 1:
        assert groups == []
    else:  # one weight per unit: only values closer than 1e-6 of the scale can group, and then only in pairs
        kernel = layer.kernel.numpy()[0]
        scale = np.abs(kernel).max()
        for group in groups:
            assert np.ptp(kernel[group]) <= 2e-6 * scale
