"""Metrics of the whole global batch from the processes' running sums (one small allreduce).

A streaming metric is a function of running sums (``Mean``: the weighted total
and count; precision: true and false positive counts), so the metric of all the
processes' samples is the metric of the summed state, not the mean of the
processes' results (which would weigh a process with fewer samples as much as
one with more). ``reduced_results`` adds the states up, computes each metric's
result on the sums, and puts every process's own state back, so that the next
batch adds to it as before.

State is found as the metric declares it: the attributes named in its
``_additive_state`` (the built-in metrics) and the variables of ``add_variable``
with their aggregation (``"sum"``, Keras's default; ``"mean"``;
``"only_first_replica"``; ``"none"``/None: kept per process). A metric whose state
is neither (a custom metric keeping plain attributes) reports rank 0's result on
every process, so that every process still sees the same logs and takes the same
decisions (early stopping, checkpoints).
"""

import numpy

from .. import backend
from ..metrics.base import Metric


def _children(metric):
    children = [v for v in vars(metric).values() if isinstance(v, Metric)]
    if isinstance(getattr(type(metric), "metrics", None), property):  # the compiled metrics' container
        children += [m for m in metric.metrics if not any(m is c for c in children)]
    return children


def _entries(metric, out):
    """Append ``(holder, key, aggregation)`` for ``metric``'s state; whether all of it is known."""
    aggregations = vars(metric).get("_aggregations", {})
    own = [(metric, name, "sum") for name in type(metric)._additive_state]
    own += [(variable, None, aggregations.get(variable.name, "sum")) for variable in vars(metric).get("_variables", ())]
    out.extend(own)
    children = _children(metric)
    known = [_entries(child, out) for child in children]  # every child's entries, even after an unknown one
    return all(known) and bool(own or children)


def _read(holder, key):
    return holder.data if key is None else getattr(holder, key)


def _write(holder, key, value):
    if key is None:
        holder.data = value
    else:
        setattr(holder, key, value)


def _flat(value):
    """The numbers of a state value (a float, an array, or a list of them) as float64, and how to rebuild it."""
    if isinstance(value, (list, tuple)):
        parts = [_flat(v) for v in value]
        return numpy.concatenate([p[0] for p in parts]) if parts else numpy.zeros(0), ("list", [p[1] for p in parts])
    array = numpy.asarray(backend.asnumpy(value), dtype=numpy.float64)
    kind = "float" if isinstance(value, (float, int)) else ("array", array.shape, getattr(value, "dtype", None))
    return array.reshape(-1), kind


def _rebuild(numbers, kind, start=0):
    if kind[0] == "list":
        values = []
        for part in kind[1]:
            value, start = _rebuild(numbers, part, start)
            values.append(value)
        return values, start
    if kind == "float":
        return float(numbers[start]), start + 1
    _, shape, dtype = kind
    size = int(numpy.prod(shape, dtype=numpy.int64))
    value = numbers[start:start + size].reshape(shape)
    return backend.to_device(value.astype(dtype if dtype is not None else numpy.float64)), start + size


def _flat_result(value):
    """A metric's result (a float, an array, a list or a dict of them) as float64 numbers, and its rebuild."""
    if isinstance(value, dict):
        parts = {k: _flat_result(v) for k, v in value.items()}
        numbers = [p[0] for p in parts.values()]
        return numpy.concatenate(numbers) if numbers else numpy.zeros(0), ("dict", {k: p[1] for k, p in parts.items()})
    return _flat(value)


def _rebuild_result(numbers, kind, start=0):
    if kind[0] == "dict":
        out = {}
        for key, part in kind[1].items():
            out[key], start = _rebuild_result(numbers, part, start)
        return out, start
    value, start = _rebuild(numbers, kind, start)
    return (backend.asnumpy(value) if kind[0] == "array" else value), start


def reduced_results(communicator, metrics):
    """``{name: result}`` of ``metrics`` (``model.metrics``) over every process's samples (one allreduce).

    The same on every process; each process's own metric state is unchanged afterwards.
    """
    plan, pieces = [], []
    for metric in metrics:
        entries = []
        if _entries(metric, entries):
            states = []
            for holder, key, aggregation in entries:
                value = _read(holder, key)
                numbers, kind = _flat(value)
                if aggregation in (None, "none"):  # kept per process: not sent
                    continue
                if aggregation == "mean":
                    numbers = numbers / communicator.size
                elif aggregation == "only_first_replica" and communicator.rank != 0:
                    numbers = numpy.zeros_like(numbers)
                states.append((holder, key, value, kind, numbers.size))
                pieces.append(numbers)
            plan.append(("state", metric, states))
        else:  # unknown state: rank 0's result for everybody
            numbers, kind = _flat_result(metric.result())
            pieces.append(numbers if communicator.rank == 0 else numpy.zeros_like(numbers))
            plan.append(("result", metric, (kind, numbers.size)))
    vector = numpy.concatenate(pieces) if pieces else numpy.zeros(0)
    if vector.size:
        communicator.allreduce_buffers([vector])
    results, start = {}, 0
    for how, metric, detail in plan:
        if how == "state":
            for holder, key, _, kind, size in detail:
                _write(holder, key, _rebuild(vector[start:start + size], kind)[0])
                start += size
            try:
                value = metric.result()
            finally:
                for holder, key, original, _, _ in detail:
                    _write(holder, key, original)
        else:
            kind, size = detail
            value = _rebuild_result(vector[start:start + size], kind)[0]
            start += size
        if isinstance(value, dict):
            results.update(value)
        else:
            results[metric.name] = value
    return results
