"""Keras's architecture JSON <-> Neurona's model entry (neurona/saving/keras/config.py), against real Keras 3.

Each model is built in Keras, written with ``to_json()``, translated with ``from_keras`` and rebuilt by
``json_config.model_from_config``; with Keras's weights copied over (layer by layer, by name) both give the same
predictions. Back the other way, ``to_keras`` of the rebuilt model's config is read by
``keras.models.model_from_json`` into a model whose own JSON is Keras's original, option for option. Keras 2's
layouts are hand-written fixtures, as tf.keras 2 wrote them (``keras/src/legacy/saving`` reads the same).
"""

import copy
import json
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import neurona as nr  # noqa: E402
from neurona.saving import json_config  # noqa: E402
from neurona.saving.errors import FileFormatError  # noqa: E402
from neurona.saving.keras import compile_config, config  # noqa: E402

KL, KI, KR = keras.layers, keras.initializers, keras.regularizers
SOURCE = "model.json"


# ---- helpers ---------------------------------------------------------------------------------------------------
def to_neurona(keras_model):
    """The Neurona model rebuilt from the Keras model's JSON (through a JSON text, as from a file)."""
    data = json.loads(keras_model.to_json())
    assert config.is_keras_config(data)
    return json_config.model_from_config(config.from_keras(data, SOURCE), SOURCE)


def randomize(keras_model, seed=0):
    """Random weights in the Keras model (variances positive), so that every weight matters in the outputs."""
    rng = np.random.default_rng(seed)
    for weight in keras_model.weights:
        value = rng.normal(size=weight.shape).astype("float32")
        weight.assign(np.abs(value) + 0.5 if "variance" in weight.path else value)


def copy_by_layer(source, target):
    """Each layer's weights from ``source`` to the layer of the same name in ``target`` (Keras and Neurona
    list a functional model's layers in different orders, see test_weight_order_*)."""
    for layer in source.layers:
        counterpart = target.get_layer(layer.name)
        if layer.weights and counterpart.weights:  # Keras keeps a Normalization's given statistics as constants
            counterpart.set_weights(layer.get_weights())


def assert_same_predictions(keras_model, neurona_model, inputs):
    expected = keras_model.predict(inputs, verbose=0)
    actual = neurona_model.predict(inputs)
    for k, n in zip(expected if isinstance(expected, list) else [expected],
                    actual if isinstance(actual, list) else [actual]):
        # float32 sums taken in another order: an output that cancels terms of the layer's scale (here up to ~50)
        # keeps an absolute error of that scale times float32's resolution, so atol scales with the outputs
        np.testing.assert_allclose(n, k, rtol=1e-6, atol=1e-6 * max(1.0, float(np.abs(k).max(initial=0))))


def stripped(data):
    """Keras's JSON without the build/compile settings, the layers sorted by name (their order differs)."""
    if isinstance(data, list):
        return [stripped(item) for item in data]
    if not isinstance(data, dict):
        return data
    out = {key: stripped(value) for key, value in data.items() if key not in ("build_config", "compile_config")}
    if isinstance(out.get("layers"), list) and all("inbound_nodes" in layer for layer in out["layers"]):
        out["layers"] = sorted(out["layers"], key=lambda layer: layer["name"])
    return out


def assert_round_trip(keras_model, neurona_model):
    """to_keras(Neurona's config) rebuilds in Keras into the original architecture, every option equal."""
    written = config.to_keras(json_config.model_config(neurona_model))
    rebuilt = keras.models.model_from_json(json.dumps(written))
    assert stripped(json.loads(rebuilt.to_json())) == stripped(json.loads(keras_model.to_json()))
    return rebuilt


def check_model(keras_model, inputs, ordered=True, round_trip=True):
    """Rebuild, compare weight shapes and predictions, and write back for Keras (and compare Keras's JSON of
    that, unless ``round_trip`` is False: for what Keras's own JSON round trip changes)."""
    randomize(keras_model)
    model = to_neurona(keras_model)
    for layer in keras_model.layers:
        if layer.weights:
            assert [w.shape for w in model.get_layer(layer.name).get_weights()] == \
                [w.shape for w in layer.get_weights()], layer.name
    if ordered:
        assert [w.shape for w in model.get_weights()] == [w.shape for w in keras_model.get_weights()]
        model.set_weights(keras_model.get_weights())
    else:
        copy_by_layer(keras_model, model)
    assert_same_predictions(keras_model, model, inputs)
    if round_trip:
        rebuilt = assert_round_trip(keras_model, model)
    else:
        rebuilt = keras.models.model_from_json(json.dumps(config.to_keras(json_config.model_config(model))))
    copy_by_layer(model, rebuilt)
    assert_same_predictions(rebuilt, model, inputs)
    return model


def data(*shape, seed=1):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


