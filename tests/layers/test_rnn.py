"""SimpleRNN, LSTM, GRU and RNN(cell) against independent implementations: PyTorch's nn.RNN / nn.LSTM / nn.GRU
(forward and every gradient, float64), real Keras 3 (outputs, with masks, go_backwards and initial states), the
fused whole-sequence ops against the unrolled cells, and backpropagation through hundreds of steps.
"""

import numpy as np
import pytest
from _harness.keras_oracle import numpy_keras
from hypothesis import given, settings
from hypothesis import strategies as st

import neurona as nr
from neurona import layers, models
from neurona.ops import recurrent

KIND = {"SimpleRNN": layers.SimpleRNN, "LSTM": layers.LSTM, "GRU": layers.GRU}


def _outputs(result):
    return [t.numpy() for t in result] if isinstance(result, list) else [result.numpy()]


# ---- the fused ops: gradients by finite differences ---------------------------------------------------------
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("activation", recurrent.FUSED_ACTIVATIONS)
def test_simple_rnn_sequence_gradcheck(masked, activation):
    rng = np.random.default_rng(1)
    mask = rng.random((3, 5)) > 0.3 if masked else None
    assert nr.gradcheck(lambda xw, h0, u: recurrent.SimpleRNNSequence.apply(xw, h0, u, activation=activation,
                                                                            mask=mask),
                        rng.standard_normal((3, 5, 4)), rng.standard_normal((3, 4)), 0.5 * rng.standard_normal((4, 4)))


@pytest.mark.parametrize("masked", [False, True])
def test_lstm_sequence_gradcheck(masked):
    rng = np.random.default_rng(2)
    mask = rng.random((3, 5)) > 0.3 if masked else None
    assert nr.gradcheck(lambda xw, h0, c0, u: recurrent.LSTMSequence.apply(xw, h0, c0, u, mask=mask),
                        rng.standard_normal((3, 5, 16)), rng.standard_normal((3, 4)), rng.standard_normal((3, 4)),
                        0.5 * rng.standard_normal((4, 16)))


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_sequence_gradcheck(masked, reset_after):
    rng = np.random.default_rng(3)
    mask = rng.random((3, 5)) > 0.3 if masked else None
    args = [rng.standard_normal((3, 5, 12)), rng.standard_normal((3, 4)), 0.5 * rng.standard_normal((4, 12))]
    if reset_after:
        args.append(rng.standard_normal(12))
    assert nr.gradcheck(lambda *a: recurrent.GRUSequence.apply(*a, reset_after=reset_after, mask=mask), *args)


# ---- PyTorch as the oracle ------------------------------------------------------------------------------------
def _torch_twin(torch, layer, features):
    """PyTorch's module with the layer's weights: Keras keeps (in, gates*units) kernels with the gates [i, f, c, o]
    (LSTM, PyTorch's order too) or [z, r, h] (GRU; PyTorch's is [r, z, n])."""
    cell, n = layer.cell, layer.cell.units
    module = {layers.SimpleRNN: torch.nn.RNN, layers.LSTM: torch.nn.LSTM, layers.GRU: torch.nn.GRU}[type(layer)]
    kwargs = {"nonlinearity": "relu"} if isinstance(layer, layers.SimpleRNN) and \
        cell.activation is nr.ops.relu else {}
    twin = module(features, n, batch_first=True, **kwargs).double()
    kernel, recurrent_kernel, bias = (cell.kernel.numpy(), cell.recurrent_kernel.numpy(), cell.bias.numpy())
    if isinstance(layer, layers.GRU):
        order = np.r_[n:2 * n, 0:n, 2 * n:3 * n]
        w_ih, w_hh, b_ih, b_hh = kernel[:, order].T, recurrent_kernel[:, order].T, bias[0][order], bias[1][order]
    else:
        w_ih, w_hh, b_ih, b_hh = kernel.T, recurrent_kernel.T, bias, np.zeros_like(bias)
    with torch.no_grad():
        for name, value in (("weight_ih_l0", w_ih), ("weight_hh_l0", w_hh), ("bias_ih_l0", b_ih),
                            ("bias_hh_l0", b_hh)):
            getattr(twin, name).copy_(torch.from_numpy(np.ascontiguousarray(value)))
    return twin, order if isinstance(layer, layers.GRU) else None


