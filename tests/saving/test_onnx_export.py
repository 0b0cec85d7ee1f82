"""export_onnx: the graph passes onnx's checker and onnxruntime reproduces Neurona's predictions within 1e-5."""

import numpy as np
import pytest

from neurona import layers, models, saving
from neurona.layers import Layer

onnx = pytest.importorskip("onnx", reason="the onnx extra is not installed: pip install 'neurona[onnx]'")


def _run(path, x):
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed: pip install 'neurona[onnx]'")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": x})[0]


def _check_matches(model, x, path, atol=1e-5):
    proto = saving.export_onnx(model, path)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    assert [i.name for i in proto.graph.input] == ["input"] and [o.name for o in proto.graph.output] == ["output"]
    expected = model.predict(x)
    got = _run(path, x)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=0, atol=atol)
    return proto


def test_zoo_models_match_onnxruntime(zoo, kind, tmp_path):
    model = zoo.build(kind)
    x, y = zoo.data(model)
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)  # moving statistics and weights away from their init
    if kind == "lambda":  # a Lambda of a Python function: code that ONNX cannot hold
        with pytest.raises(ValueError, match=r"layer 'lambda\w*' \(Lambda\) calls <function zoo_soft_clip.*no ONNX "
                                             r"converter.*register_converter\('Lambda'\)"):
            saving.export_onnx(model, tmp_path / "m.onnx")
        assert not (tmp_path / "m.onnx").exists()
        return
    if kind in ("recurrent", "text"):  # Keras masks, which an ONNX graph cannot carry: a clear refusal
        with pytest.raises(ValueError, match=r"no ONNX converter for layer '\w+' \(Masking\)"
                                             r"|\(Embedding\) has mask_zero=True"):
            saving.export_onnx(model, tmp_path / "m.onnx")
        assert not (tmp_path / "m.onnx").exists()
        return
    # onnxruntime's integer kernels round a product sum that lies on a code boundary its own way: a code may
    # differ by one step (tests/compression bound it); here a 4-bit kernel's step moves a softmax by < 2e-2
    _check_matches(model, x, tmp_path / "m.onnx", atol=2e-2 if kind == "compressed" else 1e-5)


def test_every_activation(tmp_path):
    names = ["linear", "relu", "sigmoid", "tanh", "softplus", "elu", "selu", "leaky_relu", "gelu", "log_softmax",
             "hard_sigmoid", "relu6", "softsign", "silu", "hard_silu", "mish", "exponential", "softmax"]
    model = models.Sequential([layers.Input((6,)), layers.Dense(6)] + [layers.Activation(n) for n in names])
    x = 3 * np.random.default_rng(0).normal(size=(10, 6)).astype(np.float32)
    _check_matches(model, x, tmp_path / "act.onnx")


def test_strided_same_padding_and_odd_sizes(tmp_path):
    """'same' padding with an odd total pads one more pixel after, as Neurona (and TensorFlow) do."""
    model = models.Sequential([
        layers.Input((9, 7, 3)),
        layers.Conv2D(4, 3, strides=2, padding="same", activation="relu"),
        layers.MaxPooling2D(2, padding="same"),
        layers.Conv2D(2, (2, 1), padding="valid"),
        layers.AveragePooling2D((1, 2), strides=1, padding="same"),
        layers.Flatten(), layers.Dense(3)])
    x = np.random.default_rng(1).normal(size=(5, 9, 7, 3)).astype(np.float32)
    proto = _check_matches(model, x, tmp_path / "cnn.onnx")
    assert [n.op_type for n in proto.graph.node].count("Transpose") == 8  # NHWC <-> NCHW around 4 ops


def test_dropout_is_the_identity_and_batch_size_is_symbolic(tmp_path):
    model = models.Sequential([layers.Input((4,)), layers.Dense(4), layers.Dropout(0.5), layers.Dense(2)])
    proto = saving.export_onnx(model, tmp_path / "d.onnx")
    assert "Dropout" not in {n.op_type for n in proto.graph.node}
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    for n in (1, 7):
        x = np.random.default_rng(n).normal(size=(n, 4)).astype(np.float32)
        np.testing.assert_allclose(_run(tmp_path / "d.onnx", x), model.predict(x), rtol=0, atol=1e-5)