# ---- each layer, Keras -> Neurona -> Keras ---------------------------------------------------------------------
def test_dense_with_initializers_regularizers_and_activations():
    model = keras.Sequential([
        keras.Input((6,)),
        KL.Dense(5, activation="tanh", kernel_initializer=KI.HeNormal(seed=3), bias_initializer=KI.Constant(0.1),
                 kernel_regularizer=KR.L1L2(0.01, 0.02), bias_regularizer=KR.L1(0.1),
                 activity_regularizer=KR.L2(0.001), name="first"),
        KL.Dense(4, use_bias=False, activation="elu",
                 kernel_initializer=KI.VarianceScaling(2.0, "fan_out", "untruncated_normal", seed=5)),
        KL.Dense(4, activation="gelu", kernel_initializer=KI.Orthogonal(1.5, seed=2),
                 bias_initializer=KI.RandomNormal(0.1, 0.2, seed=4)),
        KL.Dense(3, activation="softmax", kernel_initializer=KI.TruncatedNormal(0.0, 0.3, seed=6),
                 bias_initializer=KI.RandomUniform(-0.2, 0.2, seed=7)),
    ], name="dense_stack")
    rebuilt = check_model(model, data(8, 6))
    first = rebuilt.get_layer("first")
    assert type(first.kernel_initializer).__name__ == "HeNormal" and first.kernel_initializer.seed == 3
    assert (first.kernel_regularizer.l1, first.kernel_regularizer.l2) == pytest.approx((0.01, 0.02))
    assert first.activity_regularizer.l2 == pytest.approx(0.001)
    assert rebuilt.name == "dense_stack" and [layer.name for layer in rebuilt.layers][0] == "first"


def test_conv2d_and_2d_pooling():
    model = keras.Sequential([
        keras.Input((9, 8, 2)),
        KL.Conv2D(4, (3, 2), strides=(2, 1), padding="same", activation="relu",
                  kernel_initializer=KI.GlorotNormal(seed=1), bias_initializer=KI.RandomUniform(-0.1, 0.1, seed=2),
                  kernel_regularizer=KR.L2(0.01)),
        KL.Conv2D(3, 2, dilation_rate=(2, 1), activation="sigmoid", kernel_initializer="lecun_uniform"),
        KL.MaxPooling2D(2, strides=1, padding="same"),
        KL.AveragePooling2D((2, 1)),
        KL.GlobalMaxPooling2D(keepdims=True),
        KL.GlobalAveragePooling2D(),
    ])
    check_model(model, data(3, 9, 8, 2))


def test_conv1d_1d_pooling_and_shape_layers():
    model = keras.Sequential([
        keras.Input((12, 3)),
        KL.Conv1D(5, 3, strides=2, padding="same", activation="selu", kernel_initializer=KI.LecunNormal(seed=9)),
        KL.MaxPooling1D(2, padding="same"),
        KL.AveragePooling1D(3, strides=1, padding="same"),
        KL.GlobalAveragePooling1D(keepdims=True),
        KL.Flatten(),
        KL.Reshape((5, 1)),
        KL.GlobalMaxPooling1D(),
        KL.Activation("softplus"),
        KL.Identity(),
    ])
    check_model(model, data(4, 12, 3))


def test_normalization_layers_and_dropout():
    model = keras.Sequential([
        keras.Input((4, 6)),
        KL.BatchNormalization(momentum=0.9, epsilon=0.01, beta_regularizer=KR.L2(0.1),
                              gamma_initializer=KI.RandomNormal(1.0, 0.1, seed=3)),
        KL.LayerNormalization(axis=[1, 2], epsilon=1e-4, center=False),
        KL.GroupNormalization(groups=3, scale=False, epsilon=1e-5),
        KL.Dropout(0.3, seed=1, noise_shape=(None, 1, 6)),
        KL.Normalization(axis=-1, mean=[0.5] * 6, variance=[2.0] * 6, invert=True),
        KL.Dense(2, activation="log_softmax"),
    ])
    # Keras keeps a given mean and variance as constants, Neurona as two weights (holding them): not in order
    rebuilt = check_model(model, data(5, 4, 6), ordered=False)
    assert rebuilt.layers[4].get_config()["mean"] == [0.5] * 6 and len(rebuilt.layers[4].get_weights()) == 2


def test_adapted_normalization_has_keras_count_weight_too():
    """An adapted Keras Normalization has mean, variance and a count; Neurona's has mean and variance."""
    layer = KL.Normalization(axis=(1, 2))
    layer.adapt(data(20, 3, 2))
    model = keras.Sequential([keras.Input((3, 2)), layer, KL.Flatten()])
    rebuilt = to_neurona(model)
    assert [w.shape for w in rebuilt.get_weights()] == [w.shape for w in model.get_weights()][:2]
    rebuilt.set_weights(model.get_weights()[:2])
    assert_same_predictions(model, rebuilt, data(4, 3, 2, seed=3))
    assert rebuilt.layers[0].get_config()["axis"] == [1, 2]
    assert_round_trip(model, rebuilt)