@pytest.mark.parametrize("make", [lambda: layers.SimpleRNN(6, return_sequences=True, dtype="float64"),
                                  lambda: layers.SimpleRNN(6, activation="relu", return_sequences=True,
                                                           dtype="float64"),
                                  lambda: layers.LSTM(6, return_sequences=True, dtype="float64"),
                                  lambda: layers.GRU(6, return_sequences=True, dtype="float64")],
                         ids=["SimpleRNN", "SimpleRNN-relu", "LSTM", "GRU"])
def test_outputs_and_every_gradient_match_pytorch(make):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x = rng.standard_normal((5, 40, 3))
    layer = make()
    layer.build_for((None, 40, 3))
    layer.set_weights([0.4 * rng.standard_normal(w.shape) for w in layer.get_weights()])
    twin, order = _torch_twin(torch, layer, 3)
    xt = nr.Tensor(x, requires_grad=True)
    out = layer(xt)
    g = rng.standard_normal(out.shape)
    out.backward(nr.Tensor(g))
    tx = torch.from_numpy(x).requires_grad_()
    tout = twin(tx)[0]
    tout.backward(torch.from_numpy(g))
    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(xt.grad, tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    cell = layer.cell
    d_kernel, d_recurrent = twin.weight_ih_l0.grad.numpy().T, twin.weight_hh_l0.grad.numpy().T
    d_bias = twin.bias_ih_l0.grad.numpy()
    if order is not None:  # back to Keras's gate order
        inverse = np.argsort(order)
        d_kernel, d_recurrent = d_kernel[:, inverse], d_recurrent[:, inverse]
        d_bias = np.stack([d_bias[inverse], twin.bias_hh_l0.grad.numpy()[inverse]])
    np.testing.assert_allclose(cell.kernel.grad, d_kernel, rtol=1e-10, atol=1e-11)
    np.testing.assert_allclose(cell.recurrent_kernel.grad, d_recurrent, rtol=1e-10, atol=1e-11)
    np.testing.assert_allclose(cell.bias.grad, d_bias, rtol=1e-10, atol=1e-11)


# ---- fused against unrolled: the same function under every option --------------------------------------------
@settings(max_examples=25, deadline=None)
@given(kind=st.sampled_from(sorted(KIND)), return_sequences=st.booleans(), return_state=st.booleans(),
       go_backwards=st.booleans(), masked=st.booleans(), with_state=st.booleans(), reset_after=st.booleans(),
       seed=st.integers(0, 10 ** 6))
def test_the_fused_loop_equals_the_unrolled_cell(kind, return_sequences, return_state, go_backwards, masked,
                                                 with_state, reset_after, seed):
    rng = np.random.default_rng(seed)
    extra = {"reset_after": reset_after} if kind == "GRU" else {}
    layer = KIND[kind](4, return_sequences=return_sequences, return_state=return_state, go_backwards=go_backwards,
                       dtype="float64", **extra)
    unrolled = layers.RNN(layer.cell, return_sequences=return_sequences, return_state=return_state,
                          go_backwards=go_backwards, dtype="float64")
    x = rng.standard_normal((3, 6, 2))
    mask = rng.random((3, 6)) > 0.4 if masked else None
    if masked:
        mask[0] = False  # a sequence with no real step: it outputs and ends in its initial states
        mask[1, :3] = False  # leading padding
    states = None
    if with_state:
        states = [rng.standard_normal((3, 4)) for _ in range(2 if kind == "LSTM" else 1)]
    xt, ut = nr.Tensor(x, requires_grad=True), nr.Tensor(x, requires_grad=True)
    got = layer(xt, mask=mask, initial_state=states)
    want = unrolled(ut, mask=mask, initial_state=states)
    for a, b in zip(_outputs(got), _outputs(want)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    loss = sum((t * t).sum() for t in (got if isinstance(got, list) else [got]))
    loss_unrolled = sum((t * t).sum() for t in (want if isinstance(want, list) else [want]))
    loss.backward()
    grads = [w.grad.copy() for w in layer.cell.trainable_weights]
    layer.cell.zero_grad() if hasattr(layer.cell, "zero_grad") else None
    for w in layer.cell.trainable_weights:
        w.grad = None
    loss_unrolled.backward()
    np.testing.assert_allclose(xt.grad, ut.grad, rtol=1e-10, atol=1e-12)
    for a, w in zip(grads, layer.cell.trainable_weights):
        np.testing.assert_allclose(a, w.grad, rtol=1e-10, atol=1e-12)


def test_masked_steps_keep_the_state_and_repeat_the_output():
    layer = layers.LSTM(3, return_sequences=True, return_state=True, dtype="float64")
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 5, 2))
    mask = np.array([[True, True, False, True, False], [False, False, True, True, True]])
    out, h, c = _outputs(layer(nr.Tensor(x), mask=mask))
    np.testing.assert_array_equal(out[0, 2], out[0, 1])  # carried
    np.testing.assert_array_equal(out[0, 4], out[0, 3])
    np.testing.assert_array_equal(out[1, :2], 0.0)  # before the first real step: the (zero) initial state
    np.testing.assert_array_equal(h[0], out[0, 3])
    # the padded steps change nothing: the same sequence without them gives the same final states
    short = _outputs(layer(nr.Tensor(x[:1, [0, 1, 3]])))
    np.testing.assert_allclose(short[1], h[:1], rtol=1e-12)
    np.testing.assert_allclose(short[2], c[:1], rtol=1e-12)


