"""``create_app(model_dir)``: the Flask application that serves a saved Neurona model.

The deployment article's service (a saved MNIST CNN behind Flask on port 8000, an index route and a predict
route, accuracy tracking and drift detection), for any saved single-input, single-output model:

=================  ===========================================================================================
``GET /``          the page: the model's summary, a drawing canvas and PNG upload for image models, a live panel
``GET /info``      the model: name, summary, input shape, classes, picture size, saved preprocessing
``POST /predict``  JSON ``{"instances": [...], "input_format": "raw" | "preprocessed"}`` or a PNG (body with
                   ``Content-Type: image/png``, or multipart field ``image``) -> classes, probabilities, ids
``POST /feedback`` ``{"feedback": [{"id": ..., "label": ...}, ...]}``: true labels -> running accuracy
``GET /stats``     the live panel's figures (JSON)
``GET /metrics``   Prometheus text format
``GET /health``    liveness; ``GET /ready``: the model is loaded and answered a warm-up prediction
=================  ===========================================================================================

Every refusal is a 4xx JSON ``{"error": {"code", "message"}}``; an unexpected failure is a 500 with the same
shape (logged with its traceback) and the server goes on. The model is only ever called for inference
(``training=False``, no gradients), one batch at a time under a lock, so no request can change it. The body size
is checked against ``max_body_bytes`` from Content-Length before anything is read.
"""

import logging
import os
import uuid

import numpy

from . import inputs, monitoring
from .inputs import RequestError

logger = logging.getLogger(__name__)

PREDICT_STEP = 32  # model.predict's default batch_size
STATIC = os.path.join(os.path.dirname(__file__), "static")
DEFAULTS = {"max_body_bytes": 16 * 1024 * 1024, "max_instances": 1024, "drift_window": 200,
            "drift_alpha": 0.001, "accuracy_window": 500, "prediction_memory": 100_000}


CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


def _flask():
    try:
        import flask
    except ImportError:  # the serve extra installs it
        raise ImportError("neurona serve needs Flask: pip install 'neurona[serve]'") from None
    return flask


def _check_option(name, value):
    if name == "drift_alpha":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
            raise ValueError(f"create_app: drift_alpha must be a number in (0, 1), got {value!r}")
        return float(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"create_app: {name} must be a positive int, got {value!r}")
    return value


class ServedModel:
    """A loaded model with its input spec, its summary and a lock: the one place the model is called."""

    def __init__(self, model, max_instances):
        import threading

        from ..autograd import no_grad

        self._no_grad = no_grad
        if len(getattr(model, "inputs", None) or [None]) != 1 or len(getattr(model, "outputs", None) or [None]) != 1:
            raise ValueError(f"create_app: model {model.name!r} has several inputs or outputs; the server takes "
                             "models with one input and one output")
        shape = model.input_shape
        if not isinstance(shape, tuple) or any(s is None for s in shape[1:]):
            raise ValueError(f"create_app: model {model.name!r} has input shape {shape}; the server needs a fixed "
                             "shape for one instance")
        self.model = model
        self.name = model.name
        dtype = getattr(model, "compute_dtype", None) or "float32"
        self.spec = inputs.InputSpec(shape[1:], model.preprocessing, dtype=dtype, max_instances=max_instances)
        lines = []
        model.summary(print_fn=lines.append)
        self.summary = "\n".join(lines)
        self._lock = threading.Lock()
        probabilities = self.predict(numpy.zeros((1,) + self.spec.input_shape, dtype=self.spec.dtype))
        self.n_outputs = probabilities.shape[1] if probabilities.ndim == 2 else None

    def predict(self, x):
        """The model's outputs for the batch ``x`` (NumPy), computed for inference under the lock.

        In steps of ``PREDICT_STEP`` rows, as ``model.predict`` runs by default: a product's last bits depend on
        how many rows it holds, so the same steps give the same bits as ``model.predict(x)``.
        """
        with self._lock, self._no_grad():
            return numpy.concatenate([numpy.asarray(self.model.predict_on_batch(x[i:i + PREDICT_STEP]))
                                      for i in range(0, len(x), PREDICT_STEP)])


