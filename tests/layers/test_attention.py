"""MultiHeadAttention against real Keras 3 (outputs and attention scores, with every kind of mask), in a
functional Transformer encoder block that trains, saves and reloads, and its bad-input errors."""

import numpy as np
import pytest
from _harness.keras_oracle import numpy_keras

import neurona as nr
from neurona import layers, models


@pytest.mark.parametrize("options", [dict(num_heads=2, key_dim=3), dict(num_heads=3, key_dim=2, value_dim=4),
                                     dict(num_heads=1, key_dim=4, use_bias=False, output_shape=5)],
                         ids=["2 heads", "value_dim", "no bias, output_shape"])
def test_outputs_and_scores_match_real_keras(options, monkeypatch):
    keras = numpy_keras(monkeypatch)
    rng = np.random.default_rng(0)
    query = rng.standard_normal((2, 5, 6)).astype("float32")
    value = rng.standard_normal((2, 4, 3)).astype("float32")
    key = rng.standard_normal((2, 4, 2)).astype("float32")
    theirs = keras.layers.MultiHeadAttention(**options)
    theirs(query, value, key)
    ours = layers.MultiHeadAttention(**options)
    ours(nr.Tensor(query), value, key)
    assert [w.shape for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    ours.set_weights([np.asarray(w) for w in theirs.get_weights()])
    # (no query_mask: Keras 3.15 replaces that argument by the query tensor's own mask, which a NumPy array has
    # not; test_an_explicit_query_mask_masks_whole_query_rows covers it)
    masks = {"value_mask": np.array([[1, 1, 0, 0], [1, 1, 1, 0]], bool),
             "key_mask": np.array([[1, 1, 1, 0], [1, 0, 1, 1]], bool),
             "attention_mask": rng.random((2, 5, 4)) > 0.3}
    for kwargs in ({}, {"use_causal_mask": True}, masks, {**masks, "use_causal_mask": True},
                   {"attention_mask": np.zeros((2, 5, 4), bool)}):  # nothing to attend to: zero probabilities
        got = ours(nr.Tensor(query), value, key, return_attention_scores=True, **kwargs)
        want = theirs(query, value, key, return_attention_scores=True, **kwargs)
        for a, b in zip(got, want):
            np.testing.assert_allclose(a.numpy(), np.asarray(b), rtol=1e-5, atol=1e-6, err_msg=str(sorted(kwargs)))


def test_an_explicit_query_mask_masks_whole_query_rows():
    """``query_mask`` (B, T) is ``attention_mask`` with every key of a masked query step masked."""
    rng = np.random.default_rng(2)
    query, value = nr.Tensor(rng.standard_normal((2, 5, 3))), nr.Tensor(rng.standard_normal((2, 4, 3)))
    attention = layers.MultiHeadAttention(2, 2, dtype="float64")
    query_mask = np.array([[1, 1, 1, 0, 0], [1, 0, 1, 1, 1]], bool)
    got = attention(query, value, query_mask=query_mask, return_attention_scores=True)
    want = attention(query, value, attention_mask=np.repeat(query_mask[:, :, None], 4, axis=2),
                     return_attention_scores=True)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not got[1].numpy()[0, :, 3:].any()  # masked query steps attend to nothing


def test_keras_masks_of_the_inputs_are_used(monkeypatch):
    """Embedding(mask_zero) before self-attention: padded keys get no attention, as in Keras."""
    keras = numpy_keras(monkeypatch)
    ids = np.array([[3, 4, 5, 0, 0], [1, 2, 0, 0, 0]])

    def stack(module):
        inputs = module.Input((5,), dtype="int64")
        x = module.layers.Embedding(8, 4, mask_zero=True)(inputs) if module is keras else \
            layers.Embedding(8, 4, mask_zero=True)(inputs)
        attention = (keras.layers if module is keras else layers).MultiHeadAttention(2, 2)
        return (keras.Model if module is keras else models.Model)(inputs, attention(x, x))

    ours, theirs = stack(nr), stack(keras)
    theirs.set_weights(ours.get_weights())
    got, want = ours.predict(ids, verbose=0), np.asarray(theirs.predict(ids, verbose=0))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)  # the padded query rows too (Keras's fused path)


