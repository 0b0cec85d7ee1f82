"""Gradients averaged across processes in a few large buffers (one allreduce per step, as PyTorch's DDP).

One call per weight would pay MPI's latency once per weight (a CNN has ~10);
``GradientBuckets`` copies every gradient into flat buffers of at most
``BUCKET_BYTES`` per dtype, scaled on the way by this process's share of the
global batch, reduces all of them concurrently, and hands back views of the
summed buffers shaped like the weights (no copy back).

The global batch's gradient is the mean over its ``B`` samples of the per-sample
gradients. Process ``r`` computes the mean over its ``b_r`` samples, ``g_r``, so
the global one is ``sum_r (b_r / B) g_r``: each process multiplies by ``b_r / B``
before the sum (with equal shares that is the usual ``1 / N`` average). Losses
reduced by ``"sum"`` instead of the mean would want a factor of 1.

Non-trainable float weights that the forward pass updates (batch normalization's
moving mean and variance) ride in the same buffers with a factor ``1 / N``: every
process ends the step with their average, as Keras's MirroredStrategy aggregates
them, so the processes never drift apart.

Control slots at the start of the first buffer count the processes that ask to
skip the step (a non-finite loss under ``TerminateOnNaN``), those that failed
before their gradient (an error in the forward or backward pass) and, per
weight, those that have a gradient for it: if any process skips or fails, no
process applies the step; a weight no process has a gradient for (an unused
branch, or a process with no row of a short batch) is left out everywhere, so
that weight decay or momentum never moves it on one process only.
"""

import numpy

from .. import backend

BUCKET_BYTES = 25 * 2**20  # PyTorch DDP's default bucket_cap_mb
CONTROL_SLOTS = 2  # [processes skipping this step, processes that failed before their gradient]


def wire_dtype(dtype):
    """The buffer dtype for weights of ``dtype``: float64 stays, anything else travels as float32 (MPI has no
    bfloat16, and summing float16 gradients would round at every addition)."""
    return numpy.dtype(numpy.float64) if dtype == numpy.float64 else numpy.dtype(numpy.float32)


class GradientBuckets:
    """Flat buffers for the gradients of ``weights`` (and the values of ``averaged`` weights), built once.

    Args:
        communicator: a ``communicator.world()``.
        weights: the trainable Variables, in a fixed order (the same on every process).
        averaged: non-trainable float Variables averaged after each step (moving statistics).
        bucket_bytes: the largest buffer.
    """

    def __init__(self, communicator, weights, averaged=(), bucket_bytes=BUCKET_BYTES):
        self.comm, self.weights, self.averaged = communicator, list(weights), list(averaged)
        entries = [(w, True) for w in self.weights] + [(w, False) for w in self.averaged]
        self.buffers, self.slots = [], {}
        by_dtype = {}
        for var, is_grad in entries:
            by_dtype.setdefault(wire_dtype(var.data.dtype), []).append((var, is_grad))
        first, self.control = True, CONTROL_SLOTS + len(self.weights)
        for dtype, group in by_dtype.items():
            sizes, start = [], self.control if first else 0
            for var, is_grad in group:
                size = int(var.data.size)
                if start and (start + size) * dtype.itemsize > bucket_bytes:
                    self._add_buffer(dtype, start)
                    start = 0
                self.slots[id(var)] = (len(self.buffers), start, var.data.shape, is_grad)
                start += size
                sizes.append(size)
            self._add_buffer(dtype, start)
            first = False
        if not self.buffers:  # no weights: the control slots alone
            self._add_buffer(numpy.dtype(numpy.float32), CONTROL_SLOTS)
        self.nbytes = sum(b.nbytes for b in self.buffers)

    def _add_buffer(self, dtype, size):
        # host memory: MPI reads NumPy buffers (a GPU's gradients are copied over; CUDA-aware MPI is not assumed)
        self.buffers.append(numpy.zeros(size, dtype=dtype))

    def _view(self, var):
        index, start, shape, _ = self.slots[id(var)]
        size = int(numpy.prod(shape, dtype=numpy.int64))
        return self.buffers[index][start:start + size].reshape(shape)

    def _scaled_into(self, var, value, factor):
        out = self._view(var)
        # in the buffer's dtype: a float16 or bfloat16 value times the share would round (and underflow) in 16 bits
        numpy.multiply(backend.asnumpy(value), factor, out=out, dtype=out.dtype, casting="unsafe")

    def reduce(self, grads, share, skip=False, fail=False, present=None):
        """Sum the ``share``-scaled gradients of every process: ``(views, (skips, failures))``.

        Args:
            grads: ``{id(var): gradient array}`` of this process; a weight missing here contributes zeros.
            share: this process's factor, ``b_r / B``.
            skip: this process asks every process to skip the step.
            fail: this process failed before computing its gradient.
            present: the ``id`` of the weights this process really has a gradient for (default: ``grads``'s).

        Returns:
            ``{id(var): summed gradient}`` for the weights some process has a gradient for (views of the
            buffers, valid until the next call; None when a process skipped or failed) and the counts of
            processes that skipped and that failed.
        """
        averaged_share = 1.0 / self.comm.size
        for buffer in self.buffers:  # a weight without a gradient here sends zeros
            buffer[...] = 0
        for var in self.weights:
            grad = grads.get(id(var))
            if grad is not None:  # scaled and copied in one pass
                self._scaled_into(var, grad, share)
        for var in self.averaged:
            self._scaled_into(var, var.data, averaged_share)
        control = self.buffers[0]
        control[0], control[1] = float(skip), float(fail)
        present = grads.keys() if present is None else present
        control[CONTROL_SLOTS:self.control] = [float(id(var) in present) for var in self.weights]
        self.comm.allreduce_buffers(self.buffers)
        counts = int(round(float(control[0]))), int(round(float(control[1])))
        if any(counts):
            return None, counts
        for var in self.averaged:
            var.data[...] = backend.to_device(self._view(var), backend.device_of(var.data))
        holders = control[CONTROL_SLOTS:self.control]
        return {id(var): self._view(var) for var, held in zip(self.weights, holders) if held > 0}, counts