def _answers(outputs):
    """``(classes, probabilities)`` of a batch of outputs; probabilities is None when the rows are not any."""
    if outputs.ndim != 2:
        return [None] * outputs.shape[0], None
    if outputs.shape[1] == 1:  # one sigmoid unit: P(class 1)
        p = outputs[:, 0]
        if numpy.all((p >= 0) & (p <= 1)):
            return (p >= 0.5).astype(int).tolist(), numpy.stack([1 - p, p], axis=1)
        return [None] * outputs.shape[0], None
    sums = outputs.sum(axis=1)
    is_probability = bool(numpy.all(outputs >= 0) and numpy.allclose(sums, 1.0, atol=1e-3))
    return outputs.argmax(axis=1).astype(int).tolist(), (outputs if is_probability else None)


def create_app(model_dir, **options):
    """The Flask app serving the saved model in ``model_dir``.

    Args:
        model_dir: a folder written by ``model.save`` (model.json + model.h5).
        max_body_bytes: the largest request body accepted (413 above it, read from Content-Length before the
            body). Default 16 MiB.
        max_instances: the most instances in one predict request (413 above). Default 1024.
        drift_window: how many recent instances the drift test compares with the reference. Default 200.
        drift_alpha: the drift test's significance level. Default 0.001, which kept false alarms on held-out
            MNIST at 0.5-2.4 % for windows of 100-500 (0.05 flagged 10-39 %: docs/drift.md).
        accuracy_window: how many of the latest labelled predictions the windowed accuracy covers. Default 500.
        prediction_memory: how many of the latest predictions keep their id for feedback. Default 100,000.
        reference_statistics: a ``drift.ReferenceStatistics`` to use instead of the one saved with the model.
        preprocessing: steps (``neurona.saving.preprocessing``, e.g. ``[rescale(255)]``) to use instead of the
            ones saved with the model: for a model saved by Keras, which saves none (the deployment article
            divides the pixels by 255 before ``predict``).

    Raises:
        ImportError: Flask or prometheus-client is missing (``pip install 'neurona[serve]'``).
        TypeError, ValueError: an unknown option or a bad value; a model with several inputs or outputs.
        FileNotFoundError, FileFormatError: no saved model in ``model_dir``, or a file that cannot be loaded.
    """
    flask = _flask()
    monitoring._prometheus()  # fail now, naming the extra, rather than at the first request
    from ..saving import load_model

    reference = options.pop("reference_statistics", None)
    steps = options.pop("preprocessing", None)
    if steps is not None:
        from ..saving import preprocessing as prep

        steps = prep.validate(steps, "create_app: preprocessing")
    unknown = sorted(set(options) - set(DEFAULTS))
    if unknown:
        raise TypeError(f"create_app: unknown option(s) {unknown}; expected some of {sorted(DEFAULTS)}, "
                        "reference_statistics or preprocessing")
    settings = {name: _check_option(name, options.get(name, default)) for name, default in DEFAULTS.items()}
    model = load_model(model_dir, compile=False)
    if steps is not None:
        model.preprocessing = steps
    served = ServedModel(model, settings["max_instances"])
    if reference is None:
        reference = getattr(model, "reference_statistics", None)
    if reference is not None and reference.mean.size != served.spec.size:
        raise ValueError(f"create_app: the reference statistics describe inputs of {reference.mean.size} values, "
                         f"the model takes {served.spec.size} (shape {list(served.spec.input_shape)})")
    if reference is not None and served.n_outputs is not None and reference.n_classes != served.n_outputs:
        raise ValueError(f"create_app: the reference statistics describe {reference.n_classes} outputs, the model "
                         f"has {served.n_outputs}")
    monitor = monitoring.Monitor(reference, drift_window=settings["drift_window"],
                                 drift_alpha=settings["drift_alpha"], accuracy_window=settings["accuracy_window"],
                                 memory=settings["prediction_memory"])
    app = flask.Flask(__name__, static_folder=STATIC, static_url_path="/static")
    app.config["MAX_CONTENT_LENGTH"] = settings["max_body_bytes"]
    app.config["MAX_FORM_MEMORY_SIZE"] = settings["max_body_bytes"]
    app.extensions["neurona"] = {"model": served, "monitor": monitor, "settings": settings}
    _routes(app, flask, served, monitor, settings)
    return app