def test_a_padded_query_row_gets_kerass_result_on_either_of_its_paths(monkeypatch):
    """Nothing to attend to: Keras's explicit path (dropout, or the scores asked for) gives zero weights (the
    output is the output bias), its fused path uniform weights over every value step; Neurona follows both."""
    keras = numpy_keras(monkeypatch)
    rng = np.random.default_rng(4)
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 0]], bool)
    x = rng.standard_normal((2, 5, 4)).astype("float32") * mask[:, :, None]  # zero steps: Masking's padding
    for options, call in (({}, {}), ({"dropout": 0.3}, {}), ({}, {"return_attention_scores": True})):
        ours, theirs = layers.MultiHeadAttention(2, 3, **options), keras.layers.MultiHeadAttention(2, 3, **options)
        ours(nr.Tensor(x), x)
        theirs(x, x)
        weights = [rng.standard_normal(w.shape).astype("float32") for w in ours.weights]
        ours.set_weights(weights)
        theirs.set_weights(weights)
        masked = keras.layers.Masking()(x)  # Keras reads the query's mask from the tensor only
        want = theirs(masked, masked, **call)
        got = ours(nr.Tensor(x), x, query_mask=mask, value_mask=mask, **call)
        for a, b in zip(got if call else [got], want if call else [want]):
            np.testing.assert_allclose(a.numpy(), np.asarray(b), rtol=1e-5, atol=1e-5, err_msg=str(options | call))
        rows = (got[0] if call else got).numpy()[~mask]
        bias = weights[-1]
        if options or call:
            np.testing.assert_allclose(rows, np.broadcast_to(bias, rows.shape), rtol=1e-6)
        else:
            assert not np.allclose(rows, bias)


@layers.register
class TokenAndPosition(layers.Layer):
    """Token embeddings plus learned position embeddings (the keras-io text-classification Transformer's)."""

    def __init__(self, steps, vocabulary, width, **kwargs):
        super().__init__(**kwargs)
        self.steps, self.vocabulary, self.width = steps, vocabulary, width
        self.tokens = layers.Embedding(vocabulary, width)
        self.positions = layers.Embedding(steps, width)

    def build(self, input_shape):  # the sublayers' weights exist before a first call (a loaded model needs them)
        self.tokens.build_for(input_shape)
        self.positions.build_for((self.steps,))

    def call(self, ids):
        return self.tokens(ids) + self.positions(nr.ops.arange(ids.shape[-1]))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.width,)

    def get_config(self):
        return {**super().get_config(), "steps": self.steps, "vocabulary": self.vocabulary, "width": self.width}


