"""Magnitude pruning: zero the smallest weights of Dense and convolution kernels, one-shot or gradually.

Han et al. 2015 ("Learning both weights and connections for efficient neural networks") prune the weights of
smallest magnitude and retrain; Zhu and Gupta 2017 prune gradually during training, recomputing a binary mask
every few steps by the polynomial schedule (sparsity_schedules.py), the pruned weights staying zero through
training. Here:

- ``prune_low_magnitude(model, 0.75)`` returns a copy whose kernels are wrapped in ``PruneWrapper``s with the
  75% smallest weights masked now (one-shot; fine-tune it with ``fit`` and the zeros stay zeros);
  ``prune_low_magnitude(model, schedule=PolynomialDecay(...))`` starts with full masks that the
  ``UpdatePruningStep`` callback tightens during ``fit`` (gradual).
- ``scope="layer"`` prunes each kernel to the sparsity on its own; ``scope="global"`` ranks the weights of
  all pruned kernels together (one threshold: layers with many small weights give up more).
- The wrapped layer computes with ``kernel * mask``, so a pruned weight gets no gradient; the callback also
  writes the zeros into the kernel itself after every step (an optimizer's momentum or weight decay could
  otherwise move the stored value), so the saved model.h5 holds the zeros, which its compressed datasets
  store compactly.
- ``strip_pruning(model)`` returns the plain model with the masked kernels, for export and serving.
"""

import json

import numpy

from .. import backend
from ..autograd import no_grad
from ..callbacks.callback import Callback
from . import sparsity_schedules
from .transform import check_model, find_wrappers, stripped_copy, target_layers, wrapped_copy
from .wrapper import KernelWrapper

SCOPES = ("layer", "global")


class PruneWrapper(KernelWrapper):
    """A Dense, Conv1D or Conv2D layer computing with ``kernel * mask`` (a fixed binary mask of its kernel).

    Args:
        layer: the layer to prune (or a serialized one).
        schedule: the sparsity schedule that ``UpdatePruningStep`` follows (a ``SparsitySchedule`` or its
            dict), or None for a mask that never changes.
        scope: ``"layer"`` or ``"global"`` (how ``UpdatePruningStep`` ranks this kernel's weights).
        **kwargs: base Layer arguments (the name defaults to ``prune_<layer name>``).
    """

    prefix = "prune"
    onnx_converter_module = "neurona.compression.onnx_pruned"

    def __init__(self, layer, schedule=None, scope="layer", **kwargs):
        super().__init__(layer, **kwargs)
        self.schedule = None if schedule is None else sparsity_schedules.deserialize(schedule)
        if scope not in SCOPES:
            raise ValueError(f"PruneWrapper scope must be one of {SCOPES}, got {scope!r}")
        self.scope = scope
        self.mask = self.pruning_step = None

    def build_wrapper(self, input_shape):
        self.mask = self.add_weight(name="mask", shape=self.layer.kernel.shape, initializer="ones",
                                    trainable=False)
        self.pruning_step = self.add_weight(name="pruning_step", shape=(), initializer="zeros", dtype="int64",
                                            trainable=False)

    def call(self, inputs, training=None):
        return self.call_inner(inputs, training, kernel=self.layer.kernel * self.mask)

    def sparsity(self):
        """The fraction of the kernel that the mask zeroes."""
        mask = backend.asnumpy(self.mask.data)
        return 1.0 - numpy.count_nonzero(mask) / mask.size

    def set_mask(self, mask):
        """Set the mask (0/1 of the kernel's shape) and zero the masked weights in the kernel itself."""
        with no_grad():
            self.mask.assign(mask.astype(self.mask.dtype))
            self.apply_mask()

    def apply_mask(self):
        """Write ``kernel * mask`` into the kernel (the pruned weights become exact zeros), in place: it runs
        after every training step."""
        kernel = self.layer.kernel.data
        backend.xp_of(kernel).multiply(kernel, self.mask.data, out=kernel)

    def get_config(self):
        schedule = None if self.schedule is None else sparsity_schedules.serialize(self.schedule)
        return {**super().get_config(), "schedule": schedule, "scope": self.scope}


def magnitude_masks(kernels, sparsity, scope="layer"):
    """Masks keeping the largest ``1 - sparsity`` of the weights: of each kernel (``"layer"``), or of all of them
    ranked together (``"global"``). Exactly ``round(sparsity * n)`` weights are zeroed (ties broken by position),
    so the result does not depend on how many weights are equal."""
    if scope == "layer":
        return [_smallest_zeroed(numpy.abs(k).ravel(), sparsity).reshape(k.shape) for k in kernels]
    flat = _smallest_zeroed(numpy.concatenate([numpy.abs(k).ravel() for k in kernels]), sparsity)
    sizes = numpy.cumsum([0] + [k.size for k in kernels])
    return [flat[start:stop].reshape(k.shape) for k, start, stop in zip(kernels, sizes[:-1], sizes[1:])]


def _smallest_zeroed(magnitudes, sparsity):
    mask = numpy.ones(magnitudes.shape, dtype=numpy.float64)
    count = int(round(sparsity * magnitudes.size))
    if count:
        mask[numpy.argsort(magnitudes, kind="stable")[:count]] = 0.0
    return mask


