"""The optimizer's side of a data-parallel step: its gradients summed across the processes before the update.

``GradientSync.reduce_pairs`` is installed as the model optimizer's ``_gradient_reducer`` while ``fit`` runs
(``optimizers/base.py`` calls it with the ``(gradient, variable)`` pairs of ``apply``/``apply_gradients``),
so the default ``train_step``, a custom one and the low-level loop's ``optimizer.apply`` all sum their
gradients the same way. A process takes part in a step it has no gradient of its own for (no row of a
short batch, a skipped or failed step) through ``join``: every process always makes the same collective
calls.

The share ``b_r / B`` of each process (``buckets.py``) is applied to the loss before ``backward`` when the
step asks the optimizer for its ``scale_loss`` (the default ``train_step`` does; under float16 the loss
scale then sees the global batch's gradient magnitudes, as one process would), and to the gradients in the
buckets otherwise (a custom step that calls ``backward`` on the loss itself).
"""

import time

from .. import backend
from ..autograd import Tensor
from .buckets import GradientBuckets
from .errors import DistributedError, describe
from .state_sync import averaged_weights


class GradientSync:
    """The gradient allreduce of one ``fit``: the buckets of ``model``'s weights and the step's flags."""

    def __init__(self, communicator, model, bucket_bytes):
        self.comm, self.model, self.bucket_bytes = communicator, model, bucket_bytes
        self.buckets, self.layout = None, None
        self.share, self.skip, self.failure, self.reduced = None, False, None, 0
        self._absent = False  # joining without rows: the zeros handed to the optimizer are no gradient
        self.seconds, self.calls = 0.0, 0

    def begin_step(self, share):
        """A new step in which this process holds ``share`` of the global batch's rows."""
        self.share, self.reduced = share, 0
        optimizer = self.model.optimizer
        optimizer._loss_share, optimizer._loss_share_applied = share, False

    def end_step(self):
        """After the step: an update outside ``train_batch`` (a custom loop's) takes an equal share again."""
        self.share = self.model.optimizer._loss_share = None

    def _buckets_for(self, pairs):
        weights = list(self.model.trainable_weights)
        known = {id(w) for w in weights}
        weights += [v for _, v in pairs if id(v) not in known]  # variables trained outside the model's weights
        layout = tuple(id(w) for w in weights)
        if layout != self.layout:
            averaged = averaged_weights(self.model, weights)
            self.buckets = GradientBuckets(self.comm, weights, averaged, self.bucket_bytes)
            self.layout = layout
        return self.buckets

    def reduce_pairs(self, pairs, present=None):
        """The optimizer's hook: ``[(summed gradient, variable)]`` for the variables some process has a gradient
        for, or None when the step is to be skipped (raises ``DistributedError`` when a process failed)."""
        buckets = self._buckets_for(pairs)
        grads = {id(v): (g.data if isinstance(g, Tensor) else g) for g, v in pairs}
        optimizer = self.model.optimizer
        share = self.share if self.share is not None else 1.0 / self.comm.size
        factor = 1.0 if getattr(optimizer, "_loss_share_applied", False) else share
        start = time.perf_counter()
        reduced, (skips, failures) = buckets.reduce(grads, factor, skip=self.skip, fail=self.failure is not None,
                                                    present=present)
        self.seconds += time.perf_counter() - start
        self.calls += 1
        self.reduced += 1
        if failures:
            messages = self.comm.allgather(None if self.failure is None else describe(self.failure))
            raise DistributedError({r: text for r, text in enumerate(messages) if text is not None}) \
                from self.failure
        if skips:
            return None
        return [(reduced[id(v)], v) for _, v in pairs if id(v) in reduced]

    def join(self, skip=False, failure=None):
        """Take part in this step's allreduce without a gradient of one's own (no rows, a skipped step, an error)."""
        self.skip, self.failure, self.share = skip, failure, 0.0
        model = self.model
        weights = model.trainable_weights
        try:
            if weights:
                for w in weights:  # zeros that the optimizer's apply hands to the hook; marked as absent there
                    w.grad = backend.xp_of(w.data).zeros_like(w.data)
                self._absent = True
                model.optimizer.apply(weights)
            else:
                self.reduce_pairs([], present=())
        finally:
            self.skip, self.failure, self._absent = False, None, False
            model.zero_grad()

    def hook(self, pairs):
        """What the optimizer calls: ``reduce_pairs``, with a joining process's zeros marked as no gradient."""
        return self.reduce_pairs(pairs, present=() if self._absent else None)
