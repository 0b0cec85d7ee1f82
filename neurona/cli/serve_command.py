"""``neurona serve MODEL_DIR [--host 127.0.0.1] [--port 8000] [--threads N]``: a saved model behind waitress.

The app and the server live in ``neurona.serving`` (app.py, server.py); this module only reads the command line.
Flask, waitress and prometheus-client come with the ``serve`` extra; without them the command fails with status 1
and names the extra.
"""

from .arg_types import fraction_open, positive_float
from .saving_commands import bounded_int, positive_int

MAX_THREADS = 256


def port_number(text):
    """A TCP port in [0, 65535] (0: any free port, named in the start line)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        import argparse

        raise argparse.ArgumentTypeError(f"expected a port number in [0, 65535], got {text!r}")
    return value


def add_parser(sub):
    serve = sub.add_parser(
        "serve", help="serve a saved model over HTTP (page, /predict, /feedback, /metrics)",
        description="Serve a saved model with a production WSGI server (waitress): the page at /, POST /predict "
                    "(JSON instances or a PNG), POST /feedback (true labels, for accuracy), GET /stats, GET /metrics "
                    "(Prometheus), GET /health and GET /ready. Binds to 127.0.0.1 (this machine only) unless "
                    "--host says otherwise. Needs: pip install 'neurona[serve]'.")
    serve.add_argument("path", help="a saved model: a folder (model.save(), train --save, or Keras's model.json + "
                       "model.h5), a .keras archive or a Keras .h5 file")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to bind (default 127.0.0.1; 0.0.0.0 makes the server reachable from the network)")
    serve.add_argument("--port", type=port_number, default=8000, help="TCP port (default 8000; 0 picks a free one)")
    serve.add_argument("--threads", type=bounded_int(MAX_THREADS), default=4,
                       help=f"worker threads, at most {MAX_THREADS} (default 4)")
    serve.add_argument("--max-body-bytes", type=positive_int, default=16 * 1024 * 1024,
                       help="largest request body accepted (default 16 MiB)")
    serve.add_argument("--max-instances", type=positive_int, default=1024,
                       help="most instances in one predict request (default 1024)")
    serve.add_argument("--drift-window", type=positive_int, default=200,
                       help="recent instances compared with the reference by the drift test (default 200)")
    serve.add_argument("--drift-alpha", type=fraction_open, default=0.001,
                       help="significance level of the drift test, in (0, 1) (default 0.001: see docs/drift.md)")
    serve.add_argument("--rescale", type=positive_float, default=None, metavar="DIVISOR",
                       help="divide raw inputs by DIVISOR before the model (e.g. 255 for a Keras model trained on "
                            "pixels in [0, 1]: Keras saves no preprocessing); replaces the model's saved "
                            "preprocessing")
    serve.set_defaults(func=cmd_serve)


def cmd_serve(args):
    from ..serving.server import serve

    options = {}
    if args.rescale is not None:
        from ..saving import preprocessing as prep

        options["preprocessing"] = [prep.rescale(args.rescale)]
    serve(args.path, host=args.host, port=args.port, threads=args.threads, max_body_bytes=args.max_body_bytes,
          max_instances=args.max_instances, drift_window=args.drift_window, drift_alpha=args.drift_alpha, **options)
