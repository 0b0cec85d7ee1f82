"""Keras's files both ways, against the real Keras package: every layer type both have, every file form.

Keras -> Neurona: a model built in Keras with random weights (moving statistics too) is saved as
``model.json`` + ``model.h5`` (``to_json()`` and the legacy ``keras.saving.save_model(model, "m.h5")``), as
``model.json`` + ``x.weights.h5`` (Keras 3's ``save_weights``), as a ``.keras`` archive and as a legacy ``m.h5``
alone; Neurona loads each (``load_model`` on the folder, the archive and the file; ``model_from_json`` +
``load_weights``) and predicts within 1e-6 of Keras on the same float32 input. Neurona -> Keras: the same model
built in Neurona is written with ``to_json(format="keras")``, ``save_weights(..., format="keras")`` (both
layouts), ``save("m.keras")`` and ``save("m.h5")``, and Keras loads and predicts the same.

Both libraries build each model from one builder (``lib`` is ``keras`` or ``neurona``), since the names agree.
"""

import json

import numpy as np
import pytest

keras = pytest.importorskip("keras")

import neurona as nr  # noqa: E402

ATOL = 1e-6
BATCH = 4


# ---- the models: one builder per layer type, called with lib = keras or neurona --------------------------------
def _seq(lib, shape, *layer_list):
    return lib.Sequential([lib.Input(shape), *layer_list])


def dense(lib):
    L = lib.layers
    return _seq(lib, (6,), L.Dense(5, activation="tanh", kernel_initializer=lib.initializers.HeNormal(seed=3)),
                L.Dense(3, use_bias=False))


def conv1d(lib):
    L = lib.layers
    return _seq(lib, (12, 3), L.Conv1D(4, 3, strides=2, padding="same", activation="relu"),
                L.Conv1D(2, 2, dilation_rate=2))


def conv2d(lib):
    L = lib.layers
    return _seq(lib, (9, 9, 2), L.Conv2D(4, (3, 2), padding="same", activation="relu"),
                L.Conv2D(3, 3, strides=2, kernel_regularizer=lib.regularizers.L2(1e-3)))


def pooling1d(lib):
    L = lib.layers
    return _seq(lib, (10, 3), L.MaxPooling1D(2), L.AveragePooling1D(2, strides=1, padding="same"),
                L.Conv1D(2, 1))


def pooling2d(lib):
    L = lib.layers
    return _seq(lib, (8, 8, 2), L.MaxPooling2D((2, 2)), L.AveragePooling2D(2, strides=1, padding="same"),
                L.Conv2D(2, 1))


def global_pooling(lib):
    L = lib.layers
    inputs = lib.Input((6, 6, 3))
    seq = lib.Input((7, 3))
    a = L.GlobalMaxPooling2D()(inputs)
    b = L.GlobalAveragePooling2D()(inputs)
    c = L.GlobalMaxPooling1D()(seq)
    d = L.GlobalAveragePooling1D()(seq)
    return lib.Model([inputs, seq], L.Dense(2)(L.Concatenate()([a, b, c, d])))


def dropout_flatten_reshape(lib):
    L = lib.layers
    return _seq(lib, (4, 6), L.Reshape((6, 4)), L.Dropout(0.3), L.Identity(), L.Flatten(),
                L.Dense(3, activation="softmax"))


def normalization(lib):
    """The preprocessing layer, adapted on data (Keras keeps a third variable, the sample count)."""
    L = lib.layers
    norm = L.Normalization(axis=-1)
    norm.adapt(np.random.default_rng(5).normal(3.0, 2.0, (64, 5)).astype("float32"))
    return _seq(lib, (5,), norm, L.Dense(2))


def batch_normalization(lib):
    L = lib.layers
    return _seq(lib, (5, 5, 3), L.Conv2D(4, 3), L.BatchNormalization(momentum=0.9, epsilon=1e-3),
                L.Flatten(), L.Dense(4), L.BatchNormalization(center=False))


