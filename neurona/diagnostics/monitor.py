"""The engine of ``callbacks.InitMonitor``: ``inspect``'s statistics, measured on the real steps of ``fit``.

Every ``every``-th batch of an epoch the recorder's hooks (``recorder.py``)
are switched on for that one step: the forward pass gives each layer's
activation and pre-activation statistics, the backward pass its output
gradient; the weights are copied at the batch's begin, so that at its end
(``train_step`` zeroes the gradients before ``backward`` and leaves them on
the weights after the optimizer's update) each weight's gradient and the
*real* update ratio ``||w_after - w_before|| / ||w_before||`` are known. The
records are judged as ``inspect`` judges them (``verdicts.judge``, with
``symmetry.symmetric_units``), plus one verdict only a run can give:

- loss not moving: after at least ``LOSS_MIN_POINTS`` monitored batches,
  every batch loss differs from the first monitored one by less than
  ``LOSS_RTOL`` (relative), or the trainable weights as a whole have moved by less than
  ``WEIGHT_RTOL`` (relative) since the first monitored batch. The second test
  is the one that catches a learning rate of 0 or all-zero gradients on
  mini-batches: there the loss still changes from batch to batch (each batch
  holds other examples), but only because the data does.

The batch loss is the step's own loss, recovered from the model's loss tracker
(the logs hold the epoch's running mean); a custom ``train_step`` that does not
update the tracker gets the logs' ``loss`` instead.

``warn_identical_units(model)`` is the weight-only symmetry check ``fit`` runs
when it starts; it remembers what it reported so that ``InitMonitor`` does not
say it a second time in the same run.
"""

import math
import warnings
import weakref

import numpy

from . import statistics as st
from . import symmetry, through_time, verdicts, weights
from .recorder import Recorder

LOSS_RTOL = 1e-4
LOSS_MIN_POINTS = 3
# below float32's resolution (2 ** -23 = 1.2e-7): no weight has changed beyond rounding
WEIGHT_RTOL = 1e-7
LOSS_NOT_MOVING = "loss not moving"


class InitWarning(UserWarning):
    """A problem of initialization, found by ``callbacks.InitMonitor`` or by the symmetry check at the start of
    ``fit``: filter it with ``warnings.simplefilter("ignore", InitWarning)``."""


# ---- the symmetry check at the start of fit -------------------------------------------------------------
class _Reported:
    """What ``warn_identical_units`` said about each model, and when (a counter, not a clock)."""

    def __init__(self):
        self.count = 0
        self.by_model = weakref.WeakKeyDictionary()  # a model that is deleted is forgotten with it

    def mark(self):
        return self.count

    def add(self, model, layers):
        self.count += 1
        self.by_model[model] = (self.count, frozenset(layers))

    def since(self, model, mark):
        """The layers reported for ``model`` after ``mark`` (an empty set if none were)."""
        when, layers = self.by_model.get(model, (0, frozenset()))
        return layers if when > mark else frozenset()


_REPORTED = _Reported()


def warn_identical_units(model):
    """Warn (``InitWarning``) once per hidden layer of ``model`` whose units are identical; return the entries.

    The check reads the weights only (``symmetry.symmetric_units``), so it needs a built model. Each entry is
    ``{"layer": path, "units": n, "groups": [[i, j, ...], ...]}``; each warning names its layer and says why
    identical units stay identical (``symmetry.message``).
    """
    entries = symmetry.symmetric_units(model)
    for entry in entries:
        warnings.warn(symmetry.message([entry]), InitWarning, stacklevel=2)
    _REPORTED.add(model, [entry["layer"] for entry in entries])
    return entries


def reported_mark():
    """A mark to pass to ``reported_since``: what ``warn_identical_units`` says from now on comes after it."""
    return _REPORTED.mark()


def reported_since(model, mark):
    """The layers ``warn_identical_units`` reported as symmetric for ``model`` after ``mark``."""
    return _REPORTED.since(model, mark)


