"""``Bidirectional`` and ``TimeDistributed``: layers that run another layer over a sequence (Keras 3's semantics).

- ``TimeDistributed(layer)`` applies ``layer`` to every time step: the ``(batch, time, ...)`` input is folded
  into ``(batch * time, ...)``, run once, and unfolded, so the steps share the layer's weights.
- ``Bidirectional(rnn)`` runs a recurrent layer forwards and a copy of it backwards (``go_backwards`` flipped)
  over the same sequence and merges the two (Schuster and Paliwal 1997): with ``return_sequences`` the
  backward outputs are put back in time order first, so that step t sees the past and the future.
"""

from ... import ops
from ..base import Layer
from ..masking import as_mask, takes_mask
from ..wrapping import layer_from as _layer_from
from ..wrapping import prefix_weights as _prefix_weights
from .rnn import RNN, _sizes


class TimeDistributed(Layer):
    """Apply ``layer`` to every time step of ``(batch, time, ...)`` inputs: ``(batch, time, ...) -> (batch, time,
    ...layer's output)``, one set of weights for all steps.

    Args:
        layer: the layer to apply (or a serialized one).
        **kwargs: base Layer arguments.
    """

    supports_masking = True

    def __init__(self, layer, **kwargs):
        super().__init__(**kwargs)
        self.layer = _layer_from(layer, "TimeDistributed layer", kwargs.get("dtype"))

    def check_input_shape(self, input_shape):
        super().check_input_shape(input_shape)
        if len(input_shape) < 3:
            raise ValueError(f"layer {self.name!r} (TimeDistributed) expects inputs of shape (batch, time, ...), "
                             f"got shape {tuple(input_shape)}")

    def build(self, input_shape):
        self.layer.build_for((None,) + tuple(input_shape[2:]))
        _prefix_weights(self, self.layer)

    def compute_output_shape(self, input_shape):
        inner = self.layer.build_for((None,) + tuple(input_shape[2:]))
        return (input_shape[0], input_shape[1]) + tuple(inner[1:])

    def call(self, inputs, training=None, mask=None):
        if inputs.ndim < 3:
            raise ValueError(f"layer {self.name!r} (TimeDistributed) expects inputs of shape (batch, time, ...), "
                             f"got shape {tuple(inputs.shape)}")
        batch, steps = inputs.shape[0], inputs.shape[1]
        folded = ops.reshape(inputs, (batch * steps,) + tuple(inputs.shape[2:]))
        kwargs = {"training": training}
        if mask is not None and takes_mask(self.layer):
            step_mask = as_mask(mask)
            if step_mask.ndim > 2:  # a mask within each step (e.g. Masking over (batch, time, steps, features))
                kwargs["mask"] = ops.reshape(step_mask, (batch * steps,) + tuple(step_mask.shape[2:]))
        out = self.layer(folded, **kwargs)
        return ops.reshape(out, (batch, steps) + tuple(out.shape[1:]))

    def get_config(self):
        from .. import serialize

        return {**super().get_config(), "layer": serialize(self.layer)}


