"""What the steps receive and return, as Keras 3 passes it: packed batches and logs.

``pack`` builds the ``data`` of ``train_step``/``test_step``/``predict_step``
(``x``, ``(x, y)`` or ``(x, y, sample_weight)``); ``pythonify_logs`` turns what a
step returns into the plain sorted dict of floats that callbacks receive;
``logs_in_order`` is ``evaluate``'s list.
"""

from .. import nest
from ..metrics.base import result_value


def pythonify_logs(logs):
    """The logs callbacks see: a new dict sorted by key, values as floats (or lists), dict results merged."""
    flat = {}
    for key, value in (logs or {}).items():
        if type(value) is float:  # the common case (Mean results): nothing to convert
            flat[key] = value
            continue
        if not isinstance(value, dict):
            try:
                value = result_value(value, key)
            except TypeError:  # a custom step may log text or other values: passed on as they are
                pass
        if isinstance(value, dict):
            flat.update(pythonify_logs(value))
        else:
            flat[key] = value
    return dict(sorted(flat.items()))


def logs_in_order(model, logs):
    """``logs`` as ``evaluate`` returns them: one value, or a list in the order of ``model.metrics``.

    As Keras: the names of ``model.metrics`` first (a ``CompileMetrics`` stands for its metrics'
    own names), then every other key in sorted order.
    """
    from .compile_utils import CompileMetrics

    names = []
    for metric in model.metrics:
        names += [m.name for m in metric.metrics] if isinstance(metric, CompileMetrics) else [metric.name]
    values = [logs[name] for name in names if name in logs] + [logs[k] for k in sorted(logs) if k not in names]
    return values[0] if len(values) == 1 else values


def pack(x, y=None, sample_weight=None):
    """A batch as Keras hands it to the steps: ``x`` (or ``(x,)`` for a list or tuple), ``(x, y)``, ``(x, y, w)``."""
    if y is None and sample_weight is None:
        return (x,) if isinstance(x, (list, tuple)) else x
    return (x, y) if sample_weight is None else (x, y, sample_weight)


def batch_size_of(x):
    """The number of samples in the batch ``x`` (its first array's length)."""
    first = next((leaf for leaf in nest.flatten(x) if leaf is not None), None)
    return 0 if first is None else len(first)