# ---- the loss that does not move ------------------------------------------------------------------------
def loss_verdict(losses, weight_change=None):
    """The ``"loss not moving"`` verdict for the batch losses of the monitored batches so far, or None.

    The loss has not moved when every monitored loss lies within ``LOSS_RTOL`` (relative) of the first one:
    all of them, not only the latest, since on mini-batches two losses come within 1e-4 of each other by chance
    (about once in a thousand pairs when batch losses scatter by 5%).

    Args:
        losses: the monitored batches' losses, in order (None where unknown).
        weight_change: ``||W_now - W_first|| / ||W_first||`` over all trainable weights since the first
            monitored batch, or None when unknown.
    """
    if len(losses) < LOSS_MIN_POINTS or any(v is None or not math.isfinite(v) for v in losses):
        return None
    first = losses[0]
    if max(abs(v) for v in losses) < 1e-12:
        return None  # a loss of zero has nothing left to learn
    change = max(abs(v - first) for v in losses) / max(abs(first), 1e-12)
    advice = ("Look for a learning rate of 0 or far too small, weights that are frozen, or gradients that are "
              "all zero (dead units, a zeros initialization with no path for the gradient)")
    if change < LOSS_RTOL:
        evidence = (f"over {len(losses)} monitored batches it has stayed within a relative {change:.1e} of "
                    f"{first:.6g}, its value at the first one")
    elif weight_change is not None and weight_change < WEIGHT_RTOL:
        evidence = (f"the weights are where they were at the first monitored batch (relative change "
                    f"{weight_change:.1e} over {len(losses)} monitored batches), so the loss changes only because "
                    "each batch holds other examples")
    else:
        return None
    return {"kind": LOSS_NOT_MOVING, "layers": [], "message": f"the loss has not moved: {evidence}. {advice}"}


# ---- the engine -----------------------------------------------------------------------------------------
def _floats(a):
    """``a`` in at least float32 (norms of float16 weights would overflow), else as it is (BLAS norms)."""
    return a if a.dtype.kind == "f" and a.dtype.itemsize >= 4 else a.astype(numpy.float32)


def _relative_change(before, after):
    """``||after - before|| / ||before||``; inf when only ``before`` is zero, 0 when both are."""
    before, after = _floats(before), _floats(after)
    step = float(numpy.linalg.norm(after - before))
    norm = float(numpy.linalg.norm(before))
    return step / norm if norm > 0 else (math.inf if step > 0 else 0.0)


