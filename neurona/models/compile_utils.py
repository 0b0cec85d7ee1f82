"""What ``compile`` makes of ``loss``, ``loss_weights``, ``metrics`` and ``weighted_metrics`` (Keras 3's rules).

A model has one output or several (a list, or a dict keyed by name); each
output has a name: the output layer's name, or the dict key (``OutputLayout``).

- ``loss``: one loss applies to every output; a list gives one per output (None
  for an output without a loss); a dict maps output names to losses.
- ``loss_weights``: a number, a list or a dict of the same kind. The objective
  is ``sum_k w_k * loss_k`` (plus the model's ``losses``: weight and activity
  penalties, ``add_loss`` terms).
- ``metrics``: for one output, every metric listed (nested lists and dict values
  flattened); for several, a list with one entry (a metric or a list) per output,
  or a dict by output name. ``weighted_metrics`` likewise, updated with the
  sample weights; plain ``metrics`` never see them.

Log names, as Keras 3 writes them: ``loss`` (the weighted total), and with
several losses ``<output>_loss`` for each (unweighted); a metric is
``<output>_<metric>`` with several outputs, ``<metric>`` with one; a weighted
metric whose name is taken becomes ``weighted_<metric>``; a name that is still
taken gets ``_1``, ``_2`` ...
"""

from collections import namedtuple

from .. import losses as losses_lib
from .. import metrics as metrics_lib
from .. import nest
from ..arguments import is_real, shown
from ..autograd import Tensor
from ..layers.symbolic import SymbolicTensor

#: The outputs of a model: ``names`` and ``shapes`` in ``nest.flatten`` order, ``kind`` "single", "list" or "dict".
OutputLayout = namedtuple("OutputLayout", ["names", "shapes", "kind"])


def layout_of(model):
    """The model's ``OutputLayout`` when its outputs are known before any call (functional, built Sequential)."""
    structure = getattr(model, "_output_structure", None)
    if structure is None:
        graph = getattr(model, "_graph", None)
        if graph is None:
            return None
        return OutputLayout([model.layers[-1].name], [graph[1].shape], "single")
    if isinstance(structure, SymbolicTensor):
        return OutputLayout(list(model.output_names), [structure.shape], "single")
    if isinstance(structure, dict) and all(isinstance(v, SymbolicTensor) for v in structure.values()):
        return OutputLayout(sorted(structure), [structure[k].shape for k in sorted(structure)], "dict")
    return OutputLayout(list(model.output_names), [t.shape for t in nest.flatten(structure)], "list")


def layout_from_predictions(y_pred):
    """The ``OutputLayout`` of what a (subclassed) model returned: outputs named by dict key or ``output_<i>``."""
    if isinstance(y_pred, dict):
        return OutputLayout(sorted(y_pred), [tuple(y_pred[k].shape) for k in sorted(y_pred)], "dict")
    flat = nest.flatten(y_pred)
    if not nest.is_nested(y_pred):
        return OutputLayout(["output"], [tuple(y_pred.shape)], "single")
    return OutputLayout([f"output_{i + 1}" for i in range(len(flat))], [tuple(t.shape) for t in flat], "list")


def _is_spec_leaf(value):
    return not isinstance(value, (list, tuple, dict))


def per_output(spec, layout, what, owner):
    """``spec`` spread over the outputs: a list with one entry (or None) per output, in layout order.

    A leaf applies to every output; a list or tuple needs one entry per output; a dict maps output
    names (a subset) to entries.
    """
    names = layout.names
    if spec is None:
        return [None] * len(names)
    if _is_spec_leaf(spec):
        return [spec] * len(names)
    if isinstance(spec, dict):
        unknown = [key for key in spec if key not in names]
        if unknown:
            raise ValueError(f"{owner}: {what} has keys {unknown} that are not outputs of the model; its outputs "
                             f"are {names}")
        return [spec.get(name) for name in names]
    if len(spec) != len(names):
        raise ValueError(f"{owner}: {what} is a {type(spec).__name__} of {len(spec)} entries, but the model has "
                         f"{len(names)} output(s) {names}; give one entry per output (None for none), or a dict "
                         "keyed by output name")
    return list(spec)