def layer_normalization(lib):
    L = lib.layers
    return _seq(lib, (7,), L.Dense(6), L.LayerNormalization(epsilon=1e-5), L.Activation("relu"), L.Dense(2))


def group_normalization(lib):
    L = lib.layers
    return _seq(lib, (4, 4, 6), L.GroupNormalization(groups=3), L.Conv2D(2, 1))


def merging(lib):
    L = lib.layers
    a, b = lib.Input((5,)), lib.Input((5,))
    x, y = L.Dense(4)(a), L.Dense(4)(b)
    merged = [L.Add()([x, y]), L.Subtract()([x, y]), L.Multiply()([x, y]), L.Average()([x, y]),
              L.Maximum()([x, y]), L.Minimum()([x, y]), L.Dot(axes=1)([x, y])]
    return lib.Model([a, b], L.Dense(3)(L.Concatenate(axis=-1)(merged)))


def nested_and_shared(lib):
    L = lib.layers
    inner = lib.Sequential([lib.Input((5,)), L.Dense(4, activation="relu"), L.Dense(4)], name="inner")
    a, b = lib.Input((5,)), lib.Input((5,))
    shared = L.Dense(5, name="shared")
    return lib.Model([a, b], [inner(shared(a)), L.Dense(2)(shared(b))])


def nested_functional(lib):
    """A functional model inside one (Keras 3's legacy .h5 writes it without modules, in Keras 3's layout)."""
    L = lib.layers
    inner_in = lib.Input((5,))
    inner = lib.Model(inner_in, [L.Dense(3, name="head_a")(inner_in), L.Dense(2, name="head_b")(inner_in)],
                      name="heads")
    x = lib.Input((5,))
    a, b = inner(L.Dense(5, name="stem")(x))
    return lib.Model(x, L.Concatenate()([a, b]))


def branches_of_different_depths(lib):
    """Keras orders a graph's layers deepest first (map_graph), not as created: here "b" and "c" come before "a",
    and the weight files follow that order (all three kernels have one shape, so a mix-up would go unnoticed)."""
    L = lib.layers
    x = lib.Input((4,))
    shared = L.Dense(4, name="shared")
    y1 = L.Dense(4, name="a")(shared(x))
    y2 = L.Dense(4, name="c")(L.Dense(4, name="b", activation="tanh")(x))
    return lib.Model(x, [y1, L.Add()([y2, shared(y2)])])


def recurrent(lib):
    L = lib.layers
    return _seq(lib, (6, 3), L.SimpleRNN(4, return_sequences=True), L.LSTM(3, return_sequences=True,
                                                                              go_backwards=True),
                L.GRU(3, return_sequences=True, reset_after=False), L.GRU(2, recurrent_activation="hard_sigmoid"))


def recurrent_cells(lib):
    L = lib.layers
    return _seq(lib, (5, 3), L.RNN(L.GRUCell(3), return_sequences=True), L.RNN(L.LSTMCell(2), go_backwards=True))


def sequence_wrappers(lib):
    L = lib.layers
    return _seq(lib, (5, 3), L.Bidirectional(L.LSTM(3, return_sequences=True)), L.TimeDistributed(L.Dense(2)),
                L.Bidirectional(L.GRU(2), merge_mode="sum"))


def masked_embedding(lib):
    L = lib.layers
    return lib.Sequential([lib.Input((7,), dtype="int32"), L.Embedding(10, 4, mask_zero=True),
                           L.LSTM(3, return_sequences=True), L.GlobalAveragePooling1D()])


def masking(lib):
    L = lib.layers
    return _seq(lib, (5, 3), L.Masking(0.0), L.SimpleRNN(3, return_sequences=True), L.GRU(2))