def _routes(app, flask, served, monitor, settings):
    from werkzeug.exceptions import HTTPException

    def answer(payload, status=200):
        response = flask.jsonify(payload)
        response.status_code = status
        return response

    @app.before_request
    def start_clock():
        flask.g.timer = monitoring.Timer().__enter__()
        length = flask.request.content_length
        if length is not None and length > settings["max_body_bytes"]:  # before any byte of the body is read
            raise RequestError(413, "body_too_large", f"the body is {length} bytes; the server takes at most "
                                                      f"{settings['max_body_bytes']}")

    @app.after_request
    def count(response):
        timer = getattr(flask.g, "timer", None)
        if timer is not None:
            timer.__exit__()
            route = flask.request.url_rule.rule if flask.request.url_rule else "unmatched"
            monitor.observe_request(route, response.status_code, timer.seconds, getattr(flask.g, "error", None))
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        # the page loads nothing from elsewhere (no CDN), so the browser may refuse anything that tries to
        response.headers.setdefault("Content-Security-Policy", CSP)
        return response

    @app.errorhandler(RequestError)
    def refused(error):
        flask.g.error = error.code
        return answer(error.to_dict(), error.status)

    @app.errorhandler(HTTPException)
    def http_error(error):
        code = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}.get(error.code, "http_error")
        flask.g.error = code
        message = error.description or error.name
        if error.code == 413:
            message = f"the body is larger than the server's limit of {settings['max_body_bytes']} bytes"
        if error.code == 405:
            allowed = [m for m in error.valid_methods or () if m not in ("HEAD", "OPTIONS")]
            message = f"{flask.request.method} is not allowed on {flask.request.path}; it takes {', '.join(allowed)}"
        response = answer({"error": {"code": code, "message": message}}, error.code)
        for name, value in error.get_headers():  # e.g. Allow, which a 405 must carry (RFC 9110 15.5.6)
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def failed(error):  # a bug, not the client's fault: logged, answered, and the server goes on
        logger.exception("unexpected error while answering %s %s", flask.request.method, flask.request.path)
        flask.g.error = "internal_error"
        return answer({"error": {"code": "internal_error", "message": f"{type(error).__name__} while answering "
                                                                      "the request (see the server's log)"}}, 500)

    @app.get("/")
    def index():
        return flask.send_from_directory(STATIC, "index.html")

    @app.get("/info")
    def info():
        return answer({"name": served.name, "summary": served.summary, "n_classes": served.n_outputs,
                       **served.spec.describe(),
                       "drift": {"available": monitor.detector is not None, "window": settings["drift_window"],
                                 "alpha": settings["drift_alpha"]}})

    @app.post("/predict")
    def predict():
        raw, x = _read_instances(flask.request, served.spec)
        outputs = served.predict(x)
        if not numpy.isfinite(outputs).all():  # NaN is not JSON, and argmax over NaN is no class
            bad = sorted({int(i) for i in numpy.nonzero(~numpy.isfinite(outputs.reshape(len(outputs), -1)))[0]})
            raise RequestError(422, "non_finite_output", f"the model's outputs for instances {bad[:10]} are not "
                                                         "finite (NaN or inf): the inputs lie far outside what it "
                                                         "was trained on")
        classes, probabilities = _answers(outputs)
        ids = [uuid.uuid4().hex for _ in classes]
        monitor.record_predictions(ids, classes, x, probabilities)
        rows = probabilities if probabilities is not None else outputs.reshape(outputs.shape[0], -1)
        key = "probabilities" if probabilities is not None else "outputs"
        predictions = [{"id": i, "class": c, key: [float(v) for v in row]} for i, c, row in zip(ids, classes, rows)]
        return answer({"model": served.name, "predictions": predictions})

    @app.post("/feedback")
    def feedback():
        labels = _read_feedback(flask.request, served.n_outputs)
        overall, window = monitor.record_feedback(labels)
        stats = monitor.stats()["accuracy"]
        return answer({"accepted": len(labels), "accuracy": None if overall != overall else overall,
                       "window_accuracy": None if window != window else window, "count": stats["count"]})

    @app.get("/stats")
    def stats():
        return answer(monitor.stats())

    @app.get("/metrics")
    def metrics():
        return flask.Response(monitor.metrics_text(), content_type="text/plain; version=0.0.4; charset=utf-8")

    @app.get("/health")
    def health():
        return answer({"status": "ok"})

    @app.get("/ready")
    def ready():
        return answer({"ready": True, "model": served.name})