# ---- real Keras 3 as the oracle -------------------------------------------------------------------------------
@pytest.mark.parametrize("kind, options", [
    ("SimpleRNN", {}), ("SimpleRNN", {"activation": "relu", "go_backwards": True}),
    ("LSTM", {}), ("LSTM", {"go_backwards": True, "unit_forget_bias": False}),
    ("GRU", {}), ("GRU", {"reset_after": False}), ("GRU", {"go_backwards": True}),
])
def test_outputs_match_real_keras(kind, options, monkeypatch):
    keras = numpy_keras(monkeypatch)
    rng = np.random.default_rng(6)
    x = rng.standard_normal((3, 7, 4)).astype("float32")
    mask = rng.random((3, 7)) > 0.3
    mask[2, :2] = False
    state = rng.standard_normal((3, 5)).astype("float32")
    ours = KIND[kind](5, return_sequences=True, return_state=True, **options)
    theirs = getattr(keras.layers, kind)(5, return_sequences=True, return_state=True, **options)
    ours.build_for((None, 7, 4))
    theirs.build((None, 7, 4))
    weights = [0.5 * rng.standard_normal(w.shape).astype("float32") for w in ours.get_weights()]
    ours.set_weights(weights)
    theirs.set_weights(weights)
    initial = [state, state] if kind == "LSTM" else [state]
    for kwargs in ({}, {"mask": mask}, {"initial_state": initial}, {"mask": mask, "initial_state": initial}):
        got = _outputs(ours(nr.Tensor(x), **kwargs))
        want = [np.asarray(t) for t in theirs(x, **kwargs)]
        assert len(got) == len(want)
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6, err_msg=f"{kind} {options} {sorted(kwargs)}")


# ---- long sequences, training, models --------------------------------------------------------------------------
@pytest.mark.parametrize("make", [lambda: layers.LSTM(8), lambda: layers.RNN(layers.GRUCell(8))],
                         ids=["LSTM (fused)", "RNN(GRUCell) (unrolled)"])
def test_backpropagation_through_a_thousand_steps(make):
    """One node per sequence (fused) or a few per step (unrolled): neither meets a recursion limit."""
    layer = make()
    x = nr.Tensor(np.random.default_rng(7).standard_normal((2, 1000, 3)).astype("float32"), requires_grad=True)
    layer(x).sum().backward()
    assert np.isfinite(x.grad).all() and np.abs(x.grad[:, 0]).max() >= 0.0
    assert all(np.isfinite(w.grad).all() for w in layer.trainable_weights)