def masked_functional(lib):
    """Keras 3 records the masks of a functional model as ops on symbolic tensors (NotEqual, Any) passed to the
    layers' ``mask=``: a file of Keras's holds them, and Neurona propagates the same masks itself."""
    L = lib.layers
    ids, features = lib.Input((6,), dtype="int32"), lib.Input((6, 3))
    x = L.Bidirectional(L.GRU(2, return_sequences=True))(L.LSTM(3, return_sequences=True)(L.Embedding(
        10, 3, mask_zero=True)(ids)))
    y = L.SimpleRNN(2)(L.Masking(0.0)(features))
    return lib.Model([ids, features], [L.GlobalAveragePooling1D()(L.Dense(2)(x)), y])


def attention(lib):
    L = lib.layers
    query, value = lib.Input((4, 3)), lib.Input((5, 3))
    dot = L.Attention()([query, value])
    concat = L.Attention(use_scale=True, score_mode="concat")([query, value, value])
    return lib.Model([query, value], L.Concatenate()([dot, concat]))


def multi_head_attention(lib):
    """A Transformer block (residual, LayerNormalization, a causal second attention) and masked attention over
    padded ids, whose padded query rows take Keras's two paths (dropout: zero weights; none: uniform ones).
    (Keras removes the masks of the tensors its MultiHeadAttention is called on, at run time only, which Neurona
    does not copy: see the layer's docstring; the masked tensor is not reused after the attention here.)"""
    L = lib.layers
    ids, features = lib.Input((6,), dtype="int32"), lib.Input((5, 4))
    x = L.LayerNormalization()(L.Add()([features, L.MultiHeadAttention(2, 3, dropout=0.1)(features, features)]))
    y = L.MultiHeadAttention(3, 2, value_dim=4, output_shape=5, use_bias=False)(x, x, use_causal_mask=True)
    embedded, again = L.Embedding(10, 4, mask_zero=True)(ids), L.Embedding(10, 4, mask_zero=True)(ids)
    fused = L.MultiHeadAttention(2, 2)(embedded, embedded)
    explicit = L.MultiHeadAttention(2, 2, dropout=0.2)(again, again)
    return lib.Model([ids, features], [L.GlobalAveragePooling1D()(y), fused, explicit])


def seq2seq(lib):
    """An encoder's final states as the decoder's initial_state (call arguments that are tensors), and the
    attention weights as a second output (return_attention_scores)."""
    L = lib.layers
    source, target = lib.Input((5, 3)), lib.Input((4, 3))
    _, h, c = L.LSTM(3, return_state=True)(source)
    decoded = L.LSTM(3, return_sequences=True)(target, initial_state=[h, c])
    attended, scores = L.Attention()([decoded, decoded], return_attention_scores=True, use_causal_mask=True)
    return lib.Model([source, target], [L.TimeDistributed(L.Dense(2))(attended), scores])


SEQUENCE_BUILDERS = [recurrent, recurrent_cells, sequence_wrappers, masked_embedding, masking, masked_functional,
                     attention, multi_head_attention, seq2seq]
BUILDERS = [dense, conv1d, conv2d, pooling1d, pooling2d, global_pooling, dropout_flatten_reshape, normalization,
            batch_normalization, layer_normalization, group_normalization, merging, nested_and_shared,
            nested_functional, branches_of_different_depths] + SEQUENCE_BUILDERS


# ---- helpers ----------------------------------------------------------------------------------------------------
def _inputs(model, rng):
    """Random inputs: token ids in [0, 10) for integer inputs (0 is padding under mask_zero), else normal floats
    with the last steps of the first example zeroed (padding under Masking(0.0))."""
    arrays = []
    for tensor in model.inputs:
        shape = (BATCH,) + tuple(tensor.shape[1:])
        if "int" in str(tensor.dtype):
            arrays.append(rng.integers(0, 10, shape).astype("int32"))
            continue
        array = rng.standard_normal(shape).astype("float32")
        if len(shape) == 3:
            array[0, -2:] = 0.0
        arrays.append(array)
    return arrays if len(arrays) > 1 else arrays[0]


