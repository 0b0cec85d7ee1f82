"""``RNN``: a cell run over the time axis of ``(batch, time, features)`` sequences, and its three built-in forms
``SimpleRNN``, ``LSTM`` and ``GRU`` (Keras 3's arguments, defaults and outputs).

``RNN(cell)`` steps any cell with differentiable ops, so backpropagation through time is the autograd engine's
ordinary backward pass over the unrolled steps (its graph walk is iterative: no recursion limit however long the
sequence). ``SimpleRNN``, ``LSTM`` and ``GRU`` run the whole sequence as one fused node instead
(``ops/recurrent.py``) when their activations have a fused form and no recurrent dropout is active; both paths
compute the same function (tests compare them).

Keras's semantics: with ``return_sequences`` the output at every step (in the order processed, so reversed with
``go_backwards``), else the last one; with ``return_state`` the final states follow the output. A ``mask``
(``(batch, time)``, True for real steps) makes a masked step keep the states and output the previous first state
(the initial one before a sequence's first real step), as Keras 3's default loop does; zeros with
``zero_output_for_mask``.
"""

import re

from ... import activations, backend, ops
from ...autograd import Tensor
from ...ops import recurrent
from ..base import Layer, check_bool
from .cells import GRUCell, LSTMCell, SimpleRNNCell


def _sizes(cell):
    size = cell.state_size
    return [int(s) for s in size] if isinstance(size, (list, tuple)) else [int(size)]


