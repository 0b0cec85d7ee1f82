"""``serve(model_dir, host, port, threads)``: the app under waitress, a production WSGI server (never Flask's own).

Loopback (127.0.0.1) unless told otherwise: a model server should not be reachable from the network by
accident. The line ``Serving <model> on http://HOST:PORT/`` is printed (and flushed) once the socket is
listening, so a script or a test can wait for it; port 0 picks a free port and the line names it. SIGTERM stops
the server as Ctrl-C does.
"""

import json
import logging
import signal
import sys

from ..backend import blas
from . import app as app_module

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def _waitress():
    try:
        import waitress
    except ImportError:  # the serve extra installs it
        raise ImportError("neurona serve needs waitress: pip install 'neurona[serve]'") from None
    return waitress


def make_server(model_dir, host=DEFAULT_HOST, port=DEFAULT_PORT, threads=4, **options):
    """``(server, app)``: a bound waitress server (not yet running) for the saved model in ``model_dir``."""
    waitress = _waitress()
    if isinstance(threads, bool) or not isinstance(threads, int) or not 1 <= threads <= 256:
        raise ValueError(f"serve: threads must be an int in [1, 256], got {threads!r}")
    app = app_module.create_app(model_dir, **options)
    limit = app.extensions["neurona"]["settings"]["max_body_bytes"]
    # waitress refuses a declared or chunked body over ``limit`` itself, from the headers, before buffering it
    # (its test is ``length >= max_request_body_size``), and answers it, like every framing fault, in JSON
    server = waitress.create_server(app, host=host, port=port, threads=threads, max_request_body_size=limit + 1,
                                    channel_timeout=30, ident="neurona")
    server.channel_class = _json_channel(limit)
    return server, app


def _json_channel(limit):
    """waitress's HTTP channel whose own refusals (bad framing, a body over ``limit``) are the app's JSON errors."""
    from waitress.channel import HTTPChannel
    from waitress.task import ErrorTask

    codes = {400: "bad_request", 413: "body_too_large", 431: "headers_too_large", 501: "not_implemented"}

    class JSONErrorTask(ErrorTask):
        def execute(self):
            error = self.request.error
            message = (f"the body is larger than the server's limit of {limit} bytes" if error.code == 413
                       else f"{error.reason}: {error.body}")
            body = json.dumps({"error": {"code": codes.get(error.code, "http_error"), "message": message}}).encode()
            self.status = f"{error.code} {error.reason}"
            self.response_headers.append(("Content-Type", "application/json"))
            self.set_close_on_finish()
            self.content_length = len(body)
            self.write(body)

    class JSONChannel(HTTPChannel):
        error_task_class = JSONErrorTask

    return JSONChannel


def serve(model_dir, host=DEFAULT_HOST, port=DEFAULT_PORT, threads=4, **options):
    """Serve the saved model in ``model_dir`` until interrupted (Ctrl-C or SIGTERM)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    server, app = make_server(model_dir, host=host, port=port, threads=threads, **options)
    name = app.extensions["neurona"]["model"].name
    bound_host, bound_port = server.effective_host, server.effective_port
    shown = f"[{bound_host}]" if ":" in str(bound_host) else bound_host
    reach = "loopback only" if str(bound_host) in ("127.0.0.1", "::1", "localhost") else "reachable from the network"
    print(f"Serving {name} on http://{shown}:{bound_port}/ ({reach}; {threads} threads; Ctrl-C to stop)", flush=True)

    def stop(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        # this process is the server's own: BLAS on one thread throughout, as Neurona's predict runs it anyway
        # (its own threads share out the products), and a request's small products never wait for BLAS threads
        # stalled by the other requests (backend/blas.py)
        with blas.single_threaded():
            server.run()
    except KeyboardInterrupt:
        print("Stopped.", file=sys.stderr, flush=True)
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.close()
