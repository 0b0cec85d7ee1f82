"""The recurrent layers through the shared layer harness: shapes, weights and their gradients by finite
differences, configs, save/load, dtypes and training modes, on (batch 2, 3 steps, 2 features) sequences.

Parameter counts by hand, with F input features, n units and G gates (1, 4, 3): G n (F + n) for the kernels and
G n for a bias (twice that for GRU's reset_after bias, one row for the inputs and one for the state).
Cases with activations the fused loops do not cover (elu, a tanh recurrent activation) or with recurrent
dropout run the unrolled cell; the others the fused whole-sequence op.
"""

from _harness import layer_harness as harness
from _harness.layer_harness import LayerCase

from neurona import layers

SEQ = (2, 3, 2)

CASES = [
    LayerCase(layers.SimpleRNN, dict(units=3), SEQ, (2, 3), trainable=3, params=18),
    LayerCase(layers.SimpleRNN, dict(units=3, activation="relu", return_sequences=True), SEQ, (2, 3, 3),
              trainable=3, params=18),
    LayerCase(layers.SimpleRNN, dict(units=3, go_backwards=True, use_bias=False), SEQ, (2, 3), trainable=2,
              params=15),
    LayerCase(layers.SimpleRNN, dict(units=3, activation="elu", return_sequences=True), SEQ, (2, 3, 3),
              trainable=3, params=18, id="SimpleRNN(elu, unrolled)"),
    LayerCase(layers.SimpleRNN, dict(units=3, dropout=0.5, recurrent_dropout=0.5, seed=1), SEQ, (2, 3),
              trainable=3, params=18, stochastic=True),
    LayerCase(layers.SimpleRNN, dict(units=2, kernel_regularizer="l2", recurrent_regularizer="l1",
                                     bias_regularizer="l2"), SEQ, (2, 2), trainable=3, params=10, losses=3),
    LayerCase(layers.LSTM, dict(units=3), SEQ, (2, 3), trainable=3, params=72),
    LayerCase(layers.LSTM, dict(units=3, return_sequences=True, unit_forget_bias=False), SEQ, (2, 3, 3),
              trainable=3, params=72),
    LayerCase(layers.LSTM, dict(units=2, recurrent_activation="tanh", go_backwards=True), SEQ, (2, 2),
              trainable=3, params=40, id="LSTM(tanh gates, unrolled)"),
    LayerCase(layers.LSTM, dict(units=2, dropout=0.3, seed=2), SEQ, (2, 2), trainable=3, params=40,
              stochastic=True),
    LayerCase(layers.LSTM, dict(units=2, recurrent_dropout=0.4, seed=5, return_sequences=True), SEQ, (2, 3, 2),
              trainable=3, params=40, stochastic=True),
    LayerCase(layers.GRU, dict(units=3), SEQ, (2, 3), trainable=3, params=63),
    LayerCase(layers.GRU, dict(units=3, reset_after=False, return_sequences=True), SEQ, (2, 3, 3), trainable=3,
              params=54),
    LayerCase(layers.GRU, dict(units=2, go_backwards=True, use_bias=False), SEQ, (2, 2), trainable=2, params=24),
    LayerCase(layers.GRU, dict(units=2, recurrent_dropout=0.4, dropout=0.2, seed=3), SEQ, (2, 2), trainable=3,
              params=36, stochastic=True),
    LayerCase(layers.RNN, dict(cell={"class_name": "LSTMCell", "config": {"units": 2}}), SEQ, (2, 2), trainable=3,
              params=40, id="RNN(LSTMCell)"),
    LayerCase(layers.RNN, dict(cell={"class_name": "GRUCell", "config": {"units": 2, "reset_after": False}},
                               return_sequences=True), SEQ, (2, 3, 2), trainable=3, params=30,
              id="RNN(GRUCell(reset_after=False))"),
    LayerCase(layers.RNN, dict(cell={"class_name": "SimpleRNNCell", "config": {"units": 3, "activation": "relu"}},
                               go_backwards=True, zero_output_for_mask=True), SEQ, (2, 3), trainable=3, params=18,
              id="RNN(SimpleRNNCell(relu))"),
    LayerCase(layers.RNN, dict(cell={"class_name": "SimpleRNNCell", "config": {"units": 2, "use_bias": False}},
                               return_sequences=True), SEQ, (2, 3, 2), trainable=2, params=8,
              id="RNN(SimpleRNNCell(use_bias=False))"),
    LayerCase(layers.RNN, dict(cell={"class_name": "LSTMCell", "config": {"units": 2, "unit_forget_bias": False,
                                                                          "activation": "softplus"}}),
              SEQ, (2, 2), trainable=3, params=40, id="RNN(LSTMCell(unit_forget_bias=False, softplus))"),
    LayerCase(layers.RNN, dict(cell={"class_name": "GRUCell", "config": {"units": 2, "use_bias": False}},
                               go_backwards=True), SEQ, (2, 2), trainable=2, params=24,
              id="RNN(GRUCell(use_bias=False))"),
    # Embedding and Masking, the inputs of sequence models (ids in [0, id_range) for the Embedding cases)
    LayerCase(layers.Embedding, dict(input_dim=5, output_dim=3), (2, 4), (2, 4, 3), trainable=1, params=15,
              input_dtype="int64", id_range=5, input_grad=False),
    LayerCase(layers.Embedding, dict(input_dim=6, output_dim=2, mask_zero=True, embeddings_regularizer="l2",
                                     embeddings_initializer="glorot_uniform"), (2, 3, 2), (2, 3, 2, 2), trainable=1,
              params=12, losses=1, input_dtype="int32", id_range=6, input_grad=False),
    LayerCase(layers.Masking, dict(mask_value=0.5), SEQ, SEQ),
    LayerCase(layers.Masking, dict(name="padding"), SEQ, SEQ),
    # the wrappers: each runs an inner layer (given serialized, so that every case builds a fresh one)
    LayerCase(layers.Bidirectional, dict(layer={"class_name": "LSTM", "config": {"units": 2}}), SEQ, (2, 4),
              trainable=6, params=80, id="Bidirectional(LSTM)"),
    LayerCase(layers.Bidirectional, dict(layer={"class_name": "GRU", "config": {"units": 2,
                                                                                "return_sequences": True}},
                                         merge_mode="sum"), SEQ, (2, 3, 2), trainable=6, params=72,
              id="Bidirectional(GRU(return_sequences), sum)"),
    LayerCase(layers.Bidirectional, dict(layer={"class_name": "SimpleRNN", "config": {"units": 3,
                                                                                      "return_sequences": True}},
                                         merge_mode="ave"), SEQ, (2, 3, 3), trainable=6, params=36,
              id="Bidirectional(SimpleRNN, ave)"),
    LayerCase(layers.TimeDistributed, dict(layer={"class_name": "Dense", "config": {"units": 4}}), SEQ, (2, 3, 4),
              trainable=2, params=12, id="TimeDistributed(Dense)"),
    LayerCase(layers.TimeDistributed, dict(layer={"class_name": "Dense", "config": {"units": 3, "activation": "relu",
                                                                                    "use_bias": False}},
                                           activity_regularizer="l2"), SEQ, (2, 3, 3), trainable=1, params=6,
              losses=1, id="TimeDistributed(Dense(relu), activity_regularizer)"),
    # self-attention (the harness calls a layer on one input): query, key and value projections of 2 -> 2 x 2
    LayerCase(layers.MultiHeadAttention, dict(num_heads=2, key_dim=2), SEQ, SEQ, trainable=8, params=46),
    LayerCase(layers.MultiHeadAttention, dict(num_heads=1, key_dim=3, value_dim=2, use_bias=False, output_shape=4),
              SEQ, (2, 3, 4), trainable=4, params=24),
    LayerCase(layers.MultiHeadAttention, dict(num_heads=2, key_dim=2, dropout=0.5, seed=3), SEQ, SEQ, trainable=8,
              params=46, stochastic=True),
    # Attention on [query, value] (no projections: one scalar weight with use_scale, one more for concat scores)
    LayerCase(layers.Attention, dict(use_scale=True), [(2, 3, 2), (2, 4, 2)], (2, 3, 2), trainable=1, params=1),
    LayerCase(layers.Attention, dict(score_mode="concat"), [(2, 3, 2), (2, 4, 2), (2, 4, 2)], (2, 3, 2),
              trainable=1, params=1),
    LayerCase(layers.Attention, dict(dropout=0.5, seed=2), [(2, 3, 2), (2, 4, 2)], (2, 3, 2), stochastic=True),
]


@harness.parametrize(CASES)
def test_layer_harness(device, case, check):
    check(case)