def test_merge_layers_two_inputs():
    a, b = keras.Input((4,), name="a"), keras.Input((4,), name="b")
    merged = [KL.Add()([a, b]), KL.Subtract()([a, b]), KL.Multiply()([a, b]), KL.Average()([a, b]),
              KL.Maximum()([a, b]), KL.Minimum()([a, b]), KL.Dot(axes=1, normalize=True)([a, b])]
    out = KL.Concatenate(axis=1, name="joined")(merged)
    model = keras.Model([a, b], out, name="merges")
    check_model(model, [data(3, 4), data(3, 4, seed=2)])


def test_functional_with_shared_layers_and_nested_models():
    inner = keras.Sequential([keras.Input((4,)), KL.Dense(3, activation="relu", name="inner_dense")], name="inner")
    sub_in = keras.Input((3,), name="sub_in")
    sub = keras.Model(sub_in, KL.Dense(2, name="sub_dense")(sub_in), name="sub")
    a, b = keras.Input((4,), name="a"), keras.Input((4,), name="b")
    shared = KL.Dense(3, name="shared", kernel_initializer=KI.HeUniform(seed=11))
    y1, y2, y3 = sub(inner(a)), sub(shared(b)), sub(shared(a))
    model = keras.Model([a, b], [KL.Add(name="sum")([y1, y2, y3]), y2, sub(inner(b))], name="outer")
    rebuilt = check_model(model, [data(5, 4), data(5, 4, seed=2)], ordered=False)
    assert isinstance(rebuilt.get_layer("inner"), nr.models.Sequential)
    assert isinstance(rebuilt.get_layer("sub"), nr.models.Functional)


def test_frozen_nested_sequential_called_with_training_false():
    base = keras.Sequential([keras.Input((4,)), KL.Dense(3, name="base_dense"), KL.BatchNormalization(name="bn"),
                             keras.Sequential([KL.Dense(3, name="deep")], name="deeper")], name="base")
    base.trainable = False
    a = keras.Input((4,), name="a")
    model = keras.Model(a, KL.Dense(2, name="top")(base(a, training=False)))
    entry = config.from_keras(json.loads(model.to_json()), SOURCE)
    call = next(layer for layer in entry["config"]["layers"] if layer["name"] == "base")["inbound_nodes"][0]
    # dropped, as Keras 3 overrides a recorded training with the model's own flag when it runs; the frozen
    # BatchNormalization runs in inference mode anyway (Keras's and Neurona's rule for trainable=False)
    assert call["kwargs"] == {}
    # Keras's own JSON round trip loses a nested Sequential's trainable=False (Sequential.from_config ignores it)
    rebuilt = check_model(model, data(3, 4), ordered=False, round_trip=False)
    assert not rebuilt.get_layer("base").trainable and not rebuilt.get_layer("base").get_layer("deeper").trainable
    written = config.to_keras(json_config.model_config(rebuilt))["config"]["layers"]
    base_entry = next(layer for layer in written if layer["name"] == "base")
    assert base_entry["config"]["trainable"] is False and base_entry["inbound_nodes"][0]["kwargs"] == \
        {"mask": None}


def test_weight_order_of_a_functional_model_with_nested_models_differs():
    """Finding: Keras orders a functional model's layers by graph depth, Neurona by its own walk, so their
    get_weights() lists agree for a chain but not always with shared or nested layers: copy by layer name."""
    sub_in = keras.Input((3,))
    sub = keras.Model(sub_in, KL.Dense(2, name="sub_dense")(sub_in), name="sub")
    a = keras.Input((4,), name="a")
    shared = KL.Dense(3, name="shared")
    model = keras.Model(a, KL.Add()([sub(KL.Dense(3, name="first")(a)), sub(shared(a))]))
    rebuilt = to_neurona(model)
    keras_order = [layer.name for layer in model.layers if layer.weights]
    neurona_order = [layer.name for layer in rebuilt.layers if layer.weights]
    assert sorted(keras_order) == sorted(neurona_order) and keras_order != neurona_order


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(filters=st.integers(1, 4), kernel=st.integers(1, 3), stride=st.integers(1, 2),
       padding=st.sampled_from(["valid", "same"]), activation=st.sampled_from(["relu", "tanh", "linear", "elu"]),
       use_bias=st.booleans(), seed=st.one_of(st.none(), st.integers(0, 2 ** 31 - 1)),
       l2=st.one_of(st.none(), st.floats(1e-4, 1.0)), units=st.integers(1, 5), rank=st.sampled_from([1, 2]))
