"""What the server counts while it runs: requests, latencies, accuracy from feedback and drift.

``Monitor`` is the one owner of that state; every method is safe to call from waitress's worker threads at once.
The Prometheus metrics (``GET /metrics``) live in a registry of the monitor's own, so two apps in one process
(tests, a benchmark) never share counters.

Accuracy comes from feedback: ``POST /predict`` remembers each prediction's class under its id (the most recent
``memory`` of them), and ``POST /feedback`` scores true labels against them, overall and over the last ``window``
labelled predictions.
"""

import collections
import logging
import threading
import time

import numpy

from ..backend import blas
from .drift import DriftDetector
from .inputs import RequestError

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
API_ROUTES = ("/predict", "/feedback")  # what the live panel's request and error counts cover
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


def _prometheus():
    try:
        import prometheus_client
    except ImportError:  # the serve extra installs it
        raise ImportError("neurona serve needs prometheus-client: pip install 'neurona[serve]'") from None
    return prometheus_client


class Monitor:
    """Counters, latency percentiles, feedback accuracy and the drift detector of one app.

    Args:
        reference: the model's ReferenceStatistics, or None (drift is then reported as unavailable).
        drift_window, drift_alpha: the DriftDetector's window and significance level.
        drift_every: run the drift test, in a background thread, after this many new examples (and on every read
            of the status: ``/stats``, ``/metrics``), so a drift's start and end are logged without a reader.
        accuracy_window: how many of the latest labelled predictions the windowed accuracy covers.
        memory: how many of the latest predictions keep their id for feedback.
    """

    def __init__(self, reference=None, drift_window=200, drift_alpha=0.05, drift_every=None, accuracy_window=500,
                 memory=100_000):
        prometheus = _prometheus()
        self.registry = prometheus.CollectorRegistry(auto_describe=True)
        self._lock = threading.Lock()
        self._drift_lock = threading.Lock()  # one drift test and its store at a time: the newest verdict stays
        self._latencies = collections.deque(maxlen=2000)
        self._predictions = collections.OrderedDict()  # id -> (class, labelled?)
        self._memory = int(memory)
        self._scores = collections.deque(maxlen=int(accuracy_window))
        self._correct = self._labelled = 0
        self._totals = {"total": 0, "errors": 0, "predictions": 0}
        self.detector = None if reference is None else DriftDetector(reference, window=drift_window,
                                                                      alpha=drift_alpha)
        self._drift_every = max(1, drift_window // 10) if drift_every is None else int(drift_every)
        self._unchecked = 0
        self._last_drift = None
        self._drift_due, self._drift_thread = threading.Event(), None
        self._define_metrics(prometheus)

    def _define_metrics(self, prometheus):
        r = self.registry
        self.requests = prometheus.Counter("neurona_requests", "HTTP requests by route and status",
                                           ["route", "status"], registry=r)
        self.errors = prometheus.Counter("neurona_request_errors", "Refused or failed requests by route and "
                                         "error code", ["route", "code"], registry=r)
        self.latency = prometheus.Histogram("neurona_request_latency_seconds", "Time to answer a request",
                                            ["route"], buckets=LATENCY_BUCKETS, registry=r)
        self.batch = prometheus.Histogram("neurona_prediction_batch_size", "Instances per predict request",
                                          buckets=BATCH_BUCKETS, registry=r)
        self.predicted = prometheus.Counter("neurona_predictions", "Instances predicted", registry=r)
        self.feedback = prometheus.Counter("neurona_feedback", "True labels received", registry=r)
        self.accuracy = prometheus.Gauge("neurona_accuracy", "Accuracy on every prediction given feedback",
                                         registry=r)
        self.window_accuracy = prometheus.Gauge("neurona_window_accuracy", "Accuracy over the latest labelled "
                                                "predictions", registry=r)
        self.drift_score = prometheus.Gauge("neurona_drift_score", "-log10 of the drift test's p-value",
                                            registry=r)
        self.drift_p_value = prometheus.Gauge("neurona_drift_p_value", "The drift test's combined p-value",
                                              registry=r)
        self.drift_flag = prometheus.Gauge("neurona_drift", "1 while the recent requests differ from the "
                                           "reference, else 0", registry=r)
        for gauge in (self.accuracy, self.window_accuracy, self.drift_score, self.drift_p_value):
            gauge.set(float("nan"))  # "no value yet", which Prometheus shows as NaN rather than a false 0

    # ---- requests -------------------------------------------------------------------------------------
    def observe_request(self, route, status, seconds, code=None):
        """Count one answered request (``code``: the error code of a refused one)."""
        self.requests.labels(route=route, status=str(status)).inc()
        self.latency.labels(route=route).observe(seconds)
        if code is not None:
            self.errors.labels(route=route, code=code).inc()
        if route not in API_ROUTES:  # the page's own polls and assets are in Prometheus, not in the panel
            return
        with self._lock:
            self._totals["total"] += 1
            if status >= 400:
                self._totals["errors"] += 1
            if route == "/predict" and status < 400:
                self._latencies.append(seconds)

    def record_predictions(self, ids, classes, x, probabilities):
        """Remember the classes of a batch for feedback and feed its inputs and outputs to the drift window."""
        self.batch.observe(len(ids))
        self.predicted.inc(len(ids))
        with self._lock:
            self._totals["predictions"] += len(ids)
            for prediction_id, cls in zip(ids, classes):
                self._predictions[prediction_id] = [cls, False]
            while len(self._predictions) > self._memory:
                self._predictions.popitem(last=False)
        if self.detector is not None and probabilities is not None:
            with blas.single_threaded():  # a tiny product: two BLAS threads on a busy machine took ~40 ms
                self.detector.update(x, probabilities)
            with self._lock:
                self._unchecked += len(ids)
                due = self._unchecked >= self._drift_every
            if due:  # the test itself (~7 ms) runs in the background, not in the request that made it due
                self._wake_drift_thread()

    def _wake_drift_thread(self):
        with self._lock:
            if self._drift_thread is None:
                self._drift_thread = threading.Thread(target=self._drift_loop, name="neurona-drift", daemon=True)
                self._drift_thread.start()
        self._drift_due.set()

    def _drift_loop(self):
        while True:
            self._drift_due.wait()
            self._drift_due.clear()
            try:
                self.drift_status()
            except Exception:  # never let the monitor's thread die silently: log, and test again next time
                logging.getLogger(__name__).exception("the drift test failed")

    # ---- feedback -------------------------------------------------------------------------------------
    def record_feedback(self, labels):
        """Score ``[(id, label), ...]``; all or nothing: unknown or already labelled ids refuse the whole list."""
        with self._lock:
            unknown = [i for i, _ in labels if i not in self._predictions]
            if unknown:
                raise RequestError(404, "unknown_id", f"no prediction with id(s) {unknown[:10]}"
                                                      f"{' ...' if len(unknown) > 10 else ''} (ids are kept for the "
                                                      f"latest {self._memory} predictions); nothing was recorded")
            seen, repeated = set(), []
            for i, _ in labels:
                if self._predictions[i][1] or i in seen:
                    repeated.append(i)
                seen.add(i)
            if repeated:
                raise RequestError(409, "already_labelled", f"prediction(s) {repeated[:10]} already have a label; "
                                                            "nothing was recorded")
            for i, label in labels:
                entry = self._predictions[i]
                entry[1] = True
                hit = int(entry[0] == label)
                self._correct += hit
                self._labelled += 1
                self._scores.append(hit)
            overall, window = self._accuracies()
        self.feedback.inc(len(labels))
        self.accuracy.set(overall)
        self.window_accuracy.set(window)
        return overall, window

    def _accuracies(self):
        overall = self._correct / self._labelled if self._labelled else float("nan")
        window = sum(self._scores) / len(self._scores) if self._scores else float("nan")
        return overall, window

    # ---- reading --------------------------------------------------------------------------------------
    def drift_status(self):
        """The drift verdict on the current window as a JSON-safe dict (re-tested when new requests came)."""
        if self.detector is None:
            return {"status": "unavailable", "score": None, "p_value": None, "window_size": 0, "window": None,
                    "reason": "the saved model has no reference statistics (fit records them; or call "
                              "model.compute_reference_statistics(x) before saving)"}
        with self._drift_lock:
            with self._lock:
                fresh = self._unchecked > 0 or self._last_drift is None
                self._unchecked = 0
            if fresh:
                with blas.single_threaded():
                    result = self.detector.check()
                self._last_drift = result
                if result.p_value is not None:
                    self.drift_score.set(result.score)
                    self.drift_p_value.set(result.p_value)
                self.drift_flag.set(1.0 if result.drift else 0.0)
            result = self._last_drift
        status = "warming_up" if result.p_value is None else ("drift" if result.drift else "ok")
        return {"status": status, "score": result.score, "p_value": result.p_value,
                "window_size": result.window_size, "window": self.detector.window, "reason": result.reason,
                "feature_p_value": result.feature_p_value, "entropy_p_value": result.entropy_p_value}

    def stats(self):
        """The live panel's figures: requests, latency percentiles, accuracy and drift."""
        with self._lock:
            totals = dict(self._totals)
            latencies = numpy.array(self._latencies, dtype=numpy.float64)
            overall, window = self._accuracies()
            labelled, in_window = self._labelled, len(self._scores)
        if latencies.size:
            p50, p90, p99 = (float(v) * 1000 for v in numpy.percentile(latencies, [50, 90, 99]))
            latency = {"p50": p50, "p90": p90, "p99": p99, "count": int(latencies.size)}
        else:
            latency = {"p50": None, "p90": None, "p99": None, "count": 0}
        nan_to_none = (lambda v: None if v != v else v)  # noqa: E731 - NaN is "no value yet"; JSON has no NaN
        return {"requests": totals, "latency_ms": latency,
                "accuracy": {"overall": nan_to_none(overall), "window": nan_to_none(window), "count": labelled,
                             "window_size": in_window, "window_capacity": self._scores.maxlen},
                "drift": self.drift_status()}

    def metrics_text(self):
        """The Prometheus exposition (text format 0.0.4) of every metric, the drift gauges refreshed first."""
        self.drift_status()
        return _prometheus().generate_latest(self.registry)


class Timer:
    """``with Timer() as t: ...`` then ``t.seconds`` (a monotonic clock)."""

    def __enter__(self):
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self._start
        return False
