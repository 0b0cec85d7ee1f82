"""``InitMonitor``: watch the first epochs of training for the problems a bad initialization causes."""

import warnings

from ..arguments import check_int
from ._arguments import CALLBACK_VERBOSITY, check_bool, check_verbose
from .callback import Callback


class InitMonitor(Callback):
    """Record ``diagnostics.inspect``'s per-layer statistics on real training steps and warn in plain words.

    On every ``every``-th batch of the epochs before ``until_epoch`` (batch 0 of each included) it measures,
    per layer, the activation and pre-activation statistics, saturated and dead fractions, the output
    gradient's scale, each weight's gradient and the step's real update ratio
    ``||w_after - w_before|| / ||w_before||`` (about 1e-3 is healthy, CS231n); per step, the loss, the
    ratio of the first to the last layer's gradient scale, and for each recurrent layer the gradient reaching
    each step of its input sequence (``diagnostics.through_time``: vanishing or exploding through time). Its
    hooks are on the layers for the monitored steps only, so the other steps, and every epoch from
    ``until_epoch`` on, run at full speed. The verdicts are those of ``inspect`` (``diagnostics.verdicts``:
    vanishing or exploding gradients or signal, saturation, dead units, identical units; vanishing or exploding
    through time) and a loss that has not moved (``diagnostics.monitor.loss_verdict``).

    Each kind of problem is warned about once per ``fit`` (``InitWarning``, a ``UserWarning``), its message
    prefixed by ``InitMonitor (epoch e, batch b): `` (1-based, as the progress bar counts); identical units
    that ``fit`` already reported when it started are not reported again.

    Args:
        every: monitor each batch whose index in the epoch is a multiple of this (a positive integer).
        until_epoch: monitor the epochs numbered ``0 .. until_epoch - 1`` (as ``fit`` numbers them, so a
            run resumed with ``initial_epoch >= until_epoch`` is not monitored); 1 is the first epoch only.
        warn: warn about the problems found (False: only record them).
        verbose: 1 prints one line per monitored batch (loss, gradient ratio, verdicts).

    Attributes:
        records: the snapshots of the last ``fit``, one per monitored batch: ``{"epoch", "batch"`` (0-based,
            as the callbacks count), ``"loss"`` (that batch's), ``"layers"`` (per-layer records, as in
            ``inspect``'s report), ``"gradient_ratio", "signal_ratio", "through_time"`` (``{recurrent layer
            path: {"per_step_rms", "first_last_ratio"}}``), ``"verdicts"}``. The same list is
            ``model.history.init_monitor``.
    """

    rank_zero_only = True  # data-parallel: one process writes

    def __init__(self, every=50, until_epoch=1, warn=True, verbose=0):
        super().__init__()
        self.every = check_int(every, "InitMonitor", "every", low=1)
        self.until_epoch = check_int(until_epoch, "InitMonitor", "until_epoch", low=1)
        self.warn = check_bool(warn, "InitMonitor", "warn")
        self.verbose = check_verbose(verbose, "InitMonitor", CALLBACK_VERBOSITY)
        self.records = []
        self._engine = self._monitor = None
        self._epoch = 0
        self._warned = set()
        self._mark = 0

    @property
    def active(self):
        """Whether it is still monitoring (during the first ``until_epoch`` epochs of a run)."""
        return self._engine is not None and self._engine.active

    def close(self):
        """Stop monitoring and remove any hooks left on the layers (by a run that raised in a monitored step);
        done at ``until_epoch``, when training ends, and when the next run begins."""
        if self._engine is not None:
            self._engine.detach()

    def on_train_begin(self, logs=None):
        # diagnostics sits above callbacks in the package layers (DESIGN.md): its engine is imported when a
        # run starts, never when neurona.callbacks is
        from ..diagnostics import monitor

        self.close()  # a previous fit that raised never reached on_train_end: its hooks may still be on
        self._monitor = monitor
        self._engine = monitor.MonitorEngine(self.model, self.every)
        self.records = self._engine.snapshots
        self._warned = set()
        self._mark = monitor.reported_mark()
        history = getattr(self.model, "history", None)
        if history is not None:  # fit sets model.history to this run's History before on_train_begin
            history.init_monitor = self.records
        self._engine.attach()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        if epoch >= self.until_epoch:
            self.close()

    def on_train_batch_begin(self, batch, logs=None):
        if self._engine is not None:
            self._engine.on_batch_begin(self._epoch, batch)

    def on_train_batch_end(self, batch, logs=None):
        if self._engine is None:
            return
        snapshot = self._engine.on_batch_end(self._epoch, batch, logs)
        if snapshot is None:
            return
        if self.verbose:
            self._print(snapshot)
        if self.warn:
            self._warn(snapshot)

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 >= self.until_epoch:
            self.close()

    def on_train_end(self, logs=None):
        self.close()

    def on_train_failed(self, error):
        self.close()

    def _warn(self, snapshot):
        already = self._monitor.reported_since(self.model, self._mark)
        for verdict in snapshot["verdicts"]:
            kind = verdict["kind"]
            if kind in self._warned:
                continue
            self._warned.add(kind)
            if kind == "symmetric units" and set(verdict["layers"]) <= already:
                continue  # fit's own check said it when the run started
            where = f"InitMonitor (epoch {snapshot['epoch'] + 1}, batch {snapshot['batch'] + 1}): "
            warnings.warn(where + verdict["message"], self._monitor.InitWarning, stacklevel=2)

    @staticmethod
    def _print(snapshot):
        ratio = snapshot["gradient_ratio"]
        kinds = ", ".join(dict.fromkeys(v["kind"] for v in snapshot["verdicts"])) or "healthy"
        loss = "?" if snapshot["loss"] is None else f"{snapshot['loss']:.4g}"
        print(f"InitMonitor epoch {snapshot['epoch'] + 1} batch {snapshot['batch'] + 1}: loss {loss}, "
              f"gradient ratio first/last {'?' if ratio is None else f'{ratio:.3g}'}: {kinds}")

    def get_config(self):
        return {"every": self.every, "until_epoch": self.until_epoch, "warn": self.warn, "verbose": self.verbose}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