def test_an_lstm_learns_to_remember_the_first_step():
    """The target is the sign of the first of 12 steps of noise: only a memory of 12 steps solves it."""
    rng = np.random.default_rng(8)
    x = rng.standard_normal((256, 12, 1)).astype("float32")
    y = (x[:, 0, 0] > 0).astype("float32")[:, None]
    nr.seed(0)
    model = models.Sequential([layers.Input((12, 1)), layers.LSTM(16), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=nr.optimizers.Adam(0.02), loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=40, batch_size=64, verbose=0)
    assert history.history["accuracy"][-1] > 0.95


def test_return_state_in_a_functional_model_and_a_saved_round_trip(tmp_path):
    inputs = nr.Input((5, 3))
    sequence, h, c = layers.LSTM(4, return_sequences=True, return_state=True)(inputs)
    out = layers.GRU(4)(sequence, initial_state=h)
    model = models.Model(inputs, layers.Concatenate()([out, c]))
    x = np.random.default_rng(9).standard_normal((2, 5, 3)).astype("float32")
    want = model.predict(x, verbose=0)
    assert want.shape == (2, 8)
    model.save(tmp_path / "m")
    np.testing.assert_array_equal(models.load_model(tmp_path / "m").predict(x, verbose=0), want)


# ---- bad input --------------------------------------------------------------------------------------------------
def test_bad_input_is_refused_with_a_clear_error():
    layer = layers.LSTM(3)
    with pytest.raises(ValueError, match=r"\(batch, time, features\)"):
        layer(nr.Tensor(np.zeros((2, 3), "float32")))
    with pytest.raises(ValueError, match="2 state"):
        layers.LSTM(3)(nr.Tensor(np.zeros((2, 4, 1), "float32")), initial_state=[np.zeros((2, 3))])
    with pytest.raises(ValueError, match=r"\(batch, size\)"):
        layers.GRU(3)(nr.Tensor(np.zeros((2, 4, 1), "float32")), initial_state=np.zeros((2, 5)))
    with pytest.raises(ValueError, match="mask must have shape"):
        layers.SimpleRNN(3)(nr.Tensor(np.zeros((2, 4, 1), "float32")), mask=np.ones((2, 3), bool))
    with pytest.raises(ValueError, match="at least one time step"):
        layers.SimpleRNN(3)(nr.Tensor(np.zeros((2, 0, 1), "float32")))
    with pytest.raises(ValueError, match="units must be a positive integer"):
        layers.GRU(0)
    with pytest.raises(ValueError, match="dropout must be a number in"):
        layers.LSTM(3, dropout=1.5)
    with pytest.raises(NotImplementedError, match="stateful"):
        layers.LSTM(3, stateful=True)
    with pytest.raises(TypeError, match="cell must be a layer"):
        layers.RNN(object())
    with pytest.raises(TypeError, match="unexpected"):
        layers.LSTM(3, reset_after=True)
    with pytest.raises(NotImplementedError, match="constraints"):
        layers.GRU(3, kernel_constraint="max_norm")
    with pytest.raises(ValueError, match="implementation must be 1 or 2"):
        layers.LSTM(3, implementation=3)


def test_keras_arguments_about_how_it_runs_are_accepted():
    for layer in (layers.LSTM(3, implementation=1, use_cudnn=False), layers.GRU(3, use_cudnn="auto"),
                  layers.SimpleRNN(3, kernel_constraint=None)):
        assert layer(nr.Tensor(np.ones((1, 2, 2), "float32"))).shape == (1, 3)


# ---- masks passed from layer to layer (Embedding(mask_zero), Masking), against real Keras -------------------
def _stack(module, ids_model):
    """The same Sequential stack in Neurona (``module=layers``) or Keras (``module=keras.layers``)."""
    if ids_model == "embedding-lstm":
        return [module.Embedding(12, 4, mask_zero=True), module.Dense(5, activation="tanh"),
                module.LSTM(3, return_sequences=True), module.GRU(2)]
    if ids_model == "embedding-average":
        return [module.Embedding(12, 4, mask_zero=True), module.GlobalAveragePooling1D()]
    return [module.Masking(0.0), module.SimpleRNN(3, return_sequences=True), module.LSTM(2)]


@pytest.mark.parametrize("ids_model", ["embedding-lstm", "embedding-average", "masking-rnn"])
def test_masks_flow_through_a_model_as_in_keras(ids_model, monkeypatch):
    keras = numpy_keras(monkeypatch)
    rng = np.random.default_rng(10)
    if ids_model == "masking-rnn":
        x = rng.standard_normal((3, 6, 2)).astype("float32")
        x[0, 4:] = 0.0
        x[2, :2] = 0.0
        ours = models.Sequential([layers.Input((6, 2)), *_stack(layers, ids_model)])
        theirs = keras.Sequential([keras.Input((6, 2)), *_stack(keras.layers, ids_model)])
    else:
        x = rng.integers(1, 12, (3, 6))
        x[0, 4:] = 0
        x[1, 1:] = 0
        ours = models.Sequential([layers.Input((6,), dtype="int64"), *_stack(layers, ids_model)])
        theirs = keras.Sequential([keras.Input((6,), dtype="int64"), *_stack(keras.layers, ids_model)])
    theirs.set_weights(ours.get_weights())
    np.testing.assert_allclose(ours.predict(x, verbose=0), np.asarray(theirs.predict(x, verbose=0)), rtol=1e-5,
                               atol=1e-6)


def test_the_mask_changes_the_result_only_where_it_should():
    """Padding ids change nothing for a masked stack, everything for an unmasked one."""
    rng = np.random.default_rng(11)
    short = rng.integers(1, 12, (2, 3))
    padded = np.concatenate([short, np.zeros((2, 4), int)], axis=1)
    for mask_zero, same in ((True, True), (False, False)):
        nr.seed(1)
        model = models.Sequential([layers.Input((None,), dtype="int64"), layers.Embedding(12, 4, mask_zero=mask_zero),
                                   layers.LSTM(3)])
        a, b = model.predict(short, verbose=0), model.predict(padded, verbose=0)
        assert np.allclose(a, b, rtol=1e-6) == same


def test_embedding_ids_out_of_range_are_refused():
    layer = layers.Embedding(5, 2)
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 5\), got 5"):
        layer(nr.Tensor(np.array([[1, 5]])))
    with pytest.raises(ValueError, match=r"got -1"):
        layer(nr.Tensor(np.array([[-1, 2]])))
    with pytest.raises(ValueError, match="input_dim must be a positive integer"):
        layers.Embedding(0, 2)


