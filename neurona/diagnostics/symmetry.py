"""Identical units: the symmetry random initialization exists to break.

Two units of a layer with the same incoming weights (the same column of a
Dense kernel, the same filter of a Conv kernel) and the same bias compute the
same output for every input; if they also send it on with the same outgoing
weights, they receive the same gradient, take the same step, and stay
identical for ever: the layer has fewer units than it seems (the argument of
the source articles, and of Goodfellow et al., *Deep Learning*, 8.4). Zeros
and constant initializers create such units; a random draw almost surely does not.

The check reads weights only, so it is cheap enough for the start of every
``fit``. The units of a model's output layers are not reported: their
gradients differ (each meets its own target), so identical incoming weights
there are not a symmetry that persists.
"""

import numpy

from ..autograd import Variable
from .recorder import layer_paths

RTOL = 1e-6  # units equal to within float rounding of the weights' scale count as identical
_PROJECTIONS = 4  # random directions that screen pairs of units before their weights are compared


def identical_unit_groups(layer, rtol=RTOL):
    """Groups (lists of >= 2 unit indices) of units with identical incoming weights and bias.

    Units are the last axis of the layer's ``kernel`` (Dense columns, Conv filters). Two units are identical when
    no weight (or the bias) differs by more than ``rtol`` times the layer's largest absolute weight; each group
    is a unit and the units identical to it.
    """
    kernel = getattr(layer, "kernel", None)
    if not isinstance(kernel, Variable) or kernel.ndim < 2 or kernel.shape[-1] < 2:
        return []
    w = kernel.numpy().reshape(-1, kernel.shape[-1]).T.astype(numpy.float64)  # one row per unit
    bias = getattr(layer, "bias", None)
    if isinstance(bias, Variable) and bias.shape == (kernel.shape[-1],):
        w = numpy.concatenate([w, bias.numpy().astype(numpy.float64)[:, None]], axis=1)
    if not numpy.isfinite(w).all():
        return []  # an overflowed layer: its units are not comparable
    return _near_rows(w, rtol * float(numpy.abs(w).max()))


def _near_rows(w, tol):
    """Groups of rows of ``w`` within ``tol`` of the group's first row in every entry (max-norm).

    A comparison of every pair would cost units^2 * fan_in (seconds for a 4096 x 4096 kernel), and rounding rows
    to a grid of step ``tol`` would split rows that differ by far less than ``tol`` but straddle a grid line (as
    rows of identical units do once float rounding has touched them). Instead each row is projected on a few
    random directions ``r`` with sum |r| = 1: rows within ``tol`` in max-norm have projections within ``tol``
    (|(a - b) . r| <= max|a - b| sum|r|), so only rows whose projections are that close are compared, and the
    screen never misses a pair. Distinct random units almost never pass it.
    """
    directions = numpy.random.default_rng(0).standard_normal((w.shape[1], _PROJECTIONS))
    directions /= numpy.abs(directions).sum(axis=0)
    projected = w @ directions
    # the screen's margin: the products' own rounding (identical rows need not project bit-identically)
    screen = tol + 1e-12 * float(numpy.abs(projected).max(initial=0.0))
    order = numpy.argsort(projected[:, 0], kind="stable")
    first = projected[order, 0]
    window_end = numpy.searchsorted(first, first + screen, side="right")  # rows whose first projection is near
    grouped = numpy.zeros(len(w), bool)
    groups = []
    for position in numpy.flatnonzero(window_end > numpy.arange(len(w)) + 1):
        unit = order[position]
        if grouped[unit]:
            continue
        candidates = order[position + 1:window_end[position]]
        candidates = candidates[~grouped[candidates]]
        candidates = candidates[(numpy.abs(projected[candidates] - projected[unit]) <= screen).all(axis=1)]
        candidates = candidates[(numpy.abs(w[candidates] - w[unit]) <= tol).all(axis=1)]
        if candidates.size:
            members = sorted(int(i) for i in (unit, *candidates))
            grouped[members] = True
            groups.append(members)
    return sorted(groups)


def _output_layers(model):
    """The layers producing a functional or Sequential model's outputs (the last layer of a subclassed one)."""
    outputs = getattr(model, "outputs", None)
    found = set()
    if outputs:
        for t in outputs if isinstance(outputs, (list, tuple)) else [outputs]:
            node = getattr(t, "node", None)
            layer = getattr(node, "layer", None)
            while layer is not None and layer._sublayers() and getattr(layer, "outputs", None):
                found.add(id(layer))
                inner = layer.outputs
                inner = inner[0] if isinstance(inner, (list, tuple)) else inner
                layer = getattr(getattr(inner, "node", None), "layer", None)
            if layer is not None:
                found.add(id(layer))
    if not found:
        with_kernels = [layer for _, layer in layer_paths(model) if isinstance(getattr(layer, "kernel", None),
                                                                              Variable)]
        if with_kernels:
            found.add(id(with_kernels[-1]))
    return found


def symmetric_units(model, rtol=RTOL):
    """``[{"layer": path, "units": n_units, "groups": [[i, j, ...], ...]}]`` for every layer with identical
    hidden units (output layers excluded, see the module docstring; ``rtol`` as in ``identical_unit_groups``)."""
    excluded = _output_layers(model)
    found = []
    for path, layer in layer_paths(model):
        if id(layer) in excluded or layer._sublayers():
            continue
        groups = identical_unit_groups(layer, rtol)
        if groups:
            found.append({"layer": path, "units": int(layer.kernel.shape[-1]), "groups": groups})
    return found


def describe(entry):
    """A short phrase about one layer's identical units: ``'dense': 256 of its 256 units identical``."""
    n_identical = sum(len(g) for g in entry["groups"])
    groups = len(entry["groups"])
    return (f"{entry['layer']!r}: {n_identical} of its {entry['units']} units identical"
            + (f" (in {groups} groups)" if groups > 1 else ""))


def message(entries, limit=3):
    """The plain-words warning for the layers in ``entries`` (the first ``limit`` named)."""
    named = "; ".join(describe(e) for e in entries[:limit])
    more = f"; and {len(entries) - limit} more layers" if len(entries) > limit else ""
    return (f"symmetric units in {len(entries)} layer(s) ({named}{more}): units with identical weights get "
            "identical gradients and stay identical, so each such layer learns as if it had one unit per group. "
            "Use a random initializer (glorot_uniform, he_normal) instead of zeros or a constant")