class RNN(Layer):
    """Run ``cell`` over the time axis.

    Args:
        cell: a layer with ``state_size`` (an int, or a list for several states) and
            ``call(inputs, states[, training]) -> (output, new_states)``, e.g. ``LSTMCell(32)``, or a serialized
            one (``{"class_name": "LSTMCell", "config": {"units": 32}}``).
        return_sequences: return the output of every step (``(batch, time, units)``), not only the last.
        return_state: also return the final states (after the output).
        go_backwards: process the sequence from its last step to its first.
        stateful: not supported yet (a clear error).
        unroll: accepted for Keras compatibility; the loop is always unrolled in Python.
        zero_output_for_mask: masked steps output zeros instead of the previous first state.
        **kwargs: base Layer arguments.
    """

    supports_masking = True

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False, stateful=False,
                 unroll=False, zero_output_for_mask=False, **kwargs):
        kind = type(self).__name__
        if isinstance(cell, dict):  # a serialized cell ({"class_name": "LSTMCell", "config": {...}})
            cell = _cell_from_config(cell, kwargs)
        if isinstance(cell, (list, tuple)):
            raise NotImplementedError(f"{kind}: a list of cells (StackedRNNCells) is not supported yet; stack "
                                      "RNN layers with return_sequences=True instead")
        if not isinstance(cell, Layer) or not hasattr(cell, "state_size"):
            raise TypeError(f"{kind} cell must be a layer with a state_size and call(inputs, states), got "
                            f"{cell!r}")
        if check_bool(stateful, f"{kind} stateful"):
            raise NotImplementedError(f"{kind}: stateful=True is not supported yet (states carried from one "
                                      "batch to the next); pass the states yourself with initial_state=")
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences = check_bool(return_sequences, f"{kind} return_sequences")
        self.return_state = check_bool(return_state, f"{kind} return_state")
        self.go_backwards = check_bool(go_backwards, f"{kind} go_backwards")
        self.unroll = check_bool(unroll, f"{kind} unroll")
        self.zero_output_for_mask = check_bool(zero_output_for_mask, f"{kind} zero_output_for_mask")
        self.stateful = False

    # ---- shapes ------------------------------------------------------------------------------------------------
    def check_input_shape(self, input_shape):
        super().check_input_shape(input_shape)
        if len(input_shape) != 3:
            raise ValueError(f"layer {self.name!r} ({type(self).__name__}) expects sequences of shape (batch, "
                             f"time, features), got shape {tuple(input_shape)}")

    def build(self, input_shape):
        if not self.cell.built:  # for one step's inputs (batch, features), as Keras builds it
            self.cell._build_on_call((input_shape[0], input_shape[-1]))
        for weight in self.cell.weights:  # named by their path, as Keras's: "lstm/lstm_cell/kernel"
            if not weight.name.startswith(f"{self.name}/"):
                weight.name = f"{self.name}/{weight.name}"

    @property
    def state_size(self):
        return self.cell.state_size

    def _output_size(self):
        size = getattr(self.cell, "output_size", None)
        return int(size) if size is not None else _sizes(self.cell)[0]

    def compute_output_shape(self, input_shape):
        batch, steps = input_shape[0], input_shape[1]
        units = self._output_size()
        output = (batch, steps, units) if self.return_sequences else (batch, units)
        if self.return_state:
            return [output] + [(batch, size) for size in _sizes(self.cell)]
        return output

    def compute_mask(self, inputs, mask=None):
        """The mask the next layer gets: the input's with ``return_sequences``, else none (as Keras)."""
        output_mask = mask if self.return_sequences else None
        return [output_mask] + [None] * len(_sizes(self.cell)) if self.return_state else output_mask

    def get_initial_state(self, batch_size):
        """Zero states, one ``(batch_size, size)`` tensor per state."""
        xp = backend.get_xp()
        dtype = backend.dtypes.as_dtype(self.compute_dtype)
        return [Tensor._wrap(xp.zeros((batch_size, size), dtype=dtype), False) for size in _sizes(self.cell)]

    # ---- the call ----------------------------------------------------------------------------------------------
    def call(self, sequences, initial_state=None, mask=None, training=None):
        if sequences.ndim != 3:
            raise ValueError(f"layer {self.name!r} ({type(self).__name__}) expects sequences of shape (batch, "
                             f"time, features), got shape {tuple(sequences.shape)}")
        batch, steps = sequences.shape[0], sequences.shape[1]
        if steps == 0:
            raise ValueError(f"layer {self.name!r} ({type(self).__name__}) needs at least one time step, got "
                             f"sequences of shape {tuple(sequences.shape)}")
        states = self._initial_states(initial_state, batch)
        mask = self._mask_array(mask, batch, steps, sequences)
        if self.go_backwards:
            sequences = sequences[:, ::-1]
            mask = None if mask is None else mask[:, ::-1]
        try:
            fused = self._fused(sequences, states, mask, training)
            outputs, states = fused if fused is not None else self._unrolled(sequences, states, mask, training)
        finally:  # the dropout masks hold for one sequence (one call) only
            for reset in ("reset_dropout_mask", "reset_recurrent_dropout_mask"):
                if hasattr(self.cell, reset):
                    getattr(self.cell, reset)()
        if mask is not None and self.zero_output_for_mask:
            outputs = ops.mul(outputs, Tensor._wrap(mask[:, :, None].astype(outputs.dtype), False))
        output = outputs if self.return_sequences else outputs[:, -1]
        return [output, *states] if self.return_state else output

    def _initial_states(self, initial_state, batch):
        sizes = _sizes(self.cell)
        if initial_state is None:
            return self.get_initial_state(batch)
        given = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
        if len(given) != len(sizes):
            raise ValueError(f"layer {self.name!r} ({type(self).__name__}) has {len(sizes)} state(s) of sizes "
                             f"{sizes}; initial_state has {len(given)}")
        states = []
        for state, size in zip(given, sizes):
            state = ops.convert_to_tensor(state)
            if tuple(state.shape) != (batch, size):
                raise ValueError(f"layer {self.name!r} ({type(self).__name__}): each initial state must have shape "
                                 f"(batch, size) = {(batch, size)}, got {tuple(state.shape)}")
            states.append(ops.cast(state, self.compute_dtype) if state.dtype != self.compute_dtype else state)
        return states

    def _mask_array(self, mask, batch, steps, sequences):
        """The mask as a boolean ``(batch, time)`` array on the sequences' device (None: no mask)."""
        if mask is None:
            return None
        if isinstance(mask, (list, tuple)):  # Keras passes one mask per input; the sequences' comes first
            mask = mask[0]
            if mask is None:
                return None
        values = backend.asnumpy(mask.data if isinstance(mask, Tensor) else mask)
        if values.shape != (batch, steps):
            raise ValueError(f"layer {self.name!r} ({type(self).__name__}): mask must have shape (batch, time) = "
                             f"{(batch, steps)}, got {values.shape}")
        return backend.to_device(values.astype(bool), sequences.device)

    def _unrolled(self, sequences, states, mask, training):
        """``(outputs (batch, time, units), final states)`` stepping the cell with differentiable ops."""
        cell = self.cell
        takes_training = "training" in _call_parameters(cell)
        step = cell if cell._hook_table else cell.call  # through __call__ only when the cell's hooks must run
        outputs = []
        for t in range(sequences.shape[1]):
            args = {"training": training} if takes_training else {}
            out, new = step(sequences[:, t], states if len(states) > 1 or _nested(cell) else states[0], **args)
            new = list(new) if isinstance(new, (list, tuple)) else [new]
            if mask is not None:  # a masked step keeps the states and outputs the previous first state
                keep = Tensor._wrap(mask[:, t, None], False)
                out = ops.where(keep, out, states[0])
                new = [ops.where(keep, n, s) for n, s in zip(new, states)]
            outputs.append(out)
            states = new
        return ops.stack(outputs, axis=1), states

    def _fused(self, sequences, states, mask, training):
        """The fused whole-sequence loop's ``(outputs, final states)``, or None where it does not apply."""
        return None

    def get_config(self):
        from .. import serialize

        return {
            **super().get_config(),
            "cell": serialize(self.cell),
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "zero_output_for_mask": self.zero_output_for_mask,
        }