def _read_instances(request, spec):
    """``(raw, x)`` from a predict request: JSON, a PNG body, or a multipart PNG upload."""
    kind = request.mimetype
    if kind == "application/json":
        body = request.get_data(cache=False)
        return spec.from_json(inputs.parse_json(body), booleans=b"true" in body or b"false" in body)
    if kind == "image/png":
        return spec.from_png(request.get_data(cache=False))
    if kind == "multipart/form-data":
        upload = request.files.get("image")
        if upload is None:
            raise RequestError(400, "bad_request", f"the form has no file field 'image' (fields: "
                                                   f"{sorted(request.files) + sorted(request.form)})")
        return spec.from_png(upload.read())
    raise RequestError(415, "unsupported_media_type", f"Content-Type {kind or 'missing'!r}; expected "
                                                      "application/json, image/png or multipart/form-data")


def _read_feedback(request, n_classes):
    """``[(id, label), ...]`` from ``{"feedback": [{"id", "label"}, ...]}`` or one ``{"id", "label"}``."""
    if request.mimetype != "application/json":
        raise RequestError(415, "unsupported_media_type", f"Content-Type {request.mimetype or 'missing'!r}; "
                                                          "expected application/json")
    document = inputs.parse_json(request.get_data(cache=False))
    if isinstance(document, dict) and "feedback" in document:
        if set(document) != {"feedback"}:
            raise RequestError(400, "bad_request", f"unknown field(s) {sorted(set(document) - {'feedback'})}")
        entries = document["feedback"]
        if not isinstance(entries, list) or not entries:
            raise RequestError(400, "bad_request", "'feedback' must be a non-empty list of {\"id\", \"label\"}")
    else:
        entries = [document]
    if n_classes is None:
        raise RequestError(400, "no_classes", "this model's outputs are not class probabilities; feedback takes "
                                              "class labels")
    labels = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or set(entry) != {"id", "label"}:
            raise RequestError(400, "bad_request", f"feedback[{i}] is {str(entry)[:60]}; expected an object with "
                                                   "exactly 'id' and 'label'")
        label, prediction_id = entry["label"], entry["id"]
        if not isinstance(prediction_id, str):
            raise RequestError(400, "bad_request", f"feedback[{i}].id must be a string, got {prediction_id!r:.40}")
        classes = max(n_classes, 2)
        if type(label) is not int or not 0 <= label < classes:
            raise RequestError(400, "bad_label", f"feedback[{i}].label is {label!r:.40}; expected an integer "
                                                 f"class in [0, {classes - 1}]")
        labels.append((prediction_id, label))
    return labels