def test_random_conv_and_dense_options(filters, kernel, stride, padding, activation, use_bias, seed, l2, units,
                                       rank):
    conv = KL.Conv1D if rank == 1 else KL.Conv2D
    model = keras.Sequential([
        keras.Input((6,) * rank + (2,)),
        conv(filters, kernel, strides=stride, padding=padding, activation=activation, use_bias=use_bias,
             kernel_initializer=KI.GlorotUniform(seed=seed), kernel_regularizer=None if l2 is None else KR.L2(l2)),
        KL.Flatten(),
        KL.Dense(units, activation=activation, use_bias=use_bias, bias_initializer=KI.Constant(0.5),
                 kernel_initializer=KI.HeNormal(seed=seed)),
    ])
    check_model(model, data(2, *((6,) * rank), 2))


# ---- Neurona -> Keras ------------------------------------------------------------------------------------------
def test_neurona_sequential_with_input_shape_on_its_first_layer():
    layers = nr.layers
    model = nr.models.Sequential([
        layers.Dense(4, input_shape=(3,), activation="relu", kernel_initializer=nr.initializers.HeNormal(seed=1),
                     kernel_regularizer=nr.regularizers.L2(0.1)),
        layers.BatchNormalization(), layers.Dropout(0.2), layers.Dense(2, activation="sigmoid")], name="plain")
    written = config.to_keras(json_config.model_config(model))
    assert written["config"]["layers"][0]["class_name"] == "InputLayer"
    rebuilt = keras.models.model_from_json(json.dumps(written))
    assert [w.shape for w in rebuilt.get_weights()] == [w.shape for w in model.get_weights()]
    rebuilt.set_weights(model.get_weights())
    assert_same_predictions(rebuilt, model, data(4, 3))
    kernel = rebuilt.layers[0].kernel_initializer
    assert type(kernel).__name__ == "HeNormal" and kernel.seed == 1
    back = config.from_keras(json.loads(rebuilt.to_json()), SOURCE)["config"]["layers"]
    original = json_config.model_config(model)["config"]["layers"]
    original[0]["config"].pop("input_shape")  # Keras holds it in the InputLayer
    assert back[0]["config"]["shape"] == [3] and [entry["config"] for entry in back[1:]] == \
        [entry["config"] for entry in original]


def test_neurona_functional_with_shared_and_nested_models():
    layers = nr.layers
    inner = nr.models.Sequential([nr.Input((4,)), layers.Dense(3, name="inner_dense")], name="inner")
    sub_in = nr.Input((3,), name="sub_in")
    sub = nr.Model(sub_in, layers.Dense(2, name="sub_dense")(sub_in), name="sub")
    a, b = nr.Input((4,), name="a"), nr.Input((4,), name="b")
    shared = layers.Dense(3, name="shared")
    y1, y2 = sub(inner(a)), sub(shared(b))
    model = nr.Model([a, b], [layers.Concatenate(name="cat")([y1, y2, sub(shared(a))]), y2], name="outer")
    rebuilt = keras.models.model_from_json(json.dumps(config.to_keras(json_config.model_config(model))))
    copy_by_layer(model, rebuilt)
    assert_same_predictions(rebuilt, model, [data(3, 4), data(3, 4, seed=5)])


@pytest.mark.parametrize("layer, option", [
    (lambda: nr.layers.InstanceNormalization(name="inst"), "InstanceNormalization"),
    (lambda: nr.layers.Dense(2, name="inst", kernel_initializer=nr.initializers.LSUV()), "kernel_initializer"),
])
def test_to_keras_refuses_what_keras_lacks(layer, option):
    model = nr.models.Sequential([nr.Input((4,)), layer()])
    with pytest.raises(ValueError, match=f"'inst'.*{option}|{option}.*'inst'"):
        config.to_keras(json_config.model_config(model))


def test_to_keras_refuses_a_custom_activation():
    @nr.saving.register_keras_serializable(package="Tests")
    def doubled(x):
        return x * 2.0

    model = nr.models.Sequential([nr.Input((4,)), nr.layers.Dense(2, activation=doubled, name="custom")])
    with pytest.raises(ValueError, match="'custom'.*'activation'"):
        config.to_keras(json_config.model_config(model))