# ---- Bidirectional and TimeDistributed, against real Keras -----------------------------------------------------
@pytest.mark.parametrize("inner, options", [
    ("LSTM", {"return_sequences": True}), ("GRU", {}), ("SimpleRNN", {"return_sequences": True}),
    ("LSTM", {"return_state": True}),
])
@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
def test_bidirectional_matches_real_keras(inner, options, merge_mode, monkeypatch):
    keras = numpy_keras(monkeypatch)
    rng = np.random.default_rng(12)
    x = rng.standard_normal((2, 5, 3)).astype("float32")
    mask = np.array([[True] * 5, [True, True, True, False, False]])
    ours = layers.Bidirectional(KIND[inner](4, **options), merge_mode=merge_mode)
    theirs = keras.layers.Bidirectional(getattr(keras.layers, inner)(4, **options), merge_mode=merge_mode)
    ours.build_for((None, 5, 3))
    theirs.build((None, 5, 3))
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    theirs.set_weights(ours.get_weights())
    for kwargs in ({}, {"mask": mask}):
        got = ours(nr.Tensor(x), **kwargs)
        want = theirs(x, **kwargs)
        got = [t.numpy() for t in got] if isinstance(got, list) else [got.numpy()]
        want = [np.asarray(t) for t in want] if isinstance(want, (list, tuple)) else [np.asarray(want)]
        assert len(got) == len(want)
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_time_distributed_matches_real_keras_and_shares_its_weights(monkeypatch):
    keras = numpy_keras(monkeypatch)
    rng = np.random.default_rng(13)
    x = rng.standard_normal((2, 4, 6, 6, 1)).astype("float32")  # 4 frames of 6x6 images
    ours = layers.TimeDistributed(layers.Conv2D(3, 3, activation="relu"))
    theirs = keras.layers.TimeDistributed(keras.layers.Conv2D(3, 3, activation="relu"))
    ours.build_for((None, 4, 6, 6, 1))
    theirs.build((None, 4, 6, 6, 1))
    theirs.set_weights(ours.get_weights())
    got = ours(nr.Tensor(x)).numpy()
    assert got.shape == (2, 4, 4, 4, 3) and ours.count_params() == 3 * 9 + 3  # one kernel for every frame
    np.testing.assert_allclose(got, np.asarray(theirs(x)), rtol=1e-5, atol=1e-6)


