"""``Recorder``: hooks on every computing layer of a model that summarize one pass as it happens.

The layers watched are the leaves of the model's tree (layers holding no
other layers, at any depth of nesting) that have weights or an activation:
Dense, Conv, normalization, Activation layers. Shape-only layers (Flatten,
Reshape, pooling, Dropout) are passed over. Each is named by its path in the
tree (``"encoder/dense_1"``), and the records come in the order the layers ran.

For each layer the forward hook summarizes its output (mean, std, saturated
and dead fractions, a histogram) and the pre-activation hook the argument of
its activation; gradient hooks on those two tensors keep the scale of the
gradient of the objective with respect to each. Only summaries are kept (no batch-sized arrays), so the
recorder can stay attached while a model trains (``InitMonitor``). A layer
called more than once per pass (a shared layer) is summarized at its first call.
"""

import numpy

from ..layers.hooks import has_preactivation
from . import statistics as st


def layer_paths(model):
    """``[(path, layer)]`` for every layer inside ``model`` (itself excluded), depth first, each layer once."""
    out, seen = [], {id(model)}

    def walk(layer, prefix):
        for sub in layer._sublayers():
            if id(sub) in seen:
                continue
            seen.add(id(sub))
            path = f"{prefix}{sub.name}"
            out.append((path, sub))
            walk(sub, path + "/")

    walk(model, "")
    return out


def watched_layers(model):
    """The leaf layers with weights or an activation, as ``[(path, layer)]`` (the model itself if it is one).

    A recurrent layer counts as a leaf, its cell is not watched: a hook on the cell would make the layer step it
    through its ``__call__`` rather than run its fused sequence op, and the rounding of the two differs, so a
    monitored run would not train to the same weights as an unmonitored one."""
    from ..layers.rnn import RNN  # diagnostics sits above layers

    cells = {id(layer.cell) for _, layer in layer_paths(model) if isinstance(layer, RNN)}
    cells |= {id(model.cell)} if isinstance(model, RNN) else set()
    leaves = [(path, layer) for path, layer in layer_paths(model)
              if id(layer) not in cells and (not layer._sublayers() or isinstance(layer, RNN))
              and (layer.weights or callable(getattr(layer, "activation", None)))]
    if not leaves and not model._sublayers():
        leaves = [(model.name, model)]
    return leaves


class HookSet:
    """Hooks put on layers by ``__enter__`` (their handles in ``_handles``), all removed by ``close``."""

    _handles = ()

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        """Remove every hook."""
        for handle in self._handles:
            handle.remove()
        self._handles = []


class Recorder(HookSet):
    """Attach with ``with Recorder(model) as rec: ...``; ``rec.records()`` are the layers that ran, in order.

    Args:
        model: any layer or model.
        histograms: keep a histogram of each layer's activations (and pre-activations).
        backward: also record the gradients reaching each layer's output and pre-activation (tensor hooks on
            the first call's tensors, so the figures of a shared layer all come from one call).
    """

    def __init__(self, model, histograms=True, backward=True):
        self.model, self.histograms, self.backward = model, histograms, backward
        self.layers = watched_layers(model)
        # named now: while a layer runs, its `activation` attribute is the pre-activation tap
        self._activations = {path: st.activation_name(layer.activation) if callable(getattr(layer, "activation", None))
                             else None for path, layer in self.layers}
        self.enabled = True
        # the factor the loss was multiplied by before backward (a LossScaleOptimizer's scale): the recorded
        # gradients are divided by it, so they are the gradients of the loss itself
        self.gradient_scale = 1.0
        self._handles = []
        self.reset()

    def reset(self):
        """Forget what was recorded (before the next pass)."""
        self._by_layer = {}
        self._order = []

    def __enter__(self):
        for path, layer in self.layers:
            self._handles.append(layer.register_forward_hook(self._forward(path)))
            if has_preactivation(layer):  # not a recurrent layer's, applied inside its cell at every step
                self._handles.append(layer.register_preactivation_hook(self._preactivation(path)))
        return self

    def _entry(self, path, layer):
        entry = self._by_layer.get(path)
        if entry is None:
            entry = self._by_layer[path] = {"layer": path, "type": type(layer).__name__, "calls": 0,
                                            "activation": self._activations[path]}
            self._order.append(path)
        return entry

    def _preactivation(self, path):
        def hook(layer, z):
            if not self.enabled:
                return
            entry = self._entry(path, layer)
            if "preactivation_std" in entry:
                return
            values = st.host(z)
            entry["preactivation_mean"], entry["preactivation_std"] = st.moments(values)
            entry["preactivation_second_moment"] = st.rms(values) ** 2  # what mean-field theory predicts
            if self.histograms:
                entry["preactivation_histogram"] = st.histogram(values)
            if self.backward and getattr(z, "requires_grad", False):
                z.register_hook(self._gradient(entry, "preactivation"))
        return hook

    def _gradient(self, entry, what):
        """A tensor hook keeping the scale of the gradient reaching this first call's ``what`` tensor."""
        def hook(grad):
            if self.enabled and f"{what}_grad_std" not in entry:
                values = st.host(grad)
                if self.gradient_scale != 1.0:
                    values = values.astype(numpy.float64) / self.gradient_scale
                entry[f"{what}_grad_std"] = st.moments(values)[1]
                entry[f"{what}_grad_rms"] = st.rms(values)
                entry[f"{what}_grad_norm"] = st.example_norm(values)
        return hook

    def _forward(self, path):
        def hook(layer, args, output):
            if not self.enabled:
                return
            entry = self._entry(path, layer)
            entry["calls"] += 1
            if entry["calls"] > 1 or not hasattr(output, "data"):
                return
            values = st.host(output)
            name = entry["activation"]
            entry["output_shape"] = list(values.shape)
            entry["activation_mean"], entry["activation_std"] = st.moments(values)
            entry["saturated_fraction"] = st.saturated_fraction(name, values)
            entry["dead_fraction"] = st.dead_fraction(name, values)
            if self.histograms:
                entry["activation_histogram"] = st.histogram(values)
            if self.backward and getattr(output, "requires_grad", False):
                # the total gradient of the objective with respect to this call's output (every consumer summed)
                output.register_hook(self._gradient(entry, "output"))
        return hook

    def records(self):
        """The summaries of the layers that ran, in the order they ran (dicts; copies)."""
        return [dict(self._by_layer[path]) for path in self._order]

    def layer_at(self, path):
        return dict(self.layers)[path]