def _randomize(model, rng):
    """Random weights everywhere (moving variances positive), so no weight is at its initial value."""
    weights = []
    for w, current in zip(model.weights, model.get_weights()):
        shape = tuple(w.shape)
        if not np.issubdtype(np.asarray(current).dtype, np.floating):  # Keras's Normalization sample count
            weights.append(current)
            continue
        value = rng.uniform(0.5, 1.5, shape) if "variance" in w.name else rng.normal(0, 0.5, shape)
        weights.append(value.astype("float32"))
    model.set_weights(weights)
    for layer in getattr(model, "layers", []):  # Keras's Normalization computes from its variables only here
        if hasattr(layer, "finalize_state") and type(layer).__name__ == "Normalization":
            layer.finalize_state()


def _outputs(values):
    values = values if isinstance(values, (list, tuple)) else [values]
    return [np.asarray(v, dtype="float64") for v in values]


def _assert_same(expected, actual):
    expected, actual = _outputs(expected), _outputs(actual)
    assert len(expected) == len(actual)
    for e, a in zip(expected, actual):
        assert e.shape == a.shape
        np.testing.assert_allclose(a, e, rtol=0, atol=ATOL * max(1.0, float(np.abs(e).max())))


def _keras_predict(model, x):
    return model.predict(x, verbose=0)


def _neurona_predict(model, x):
    return model.predict(x, verbose=0)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def _keras_model(builder, rng):
    model = builder(keras)
    _randomize(model, rng)
    return model


def _neurona_model(builder, rng):
    nr.seed(0)
    model = builder(nr)
    _randomize(model, rng)
    return model


# ---- Keras -> Neurona -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("builder", BUILDERS, ids=lambda b: b.__name__)
def test_keras_files_load_into_neurona(builder, rng, tmp_path):
    km = _keras_model(builder, rng)
    x = _inputs(km, rng)
    expected = _keras_predict(km, x)
    text = km.to_json()

    folder = tmp_path / "article"  # the deployment article's pair: model.json + model.h5
    folder.mkdir()
    (folder / "model.json").write_text(text)
    keras.saving.save_model(km, folder / "model.h5")
    _assert_same(expected, _neurona_predict(nr.models.load_model(folder), x))

    km.save_weights(tmp_path / "x.weights.h5")  # Keras 3's weights layout, with the JSON
    model = nr.models.model_from_json(text)
    model.load_weights(tmp_path / "x.weights.h5")
    _assert_same(expected, _neurona_predict(model, x))

    model = nr.models.model_from_json(text)  # the legacy layout through load_weights too
    model.load_weights(folder / "model.h5")
    _assert_same(expected, _neurona_predict(model, x))

    km.save(tmp_path / "m.keras")
    _assert_same(expected, _neurona_predict(nr.models.load_model(tmp_path / "m.keras"), x))
    _assert_same(expected, _neurona_predict(nr.models.load_model(folder / "model.h5"), x))


# ---- Neurona -> Keras -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("builder", BUILDERS, ids=lambda b: b.__name__)
def test_neurona_files_load_into_keras(builder, rng, tmp_path):
    model = _neurona_model(builder, rng)
    x = _inputs(model, rng)
    expected = _neurona_predict(model, x)

    km = keras.models.model_from_json(model.to_json(format="keras"))
    model.save_weights(tmp_path / "x.weights.h5", format="keras")
    km.load_weights(tmp_path / "x.weights.h5")
    _assert_same(expected, _keras_predict(km, x))

    km = keras.models.model_from_json(model.to_json(format="keras"))
    model.save_weights(tmp_path / "legacy.h5", format="keras")
    km.load_weights(tmp_path / "legacy.h5")
    _assert_same(expected, _keras_predict(km, x))

    model.save(tmp_path / "m.keras")
    _assert_same(expected, _keras_predict(keras.models.load_model(tmp_path / "m.keras"), x))
    model.save(tmp_path / "m.h5")
    _assert_same(expected, _keras_predict(keras.models.load_model(tmp_path / "m.h5"), x))