def test_a_bidirectional_text_model_trains_saves_and_reloads(tmp_path):
    rng = np.random.default_rng(14)
    ids = rng.integers(1, 20, (96, 8))
    ids[:, 6:] = 0
    labels = (ids[:, 0] > 10).astype("float32")[:, None]
    nr.seed(2)
    model = models.Sequential([layers.Input((8,), dtype="int64"), layers.Embedding(20, 8, mask_zero=True),
                               layers.Bidirectional(layers.GRU(8)), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=nr.optimizers.Adam(0.02), loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(ids, labels, epochs=25, batch_size=32, verbose=0)
    assert history.history["accuracy"][-1] > 0.95  # the first id decides: the backward GRU carries it to the end
    model.save(tmp_path / "m")
    np.testing.assert_array_equal(models.load_model(tmp_path / "m").predict(ids, verbose=0),
                                  model.predict(ids, verbose=0))


def test_wrapper_arguments_are_checked():
    with pytest.raises(TypeError, match="needs a recurrent layer"):
        layers.Bidirectional(layers.Dense(3))
    with pytest.raises(ValueError, match="merge_mode must be one of"):
        layers.Bidirectional(layers.LSTM(3), merge_mode="max")
    with pytest.raises(ValueError, match="go_backwards differs"):
        layers.Bidirectional(layers.LSTM(3), backward_layer=layers.LSTM(3))
    with pytest.raises(ValueError, match=r"\(batch, time, \.\.\.\)"):
        layers.TimeDistributed(layers.Dense(2))(nr.Tensor(np.zeros((2, 3), "float32")))


def test_summary_advises_an_orthogonal_recurrent_kernel():
    from neurona.models.summary import advice_lines

    def advice(**options):
        model = models.Sequential([layers.Input((5, 3)), layers.SimpleRNN(4, **options)])
        return [line for line in advice_lines(model) if "recurrent kernel" in line]

    assert advice() == []  # Keras's default: orthogonal
    assert advice(activation="relu", recurrent_initializer="identity") == []  # the IRNN
    flagged = advice(recurrent_initializer="glorot_uniform")
    assert len(flagged) == 1 and "suggest orthogonal" in flagged[0] and "Saxe et al. 2014" in flagged[0]
    assert advice(recurrent_initializer=nr.initializers.RandomNormal(stddev=0.1))


# ---- regressions found by a second reader ----------------------------------------------------------------------
def test_masks_pass_merges_casts_and_time_distributed_as_in_keras(monkeypatch):
    keras = numpy_keras(monkeypatch)
    ids = np.array([[3, 4, 5, 0, 0], [1, 2, 0, 0, 0]])

    def build(module, space, model):
        inputs = module.Input((5,), dtype="int64")
        e = space.Embedding(8, 4, mask_zero=True)(inputs)
        a = space.MultiHeadAttention(2, 2)(e, e)
        x = space.LayerNormalization()(space.Add()([e, a]))  # a residual: Keras ors the masks
        joined = space.Concatenate()([x, e])
        return model(inputs, [space.GlobalAveragePooling1D()(x), space.LSTM(2)(joined)])

    ours, theirs = build(nr, layers, models.Model), build(keras, keras.layers, keras.Model)
    theirs.set_weights(ours.get_weights())
    for a, b in zip(ours.predict(ids, verbose=0), theirs.predict(ids, verbose=0)):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-5, atol=1e-6)
    x = np.random.default_rng(15).standard_normal((2, 3, 5, 4)).astype("float32")
    x[0, 1, 3:] = 0
    x[1, 2, 1:] = 0
    ours = models.Sequential([layers.Input((3, 5, 4)), layers.Masking(0.0), layers.TimeDistributed(layers.LSTM(2))])
    theirs = keras.Sequential([keras.Input((3, 5, 4)), keras.layers.Masking(0.0),
                               keras.layers.TimeDistributed(keras.layers.LSTM(2))])
    theirs.set_weights(ours.get_weights())
    np.testing.assert_allclose(ours.predict(x, verbose=0), np.asarray(theirs.predict(x, verbose=0)), rtol=1e-5,
                               atol=1e-6)


def test_multiply_fills_masked_steps_as_keras_does(monkeypatch):
    """Keras 3's Multiply: a masked step counts as 1; when every input has a mask the steps no input holds are
    0, and a masked input beside an unmasked one leaves the other's values there."""
    keras = numpy_keras(monkeypatch)
    a_ids = np.array([[3, 4, 5, 0, 0], [1, 0, 0, 0, 0]])
    b_ids = np.array([[2, 2, 0, 0, 0], [6, 7, 1, 0, 0]])
    x = np.random.default_rng(3).standard_normal((2, 5, 4)).astype("float32")

    def build(module, space, model):
        a, b, dense = module.Input((5,), dtype="int64"), module.Input((5,), dtype="int64"), module.Input((5, 4))
        ea, eb = space.Embedding(8, 4, mask_zero=True)(a), space.Embedding(8, 4, mask_zero=True)(b)
        both = space.Multiply()([ea, eb])
        one = space.Multiply()([ea, dense])
        return model([a, b, dense], [both, one, space.LSTM(3)(both)])

    ours, theirs = build(nr, layers, models.Model), build(keras, keras.layers, keras.Model)
    weights = [np.random.default_rng(4).standard_normal(w.shape).astype("float32") for w in ours.get_weights()]
    ours.set_weights(weights)
    theirs.set_weights(weights)
    got, want = ours.predict([a_ids, b_ids, x], verbose=0), theirs.predict([a_ids, b_ids, x], verbose=0)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, np.asarray(w), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(got[0][0, 3:], 0)  # held by neither
    np.testing.assert_array_equal(got[1][1, 1:], x[1, 1:])  # masked ones: the dense input's values


def test_a_mask_survives_the_cast_to_the_layers_dtype():
    """Masking (float32) then a float64 LSTM: the padded sequence gives the truncated sequence's states."""
    x = np.random.default_rng(19).standard_normal((1, 6, 2)).astype("float32")
    x[0, 4:] = 0
    model = models.Sequential([layers.Input((6, 2)), layers.Masking(0.0), layers.LSTM(3, dtype="float64")])
    short = models.Sequential([layers.Input((4, 2)), layers.LSTM(3, dtype="float64")])
    short.set_weights(model.get_weights())
    np.testing.assert_allclose(model.predict(x, verbose=0), short.predict(x[:, :4], verbose=0), rtol=1e-12)


def test_zero_output_for_mask_survives_a_saved_round_trip(tmp_path):
    model = models.Sequential([layers.Input((4, 2)), layers.Masking(0.0),
                               layers.LSTM(3, return_sequences=True, zero_output_for_mask=True)])
    x = np.random.default_rng(16).standard_normal((2, 4, 2)).astype("float32")
    x[0, 2:] = 0
    want = model.predict(x, verbose=0)
    assert not want[0, 2:].any()
    model.save(tmp_path / "m")
    np.testing.assert_array_equal(models.load_model(tmp_path / "m").predict(x, verbose=0), want)


@pytest.mark.parametrize("kind", sorted(KIND))
def test_float16_layers_run(kind):
    out = KIND[kind](3, dtype="float16")(nr.Tensor(np.random.default_rng(17).standard_normal((2, 5, 3))))
    assert out.dtype == np.float16 and np.isfinite(out.numpy()).all()


def test_lsuv_and_hooks_on_models_with_recurrent_layers():
    model = models.Sequential([layers.Input((5, 3)), layers.LSTM(4), layers.Dense(1)])
    x = np.random.default_rng(18).standard_normal((8, 5, 3)).astype("float32")
    nr.initializers.lsuv(model, x)  # rescales the Dense kernel; the LSTM, with no single pre-activation, is left
    with pytest.raises(TypeError, match="no activation function"):
        model.layers[0].register_preactivation_hook(lambda layer, z: None)


def test_the_loss_is_the_mean_over_the_real_steps_as_in_keras(monkeypatch):
    """A sequence output that carries a mask: fit's and evaluate's loss averages the real steps only."""
    keras = numpy_keras(monkeypatch)
    rng = np.random.default_rng(20)
    ids = rng.integers(1, 9, (4, 6))
    ids[0, 3:] = 0
    ids[2, 1:] = 0
    y = rng.standard_normal((4, 6, 2)).astype("float32")

    def build(space, model_class, inputs):
        x = space.Embedding(9, 3, mask_zero=True)(inputs)
        return model_class(inputs, space.Dense(2)(space.LSTM(4, return_sequences=True)(x)))

    ours = build(layers, models.Model, nr.Input((6,), dtype="int64"))
    theirs = build(keras.layers, keras.Model, keras.Input((6,), dtype="int64"))
    theirs.set_weights(ours.get_weights())
    ours.compile(loss="mse", metrics=["mae"])
    theirs.compile(loss="mse", metrics=["mae"])
    (got, got_mae), (want, want_mae) = ours.evaluate(ids, y, verbose=0), theirs.evaluate(ids, y, verbose=0)
    np.testing.assert_allclose([got, got_mae], [want, want_mae], rtol=1e-5)  # the metric too: real steps only
    per_step = ((ours.predict(ids, verbose=0) - y) ** 2).mean(axis=-1)
    np.testing.assert_allclose(got, per_step[ids != 0].mean(), rtol=1e-5)  # independent: the real steps' mean


def test_batch_normalization_takes_its_training_statistics_over_the_real_steps(monkeypatch):
    keras = numpy_keras(monkeypatch)
    rng = np.random.default_rng(21)
    x = rng.standard_normal((3, 5, 4)).astype("float32")
    mask = rng.random((3, 5)) > 0.4
    ours, theirs = layers.BatchNormalization(), keras.layers.BatchNormalization()
    ours.build_for((None, 5, 4))
    theirs.build((None, 5, 4))
    weights = [rng.standard_normal(4).astype("float32") for _ in range(2)] + [np.zeros(4, "float32"),
                                                                           np.ones(4, "float32")]
    ours.set_weights(weights)
    theirs.set_weights(weights)
    np.testing.assert_allclose(ours(nr.Tensor(x), training=True, mask=mask).numpy(),
                               np.asarray(theirs(x, training=True, mask=mask)), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ours.moving_mean.numpy(), np.asarray(theirs.moving_mean), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(ours.moving_variance.numpy(), np.asarray(theirs.moving_variance), rtol=1e-5)
    real = x[mask]  # independent: the statistics of the real steps alone
    np.testing.assert_allclose(ours.moving_mean.numpy(), 0.01 * real.mean(axis=0), rtol=1e-4, atol=1e-7)
    xt = nr.Tensor(x.astype("float64"), requires_grad=True)
    bn64 = layers.BatchNormalization(dtype="float64")
    assert nr.gradcheck(lambda t: bn64(t, training=True, mask=mask), xt)


def test_an_rnn_given_initial_states_runs_unmasked_unless_given_a_mask_as_in_keras(monkeypatch):
    """Keras 3 passes a layer its input's mask only when the call has one tensor argument: an LSTM decoder given
    initial_state ignores the padding of its input (and keeps it for the next layer), as real Keras computes."""
    from _harness.keras_oracle import numpy_keras

    keras = numpy_keras(monkeypatch)
    rng = np.random.default_rng(7)
    ids = np.array([[3, 1, 0, 0], [2, 5, 4, 0]])
    states = [rng.standard_normal((2, 3)).astype("float32") for _ in range(2)]
    outputs = {}
    for name, lib in (("neurona", nr), ("keras", keras)):
        embedding, lstm = lib.layers.Embedding(6, 2, mask_zero=True), lib.layers.LSTM(3, return_sequences=True)
        x = embedding(ids)
        lstm(x)
        if name == "neurona":
            weights = [rng.standard_normal(w.shape).astype("float32") for w in embedding.get_weights()
                       + lstm.get_weights()]
        embedding.set_weights(weights[:1])
        lstm.set_weights(weights[1:])
        x = embedding(ids)
        outputs[name] = [np.asarray(lstm(x, initial_state=states)), np.asarray(lstm(x, initial_state=states,
                                                                                     mask=ids != 0)),
                         np.asarray(lstm(x, mask=None)), np.asarray(lstm(x))]  # mask=None: the input's, too
    for ours, theirs in zip(outputs["neurona"], outputs["keras"]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    unmasked, masked, none_given, plain = outputs["neurona"]
    assert not np.allclose(unmasked[1, 3], masked[1, 3])  # the padded step is run, not skipped
    np.testing.assert_array_equal(none_given, plain)
    np.testing.assert_array_equal(plain[0, 2], plain[0, 1])  # masked: the padded step repeats the last output


@pytest.mark.parametrize("make", [lambda: layers.RNN(layers.GRUCell(3)), lambda: layers.LSTM(3)],
                         ids=["RNN(GRUCell)", "LSTM"])
def test_hooks_on_a_cell_run_at_every_step(make):
    """A forward hook on the cell (what diagnostics' recorder puts on every layer with weights) sees each step:
    the layer then steps the cell through its __call__ instead of the fused loop, with the same result."""
    layer = make()
    x = np.random.default_rng(5).standard_normal((2, 6, 4)).astype("float32")
    plain = layer(x).numpy()
    seen = []
    with layer.cell.register_forward_hook(lambda cell, args, output: seen.append(tuple(args[0].shape))):
        hooked = layer(x).numpy()
    assert seen == [(2, 4)] * 6
    np.testing.assert_allclose(hooked, plain, rtol=1e-5, atol=1e-6)
    layer(x)
    assert len(seen) == 6  # removed with the handle