# ---- Keras 2 layouts ----------------------------------------------------------------------------------------------
def _keras2_dense(name, units, activation, **extra):
    return {"class_name": "Dense", "config": {
        "name": name, "trainable": True, "dtype": "float32", "units": units, "activation": activation,
        "use_bias": True, **extra,
        "kernel_initializer": {"class_name": "VarianceScaling",
                               "config": {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform", "seed": None}},
        "bias_initializer": {"class_name": "Zeros", "config": {}},
        "kernel_regularizer": {"class_name": "L1L2", "config": {"l1": 0.0, "l2": 0.01}}, "bias_regularizer": None,
        "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None}}


KERAS2_SEQUENTIAL = {
    "class_name": "Sequential", "keras_version": "2.2.4", "backend": "tensorflow",
    "config": {"name": "sequential_1", "layers": [
        _keras2_dense("dense_1", 5, "relu", batch_input_shape=[None, 4]),
        {"class_name": "Dropout", "config": {"name": "dropout_1", "trainable": True, "rate": 0.5,
                                             "noise_shape": None, "seed": None}},
        _keras2_dense("dense_2", 3, "softmax")]}}


def _keras2_input(name, size):
    return {"class_name": "InputLayer", "name": name, "inbound_nodes": [],
            "config": {"batch_input_shape": [None, size], "dtype": "float32", "sparse": False, "ragged": False,
                       "name": name}}


def _keras2_node(*tensors):
    return [[name, node, 0, {}] for name, node in tensors]


KERAS2_FUNCTIONAL = {
    "class_name": "Functional", "keras_version": "2.4.0", "backend": "tensorflow",
    "config": {"name": "model", "layers": [
        _keras2_input("input_1", 4), _keras2_input("input_2", 4),
        {**_keras2_dense("shared", 3, "tanh"), "name": "shared",
         "inbound_nodes": [_keras2_node(("input_1", 0)), _keras2_node(("input_2", 0))]},
        {"class_name": "Concatenate", "name": "concatenate", "config": {"name": "concatenate", "trainable": True,
                                                                          "dtype": "float32", "axis": -1},
         "inbound_nodes": [_keras2_node(("shared", 0), ("shared", 1))]},
        {"class_name": "BatchNormalization", "name": "bn", "inbound_nodes": [_keras2_node(("concatenate", 0))],
         "config": {"name": "bn", "trainable": True, "dtype": "float32", "axis": [1], "momentum": 0.99,
                    "epsilon": 0.001, "center": True, "scale": True,
                    "beta_initializer": {"class_name": "Zeros", "config": {}},
                    "gamma_initializer": {"class_name": "Ones", "config": {}},
                    "moving_mean_initializer": {"class_name": "Zeros", "config": {}},
                    "moving_variance_initializer": {"class_name": "Ones", "config": {}},
                    "beta_regularizer": None, "gamma_regularizer": None, "beta_constraint": None,
                    "gamma_constraint": None}},
        # a nested Sequential: tf.keras 2 gave it a node of its own, so its first call is node 1
        {"class_name": "Sequential", "name": "head", "inbound_nodes": [_keras2_node(("bn", 0))],
         "config": {"name": "head", "layers": [_keras2_input("head_input", 6),
                                                _keras2_dense("head_dense", 2, "sigmoid")]}},
    ], "input_layers": [["input_1", 0, 0], ["input_2", 0, 0]], "output_layers": [["head", 1, 0]]}}


def _same_architecture_in_keras3():
    a, b = keras.Input((4,), name="input_1"), keras.Input((4,), name="input_2")
    shared = KL.Dense(3, activation="tanh", name="shared")
    x = KL.BatchNormalization(name="bn")(KL.Concatenate(name="concatenate")([shared(a), shared(b)]))
    head = keras.Sequential([keras.Input((6,)), KL.Dense(2, activation="sigmoid", name="head_dense")], name="head")
    return keras.Model([a, b], head(x))


def test_keras2_sequential_with_batch_input_shape():
    entry = config.from_keras(json.loads(json.dumps(KERAS2_SEQUENTIAL)), SOURCE)
    model = json_config.model_from_config(entry, SOURCE)
    assert [layer.name for layer in model.layers] == ["dense_1", "dropout_1", "dense_2"]
    assert model.input_shape == (None, 4) and model.layers[0].kernel_initializer.mode == "fan_avg"
    reference = keras.Sequential([keras.Input((4,)), KL.Dense(5, activation="relu"), KL.Dropout(0.5),
                                  KL.Dense(3, activation="softmax")])
    randomize(reference)
    model.set_weights(reference.get_weights())
    assert_same_predictions(reference, model, data(3, 4))


def test_keras2_sequential_as_a_bare_list_of_layers():
    data_v20 = {"class_name": "Sequential", "keras_version": "2.0.8", "backend": "tensorflow",
                "config": KERAS2_SEQUENTIAL["config"]["layers"]}
    model = json_config.model_from_config(config.from_keras(data_v20, SOURCE), SOURCE)
    assert [layer.units for layer in model.layers if hasattr(layer, "units")] == [5, 3]


def test_keras2_functional_with_nested_list_nodes():
    assert config.is_keras_config(KERAS2_FUNCTIONAL)
    model = json_config.model_from_config(config.from_keras(copy.deepcopy(KERAS2_FUNCTIONAL), SOURCE), SOURCE)
    assert model.get_layer("bn").axis == 1 and isinstance(model.get_layer("head"), nr.models.Sequential)
    reference = _same_architecture_in_keras3()
    randomize(reference)
    copy_by_layer(reference, model)
    assert_same_predictions(reference, model, [data(3, 4), data(3, 4, seed=4)])


def test_keras2_single_input_and_output_lists_are_unpacked():
    fixture = {"class_name": "Model", "keras_version": "2.3.1", "backend": "tensorflow", "config": {
        "name": "one", "layers": [_keras2_input("x", 4),
                                  {**_keras2_dense("d", 2, "linear"), "name": "d", "inbound_nodes": [
                                      _keras2_node(("x", 0))]}],
        "input_layers": [["x", 0, 0]], "output_layers": [["d", 0, 0]]}}
    model = json_config.model_from_config(config.from_keras(fixture, SOURCE), SOURCE)
    assert model.predict(data(2, 4)).shape == (2, 2)


# ---- recognising Keras's JSON ----------------------------------------------------------------------------------
def test_is_keras_config_tells_keras_from_neurona():
    keras_model = keras.Sequential([keras.Input((3,)), KL.Dense(2)])
    neurona_model = nr.models.Sequential([nr.Input((3,)), nr.layers.Dense(2)])
    assert config.is_keras_config(json.loads(keras_model.to_json()))
    assert config.is_keras_config(KERAS2_SEQUENTIAL)
    assert not config.is_keras_config(json.loads(neurona_model.to_json()))
    assert not config.is_keras_config(json_config.model_config(neurona_model))
    assert not config.is_keras_config([1, 2])


# ---- refusals ----------------------------------------------------------------------------------------------------
def _keras_json(*layers):
    return json.loads(keras.Sequential([keras.Input((8, 3)), *layers]).to_json())


@pytest.mark.parametrize("make, words", [
    (lambda: KL.Discretization(bin_boundaries=[0.0], name="bins"), ["'bins'", "Discretization"]),
    (lambda: KL.LSTM(2, recurrent_constraint=keras.constraints.MaxNorm(2.0), name="rnn"),
     ["'rnn'", "'recurrent_constraint'", "no weight constraints"]),
    (lambda: KL.Dense(2, kernel_constraint=keras.constraints.MaxNorm(2.0), name="norm"),
     ["'norm'", "'kernel_constraint'", "no weight constraints"]),
    (lambda: KL.LayerNormalization(rms_scaling=True, name="rms"), ["'rms'", "'rms_scaling'"]),
    (lambda: KL.Dense(2, activation="sparse_plus", name="act"), ["'act'", "'activation'", "'sparse_plus'", "relu"]),
    (lambda: KL.Dense(2, kernel_regularizer=KR.OrthogonalRegularizer(), name="orth"),
     ["'orth'", "'kernel_regularizer'", "L1L2"]),
    (lambda: KL.Dense(2, dtype="bfloat16", name="brain"), ["'brain'", "'dtype'", "float64"]),
    (lambda: KL.Lambda(lambda x: -x, name="code"), ["'code'", "Lambda", "never runs"]),
])
@pytest.mark.filterwarnings("ignore:You passed `rms_scaling=True`:UserWarning")  # Keras's deprecation
def test_unsupported_layers_and_options_are_refused_by_name(make, words):
    data_ = _keras_json(make())
    with pytest.raises(FileFormatError) as caught:
        config.from_keras(data_, SOURCE)
    message = str(caught.value)
    assert message.startswith(SOURCE) and all(word in message for word in words), message


def test_custom_classes_and_objects_are_never_looked_up():
    data_ = _keras_json(KL.Dense(2, name="d"))
    custom = copy.deepcopy(data_)
    custom["config"]["layers"][1].update(module="os", class_name="system", registered_name="Custom>system")
    with pytest.raises(FileFormatError, match="'d' \\(system\\).*custom class"):
        config.from_keras(custom, SOURCE)
    seeded = copy.deepcopy(data_)
    seeded["config"]["layers"][1]["config"]["kernel_initializer"] = {
        "module": "builtins", "class_name": "__lambda__", "config": {"code": "..."}, "registered_name": None}
    with pytest.raises(FileFormatError, match="'kernel_initializer'.*never rebuilt"):
        config.from_keras(seeded, SOURCE)
    with pytest.raises(FileFormatError, match="class is 'MyNet'"):
        config.from_keras({"module": "mine", "class_name": "MyNet", "config": {}, "registered_name": "x>MyNet"},
                          SOURCE)


def test_keras_ops_on_symbolic_tensors_are_refused_not_taken_for_merge_layers():
    """keras.ops.add on Keras tensors is saved as class "Add" of module keras.src.ops.numpy: not the Add layer."""
    a, b = keras.Input((4,), name="a"), keras.Input((4,), name="b")
    data_ = json.loads(keras.Model([a, b], a + b).to_json())
    with pytest.raises(FileFormatError, match="layer 'add\\w*' \\(Add\\).*operation on symbolic tensors"):
        config.from_keras(data_, SOURCE)


def test_from_keras_leaves_its_input_unchanged():
    data_ = copy.deepcopy(KERAS2_FUNCTIONAL)
    config.from_keras(data_, SOURCE)
    assert data_ == KERAS2_FUNCTIONAL


# ---- compile settings -------------------------------------------------------------------------------------------
def test_compile_settings_become_neurona_objects():
    model = keras.Sequential([keras.Input((4,)), KL.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.01, beta_1=0.8, clipnorm=1.0),
                  loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.1),
                  metrics=["accuracy", keras.metrics.AUC(num_thresholds=50)])
    kwargs = compile_config.compile_from_keras(json.loads(model.to_json())["compile_config"], SOURCE)
    optimizer = kwargs["optimizer"].get_config()
    assert type(kwargs["optimizer"]).__name__ == "Adam" and optimizer["beta_1"] == pytest.approx(0.8)
    assert optimizer["clipnorm"] == 1.0 and optimizer["learning_rate"] == pytest.approx(0.01)
    assert kwargs["loss"].get_config()["label_smoothing"] == pytest.approx(0.1)
    assert kwargs["metrics"][0] == "accuracy" and kwargs["metrics"][1].get_config()["num_thresholds"] == 50
    rebuilt = to_neurona(model)
    rebuilt.compile(**kwargs)
    rebuilt.fit(data(8, 4), np.eye(3, dtype="float32")[[0, 1, 2, 0, 1, 2, 0, 1]], epochs=1, verbose=0)


def test_keras2_training_config_with_schedule_and_legacy_names():
    settings_ = {"optimizer": {"class_name": "SGD", "config": {
        "name": "SGD", "lr": {"class_name": "ExponentialDecay", "config": {
            "initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5, "staircase": True, "name": None}},
        "decay": 0.0, "momentum": 0.9, "nesterov": True}},
        "loss": "categorical_crossentropy", "loss_weights": None, "weighted_metrics": None,
        "metrics": [[{"class_name": "MeanMetricWrapper", "config": {"name": "acc", "dtype": "float32",
                                                                     "fn": "categorical_accuracy"}}]]}
    kwargs = compile_config.compile_from_keras(settings_, SOURCE)
    assert kwargs["metrics"] == [["categorical_accuracy"]] and kwargs["loss"] == "categorical_crossentropy"
    assert kwargs["optimizer"].get_config()["nesterov"] is True
    assert kwargs["optimizer"].get_config()["learning_rate"]["class_name"] == "ExponentialDecay"


@pytest.mark.parametrize("settings_, words", [
    ({"optimizer": {"module": "keras.optimizers", "class_name": "Muon", "config": {}, "registered_name": None}},
     ["'optimizer'", "Muon", "adam"]),
    ({"optimizer": {"class_name": "Adam", "config": {"learning_rate": 0.1, "decay": 0.5}}},
     ["'optimizer.decay'", "default 0.0"]),
    ({"loss": {"module": "keras.losses", "class_name": "CTC", "config": {}, "registered_name": None}},
     ["'loss'", "CTC"]),
    ({"metrics": ["accuracy", "not_a_metric"]}, ["'metrics[1]'", "not_a_metric"]),
])
def test_unsupported_compile_settings_are_refused_by_name(settings_, words):
    with pytest.raises(FileFormatError) as caught:
        compile_config.compile_from_keras(settings_, SOURCE)
    assert all(word in str(caught.value) for word in words), str(caught.value)


# ---- masks Keras 3 records as ops ------------------------------------------------------------------------------
def _masked_lstm_model(mask_zero, explicit):
    ids = keras.Input((6,), dtype="int32")
    embedded = KL.Embedding(10, 3, mask_zero=mask_zero, name="embed")(ids)
    if explicit == "not_equal":
        return keras.Model(ids, KL.LSTM(2, name="rnn")(embedded, mask=keras.ops.not_equal(ids, 0)))
    if explicit == "other":
        return keras.Model(ids, KL.LSTM(2, name="rnn")(embedded, mask=keras.ops.not_equal(ids, 3)))
    return keras.Model(ids, KL.LSTM(2, name="rnn")(embedded))


def test_a_recorded_mask_neurona_propagates_is_dropped_with_its_op_nodes():
    data_ = json.loads(_masked_lstm_model(True, None).to_json())
    assert any(item["class_name"] == "NotEqual" for item in data_["config"]["layers"])  # what Keras 3.15 writes
    entry = config.from_keras(data_, SOURCE)
    names = [item["class_name"] for item in entry["config"]["layers"]]
    assert names == ["InputLayer", "Embedding", "LSTM"]
    assert entry["config"]["layers"][2]["inbound_nodes"][0]["kwargs"] == {}


@pytest.mark.parametrize("mask_zero, explicit", [(False, "not_equal"), (True, "other")],
                         ids=["mask without mask_zero", "another comparison"])
def test_a_mask_neurona_would_not_compute_is_refused(mask_zero, explicit):
    data_ = json.loads(_masked_lstm_model(mask_zero, explicit).to_json())
    with pytest.raises(FileFormatError, match=r"layer 'rnn' \(LSTM\).*its mask comes from Keras's op 'NotEqual'"):
        config.from_keras(data_, SOURCE)


def test_a_mask_given_as_an_input_is_refused():
    x, flags = keras.Input((6, 3)), keras.Input((6,), dtype="bool")
    data_ = json.loads(keras.Model([x, flags], KL.GRU(2, name="rnn")(x, mask=flags)).to_json())
    with pytest.raises(FileFormatError, match=r"layer 'rnn' \(GRU\).*given mask="):
        config.from_keras(data_, SOURCE)


def test_a_keras_functional_model_trains_with_its_dropout_after_loading():
    """Keras 3 records ``training: false`` in every node whose layer takes it and overrides it with the model's
    flag when it runs; a loaded model must too, or fit would train without its dropout."""
    x = keras.Input((5, 3))
    y = KL.Dense(2)(KL.Dropout(0.5)(KL.LSTM(4, dropout=0.5, recurrent_dropout=0.5)(x)))
    data_ = json.loads(keras.Model(x, y).to_json())
    assert any(node.get("kwargs", {}).get("training") is False for item in data_["config"]["layers"]
               for node in item["inbound_nodes"])  # what Keras 3.15 writes
    model = nr.models.model_from_json(json.dumps(data_))
    inputs = np.random.default_rng(0).standard_normal((8, 5, 3)).astype("float32")
    inference = model(inputs, training=False).numpy()
    np.testing.assert_array_equal(model(inputs).numpy(), inference)
    assert not np.allclose(model(inputs, training=True).numpy(), inference)


def test_a_mask_from_another_branch_is_refused():
    """An Embedding's mask given by hand to an LSTM on another input: the NotEqual is one Neurona recognizes, but
    the LSTM's input does not come from that Embedding, so Neurona would not bring the mask there."""
    ids, features = keras.Input((6,), dtype="int32"), keras.Input((6, 3))
    embedded = KL.Embedding(10, 3, mask_zero=True, name="embed")(ids)
    lstm = KL.LSTM(2, name="rnn")(features, mask=keras.ops.not_equal(ids, 0))
    data_ = json.loads(keras.Model([ids, features], [KL.GlobalAveragePooling1D()(embedded), lstm]).to_json())
    with pytest.raises(FileFormatError, match=r"layer 'rnn' \(LSTM\).*given mask=.*not a mask Neurona computes"):
        config.from_keras(data_, SOURCE)


def test_a_mask_keras_computes_with_other_ops_is_refused_naming_the_layer_that_takes_it():
    ids = keras.Input((6,), dtype="int32")
    a, b = KL.Embedding(10, 3, mask_zero=True)(ids), KL.Embedding(10, 3, mask_zero=True)(ids)
    out = KL.LSTM(2, name="rnn")(KL.Concatenate(name="join")([a, b]))
    data_ = json.loads(keras.Model(ids, out).to_json())
    with pytest.raises(FileFormatError, match=r"layer 'rnn' \(LSTM\).*its mask comes from Keras's op "
                                              r"'\w+'.*Concatenate"):
        config.from_keras(data_, SOURCE)


def test_a_stateful_recurrent_layer_is_refused_by_its_option():
    model = keras.Sequential([keras.Input((5, 3), batch_size=4), KL.GRU(2, stateful=True, name="carry")])
    with pytest.raises(FileFormatError, match=r"layer 'carry' \(GRU\).*option 'stateful' is True; Neurona supports "
                                              "False"):
        config.from_keras(json.loads(model.to_json()), SOURCE)


def test_mixed_precision_layers_keep_their_policy_both_ways():
    model = keras.Sequential([keras.Input((6,)), KL.Dense(5, activation="relu", dtype="mixed_float16", name="half"),
                              KL.Dense(3, activation="softmax", dtype="mixed_bfloat16", name="brain"),
                              KL.Dense(2, name="full")])
    randomize(model)
    rebuilt = to_neurona(model)
    policies = [(layer.dtype_policy.name, layer.compute_dtype, layer.variable_dtype) for layer in rebuilt.layers]
    assert policies == [("mixed_float16", "float16", "float32"), ("mixed_bfloat16", "bfloat16", "float32"),
                        ("float32", "float32", "float32")]
    rebuilt.set_weights(model.get_weights())
    x = data(8, 6)
    # Keras and Neurona both run the first two layers in 16 bits: equal within those layers' rounding
    np.testing.assert_allclose(rebuilt.predict(x, verbose=0), np.asarray(model.predict(x, verbose=0)), atol=2e-2)
    assert_round_trip(model, rebuilt)