def _resolve_loss(identifier):
    loss = losses_lib.get(identifier)
    if isinstance(loss, losses_lib.Loss):
        return loss
    if not callable(loss):
        raise TypeError(f"compile: could not interpret loss {shown(identifier)}; expected a name, a Loss or a "
                        "function (y_true, y_pred) -> per-sample losses")
    # a plain function (y_true, y_pred) -> per-sample losses is averaged over the batch, as in Keras
    name = identifier if isinstance(identifier, str) else None
    return losses_lib.LossFunctionWrapper(loss, name=name)


def resolve_losses(loss):
    """``loss`` with every leaf a ``Loss`` object (None stays None): what ``model.loss`` holds after compile."""
    if loss is None:
        return None
    if isinstance(loss, dict):
        return {key: resolve_losses(value) for key, value in loss.items()}
    if isinstance(loss, (list, tuple)):
        return [resolve_losses(value) for value in loss]
    return _resolve_loss(loss)


def _check_loss_weight(weight, where):
    if weight is not None and not is_real(weight):
        raise ValueError(f"compile: {where} must be a number, got {shown(weight)}")
    return None if weight is None else float(weight)


def flatten_like(values, layout, what, caller="fit"):
    """``y`` or ``sample_weight`` as one entry per output (layout order) from an array, list or dict.

    A single array for several outputs is a ``sample_weight`` for all of them (one weight per sample),
    and an error for ``y``.
    """
    names = layout.names
    if values is None:
        return [None] * len(names)
    if isinstance(values, dict):
        unknown = [key for key in values if key not in names]
        if unknown:
            raise ValueError(f"{caller}: {what} has keys {unknown} that are not outputs of the model; its outputs "
                             f"are {names}")
        return [values.get(name) for name in names]
    if isinstance(values, (list, tuple)) and not isinstance(values, Tensor) and (
            len(names) > 1 or (len(values) == 1 and hasattr(values[0], "shape"))):
        if len(values) != len(names):
            raise ValueError(f"{caller}: {what} is a {type(values).__name__} of {len(values)} entries, but the model "
                             f"has {len(names)} outputs {names}; give one per output or a dict by output name")
        return list(values)
    if len(names) == 1:
        return [values]
    if what == "sample_weight":
        shape = tuple(values.shape)
        if len(shape) == 1 or (len(shape) == 2 and shape[1] == 1):
            return [values] * len(names)
        raise ValueError(f"{caller}: one sample_weight array for a model with several outputs must hold one weight "
                         f"per sample (shape (samples,)), got shape {shape}; pass one array per output instead")
    raise ValueError(f"{caller}: the model has {len(names)} outputs {names}, but {what} is a single array of shape "
                     f"{tuple(values.shape)}; pass a list of {len(names)} arrays or a dict keyed by output name")


class LossTracker(metrics_lib.Mean):
    """A ``Mean`` of per-batch loss values weighted by batch size, with a fast path for Python numbers.

    ``fit`` updates it once per step: the general ``Mean.update_state`` (arrays, broadcasting, checks)
    would cost more than the rest of the step's bookkeeping together.
    """

    def update_state(self, values, sample_weight=None):
        if isinstance(values, float | int) and isinstance(sample_weight, int | None):
            weight = 1 if sample_weight is None else sample_weight
            self.total, self.count = self.total + values * weight, self.count + weight
        else:
            super().update_state(values, sample_weight)