def _check_sparsity(sparsity):
    if isinstance(sparsity, bool) or not isinstance(sparsity, (int, float, numpy.floating)) or \
            not 0.0 <= float(sparsity) < 1.0:
        raise ValueError(f"prune_low_magnitude: sparsity must be a fraction in [0, 1), got {sparsity!r}")
    return float(sparsity)


def prune_low_magnitude(model, sparsity=None, schedule=None, scope="layer", layers=None):
    """A copy of ``model`` whose Dense and convolution kernels are pruned by magnitude.

    Args:
        model: a built Sequential or functional model.
        sparsity: prune to this fraction now (one-shot), e.g. 0.9.
        schedule: or prune gradually during ``fit`` with this ``SparsitySchedule`` (pass the
            ``UpdatePruningStep()`` callback to ``fit``).
        scope: ``"layer"`` (each kernel to the sparsity) or ``"global"`` (one threshold for all).
        layers: names of the layers to prune (default every Dense, Conv1D and Conv2D layer).

    Returns:
        A new model (compiled like ``model`` if it was) with those layers wrapped in ``PruneWrapper``s.
    """
    check_model(model, "prune_low_magnitude")
    if (sparsity is None) == (schedule is None):
        raise ValueError("prune_low_magnitude takes either sparsity= (one-shot) or schedule= (gradual), "
                         f"got sparsity={sparsity!r}, schedule={schedule!r}")
    if scope not in SCOPES:
        raise ValueError(f"prune_low_magnitude: scope must be one of {SCOPES}, got {scope!r}")
    sparsity = None if sparsity is None else _check_sparsity(sparsity)
    schedule = None if schedule is None else sparsity_schedules.deserialize(schedule)
    copy, wrappers = wrapped_copy(model, target_layers(model, layers),
                                  lambda layer: PruneWrapper(layer, schedule=schedule, scope=scope))
    if sparsity is not None:
        _update_masks(list(wrappers.values()), sparsity, scope)
    return copy


def _update_masks(wrappers, sparsity, scope):
    kernels = [backend.asnumpy(w.layer.kernel.data * w.mask.data) for w in wrappers]
    for wrapper, mask in zip(wrappers, magnitude_masks(kernels, sparsity, scope)):
        wrapper.set_mask(mask)


def prune_wrappers(model):
    """The ``PruneWrapper`` layers of ``model`` (nested models included), in model order."""
    return find_wrappers(model, PruneWrapper)


class UpdatePruningStep(Callback):
    """Advances the pruning of every ``PruneWrapper`` during ``fit`` (the TF Model Optimization name).

    After each training step it counts the step (the wrappers' ``pruning_step``, saved with the model, so a
    resumed fit continues the schedule), recomputes the masks where the schedule says so, and writes the
    zeros back into the kernels. Wrappers of ``"global"`` scope sharing one schedule are ranked together.
    """

    def on_train_begin(self, logs=None):
        self._all = prune_wrappers(self.model)  # found once: every batch end walks only these
        self._wrappers = [w for w in self._all if w.schedule is not None]
        if not self._all:
            raise ValueError(f"UpdatePruningStep: model {self.model.name!r} has no PruneWrapper layers; "
                             "prune it first with neurona.compression.prune_low_magnitude")
        self._step(update_only_due=False)

    def on_train_batch_end(self, batch, logs=None):
        for wrapper in self._wrappers:
            wrapper.pruning_step.assign_add(1)
        self._step()

    def _step(self, update_only_due=True):
        groups = {}
        for wrapper in self._wrappers:
            step = int(wrapper.pruning_step.numpy())
            if wrapper.schedule.updates_at(step) or not update_only_due and step >= wrapper.schedule.begin_step:
                # global wrappers of one schedule rank together: equal schedules (as reloaded from a file,
                # each wrapper holding its own copy) are one schedule
                key = (json.dumps(sparsity_schedules.serialize(wrapper.schedule)), step) \
                    if wrapper.scope == "global" else (id(wrapper), step)
                groups.setdefault(key, []).append(wrapper)
        for group in groups.values():
            first = group[0]
            _update_masks(group, first.schedule.sparsity(int(first.pruning_step.numpy())), first.scope)
        for wrapper in self._all:
            wrapper.apply_mask()


def strip_pruning(model):
    """A copy of ``model`` with every ``PruneWrapper`` replaced by its layer holding ``kernel * mask``."""
    check_model(model, "strip_pruning")
    for wrapper in prune_wrappers(model):
        wrapper.apply_mask()
    return stripped_copy(model, lambda wrapper: wrapper.layer)


def sparsity_report(model):
    """``{layer name: fraction of exact zeros}`` of every kernel of ``model`` (pruned or not)."""
    report = {}
    for layer in _kernel_layers(model):
        kernel = backend.asnumpy(layer.kernel.data)
        report[layer.name] = float((kernel == 0).mean())
    return report


def _kernel_layers(model):
    for layer in model.layers:
        if isinstance(layer, KernelWrapper):
            yield layer.layer
        elif getattr(layer, "kernel", None) is not None:
            yield layer
        elif hasattr(layer, "layers"):
            yield from _kernel_layers(layer)