def _cell_from_config(entry, layer_kwargs):
    """A cell from its serialized entry; one without a name is named after its class (``lstm_cell``), so that
    equal configs give equal layers, and it takes the layer's dtype unless it states its own."""
    from .. import deserialize

    if not isinstance(entry.get("config"), dict) or not isinstance(entry.get("class_name"), str):
        raise ValueError(f"RNN cell must be a layer or a serialized one ({{'class_name': ..., 'config': {{...}}}}), "
                         f"got {entry!r}")
    config = dict(entry["config"])
    if not config.get("name"):
        config["name"] = re.sub(r"(?<!^)(?=[A-Z][a-z])", "_", entry["class_name"].replace("RNN", "Rnn")).lower()
    if "dtype" not in config and layer_kwargs.get("dtype") is not None:
        config["dtype"] = layer_kwargs["dtype"]
    return deserialize({**entry, "config": config})


def _call_parameters(cell):
    import inspect

    return inspect.signature(cell.call).parameters


def _nested(cell):
    return isinstance(cell.state_size, (list, tuple))


_RNN_ARGUMENTS = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll")


def _split_arguments(given):
    """A built-in layer's constructor arguments (its ``locals()``) as ``(the cell's, RNN's)``."""
    given = {key: value for key, value in given.items() if key not in ("self", "__class__", "kwargs")}
    rnn = {key: given.pop(key) for key in _RNN_ARGUMENTS}
    return given, rnn


def _accept_keras_only_arguments(kind, kwargs):
    """Keras arguments that change how, not what, it computes: ``implementation`` (1 or 2) and ``use_cudnn``
    (a GPU kernel choice) are checked and dropped; weight constraints are refused, as ``add_weight`` does."""
    implementation = kwargs.pop("implementation", 2)
    if implementation not in (1, 2):
        raise ValueError(f"{kind} implementation must be 1 or 2, got {implementation!r}")
    use_cudnn = kwargs.pop("use_cudnn", "auto")
    if use_cudnn not in ("auto", True, False):
        raise ValueError(f"{kind} use_cudnn must be 'auto', True or False, got {use_cudnn!r}")
    for name in ("kernel_constraint", "recurrent_constraint", "bias_constraint"):
        if kwargs.pop(name, None) is not None:
            raise NotImplementedError(f"{kind}: weight constraints are not supported yet ({name}=...)")


class _BuiltInRNN(RNN):
    """``SimpleRNN``, ``LSTM``, ``GRU``: an ``RNN`` of their own cell, configured flat as Keras does."""

    cell_class = None

    def __init__(self, cell_arguments, rnn_arguments, **kwargs):
        _accept_keras_only_arguments(type(self).__name__, kwargs)
        cell = self.cell_class(**cell_arguments, name=self.cell_class.default_name, dtype=kwargs.get("dtype"),
                               trainable=kwargs.get("trainable", True))
        super().__init__(cell, **rnn_arguments, **kwargs)

    def get_config(self):
        config = super().get_config()
        cell_config = config.pop("cell")["config"]
        for key in ("name", "trainable", "dtype"):
            cell_config.pop(key, None)
        return {**config, **cell_config}

    def _xw(self, sequences, training):
        """The input projection of every step at once: ``x @ kernel + bias`` (dropout: one mask per sequence)."""
        cell = self.cell
        x = sequences
        masks = cell.input_masks(sequences[:, 0], training)
        if masks is not None:
            x = ops.mul(x, ops.expand_dims(masks[0], 1))
        return ops.dense(x, cell.kernel, bias=cell._input_bias())

    def _fusable(self, training):
        cell = self.cell
        return type(cell) is self.cell_class and not cell._hook_table and not (
            training and cell.recurrent_dropout) and cell.dtype in ("float32", "float64", "float16")

    def _gates_fusable(self, training):
        """LSTM and GRU: the fused loops compute tanh and sigmoid gates only."""
        cell = self.cell
        return cell.activation is ops.tanh and cell.recurrent_activation is ops.sigmoid and self._fusable(training)


