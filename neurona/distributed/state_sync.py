"""Every process holding rank 0's state: weights and optimizer state at the start, a check at each epoch's end.

Also which non-trainable weights a step changes (the moving statistics, averaged after each step), and the
random generators of the layers, which every process would otherwise draw alike (the same seed everywhere):
each process's dropout masks on its rows must differ, as one process's masks differ from row to row.
"""

import warnings
import zlib

import numpy

from .. import backend
from ..layers.tracking import walk_layers
from .buckets import wire_dtype


def broadcast_arrays(comm, variables):
    """Rank 0's values of ``variables`` on every process, through one flat buffer per dtype."""
    if comm.size == 1 or not variables:
        return
    groups = {}
    for var in variables:
        groups.setdefault(wire_dtype(var.data.dtype), []).append(var)
    buffers = []
    for dtype, group in groups.items():
        buffer = numpy.empty(sum(int(v.data.size) for v in group), dtype=dtype)
        if comm.rank == 0:
            numpy.concatenate([backend.asnumpy(v.data).ravel() for v in group], out=buffer, casting="unsafe")
        buffers.append((buffer, group))
    comm.broadcast_buffers([b for b, _ in buffers])
    if comm.rank == 0:
        return
    for buffer, group in buffers:
        start = 0
        for var in group:
            size = int(var.data.size)
            value = buffer[start:start + size].reshape(var.data.shape).astype(var.data.dtype)
            var.data[...] = backend.to_device(value, backend.device_of(var.data))
            start += size


def float_weights(model):
    return [w for w in model.weights if backend.is_floating(w.data.dtype)]


def broadcast_state(comm, model, optimizer=True):
    """Rank 0's float weights (trainable or not) and, with ``optimizer``, its optimizer state on every process."""
    broadcast_arrays(comm, float_weights(model))
    optimizer = getattr(model, "optimizer", None) if optimizer else None
    if optimizer is not None and comm.size > 1:
        trainable = model.trainable_weights
        state = comm.bcast(optimizer.get_state(trainable) if comm.rank == 0 else None)
        if comm.rank != 0:
            optimizer.set_state(state, trainable)


def check_in_sync(comm, model):
    """End of an epoch: every process must hold rank 0's weights (a checksum; re-sent, with a warning, if not)."""
    checksum = 0
    for w in float_weights(model):
        checksum = zlib.crc32(numpy.ascontiguousarray(backend.asnumpy(w.data)).view(numpy.uint8), checksum)
    sums = comm.allgather(checksum)
    if len(set(sums)) > 1:
        warnings.warn(f"data-parallel: the processes' weights differed at the end of an epoch (checksums {sums}); "
                      "rank 0's were sent to every process", RuntimeWarning, stacklevel=4)
        broadcast_state(comm, model)


def averaged_weights(model, trainable):
    """The non-trainable float weights of layers that train (batch normalization's moving mean and variance):
    the forward pass updates them, so they are averaged after each step. Frozen layers' weights never change."""
    frozen = {id(w) for layer in [model, *walk_layers(model)] if not layer.trainable for w in layer.weights}
    known = {id(w) for w in trainable}
    return [w for w in model.weights if not w.trainable and backend.is_floating(w.data.dtype) and w.data.size
            and id(w) not in frozen and id(w) not in known]


# the model's generators that every process must draw alike: the shuffled order of fit's epochs
SHARED_GENERATORS = ("_shuffle_generator", "_resume_shuffle_generator")


def decorrelate_generators(model, rank):
    """Give every layer's random generator (dropout, noise) its own stream on each process, derived from the
    generator's state and the rank: the same on every run, different across processes. Rank 0 keeps its own."""
    if rank == 0:
        return
    shared = {id(getattr(model, name, None)) for name in SHARED_GENERATORS}
    for layer in [model, *walk_layers(model)]:
        for value in list(vars(layer).values()):
            if isinstance(value, numpy.random.Generator) and id(value) not in shared:
                seed = int(value.bit_generator.random_raw())
                value.bit_generator.state = numpy.random.default_rng([seed, rank]).bit_generator.state