def _encoder(steps=6, vocabulary=12, width=8):
    """A Transformer encoder block (Vaswani et al. 2017) with learned positions: self-attention and a
    feed-forward layer, each with a residual connection and layer normalization."""
    inputs = nr.Input((steps,), dtype="int64")
    x = TokenAndPosition(steps, vocabulary, width)(inputs)
    attended = layers.MultiHeadAttention(num_heads=2, key_dim=width // 2)(x, x)
    x = layers.LayerNormalization()(x + attended)
    x = layers.LayerNormalization()(x + layers.Dense(width)(layers.Dense(16, activation="relu")(x)))
    outputs = layers.Dense(2, activation="softmax")(layers.GlobalAveragePooling1D()(x))
    return models.Model(inputs, outputs)


def test_a_transformer_encoder_learns_to_find_a_token_saves_and_reloads(tmp_path):
    """Class 1 when token 7 appears anywhere: attention has to look at every position."""
    rng = np.random.default_rng(1)
    ids = rng.integers(1, 12, (256, 6))
    ids[ids == 7] = 8
    labels = rng.integers(0, 2, 256)
    ids[labels == 1, rng.integers(0, 6, int(labels.sum()))] = 7
    nr.seed(3)
    model = _encoder()
    model.compile(optimizer=nr.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(ids, labels, epochs=30, batch_size=32, verbose=0)
    assert history.history["accuracy"][-1] > 0.95
    model.save(tmp_path / "m")
    np.testing.assert_array_equal(models.load_model(tmp_path / "m").predict(ids, verbose=0),
                                  model.predict(ids, verbose=0))


def test_bad_input_is_refused_with_a_clear_error():
    with pytest.raises(ValueError, match="num_heads must be a positive integer"):
        layers.MultiHeadAttention(0, 2)
    with pytest.raises(NotImplementedError, match="attention_axes"):
        layers.MultiHeadAttention(2, 2, attention_axes=(1, 2))
    attention = layers.MultiHeadAttention(2, 2)
    x = nr.Tensor(np.zeros((2, 3, 4), "float32"))
    with pytest.raises(ValueError, match=r"value of shape \(batch, steps, features\)"):
        attention(x, np.zeros((2, 4)))
    with pytest.raises(ValueError, match="same number of steps"):
        attention(x, np.zeros((2, 5, 4)), np.zeros((2, 6, 4)))
    with pytest.raises(ValueError, match=r"attention_mask must have shape \(2, 3, 3\)"):
        attention(x, x, attention_mask=np.ones((2, 4, 3), bool))


def test_the_transformer_encoder_example_builds_trains_a_step_and_reloads(tmp_path):
    """examples/transformer_encoder.py: two blocks on (28, 28) rows, one training step, a saved round trip."""
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).resolve().parents[2] / "examples" / "transformer_encoder.py"
    spec = importlib.util.spec_from_file_location("transformer_encoder_example", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    model = example.build_model(width=16, heads=2, hidden=32, blocks=2)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(4)
    x, y = rng.random((8, 28, 28)).astype("float32"), rng.integers(0, 10, 8)
    before = model.get_weights()
    model.train_on_batch(x, y)
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    model.save(tmp_path / "m")
    np.testing.assert_array_equal(models.load_model(tmp_path / "m").predict(x, verbose=0), model.predict(x, verbose=0))


# ---- layers.Attention (no projections: dot or concat scores) ---------------------------------------------------
@pytest.mark.parametrize("options", [{}, {"use_scale": True}, {"score_mode": "concat"},
                                     {"score_mode": "concat", "use_scale": True}],
                         ids=["dot", "dot, scale", "concat", "concat, scale"])
def test_attention_matches_real_keras(options, monkeypatch):
    keras = numpy_keras(monkeypatch)
    rng = np.random.default_rng(5)
    query = rng.standard_normal((2, 4, 3)).astype("float32")
    value = rng.standard_normal((2, 5, 3)).astype("float32")
    key = rng.standard_normal((2, 5, 3)).astype("float32")
    ours, theirs = layers.Attention(**options), keras.layers.Attention(**options)
    ours([nr.Tensor(query), value, key])
    theirs([query, value, key])
    weights = [np.asarray(1.3 + i, "float32") for i in range(len(theirs.get_weights()))]
    ours.set_weights(weights)
    theirs.set_weights(weights)
    query_mask = np.array([[1, 1, 1, 0], [1, 1, 1, 1]], bool)
    value_mask = np.array([[1, 1, 0, 0, 0], [1, 1, 1, 1, 0]], bool)
    for inputs in ([query, value], [query, value, key]):
        for kwargs in ({}, {"mask": [query_mask, value_mask]}, {"use_causal_mask": True},
                       {"mask": [None, value_mask], "use_causal_mask": True}):
            got = ours([nr.Tensor(inputs[0]), *inputs[1:]], return_attention_scores=True, **kwargs)
            want = theirs(inputs, return_attention_scores=True, **kwargs)
            for a, b in zip(got, want):
                np.testing.assert_allclose(a.numpy(), np.asarray(b), rtol=1e-5, atol=1e-6,
                                           err_msg=f"{len(inputs)} inputs, {sorted(kwargs)}")


def test_attention_arguments_are_checked():
    with pytest.raises(ValueError, match="score_mode must be one of"):
        layers.Attention(score_mode="add")
    with pytest.raises(ValueError, match=r"\[query, value\]"):
        layers.Attention()(nr.Tensor(np.zeros((2, 3, 4), "float32")))


def test_attention_dropout_returns_the_weights_it_applied():
    """In training the returned scores are the dropped weights the output was computed with (Keras's
    Attention): output == scores @ value exactly, some weights are 0 and the kept ones are scaled by 1/(1-p)."""
    rng = np.random.default_rng(2)
    query, value = rng.standard_normal((3, 6, 4)), rng.standard_normal((3, 7, 4))
    layer = layers.Attention(dropout=0.5, seed=1, dtype="float64")
    out, scores = layer([nr.Tensor(query), value], return_attention_scores=True, training=True)
    np.testing.assert_allclose(out.numpy(), scores.numpy() @ value, rtol=1e-12)
    clean = layer([nr.Tensor(query), value], return_attention_scores=True)[1].numpy()
    dropped = scores.numpy() == 0
    assert 0.3 < dropped.mean() < 0.7
    np.testing.assert_allclose(scores.numpy()[~dropped], 2.0 * clean[~dropped], rtol=1e-12)


# ---- against PyTorch: the projections and torch's scaled_dot_product_attention, float64 --------------------------
@pytest.mark.parametrize("case", ["plain", "causal", "masked", "cross, no bias, output_shape"])
def test_multi_head_attention_matches_pytorch_outputs_and_every_gradient(case):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(11)
    heads, key_dim, value_dim = 3, 2, 4
    options = dict(use_bias=False, output_shape=5) if case.startswith("cross") else {}
    steps_q, steps_v = (4, 6) if case.startswith("cross") else (5, 5)
    query = rng.standard_normal((2, steps_q, 3))
    value = rng.standard_normal((2, steps_v, 3)) if case.startswith("cross") else query
    layer = layers.MultiHeadAttention(heads, key_dim, value_dim=value_dim, dtype="float64", **options)
    layer(nr.Tensor(query), value)
    layer.set_weights([rng.standard_normal(w.shape) for w in layer.weights])
    allowed = np.ones((2, steps_q, steps_v), bool)
    kwargs = {}
    if case == "causal":
        kwargs["use_causal_mask"] = True
        allowed = np.tril(allowed)
    if case == "masked":
        allowed = rng.random((2, steps_q, steps_v)) < 0.6
        allowed[:, :, 0] = True  # every row attends somewhere (torch gives NaN on a row with nothing)
        kwargs["attention_mask"] = allowed

    q_in = nr.Tensor(query, requires_grad=True)
    v_in = nr.Tensor(value, requires_grad=True) if case.startswith("cross") else q_in
    out = layer(q_in, v_in, **kwargs)
    upstream = rng.standard_normal(out.shape)
    (out * nr.Tensor(upstream)).sum().backward()

    names = [w.name.rsplit("/", 1)[-1] for w in layer.weights]
    twins = {name: torch.tensor(w.numpy(), requires_grad=True) for name, w in zip(names, layer.weights)}
    tq = torch.tensor(query, requires_grad=True)
    tv = torch.tensor(value, requires_grad=True) if case.startswith("cross") else tq

    def project(x, which):
        y = torch.einsum("bsf,fhd->bhsd", x, twins[f"{which}_kernel"])
        return y + twins[f"{which}_bias"][None, :, None] if f"{which}_bias" in twins else y

    attended = F.scaled_dot_product_attention(project(tq, "query"), project(tv, "key"), project(tv, "value"),
                                              attn_mask=torch.tensor(allowed)[:, None])
    expected = torch.einsum("bhtd,hdo->bto", attended, twins["output_kernel"])
    if "output_bias" in twins:
        expected = expected + twins["output_bias"]
    (expected * torch.tensor(upstream)).sum().backward()

    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.asarray(q_in.grad), tq.grad.numpy(), rtol=1e-9, atol=1e-12)
    if case.startswith("cross"):
        np.testing.assert_allclose(np.asarray(v_in.grad), tv.grad.numpy(), rtol=1e-9, atol=1e-12)
    for name, weight in zip(names, layer.weights):
        np.testing.assert_allclose(np.asarray(weight.grad), twins[name].grad.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=name)


def test_multi_head_attention_passes_gradcheck_with_masks():
    rng = np.random.default_rng(12)
    layer = layers.MultiHeadAttention(2, 2, value_dim=3, dtype="float64")
    query, value = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4))
    layer(nr.Tensor(query), value)
    allowed = rng.random((2, 3, 5)) < 0.7
    allowed[:, :, 1] = True
    nr.gradcheck(lambda q, v: layer(q, v, attention_mask=allowed), query, value)
    nr.gradcheck(lambda q: layer(q, value, use_causal_mask=True, return_attention_scores=True)[1], query)