class Bidirectional(Layer):
    """Run a recurrent layer forwards and backwards and merge the two outputs.

    Args:
        layer: an ``RNN`` (``LSTM(32)``, ``GRU(16, return_sequences=True)``, ``RNN(cell)``), or a serialized one;
            the forward layer is a copy of it named ``forward_<name>``.
        merge_mode: ``"concat"`` (default), ``"sum"``, ``"mul"``, ``"ave"`` or None (the two outputs as a list).
        backward_layer: the backward layer (its ``go_backwards`` must differ from ``layer``'s); default a copy of
            ``layer`` reading backwards, named ``backward_<name>``.
        **kwargs: base Layer arguments.
    """

    supports_masking = True
    MERGE_MODES = ("concat", "sum", "mul", "ave", None)

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        layer = _layer_from(layer, "Bidirectional layer", kwargs.get("dtype"))
        if not isinstance(layer, RNN):
            raise TypeError(f"Bidirectional needs a recurrent layer (SimpleRNN, LSTM, GRU or RNN), got "
                            f"{type(layer).__name__}")
        if merge_mode not in self.MERGE_MODES:
            raise ValueError(f"Bidirectional merge_mode must be one of {self.MERGE_MODES}, got {merge_mode!r}")
        if weights is not None:
            raise NotImplementedError("Bidirectional(weights=...) is not supported: call set_weights() once built")
        super().__init__(**kwargs)
        self.merge_mode = merge_mode
        config = layer.get_config()
        base = layer.name[len("forward_"):] if layer.name.startswith("forward_") else layer.name  # Keras's names
        self.forward_layer = type(layer).from_config({**config, "name": f"forward_{base}"})
        if backward_layer is None:
            self.backward_layer = type(layer).from_config({**config, "name": f"backward_{base}",
                                                           "go_backwards": not layer.go_backwards})
            self._backward_given = False
        else:
            backward = _layer_from(backward_layer, "Bidirectional backward_layer", kwargs.get("dtype"))
            if not isinstance(backward, RNN) or backward.go_backwards == layer.go_backwards:
                raise ValueError("Bidirectional backward_layer must be a recurrent layer whose go_backwards differs "
                                 "from the forward layer's")
            if (backward.return_sequences, backward.return_state) != (layer.return_sequences, layer.return_state):
                raise ValueError("Bidirectional backward_layer must have the forward layer's return_sequences and "
                                 "return_state")
            self.backward_layer, self._backward_given = backward, True
        self.return_sequences, self.return_state = layer.return_sequences, layer.return_state
        # as Keras: masked steps output zeros in both directions (the backward layer's carried states would
        # otherwise land on the padding once its outputs are put back in time order)
        for inner in (self.forward_layer, self.backward_layer):
            inner.zero_output_for_mask = self.return_sequences

    def build(self, input_shape):
        for layer in (self.forward_layer, self.backward_layer):
            layer.build_for(input_shape)
        _prefix_weights(self, self.forward_layer, self.backward_layer)

    def _merge(self, forward, backward):
        if self.merge_mode == "concat":
            return ops.concatenate([forward, backward], axis=-1)
        if self.merge_mode == "sum":
            return ops.add(forward, backward)
        if self.merge_mode == "mul":
            return ops.mul(forward, backward)
        if self.merge_mode == "ave":
            return ops.mul(ops.add(forward, backward), 0.5)
        return [forward, backward]

    def compute_output_shape(self, input_shape):
        self.forward_layer.build_for(input_shape)
        shapes = self.forward_layer.compute_output_shape(tuple(input_shape))
        output = shapes[0] if self.return_state else shapes
        states = list(shapes[1:]) if self.return_state else []
        if self.merge_mode == "concat":
            output = tuple(output[:-1]) + (2 * output[-1],)
        merged = [tuple(output), tuple(output)] if self.merge_mode is None else [tuple(output)]
        if self.return_state:
            return merged + states + states
        return merged if self.merge_mode is None else merged[0]

    def compute_mask(self, inputs, mask=None):
        output_mask = mask if self.return_sequences else None
        masks = [output_mask, output_mask] if self.merge_mode is None else [output_mask]
        if self.return_state:
            return masks + [None] * (2 * len(_sizes(self.forward_layer.cell)))
        return masks if self.merge_mode is None else output_mask

    def call(self, sequences, initial_state=None, mask=None, training=None):
        forward_state = backward_state = None
        if initial_state is not None:
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
            if len(states) % 2:
                raise ValueError(f"layer {self.name!r} (Bidirectional): initial_state must hold the forward layer's "
                                 f"states then the backward layer's (an even number), got {len(states)}")
            forward_state, backward_state = states[:len(states) // 2], states[len(states) // 2:]
        forward = self.forward_layer(sequences, initial_state=forward_state, mask=mask, training=training)
        backward = self.backward_layer(sequences, initial_state=backward_state, mask=mask, training=training)
        if self.return_state:
            forward, forward_states = forward[0], forward[1:]
            backward, backward_states = backward[0], backward[1:]
        if self.return_sequences:
            backward = backward[:, ::-1]  # back in time order: step t of both read up to t from either end
        merged = self._merge(forward, backward)
        if self.return_state:
            return (merged if isinstance(merged, list) else [merged]) + list(forward_states) + list(backward_states)
        return merged

    def get_config(self):
        from .. import serialize

        config = {**super().get_config(), "merge_mode": self.merge_mode}
        layer = serialize(self.forward_layer)
        layer["config"] = {**layer["config"], "name": self.forward_layer.name[len("forward_"):]}
        config["layer"] = layer
        # always written, as Keras 3 does: rebuilt from `layer` alone, the backward layer would lose what differs
        # between the two (its own go_backwards, its trainable flag, a different class)
        config["backward_layer"] = serialize(self.backward_layer)
        config["weights"] = None
        return config