class CompileLoss:
    """The compiled objective: per-output losses, weighted and summed; ``metrics`` tracks each one's mean.

    Args:
        loss: as given to ``compile`` (leaves already ``Loss`` objects, see ``resolve_losses``).
        loss_weights: None, a number, a list or a dict by output name.
        layout: the model's ``OutputLayout``, or None to build at the first call.
    """

    def __init__(self, loss, loss_weights=None, layout=None):
        if loss_weights is not None and not isinstance(loss_weights, (list, tuple, dict)) and not is_real(
                loss_weights):
            raise ValueError(f"compile: loss_weights must be a number, a list or a dict keyed by output name, got "
                             f"{shown(loss_weights)}")
        self._loss, self._weights = loss, loss_weights
        self.entries = None  # (output index, output name, Loss, weight or None)
        self.metrics = []
        if layout is not None:
            self.build(layout)

    @property
    def built(self):
        return self.entries is not None

    def build(self, layout):
        """Pair each output with its loss and weight; with several losses, one ``Mean`` tracker each."""
        losses = per_output(self._loss, layout, "loss", "compile")
        weights = per_output(self._weights, layout, "loss_weights", "compile")
        entries = []
        for i, (name, loss, weight) in enumerate(zip(layout.names, losses, weights)):
            if isinstance(loss, (list, tuple, dict)):
                raise ValueError(f"compile: the loss of output {name!r} must be one loss, got {shown(loss)[:80]}")
            if loss is not None:
                entries.append((i, name, loss, _check_loss_weight(weight, f"loss_weights for output {name!r}")))
        if isinstance(self._loss, dict) and layout.kind == "dict":  # Keras: in the loss dict's own key order
            order = list(self._loss)
            entries.sort(key=lambda entry: order.index(entry[1]))
        self.layout, self.entries = layout, entries
        self.metrics = [LossTracker(name=f"{name}_loss") for _, name, _, _ in entries] if len(entries) > 1 else []

    def loss_for(self, name):
        """The loss of output ``name`` (None if it has none, or if that is not known yet)."""
        if self.built:
            return next((loss for _, output, loss, _ in self.entries if output == name), None)
        if isinstance(self._loss, dict):
            return self._loss.get(name)
        return None if isinstance(self._loss, (list, tuple)) else self._loss

    def __call__(self, y_true, y_pred, sample_weight=None, caller="fit"):
        """The weighted sum of the outputs' losses (a scalar Tensor), or None when no output has a loss."""
        flat_pred = nest.flatten(y_pred)
        if not self.built:
            self.build(layout_from_predictions(y_pred))
        flat_true = flatten_like(y_true, self.layout, "y", caller)
        flat_weight = flatten_like(sample_weight, self.layout, "sample_weight", caller)
        total = None
        for k, (i, name, loss, weight) in enumerate(self.entries):
            if flat_true[i] is None:
                raise ValueError(f"{caller}: output {name!r} has a loss but no target: pass y for it (or compile "
                                 "that output's loss as None)")
            value = loss(flat_true[i], flat_pred[i], flat_weight[i])
            if self.metrics:
                self.metrics[k].update_state(float(value.data), sample_weight=len(flat_pred[i]))
            if weight is not None:
                value = value * weight
            total = value if total is None else total + value
        return total


def _flat_metric_list(spec):
    """Every metric identifier in ``spec`` (a leaf, list, tuple or dict; nested), in order."""
    if spec is None:
        return []
    if isinstance(spec, dict):
        return [m for value in spec.values() for m in _flat_metric_list(value)]
    if isinstance(spec, (list, tuple)):
        return [m for value in spec for m in _flat_metric_list(value)]
    return [spec]


def _check_metrics_argument(spec, what):
    if spec is not None and not isinstance(spec, (list, tuple, dict)):
        raise ValueError(f"compile: {what} must be a list, tuple or dict of metrics, got {shown(spec)}; e.g. "
                         f"{what}=['accuracy']")