class MonitorEngine:
    """Records ``inspect``'s statistics on every ``every``-th batch while it is active.

    Call ``attach()``, then ``on_batch_begin(epoch, batch)`` and ``on_batch_end(epoch, batch, logs)`` around
    every training step, and ``detach()`` at the end. The recorder's hooks are on the layers only for the
    length of a monitored step (from its begin to its end): the other steps run on the hook-free path (the
    backward hooks would route every layer's tensors through identity nodes, even while not recording).

    Args:
        model: the model being trained.
        every: monitor the batches whose index in the epoch is a multiple of ``every`` (batch 0 included).
        histograms: keep each layer's activation histograms in the records (off: the records stay small).

    Attributes:
        snapshots: one dict per monitored batch: ``{"epoch", "batch", "loss", "layers", "gradient_ratio",
            "signal_ratio", "through_time", "verdicts"}`` (``through_time``: ``{recurrent layer path: the
            gradient's RMS at each step of its input, and the first/last ratio}``, ``through_time.profile``);
            ``layers`` holds ``inspect``'s per-layer records, each with its ``weights`` (gradients and the
            step's real update ratio) and ``kernel``.
    """

    def __init__(self, model, every, histograms=False):
        self.model, self.every, self.histograms = model, int(every), bool(histograms)
        self.snapshots = []
        self.active = False
        self._recorder = self._tap = None  # during a monitored step only
        self._pending = None  # (epoch, batch) of the step being recorded
        self._before = {}  # id(var) -> (var, copy of its data) at the recorded batch's begin
        self._first = None  # the same, at the first monitored batch
        self._tracked = None  # the loss tracker's (total, count) at the recorded batch's begin
        self._losses = []

    @property
    def hooked(self):
        """Whether the recorder's hooks are on the layers now (between a monitored step's begin and end)."""
        return self._recorder is not None

    def attach(self):
        """Monitor the batches to come."""
        self.active = True

    def detach(self):
        """Stop monitoring: remove the hooks of a step in progress (one that raised) and forget it."""
        self.active = False
        self._release()

    def _release(self):
        if self._recorder is not None:
            self._recorder.close()
        if self._tap is not None:
            self._tap.close()
        self._tap = None
        self._recorder, self._pending, self._before = None, None, {}

    def _copy(self):
        trainable = [w for _, layer in self._recorder.layers for w in layer.weights if w.trainable]
        return {id(w): (w, st.host(w).copy()) for w in trainable}

    def _tracker_state(self):
        tracker = getattr(self.model, "_loss_tracker", None)
        if tracker is None or not hasattr(tracker, "total"):
            return None
        return float(tracker.total), float(tracker.count)

    def on_batch_begin(self, epoch, batch):
        """Put the hooks on and start recording if ``batch`` is monitored; returns whether it is."""
        if not self.active or batch % self.every:
            return False
        self._release()  # a step whose end never came (it raised)
        # made at each monitored step, so that layers that get their weights in the first step are found later
        self._recorder = Recorder(self.model, histograms=self.histograms, backward=True).__enter__()
        # the scale this step's backward runs with (a LossScaleOptimizer's, read before its update changes it)
        self._recorder.gradient_scale = float(getattr(getattr(self.model, "optimizer", None), "dynamic_scale", 1.0))
        tap = through_time.SequenceTap(self.model)
        self._tap = tap.__enter__() if tap.layers else None
        self._before = self._copy()
        if self._first is None and self._before:
            self._first = self._before
        self._tracked = self._tracker_state()
        self._pending = (epoch, batch)
        return True

    def _batch_loss(self, logs):
        now = self._tracker_state()
        if self._tracked is not None and now is not None and now[1] > self._tracked[1]:
            return (now[0] - self._tracked[0]) / (now[1] - self._tracked[1])
        loss = logs.get("loss")
        return float(loss) if isinstance(loss, (int, float)) else None

    def _weight_change(self):
        """``||W_now - W_first|| / ||W_first||`` over the trainable weights known at the first monitored batch."""
        if not self._first:
            return None
        step = norm = 0.0
        for var, old in self._first.values():
            old = _floats(old)
            step += float(numpy.linalg.norm(_floats(st.host(var)) - old)) ** 2
            norm += float(numpy.linalg.norm(old)) ** 2
        return math.sqrt(step / norm) if norm > 0 else (math.inf if step > 0 else 0.0)

    def _records(self):
        records = self._recorder.records()
        layer_of = dict(self._recorder.layers)
        ratios = {key: _relative_change(old, st.host(var)) for key, (var, old) in self._before.items()}
        for record in records:
            layer = layer_of[record["layer"]]
            record["weights"] = [weights.weight_record(w, layer, ratios.get(id(w))) for w in layer.weights]
            kernel = weights.kernel_of(layer)
            record["kernel"] = next((r for r, w in zip(record["weights"], layer.weights) if w is kernel), None)
        return records

    def on_batch_end(self, epoch, batch, logs):
        """The snapshot of the step that began with ``on_batch_begin(epoch, batch)``, or None if it was not
        monitored (the snapshot is also appended to ``snapshots``). The hooks come off here."""
        if self._recorder is None or self._pending != (epoch, batch):
            return None
        self._recorder.close()
        records = self._records()
        profiles = self._tap.recorded() if self._tap is not None else {}
        self._release()
        found = verdicts.judge(records, symmetry.symmetric_units(self.model)) + through_time.verdicts(profiles)
        loss = self._batch_loss(logs or {})
        self._losses.append(loss)
        stuck = loss_verdict(self._losses, self._weight_change())
        if stuck is not None:
            found.append(stuck)
        snapshot = {"epoch": int(epoch), "batch": int(batch), "loss": loss, "layers": records,
                    "gradient_ratio": verdicts.gradient_ratio(records), "signal_ratio": verdicts.signal_ratio(records),
                    "through_time": profiles, "verdicts": found}
        self.snapshots.append(snapshot)
        return snapshot