@pytest.mark.parametrize("builder", [dense, conv2d, batch_normalization, nested_and_shared],
                         ids=lambda b: b.__name__)
def test_keras_json_round_trip_is_the_same_architecture(builder):
    """Keras JSON -> Neurona -> Keras JSON: Keras rebuilds the same layers, options and weight shapes."""
    km = builder(keras)
    back = keras.models.model_from_json(nr.models.model_from_json(km.to_json()).to_json(format="keras"))
    assert [type(layer).__name__ for layer in back.layers] == [type(layer).__name__ for layer in km.layers]
    assert [layer.name for layer in back.layers] == [layer.name for layer in km.layers]
    assert [tuple(w.shape) for w in back.weights] == [tuple(w.shape) for w in km.weights]
    for ours, theirs in zip(back.layers, km.layers):
        mine, reference = ours.get_config(), theirs.get_config()
        for key in ("units", "filters", "kernel_size", "strides", "padding", "activation", "use_bias",
                    "kernel_initializer", "kernel_regularizer", "epsilon", "momentum", "axis"):
            if key in reference:
                assert json.dumps(mine.get(key), sort_keys=True) == json.dumps(reference[key], sort_keys=True), \
                    (theirs.name, key)


def test_the_article_flow_keras_cnn_served_inputs_predict_alike(rng, tmp_path):
    """The deployment article's MNIST CNN: Keras's model.json + model.h5 load and predict as in Keras."""
    L = keras.layers
    km = keras.Sequential([keras.Input((28, 28, 1)), L.Conv2D(8, 3, activation="relu"), L.MaxPooling2D(2),
                           L.Flatten(), L.Dropout(0.5), L.Dense(10, activation="softmax")])
    _randomize(km, rng)
    (tmp_path / "model.json").write_text(km.to_json())
    keras.saving.save_model(km, tmp_path / "model.h5")
    model = nr.models.load_model(tmp_path)
    pixels = rng.integers(0, 256, (BATCH, 28, 28, 1)).astype("float32") / 255.0
    _assert_same(_keras_predict(km, pixels), _neurona_predict(model, pixels))
    summary = []
    model.summary(print_fn=summary.append)
    assert "GlorotUniform" in "\n".join(summary)


def test_neurona_info_reads_keras_files(rng, tmp_path, capsys):
    from neurona.cli.main import main

    km = _keras_model(conv2d, rng)
    (tmp_path / "model.json").write_text(km.to_json())
    keras.saving.save_model(km, tmp_path / "model.h5")
    km.save(tmp_path / "m.keras")
    for path, kind in ((tmp_path, "model.json + model.h5"), (tmp_path / "m.keras", ".keras archive"),
                       (tmp_path / "model.h5", "HDF5 model file")):
        assert main(["info", str(path)]) == 0
        out = capsys.readouterr().out
        assert "Saved by Keras (Keras" in out and kind in out, out
        assert km.layers[1].name in out and "GlorotUniform" in out


@pytest.mark.parametrize("form", ["m.keras", "m.h5"])
def test_compile_settings_cross_both_ways(form, rng, tmp_path):
    """A compiled model comes back compiled with the same optimizer, loss and metrics, in Keras and in Neurona."""
    model = _neurona_model(dense, rng)
    model.compile(optimizer=nr.optimizers.Adam(learning_rate=0.003, beta_1=0.8), loss="mse", metrics=["mae"])
    model.save(tmp_path / form)
    km = keras.models.load_model(tmp_path / form)
    assert type(km.optimizer).__name__ == "Adam"
    assert km.optimizer.get_config()["beta_1"] == pytest.approx(0.8)
    assert float(km.optimizer.learning_rate) == pytest.approx(0.003)
    x, y = _inputs(model, rng), rng.standard_normal((BATCH, 3)).astype("float32")
    expected = model.evaluate(x, y, verbose=0)
    np.testing.assert_allclose(km.evaluate(x, y, verbose=0), expected, rtol=1e-5)

    km.save(tmp_path / ("k" + form[1:]))
    back = nr.models.load_model(tmp_path / ("k" + form[1:]))
    assert type(back.optimizer).__name__ == "Adam" and back.optimizer.learning_rate == pytest.approx(0.003)
    np.testing.assert_allclose(back.evaluate(x, y, verbose=0), expected, rtol=1e-5)