class CompileMetrics(metrics_lib.Metric):
    """The compiled metrics of every output; ``result()`` is a dict named as Keras 3 names them.

    Args:
        metrics, weighted_metrics: as given to ``compile``.
        layout: the model's ``OutputLayout``, or None to build at the first update.
        compile_loss: the ``CompileLoss`` (each output's loss picks the kind of ``"accuracy"``), or None.
    """

    def __init__(self, metrics=None, weighted_metrics=None, layout=None, compile_loss=None):
        _check_metrics_argument(metrics, "metrics")
        _check_metrics_argument(weighted_metrics, "weighted_metrics")
        self._specs, self._compile_loss = (metrics, weighted_metrics), compile_loss
        self._entries = None  # [output index, output name or None, metric, weighted, identifier]
        self._refined = False
        super().__init__(name="compile_metrics")
        if layout is not None:
            self.build(layout)
        for identifier in _flat_metric_list(metrics) + _flat_metric_list(weighted_metrics):
            if identifier is None:
                raise ValueError("compile: a metric is None; expected a name, a Metric or a function")
            if layout is None and not (isinstance(identifier, str) and identifier.lower() in ("accuracy", "acc")):
                metrics_lib.resolve(identifier)  # an unknown name fails at compile, not at the first batch

    @property
    def built(self):
        return self._entries is not None

    def build(self, layout):
        entries = []
        for weighted, spec in ((False, self._specs[0]), (True, self._specs[1])):
            what = "weighted_metrics" if weighted else "metrics"
            if len(layout.names) == 1:
                groups = [_flat_metric_list(spec)]
            else:
                groups = [_flat_metric_list(group) for group in per_output(spec or [], layout, what, "compile")] \
                    if spec else [[] for _ in layout.names]
            for i, group in enumerate(groups):
                prefix = layout.names[i] if len(layout.names) > 1 else None
                for identifier in group:
                    metric = self._resolve(identifier, layout.names[i], layout.shapes[i])
                    entries.append([i, prefix, metric, weighted, identifier])
        self.layout, self._entries = layout, entries

    def _resolve(self, identifier, output_name, output_shape, target_shape=None):
        loss = None if self._compile_loss is None else self._compile_loss.loss_for(output_name)
        return metrics_lib.resolve(identifier, loss=loss, output_shape=output_shape, target_shape=target_shape)

    @property
    def metrics(self):
        """The metric objects: those of ``metrics`` first, then those of ``weighted_metrics``."""
        return [entry[2] for entry in self._entries or ()]

    @property
    def variables(self):
        return [v for metric in self.metrics for v in metric.variables]

    def _refine(self, flat_true, flat_pred):
        """``"accuracy"`` once the targets are seen: sparse labels or one-hot rows (Keras decides from shapes)."""
        self._refined = True
        for entry in self._entries:
            i, _, metric, _, identifier = entry
            if isinstance(identifier, str) and identifier.lower() in ("accuracy", "acc") and flat_true[i] is not None:
                better = self._resolve(identifier, self.layout.names[i], tuple(flat_pred[i].shape),
                                       tuple(flat_true[i].shape))
                if type(better) is not type(metric):
                    entry[2] = better

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Update every output's metrics (the weighted ones with ``sample_weight``)."""
        if not self.built:
            self.build(layout_from_predictions(y_pred))
        # raw arrays (no graph), except outputs that carry a Keras mask: those stay Tensors so that the metrics
        # count only the real steps (MeanMetricWrapper reads the mask)
        flat_pred = [t if isinstance(t, Tensor) and getattr(t, "_keras_mask", None) is not None else
                     t.data if isinstance(t, Tensor) else t for t in nest.flatten(y_pred)]
        flat_true = flatten_like(y_true, self.layout, "y")
        flat_weight = flatten_like(sample_weight, self.layout, "sample_weight")
        if not self._refined:
            self._refine(flat_true, flat_pred)
        for i, _, metric, weighted, _ in self._entries:
            if flat_true[i] is None:
                continue
            if weighted:
                metric.update_state(flat_true[i], flat_pred[i], sample_weight=flat_weight[i])
            else:
                metric.update_state(flat_true[i], flat_pred[i])

    def reset_state(self):
        for metric in self.metrics:
            metric.reset_state()

    def result(self):
        """``{log name: metric.result()}`` with Keras 3's names (see the module doc)."""
        results, counts = {}, {}
        for _, prefix, metric, weighted, _ in self._entries or ():
            name = f"{prefix}_{metric.name}" if prefix else metric.name
            if weighted and name in counts:
                name = f"{prefix}_weighted_{metric.name}" if prefix else f"weighted_{metric.name}"
            if name in counts:
                counts[name] += 1
                name = f"{name}_{counts[name] - 1}"
            else:
                counts[name] = 1
            results[name] = metric.result()
        return results

    def get_config(self):
        raise NotImplementedError("the compiled metrics are saved through the model's compile config")
