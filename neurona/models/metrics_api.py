"""The metrics side of a compiled model: ``model.metrics`` and their names, results and resets (Keras 3's API).

``Model`` inherits this; ``Model._held_metrics`` (the ``Metric`` objects held in attributes) stays in model.py,
which knows what a nested model is.
"""

from ..layers import tracking
from . import compile_utils


class MetricsMixin:
    """``metrics``, ``metrics_names``, ``compiled_metrics``, ``reset_metrics``, ``compute_metrics``,
    ``get_metrics_result``."""

    @property
    def metrics(self):
        """The metrics ``fit`` reports: the loss tracker (``Mean`` named ``loss``), the compiled metrics, the
        per-output loss trackers, then ``Metric`` objects assigned to attributes of the model and of the layers
        inside it at any depth (Keras 3's order: a layer that computes its own metric, such as an endpoint layer
        with ``self.accuracy_fn = BinaryAccuracy()``, reports it in the logs)."""
        found = []
        if self.compiled:
            found = [self._loss_tracker] + ([self._compile_metrics] if self._compile_metrics is not None else [])
            found += self._compile_loss.metrics if self._compile_loss is not None else []
        for metric in tracking.cached(self, "_metrics_cache", self._held_metrics):
            if not any(metric is known for known in found):
                found.append(metric)
        return found

    @property
    def metrics_names(self):
        """The names of ``model.metrics`` (``["loss", "compile_metrics"]`` after compile(metrics=...), as Keras)."""
        return [m.name for m in self.metrics]

    @property
    def compiled_metrics(self):
        """The compiled metric objects themselves, in the order of their logs (an empty list before any)."""
        return [] if self._compile_metrics is None else self._compile_metrics.metrics

    def reset_metrics(self):
        """Reset every metric of ``model.metrics`` (``fit`` does it at each epoch)."""
        for metric in self.metrics:
            metric.reset_state()

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """Update the compiled metrics with a batch and return ``get_metrics_result()`` (override to add yours)."""
        if self._compile_metrics is not None:
            if not self._compile_metrics.built:
                self._compile_metrics.build(compile_utils.layout_of(self)
                                            or compile_utils.layout_from_predictions(y_pred))
            self._compile_metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def get_metrics_result(self):
        """``{name: result}`` for ``model.metrics``; a metric whose result is a dict adds its keys."""
        results = {}
        for metric in self.metrics:
            value = metric.result()
            if isinstance(value, dict):
                results.update(value)
            else:
                results[metric.name] = value
        return results
