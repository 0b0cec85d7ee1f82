"""Metrics of the whole global batch from the processes' running sums (one small collective).

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
decisions (early stopping, checkpoints); inside a container (the compiled
metrics) only that metric does, the others beside it are still reduced.

The states travel by ``allgather``, not a flat allreduce, because they need not
have the same shape everywhere: a process that has seen no sample yet (its part
of a short batch was empty) still holds the scalar zeros of ``reset_state``
where the others hold per-threshold or per-class arrays; zeros broadcast against
any shape, so the sums are right, and no process waits on a buffer of another
length.
"""

import functools
import warnings

import numpy

from .. import backend
from ..metrics.base import Metric, result_value
from .errors import collective


def _children(metric):
    children = [v for v in vars(metric).values() if isinstance(v, Metric)]
    if isinstance(getattr(type(metric), "metrics", None), property):  # the compiled metrics' container
        children += [m for m in metric.metrics if not any(m is c for c in children)]
    return children


def _entries(metric, out, unknown):
    """Append ``(holder, key, aggregation)`` for the state of ``metric`` and of the metrics inside it to ``out``,
    and to ``unknown`` those of them that declare no state and hold no metric (their result is rank 0's)."""
    aggregations = vars(metric).get("_aggregations", {})
    own = [(metric, name, "sum") for name in type(metric)._additive_state]
    own += [(variable, None, aggregations.get(variable.name, "sum")) for variable in vars(metric).get("_variables", ())]
    out.extend(own)
    children = _children(metric)
    if not own and not children and not any(metric is m for m in unknown):
        unknown.append(metric)
        _warn_unknown(metric)
    for child in children:
        _entries(child, out, unknown)


_warned = set()


def _warn_unknown(metric):
    if type(metric) not in _warned:
        _warned.add(type(metric))
        warnings.warn(f"data-parallel: metric {metric.name!r} ({type(metric).__name__}) keeps its state in plain "
                      "attributes, which cannot be summed across processes: every process reports rank 0's "
                      "value, over rank 0's rows only; keep the state in add_variable variables (Keras's way) to "
                      "have it over every process's rows", RuntimeWarning, stacklevel=2)


def _read(holder, key):
    return holder.data if key is None else getattr(holder, key)


def _write(holder, key, value):
    if key is None:
        holder.data = value
    else:
        setattr(holder, key, value)


def _leaves(value):
    """A state value's parts: the elements of a list (e.g. the tp, fp, tn, fn counts), or the value itself."""
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _as_numbers(leaf, factor):
    return numpy.asarray(backend.asnumpy(leaf), dtype=numpy.float64) * factor


def _summed_leaf(parts, original):
    """The sum of every process's part of one state leaf, in the form of this process's ``original``."""
    total = functools.reduce(numpy.add, parts)  # a scalar zero (a reset state) broadcasts against any shape
    if total.ndim == 0 and isinstance(original, (float, int)):
        return float(total)
    dtype = getattr(original, "dtype", None)
    return backend.to_device(total.astype(dtype if dtype is not None and total.ndim else numpy.float64))


def _constant(value):
    return lambda: value


def _payload(communicator, metric):
    """``(states, sent)``: this process's state entries of ``metric`` and the numbers it sends for them."""
    entries, unknown = [], []
    _entries(metric, entries, unknown)
    states, sent = [], []
    for holder, key, aggregation in entries:
        if aggregation in (None, "none"):  # kept per process: not sent
            continue
        factor = 1.0 / communicator.size if aggregation == "mean" else \
            0.0 if aggregation == "only_first_replica" and communicator.rank != 0 else 1.0
        value = _read(holder, key)
        states.append((holder, key, value))
        sent.append([_as_numbers(leaf, factor) for leaf in _leaves(value)])
    answers = [inner.result() if communicator.rank == 0 else None for inner in unknown]
    return (states, unknown), (sent, answers)


def _plain_logs(logs):
    """A step's logs with Tensors and arrays as floats or lists (what travels, and what callbacks see)."""
    plain = {}
    for key, value in dict(logs).items():
        try:
            plain[key] = value if isinstance(value, (float, int, str)) else result_value(value, key)
        except TypeError:  # something else a custom step logs: passed on as it is
            plain[key] = value
    return plain


def _check_alike(everyone, index, metric):
    counts = [len(payload[index][0]) for payload in everyone]
    if len(set(counts)) > 1:
        raise collective(RuntimeError(
            f"data-parallel: metric {metric.name!r} holds {counts} state variables on the processes (rank order): "
            "a process that never saw a sample has not built it. Every process needs at least one sample: use "
            "at least as many samples, and a batch size at least as large, as there are processes"))


def _step_logs(everyone):
    """The logs of the processes' custom steps, as one: numbers averaged, weighted by each process's rows;
    other values (text) those of the lowest rank that ran a step."""
    sent = [payload[-1] for payload in everyone if payload[-1] is not None]
    if not sent:
        return None
    merged = {}
    for key in sent[0][0]:
        pairs = [(logs[key], rows) for logs, rows in sent if key in logs]
        total = sum(rows for _, rows in pairs)
        if total and all(isinstance(v, (float, int)) and not isinstance(v, bool) for v, _ in pairs):
            merged[key] = sum(float(v) * rows for v, rows in pairs) / total
        else:
            merged[key] = pairs[0][0]
    return merged


def reduced_results(communicator, metrics, extra=None, rows=0):
    """``{name: result}`` of ``metrics`` (``model.metrics``) over every process's samples (one allgather).

    The same on every process; each process's own metric state is unchanged afterwards. ``extra``, the logs
    a step returned on this process (from ``rows`` rows), replaces the results when its keys are not theirs (a
    custom ``train_step`` or ``test_step`` logging its own values, as ``fit`` then reports them).
    """
    local, payloads = [], []
    for metric in metrics:
        mine, payload = _payload(communicator, metric)
        local.append(mine)
        payloads.append(payload)
    everyone = communicator.allgather(payloads + [None if extra is None else (_plain_logs(extra), rows)])
    steps = _step_logs(everyone)
    results = {}
    for index, (metric, (states, unknown)) in enumerate(zip(metrics, local)):
        _check_alike(everyone, index, metric)
        for number, (holder, key, value) in enumerate(states):
            leaves = [_summed_leaf([payload[index][0][number][leaf] for payload in everyone], original)
                      for leaf, original in enumerate(_leaves(value))]
            _write(holder, key, leaves if isinstance(value, (list, tuple)) else leaves[0])
        shadowed = [(inner, vars(inner).get("result")) for inner in unknown]
        for inner, answer in zip(unknown, everyone[0][index][1]):  # rank 0's result, also when a container asks
            inner.result = _constant(answer)
        try:
            value = metric.result()
        finally:
            for holder, key, original in states:
                _write(holder, key, original)
            for inner, own in shadowed:
                if own is None:
                    del inner.result
                else:
                    inner.result = own
        if isinstance(value, dict):
            results.update(value)
        else:
            results[metric.name] = value
    if steps is not None and set(steps) != set(results):
        return steps
    return results
