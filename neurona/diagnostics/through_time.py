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
  step). The layer gets a copy of its input for that call, whose gradient is the part that came back through
  this layer alone (the input's own sums every layer it feeds, as both directions of a Bidirectional); an
  input that requires no gradient (the model's own input) is copied into one that does, so its gradient is
  computed; nothing upstream is cut, since nothing upstream has a gradient.
"""

import numpy

from .. import backend
from ..autograd import Tensor
from ..autograd.hooks import HookIdentity
from ..layers import masking
from .recorder import HookSet, layer_paths

VANISHING_RATIO = 1e-4
EXPLODING_RATIO = 1e4
GATED = ("LSTM", "GRU")


def profile(grad, backwards=False, mask=None):
    """``{"per_step_rms", "first_last_ratio"}`` of a ``(batch, time, features)`` gradient (host or device), in
    the order the steps are processed (``backwards``: from the last to the first, a ``go_backwards`` layer's).

    With a ``(batch, time)`` ``mask`` only real steps count, and they are counted back from each example's last
    real step: entry ``-1 - d`` is the RMS over the examples with a real step ``d`` steps before their last one
    (padded steps get no gradient, and would read as a vanished one). The profile is then as long as the
    longest real sequence."""
    values = backend.asnumpy(grad).astype(numpy.float64)
    if backwards:
        values = values[:, ::-1]
    if mask is None:
        per_step = numpy.sqrt((values * values).mean(axis=tuple(i for i in range(values.ndim) if i != 1)))
    else:
        per_step = _real_steps_rms(values, backend.asnumpy(mask).astype(bool)[:, ::-1] if backwards else
                                   backend.asnumpy(mask).astype(bool))
    last = per_step[-1] if len(per_step) else 0.0
    return {"per_step_rms": [float(v) for v in per_step],
            "first_last_ratio": float(per_step[0] / last) if last > 0 else float("inf")}


def _real_steps_rms(values, mask):
    """Per distance from each example's last real step (farthest first), the RMS of the real steps' gradients."""
    squares = (values * values).reshape(values.shape[0], values.shape[1], -1).mean(axis=2)
    total = numpy.zeros(values.shape[1])
    count = numpy.zeros(values.shape[1])
    for example, real in zip(squares, mask):
        steps = example[real][::-1]  # distance 0 first
        total[:len(steps)] += steps
        count[:len(steps)] += 1
    reached = count > 0
    return numpy.sqrt(total[reached] / count[reached])[::-1]


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
            self._handles.append(layer.register_forward_pre_hook(self._tap(path), with_kwargs=True))
        return self

    def _tap(self, path):
        def hook(layer, args, kwargs):
            sequences = args[0] if args else None
            if path in self.profiles or not isinstance(sequences, Tensor) or sequences.ndim != 3:
                return None
            mask = kwargs.get("mask")
            mask = masking.mask_of(sequences) if mask is None else mask  # as the layer will take it
            mask = None if mask is None else (mask.data if isinstance(mask, Tensor) else mask)
            self.profiles[path] = None  # the first call only
            # the layer's own copy: the input tensor's gradient sums all its consumers' (a Bidirectional's two
            # directions, a residual branch), the copy's is what came back through this layer alone
            sequences = HookIdentity.apply(sequences) if sequences.requires_grad else \
                Tensor._wrap(sequences.data, True)

            def keep(grad):
                found = profile(grad.data if isinstance(grad, Tensor) else grad, layer.go_backwards, mask)
                self.profiles[path] = {**found, "type": type(layer).__name__}

            sequences.register_hook(keep)
            return (sequences, *args[1:]), kwargs
        return hook

    def recorded(self):
        """The profiles that were measured (layers whose backward pass ran)."""
        return {path: p for path, p in self.profiles.items() if p is not None}
