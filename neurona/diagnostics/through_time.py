"""The gradient through time: how much of the objective's gradient reaches each step of a recurrent layer's input.

A recurrent layer's gradient with respect to its input at step t, ``dL/dx_t``, comes back through
``T - t`` applications of the step's Jacobian. Their product shrinks or grows geometrically when its
largest singular value stays below or above 1 (Bengio, Simard and Frasconi 1994; Pascanu, Mikolov and
Bengio 2013): the first steps then barely influence training (vanishing) or dominate it (exploding). What
is measured: the RMS of ``dL/dx_t`` over the examples and features at each step, and the ratio of the first
step processed to the last's (a ``go_backwards`` layer processes its sequence from the end).

- ``profile(grad)``: those figures from a ``(batch, time, features)`` gradient.
- ``verdicts(profiles)``: ``vanishing through time`` when the ratio is below ``VANISHING_RATIO``,
  ``exploding through time`` above ``EXPLODING_RATIO`` (wider bounds than the layer-to-layer ones in
  verdicts.py: a sequence of a hundred steps is a hundred layers deep).
- ``SequenceTap(model)``: while open, records the profile (with the layer's ``type``) of the input of every
  recurrent layer in ``model`` on the next backward pass (``InitMonitor`` opens one on each monitored
  step). An input that requires no gradient (the model's own input) is replaced for that call by a copy
  that does, so its gradient is computed; nothing upstream is cut, since nothing upstream has a gradient.
"""

import numpy

from .. import backend
from ..autograd import Tensor
from .recorder import HookSet, layer_paths

VANISHING_RATIO = 1e-4
EXPLODING_RATIO = 1e4
GATED = ("LSTM", "GRU")


def profile(grad, backwards=False):
    """``{"per_step_rms", "first_last_ratio"}`` of a ``(batch, time, features)`` gradient (host or device), in
    the order the steps are processed (``backwards``: from the last to the first, a ``go_backwards`` layer's)."""
    values = backend.asnumpy(grad).astype(numpy.float64)
    per_step = numpy.sqrt((values * values).mean(axis=tuple(i for i in range(values.ndim) if i != 1)))
    if backwards:
        per_step = per_step[::-1]
    last = per_step[-1]
    return {"per_step_rms": [float(v) for v in per_step],
            "first_last_ratio": float(per_step[0] / last) if last > 0 else float("inf")}


def verdicts(profiles):
    """``[{"kind", "layers", "message"}]`` for ``{layer path: profile}``: the gradient vanishing or exploding
    over a layer's sequence."""
    found = []
    for kind, test, words in (("vanishing through time", lambda r: r < VANISHING_RATIO, "barely influence"),
                              ("exploding through time", lambda r: r > EXPLODING_RATIO, "dominate")):
        flagged = {path: p["first_last_ratio"] for path, p in profiles.items() if p and test(p["first_last_ratio"])}
        if not flagged:
            continue
        path, ratio = next(iter(flagged.items()))
        steps = len(profiles[path]["per_step_rms"])
        gated = profiles[path].get("type") in GATED
        if kind.startswith("exploding"):
            advice = "a smaller recurrent kernel (orthogonal, gain 1) or gradient clipping (clipnorm)"
        elif gated:
            advice = ("shorter sequences, or watch whether it learns: gated units can still pick up long "
                      "dependencies as their gates open during training (an LSTM's unit_forget_bias helps)")
        else:
            advice = ("an identity or orthogonal recurrent kernel (IRNN, Le et al. 2015), gated units (LSTM, "
                      "GRU) or shorter sequences")
        found.append({"kind": kind, "layers": sorted(flagged), "message": (
            f"{kind.split()[0]} gradient through time: at layer {path!r} the gradient reaching the first of its "
            f"{steps} input steps is {ratio:.2g} times the one at the last, so the first steps {words} "
            f"training. Consider {advice}")})
    return found


def recurrent_layers(model):
    """``[(path, layer)]`` of the recurrent layers (``layers.RNN`` and its subclasses) in ``model``."""
    from ..layers.rnn import RNN  # diagnostics sits above layers

    found = [(path, layer) for path, layer in layer_paths(model) if isinstance(layer, RNN)]
    return [(model.name, model)] + found if isinstance(model, RNN) else found


class SequenceTap(HookSet):
    """Record the gradient-through-time profile of every recurrent layer's input on the next backward pass.

    ``with SequenceTap(model) as tap: <forward and backward>``; then ``tap.profiles`` is ``{layer path:
    profile}`` for the layers that ran on ``(batch, time, features)`` inputs (first call of each);
    ``close()`` removes the hooks, keeping the profiles.
    """

    def __init__(self, model):
        self.layers = recurrent_layers(model)
        self.profiles = {}
        self._handles = []

    def __enter__(self):
        for path, layer in self.layers:
            self._handles.append(layer.register_forward_pre_hook(self._tap(path)))
        return self

    def _tap(self, path):
        def hook(layer, args):
            sequences = args[0] if args else None
            if path in self.profiles or not isinstance(sequences, Tensor) or sequences.ndim != 3:
                return None
            self.profiles[path] = None  # the first call only
            replaced = None
            if not sequences.requires_grad:
                replaced = sequences = Tensor._wrap(sequences.data, True)

            def keep(grad):
                found = profile(grad.data if isinstance(grad, Tensor) else grad, layer.go_backwards)
                self.profiles[path] = {**found, "type": type(layer).__name__}

            sequences.register_hook(keep)
            return None if replaced is None else (replaced, *args[1:])
        return hook

    def recorded(self):
        """The profiles that were measured (layers whose backward pass ran)."""
        return {path: p for path, p in self.profiles.items() if p is not None}