def test_keras_compile_settings_neurona_lacks_leave_the_model_uncompiled_with_a_warning(rng, tmp_path, caplog):
    km = _keras_model(dense, rng)
    km.compile(optimizer=keras.optimizers.Muon(), loss="mse")
    km.save(tmp_path / "muon.keras")
    with caplog.at_level("WARNING", logger="neurona.saving.keras.files"):
        model = nr.models.load_model(tmp_path / "muon.keras")
    assert model.optimizer is None and "uncompiled" in caplog.text and "Muon" in caplog.text
    assert nr.models.load_model(tmp_path / "muon.keras", compile=False).optimizer is None


@pytest.mark.parametrize("builder", [merging, nested_and_shared, branches_of_different_depths],
                         ids=lambda b: b.__name__)
def test_weight_files_follow_kerass_layer_order(builder):
    """The order the weight files use is the order Keras itself gives the rebuilt model's layers."""
    from neurona.saving.keras.graph_order import keras_layers

    nr.seed(0)
    model = builder(nr)
    km = keras.models.model_from_json(model.to_json(format="keras"))
    assert [layer.name for layer in keras_layers(model)] == [layer.name for layer in km.layers]


def test_by_name_is_refused_for_keras_weight_files(rng, tmp_path):
    km = _keras_model(dense, rng)
    km.save_weights(tmp_path / "x.weights.h5")
    keras.saving.save_model(km, tmp_path / "m.h5")
    km.save(tmp_path / "m.keras")
    model = nr.models.model_from_json(km.to_json())
    before = model.get_weights()
    for name in ("x.weights.h5", "m.h5", "m.keras"):
        with pytest.raises(ValueError, match="by_name=True"):
            model.load_weights(tmp_path / name, by_name=True)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_a_compiled_mixed_float16_model_crosses_both_ways(rng, tmp_path):
    """Under the global mixed_float16 policy: the input stays float32 (as Keras writes it), the layers carry the
    policy, and compile's LossScaleOptimizer (with its inner Adam) is one that Keras rebuilds."""
    nr.mixed_precision.set_policy("mixed_float16")
    try:
        model = nr.Sequential([nr.Input((6,)), nr.layers.Dense(5, activation="relu"), nr.layers.Dense(3)])
        model.compile(optimizer=nr.optimizers.Adam(learning_rate=0.003), loss="mse")
    finally:
        nr.mixed_precision.set_policy(None)
    model.save(tmp_path / "m.keras")
    km = keras.models.load_model(tmp_path / "m.keras")
    assert type(km.optimizer).__name__ == "LossScaleOptimizer"
    assert type(km.optimizer.inner_optimizer).__name__ == "Adam"
    assert [layer.dtype_policy.name for layer in km.layers] == ["mixed_float16", "mixed_float16"]
    x = rng.standard_normal((BATCH, 6)).astype("float32")
    np.testing.assert_allclose(np.asarray(km.predict(x, verbose=0), np.float32),
                               model.predict(x, verbose=0).astype(np.float32), atol=1e-2)
    km.save(tmp_path / "k.keras")
    back = nr.models.load_model(tmp_path / "k.keras")
    assert type(back.optimizer).__name__ == "LossScaleOptimizer"
    assert [layer.compute_dtype for layer in back.layers] == ["float16", "float16"]