def test_layers_without_a_converter_fail_clearly_and_converters_can_be_registered(tmp_path):
    class Doubler(Layer):
        def call(self, inputs, training=None):
            return inputs * 2.0

    model = models.Sequential([layers.Input((3,)), Doubler(name="twice"), layers.Dense(2)])
    with pytest.raises(ValueError, match=r"no ONNX converter for layer 'twice' \(Doubler\).*register_converter"):
        saving.export_onnx(model, tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()

    @saving.register_converter("Doubler")
    def doubler(layer, graph, x):
        return graph.node("Mul", [x, graph.constant("two", 2.0)])

    x = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    _check_matches(model, x, tmp_path / "x.onnx")


def test_unbuilt_model_is_refused(tmp_path):
    with pytest.raises(ValueError, match="not built"):
        saving.export_onnx(models.Sequential([layers.Dense(2)]), tmp_path / "x.onnx")


def test_embedding_is_a_gather_and_refuses_masks(tmp_path):
    model = models.Sequential([layers.Input((6,), dtype="int64"), layers.Embedding(10, 4), layers.Flatten(),
                               layers.Dense(3)])
    ids = np.random.default_rng(0).integers(0, 10, (5, 6))
    _check_matches(model, ids, tmp_path / "e.onnx")
    masked = models.Sequential([layers.Input((6,), dtype="int64"), layers.Embedding(10, 4, mask_zero=True),
                                layers.GlobalAveragePooling1D()])
    with pytest.raises(ValueError, match="mask_zero=True, but an ONNX graph carries no Keras masks"):
        saving.export_onnx(masked, tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


@pytest.mark.parametrize("stack", [
    lambda: [layers.LSTM(5, return_sequences=True), layers.GRU(4, return_sequences=True, reset_after=False,
                                                                 go_backwards=True),
             layers.SimpleRNN(3, activation="relu", return_sequences=True), layers.LSTM(3, go_backwards=True)],
    lambda: [layers.GRU(4, return_sequences=True), layers.SimpleRNN(3, go_backwards=True, return_sequences=True),
             layers.GRU(2, use_bias=False)],
], ids=["lstm-gru-simple-lstm", "gru-simple-gru"])
def test_recurrent_layers_run_as_onnx_rnn_operators(stack, tmp_path):
    model = models.Sequential([layers.Input((7, 3)), *stack(), layers.Dense(2)])
    rng = np.random.default_rng(1)
    model.set_weights([0.6 * rng.standard_normal(w.shape).astype("float32") for w in model.get_weights()])
    _check_matches(model, rng.standard_normal((4, 7, 3)).astype("float32"), tmp_path / "r.onnx")


def _run_all(path, model, feeds):
    """Every output of onnxruntime's run beside Neurona's predictions, fed by the graph's input names."""
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed: pip install 'neurona[onnx]'")
    proto = saving.export_onnx(model, path)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, dict(zip([i.name for i in session.get_inputs()], feeds)))
    want = model.predict(feeds if len(feeds) > 1 else feeds[0], verbose=0)
    want = want if isinstance(want, list) else [want]
    assert len(got) == len(want) == len(proto.graph.output)
    for a, b in zip(got, want):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-5)


def _randomized(model, rng, scale=0.5):
    model.set_weights([scale * rng.standard_normal(w.shape).astype("float32") for w in model.get_weights()])
    return model


def test_final_states_and_initial_states_of_recurrent_layers(tmp_path):
    """return_state: ONNX's Y_h (and LSTM's Y_c) after the output; initial_state: its initial_h / initial_c (an
    encoder's states handed to a decoder, go_backwards included)."""
    rng = np.random.default_rng(2)
    source, target = layers.Input((5, 3)), layers.Input((4, 3))
    out, h, c = layers.LSTM(3, return_state=True)(source)
    decoded = layers.LSTM(3, return_sequences=True, go_backwards=True)(target, initial_state=[h, c])
    gru, gru_h = layers.GRU(2, return_state=True)(decoded)
    rnn, rnn_h = layers.SimpleRNN(2, return_state=True, return_sequences=True)(decoded, initial_state=gru_h)
    model = _randomized(models.Model([source, target], [out, h, c, gru, gru_h, rnn, rnn_h]), rng)
    _run_all(tmp_path / "s.onnx", model, [rng.standard_normal((3, 5, 3)).astype("float32"),
                                          rng.standard_normal((3, 4, 3)).astype("float32")])


def test_attention_layers_with_causal_masks_and_scores(tmp_path):
    rng = np.random.default_rng(3)
    x = layers.Input((6, 4))
    y = layers.MultiHeadAttention(2, 3)(x, x, use_causal_mask=True)
    z, scores = layers.MultiHeadAttention(3, 2, value_dim=5, output_shape=4, use_bias=False)(
        y, x, return_attention_scores=True)
    dot = layers.Attention(use_scale=True)([z, y], use_causal_mask=True)
    concat, weights = layers.Attention(score_mode="concat")([z, y, x], return_attention_scores=True)
    model = _randomized(models.Model(x, [dot, scores, concat, weights]), rng)
    _run_all(tmp_path / "a.onnx", model, [rng.standard_normal((3, 6, 4)).astype("float32")])


