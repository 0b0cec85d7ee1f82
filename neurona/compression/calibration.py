"""Calibration: the value ranges of a model's activations, observed on a sample of inputs.

Post-training quantization fixes each activation's integer grid from the values it takes on representative
data (Krishnamoorthi 2018, section 3; Wu et al. 2020, "Integer quantization for deep learning inference",
section 4.2). Two observers:

- ``"minmax"``: the smallest and largest value seen. Every calibration value is then representable, but one
  outlier stretches the grid for all the others.
- ``"percentile"``: the ``100 - p`` and ``p`` percentiles (default ``p = 99.99``) of the values seen; the few
  values beyond are clipped, and the rest get a finer step. Wu et al. find 99.9-99.999 best for most CNNs.
  The percentiles are taken on a seeded random sample of at most ``sample_size`` values per batch, so the
  memory held stays bounded whatever the calibration set.
"""

import numpy

from .. import backend

METHODS = ("minmax", "percentile")


class MinMaxObserver:
    """Tracks ``[min, max]`` of every array it is shown."""

    def __init__(self):
        self.lo, self.hi = numpy.inf, -numpy.inf

    def update(self, values):
        values = numpy.asarray(values)
        if values.size:
            self.lo, self.hi = min(self.lo, float(values.min())), max(self.hi, float(values.max()))

    def range(self):
        if self.lo > self.hi:
            raise ValueError("no values were observed (the calibration data never reached this layer)")
        return self.lo, self.hi


class PercentileObserver:
    """The ``[100 - p, p]`` percentile range of a sample of the values it is shown."""

    def __init__(self, percentile=99.99, sample_size=65536, seed=0):
        if not 50.0 < float(percentile) <= 100.0:
            raise ValueError(f"percentile must be in (50, 100], got {percentile!r}")
        self.percentile, self.sample_size = float(percentile), int(sample_size)
        self._rng = numpy.random.default_rng(seed)
        self._samples = []

    def update(self, values):
        values = numpy.asarray(values, dtype=numpy.float64).ravel()
        if values.size > self.sample_size:
            values = self._rng.choice(values, self.sample_size, replace=False)
        if values.size:
            self._samples.append(values)

    def range(self):
        if not self._samples:
            raise ValueError("no values were observed (the calibration data never reached this layer)")
        values = numpy.concatenate(self._samples)
        return float(numpy.percentile(values, 100.0 - self.percentile)), float(numpy.percentile(values,
                                                                                                 self.percentile))


def make_observer(method, percentile=99.99):
    """An observer for calibration ``method`` (``"minmax"`` or ``"percentile"``)."""
    if method == "minmax":
        return MinMaxObserver()
    if method == "percentile":
        return PercentileObserver(percentile)
    raise ValueError(f"calibration must be one of {', '.join(METHODS)}, got {method!r}")


def observe_ranges(model, layers, x, method="minmax", percentile=99.99, batch_size=128):
    """Run ``model`` on ``x`` and return ``{layer: ((in_lo, in_hi), (out_lo, out_hi))}`` for each of ``layers``.

    Each layer's first positional input and its output (after its activation) are observed with hooks,
    which are removed before returning, also when the run fails.
    """
    observers = {layer: (make_observer(method, percentile), make_observer(method, percentile)) for layer in layers}
    handles = []

    def watch_input(layer, args):
        observers[layer][0].update(backend.asnumpy(_data(args[0])))

    def watch_output(layer, args, output):
        observers[layer][1].update(backend.asnumpy(_data(output)))

    try:
        for layer in layers:
            handles.append(layer.register_forward_pre_hook(watch_input))
            handles.append(layer.register_forward_hook(watch_output))
        model.predict(x, batch_size=batch_size, verbose=0)
    finally:
        for handle in handles:
            handle.remove()
    ranges = {}
    for layer, (inputs, outputs) in observers.items():
        try:
            ranges[layer] = (inputs.range(), outputs.range())
        except ValueError as error:
            raise ValueError(f"calibration of layer {layer.name!r}: {error}") from None
    return ranges


def _data(value):
    return getattr(value, "data", value)