def _delegate(name):
    return property(lambda self: getattr(self.cell, name), doc=f"The cell's ``{name}`` (as Keras's properties).")


for _name in ("units", "activation", "recurrent_activation", "use_bias", "kernel", "recurrent_kernel", "bias",
              "dropout", "recurrent_dropout", "unit_forget_bias", "reset_after", "seed", "kernel_initializer",
              "recurrent_initializer", "bias_initializer"):
    setattr(_BuiltInRNN, _name, _delegate(_name))

_FUSED_ACTIVATIONS = {ops.tanh: "tanh", ops.sigmoid: "sigmoid", ops.relu: "relu", activations.linear: "linear"}


class SimpleRNN(_BuiltInRNN):
    """A fully connected recurrent layer: ``h_t = activation(x_t W + h_{t-1} U + b)`` (``SimpleRNNCell``).

    Args: units, activation (``"tanh"``), use_bias, kernel_initializer (``"glorot_uniform"``),
    recurrent_initializer (``"orthogonal"``), bias_initializer (``"zeros"``), the three regularizers, dropout,
    recurrent_dropout, seed, and ``RNN``'s return_sequences, return_state, go_backwards, stateful, unroll.
    """

    cell_class = SimpleRNNCell

    def __init__(self, units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, dropout=0.0, recurrent_dropout=0.0, seed=None,
                 return_sequences=False, return_state=False, go_backwards=False, stateful=False, unroll=False,
                 **kwargs):
        super().__init__(*_split_arguments(locals()), **kwargs)

    def _fused(self, sequences, states, mask, training):
        name = _FUSED_ACTIVATIONS.get(self.cell.activation)
        if name is None or not self._fusable(training):
            return None
        out = recurrent.SimpleRNNSequence.apply(self._xw(sequences, training), states[0], self.cell.recurrent_kernel,
                                                activation=name, mask=mask)
        return out, [out[:, -1]]


class LSTM(_BuiltInRNN):
    """Long short-term memory (Hochreiter and Schmidhuber 1997; ``LSTMCell``); states ``[h, c]``.

    Args: as ``SimpleRNN``'s, plus recurrent_activation (``"sigmoid"``) and unit_forget_bias (True).
    """

    cell_class = LSTMCell

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 dropout=0.0, recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, **kwargs):
        super().__init__(*_split_arguments(locals()), **kwargs)

    def _fused(self, sequences, states, mask, training):
        if not self._gates_fusable(training):
            return None
        cell = self.cell
        n = cell.units
        packed = recurrent.LSTMSequence.apply(self._xw(sequences, training), states[0], states[1],
                                              cell.recurrent_kernel, mask=mask)
        return packed[:, :, :n], [packed[:, -1, :n], packed[:, -1, n:]]


class GRU(_BuiltInRNN):
    """Gated recurrent unit (Cho et al. 2014; ``GRUCell``).

    Args: as ``SimpleRNN``'s, plus recurrent_activation (``"sigmoid"``) and reset_after (True).
    """

    cell_class = GRUCell

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, reset_after=True, **kwargs):
        super().__init__(*_split_arguments(locals()), **kwargs)

    def _fused(self, sequences, states, mask, training):
        if not self._gates_fusable(training):
            return None
        cell = self.cell
        xw = self._xw(sequences, training)
        args = (xw, states[0], cell.recurrent_kernel)
        if cell.reset_after and cell.bias is not None:
            args += (cell.bias[1],)
        out = recurrent.GRUSequence.apply(*args, reset_after=cell.reset_after, mask=mask)
        return out, [out[:, -1]]