def test_multi_head_attention_with_an_attention_mask_tensor(tmp_path):
    """An attention_mask input: masked scores replaced before the softmax; with dropout (Keras's scores path) a
    row with nothing allowed gets zero weights, without it uniform ones, as the layer computes."""
    rng = np.random.default_rng(4)
    for dropout in (0.0, 0.3):
        x, allowed = layers.Input((5, 4)), layers.Input((5, 5), dtype="bool")
        model = _randomized(models.Model([x, allowed], layers.MultiHeadAttention(2, 2, dropout=dropout)(
            x, x, attention_mask=allowed)), rng)
        mask = rng.random((3, 5, 5)) < 0.6
        mask[0, 2] = False  # a query row with nothing to attend to
        _run_all(tmp_path / f"m{dropout}.onnx", model, [rng.standard_normal((3, 5, 4)).astype("float32"), mask])


def test_multi_head_attention_takes_its_key_however_it_is_passed(tmp_path):
    """The key given by keyword beside a positional value, all by keyword, or positionally: each export reads the
    key (a dropped key would silently attend with the value as the key)."""
    rng = np.random.default_rng(5)
    q, v, k = layers.Input((4, 3)), layers.Input((6, 2)), layers.Input((6, 5))
    mha = layers.MultiHeadAttention(2, 3)
    outs = [mha(q, v, key=k), mha(q, value=v, key=k), mha(q, v, k)]
    model = _randomized(models.Model([q, v, k], outs), rng)
    data = [rng.standard_normal(shape).astype("float32") for shape in ((2, 4, 3), (2, 6, 2), (2, 6, 5))]
    _run_all(tmp_path / "k.onnx", model, data)


def test_an_explicit_mask_none_is_no_mask(tmp_path):
    rng = np.random.default_rng(6)
    x = layers.Input((4, 2))
    model = _randomized(models.Model(x, layers.GRU(3)(x, mask=None)), rng)
    _run_all(tmp_path / "g.onnx", model, [rng.standard_normal((2, 4, 2)).astype("float32")])


def test_call_arguments_a_converter_does_not_take_are_refused(tmp_path):
    x, flags = layers.Input((4, 2)), layers.Input((4,), dtype="bool")
    model = models.Model([x, flags], layers.GRU(3)(x, mask=flags))
    with pytest.raises(ValueError, match=r"layer 'gru\w*' \(GRU\) is called with mask=, which its ONNX converter "
                                         "does not take"):
        saving.export_onnx(model, tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()


def test_recurrent_options_onnx_lacks_are_refused(tmp_path):
    for layer, match in ((layers.SimpleRNN(3, activation="elu"), "activation 'elu'"),):
        inputs = layers.Input((4, 2))
        out = layer(inputs)
        model = models.Model(inputs, out[0] if isinstance(out, list) else out)
        with pytest.raises(ValueError, match=match):
            saving.export_onnx(model, tmp_path / "x.onnx")


def test_a_float64_model_exports_in_float64_or_as_asked(tmp_path):
    """The graph takes the model's dtype (its layers' when it has no weights); ops onnxruntime runs in float32
    only are warned about, and dtype='float32' writes a graph onnxruntime runs."""
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed: pip install 'neurona[onnx]'")
    rng = np.random.default_rng(8)
    plain = models.Sequential([layers.Input((4,)), layers.Activation("tanh", dtype="float64")])
    proto = saving.export_onnx(plain, tmp_path / "t.onnx")
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
    model = _randomized(models.Sequential([layers.Input((5, 3)), layers.Conv1D(4, 2, activation="elu",
                                                                               dtype="float64"),
                                           layers.LSTM(3, dtype="float64")]), rng)
    with pytest.warns(UserWarning, match=r"float64 graph uses Conv, Elu, LSTM, which onnxruntime's CPU provider "
                                         r"runs in float32 only.*dtype='float32'"):
        saving.export_onnx(model, tmp_path / "d.onnx")
    proto = saving.export_onnx(model, tmp_path / "f.onnx", dtype="float32")
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    x = rng.standard_normal((2, 5, 3))
    got = ort.InferenceSession(str(tmp_path / "f.onnx"), providers=["CPUExecutionProvider"]).run(
        None, {"input": x.astype("float32")})[0]
    np.testing.assert_allclose(got, model.predict(x, verbose=0), rtol=0, atol=1e-5)
    with pytest.raises(ValueError, match="dtype must be one of float32, float64 or None"):
        saving.export_onnx(model, tmp_path / "x.onnx", dtype="int8")
    assert not (tmp_path / "x.onnx").exists()
