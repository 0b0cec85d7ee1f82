"""The recurrent cells: one time step of SimpleRNN, LSTM and GRU, with Keras 3's weights, arguments and defaults.

A cell maps ``(x_t, states) -> (output_t, new_states)``; ``layers.RNN`` runs it over a sequence. The weights
are Keras's: ``kernel`` (input_dim, G * units) for the inputs, ``recurrent_kernel`` (units, G * units) for the
state, ``bias``, with the G gates side by side in Keras's order (LSTM: i, f, c, o; GRU: z, r, h), so that a
Keras model's weights load unchanged. The equations are in ``ops/recurrent.py``, whose fused whole-sequence
loops ``SimpleRNN``, ``LSTM`` and ``GRU`` use when they can; ``call`` here is the same step written with
differentiable ops, for ``layers.RNN(cell)`` and for the options the fused loops do not cover.

Initialization, as in Keras: ``glorot_uniform`` for the kernel, ``orthogonal`` for the recurrent kernel (an
orthogonal U keeps the norm of the state's gradient through the linear part of each step: Saxe et al. 2014),
zeros for the bias, and, for the LSTM, a forget-gate bias of one (``unit_forget_bias``: Jozefowicz et al.
2015, so that the cell starts by remembering).
"""

from ... import activations, backend, initializers, ops, regularizers
from ...arguments import is_int, is_real
from ..base import Layer, check_bool
from ..regularization.dropout import dropout_mask


def _rate(value, what):
    if not is_real(value) or not 0 <= value < 1:
        raise ValueError(f"{what} must be a number in [0, 1), got {value!r}")
    return float(value)


class _Cell(Layer):
    """What the three cells share: units, activations, initializers, regularizers, dropout and its masks.

    Dropout follows Keras's ``DropoutRNNCell``: one mask per sequence (the same at every step, Gal and
    Ghahramani 2016), drawn at the first step of a call and dropped by ``reset_dropout_mask`` when the
    layer's call ends; with ``recurrent_dropout`` one mask per gate (Keras's implementation 1).
    """

    gates = 1

    def __init__(self, units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, dropout=0.0, recurrent_dropout=0.0, seed=None,
                 **kwargs):
        kind = type(self).__name__
        if not is_int(units) or units <= 0:
            raise ValueError(f"{kind} units must be a positive integer, got {units!r}")
        if seed is not None and (not is_int(seed) or seed < 0):
            raise ValueError(f"{kind} seed must be None or a non-negative int, got {seed!r}")
        super().__init__(**kwargs)
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = check_bool(use_bias, f"{kind} use_bias")
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.dropout = _rate(dropout, f"{kind} dropout")
        self.recurrent_dropout = _rate(recurrent_dropout, f"{kind} recurrent_dropout")
        self.seed = None if seed is None else int(seed)
        self._rng = backend.make_generator(self.seed)
        self.kernel = self.recurrent_kernel = self.bias = None
        self.reset_dropout_mask()

    @property
    def state_size(self):
        return self.units

    @property
    def output_size(self):
        return self.units

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units)

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(f"layer {self.name!r} ({type(self).__name__}) needs a known last input dimension, "
                             f"got {input_shape}")
        width = self.gates * self.units
        self.kernel = self.add_weight(name="kernel", shape=(input_dim, width), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer)
        self.recurrent_kernel = self.add_weight(name="recurrent_kernel", shape=(self.units, width),
                                                initializer=self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer)
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=self._bias_shape(), initializer=self._bias_init(),
                                        regularizer=self.bias_regularizer)

    def _bias_shape(self):
        return (self.gates * self.units,)

    def _bias_init(self):
        return self.bias_initializer

    # ---- dropout masks (one per sequence) ----------------------------------------------------------------
    def reset_dropout_mask(self):
        """Forget the masks drawn for the last sequence (``layers.RNN`` calls it after each sequence)."""
        self._dropout_masks = self._recurrent_masks = None

    reset_recurrent_dropout_mask = reset_dropout_mask

    def _draw(self, like, rate, count):
        return [dropout_mask(self._rng, like.shape, rate, like.dtype, like.device) for _ in range(count)]

    def input_masks(self, inputs, training, count=1):
        """``count`` dropout masks for a step's inputs in training (None otherwise), the same at every step."""
        if not training or self.dropout == 0:
            return None
        if self._dropout_masks is None:
            self._dropout_masks = self._draw(inputs, self.dropout, count)
        return self._dropout_masks

    def state_masks(self, state, training):
        """One recurrent-dropout mask per gate in training (None otherwise), the same at every step."""
        if not training or self.recurrent_dropout == 0:
            return None
        if self._recurrent_masks is None:
            self._recurrent_masks = self._draw(state, self.recurrent_dropout, self.gates)
        return self._recurrent_masks

    def _gate_inputs(self, inputs, training):
        """``x_g @ kernel_g (+ bias_g)`` for every gate side by side; with dropout one masked input per gate
        when recurrent dropout is on too (Keras's implementation 1), else one mask for all."""
        n = self.units
        bias = self._input_bias()
        masks = self.input_masks(inputs, training, count=self.gates if self.recurrent_dropout else 1)
        if masks is None or len(masks) == 1:
            x = inputs if masks is None else ops.mul(inputs, masks[0])
            return ops.dense(x, self.kernel, bias=bias)
        parts = [ops.dense(ops.mul(inputs, masks[g]), self.kernel[:, g * n:(g + 1) * n],
                           bias=None if bias is None else bias[g * n:(g + 1) * n]) for g in range(self.gates)]
        return ops.concatenate(parts, axis=-1)

    def _input_bias(self):
        return self.bias

    def _recurrent(self, state, training, columns=None):
        """``h_g @ recurrent_kernel_g`` for the gates ``columns`` (default all), h masked per gate in training."""
        n = self.units
        gates = range(self.gates) if columns is None else columns
        masks = self.state_masks(state, training)
        if masks is None:
            kernel = self.recurrent_kernel if columns is None else \
                ops.concatenate([self.recurrent_kernel[:, g * n:(g + 1) * n] for g in gates], axis=-1)
            return ops.matmul(state, kernel)
        return ops.concatenate([ops.matmul(ops.mul(state, masks[g]), self.recurrent_kernel[:, g * n:(g + 1) * n])
                                for g in gates], axis=-1)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        }


def _state(states):
    return states[0] if isinstance(states, (list, tuple)) else states


class SimpleRNNCell(_Cell):
    """``h_t = activation(x_t @ kernel + bias + h_{t-1} @ recurrent_kernel)`` (Elman 1990); output h_t."""

    default_name = "simple_rnn_cell"

    def call(self, inputs, states, training=None):
        h = _state(states)
        out = self.activation(ops.add(self._gate_inputs(inputs, training), self._recurrent(h, training)))
        return out, [out] if isinstance(states, (list, tuple)) else out


class LSTMCell(_Cell):
    """One LSTM step (``ops/recurrent.py``); states ``[h, c]``, output h.

    Args (beyond the shared ones): recurrent_activation (default ``"sigmoid"``), unit_forget_bias (default
    True: the forget gate's bias starts at one, whatever ``bias_initializer`` gives the others).
    """

    gates, default_name = 4, "lstm_cell"

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", unit_forget_bias=True, **kwargs):
        super().__init__(units, activation=activation, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = check_bool(unit_forget_bias, "LSTMCell unit_forget_bias")

    @property
    def state_size(self):
        return [self.units, self.units]

    def _bias_init(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        base, n = self.bias_initializer, self.units

        def forget_bias_one(shape, dtype=None):
            first = base((n,), dtype=dtype)
            xp = backend.xp_of(first)
            return xp.concatenate([first, xp.ones((n,), dtype=first.dtype), base((2 * n,), dtype=dtype)])

        return forget_bias_one

    def call(self, inputs, states, training=None):
        h, c = states[0], states[1]
        n = self.units
        z = ops.add(self._gate_inputs(inputs, training), self._recurrent(h, training))
        i = self.recurrent_activation(z[:, :n])
        f = self.recurrent_activation(z[:, n:2 * n])
        c = ops.add(ops.mul(f, c), ops.mul(i, self.activation(z[:, 2 * n:3 * n])))
        o = self.recurrent_activation(z[:, 3 * n:])
        h = ops.mul(o, self.activation(c))
        return h, [h, c]

    def get_config(self):
        return {**super().get_config(), "recurrent_activation": activations.serialize(self.recurrent_activation),
                "unit_forget_bias": self.unit_forget_bias}


class GRUCell(_Cell):
    """One GRU step (``ops/recurrent.py``); state h, output h.

    Args (beyond the shared ones): recurrent_activation (default ``"sigmoid"``), reset_after (default True,
    Keras 3's and cuDNN's variant: the reset gate multiplies ``h @ U_h + b_rec``, and the bias has shape
    (2, 3 units), input and recurrent rows; False: the reset gate multiplies h before its product).
    """

    gates, default_name = 3, "gru_cell"

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", reset_after=True, **kwargs):
        super().__init__(units, activation=activation, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = check_bool(reset_after, "GRUCell reset_after")

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _input_bias(self):
        if self.bias is None:
            return None
        return self.bias[0] if self.reset_after else self.bias

    def call(self, inputs, states, training=None):
        h = _state(states)
        n = self.units
        x = self._gate_inputs(inputs, training)
        if self.reset_after:
            a = self._recurrent(h, training)
            if self.bias is not None:
                a = ops.add(a, self.bias[1])
            z = self.recurrent_activation(ops.add(x[:, :n], a[:, :n]))
            r = self.recurrent_activation(ops.add(x[:, n:2 * n], a[:, n:2 * n]))
            hh = self.activation(ops.add(x[:, 2 * n:], ops.mul(r, a[:, 2 * n:])))
        else:
            a = self._recurrent(h, training, columns=(0, 1))
            z = self.recurrent_activation(ops.add(x[:, :n], a[:, :n]))
            r = self.recurrent_activation(ops.add(x[:, n:2 * n], a[:, n:2 * n]))
            masks = self.state_masks(h, training)
            h_h = h if masks is None else ops.mul(h, masks[2])
            hh = self.activation(ops.add(x[:, 2 * n:], ops.matmul(ops.mul(r, h_h), self.recurrent_kernel[:, 2 * n:])))
        out = ops.add(ops.mul(z, h), ops.mul(ops.sub(1.0, z), hh))
        return out, [out] if isinstance(states, (list, tuple)) else out

    def get_config(self):
        return {**super().get_config(), "recurrent_activation": activations.serialize(self.recurrent_activation),
                "reset_after": self.reset_after}
