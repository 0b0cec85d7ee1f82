"""A bounded load run against ``neurona serve`` beside a minimal Flask + PyTorch server for the same MNIST CNN.

Both servers run as subprocesses on free loopback ports, under waitress with the same number of worker threads,
and get the same requests: real MNIST test images as raw 0-255 integers (``{"instances": [...],
"input_format": "raw"}``), a fixed number of them (``--single`` one-image requests, ``--batched`` requests of
``--batch-size`` images), sent by ``--concurrency`` client threads over keep-alive ``http.client`` connections.
Warm-up requests (``--warmup`` per client thread) are not timed. Every answer is checked after the timed phase:
status 200, one prediction per image, the class the local model gives to that image, probabilities within 1e-5 of
the local model's. A timeout, a refused connection, a 5xx or a wrong answer is an error; the run fails (status 1)
if there is any. It prints requests/s, images/s and p50/p99 latency per server and mode, the median over
``--repeats`` runs (the servers alternate inside every repeat) with the spread, and the ratios neurona / torch.

The model is the Keras example convnet (keras.io "Simple MNIST convnet": Conv2D 32 3x3 ReLU, MaxPooling 2,
Conv2D 64 3x3 ReLU, MaxPooling 2, Flatten, Dropout 0.5, Dense 10 softmax), built seeded and trained briefly
(``--train-epochs`` on the first ``--train-samples`` training images; 0 epochs: untrained), or read from
``--model DIR``; it is saved with the preprocessing ``[rescale(255)]`` and its reference statistics, so the
Neurona server does its real per-request work (input checks, monitoring, drift window). Its weights are copied
into the same network in ``torch.nn`` (HWIO kernels to OIHW; the Dense rows reordered from Flatten's (h, w, c)
to PyTorch's (c, h, w)), and both are checked to give the same probabilities (to 1e-5) before any timing. The
PyTorch server (``--torch-server``, a mode of this script) is one Flask app with one ``POST /predict`` route
that reads the same JSON, divides by 255, runs the model under ``torch.inference_mode()`` and answers the same
JSON shape (classes and probabilities; no ids, no monitoring).

Thread settings, the same for both servers: ``--threads`` waitress worker threads (HTTP requests in flight);
``--compute-threads`` threads for the model's arithmetic: ``NEURONA_NUM_THREADS`` and ``OPENBLAS_NUM_THREADS``
for Neurona, ``torch.set_num_threads`` (and ``OMP_NUM_THREADS``) for PyTorch; default the CPU count, which is
also each library's own default (an ``OPENBLAS_NUM_THREADS`` already in the environment is kept: Neurona's
forward pass holds BLAS to one thread anyway and splits the work itself, so it only changes the products outside
the model, e.g. the drift monitor's projection). Neurona calls its model one request at a time (a lock in
``neurona.serving.app``); the PyTorch server runs requests concurrently unless ``--torch-lock`` adds the same
lock. The client threads run on the same machine and share its cores with the server under test.

Loopback only: a host that is not a loopback address is refused. Every request has a timeout (``--timeout``),
the servers get ``--start-timeout`` to say they are listening, and both are stopped in a ``finally`` block.

    NEURONA_DATA_DIR=../shared/data python benchmarks/serve_load.py [--repeats 3] [--concurrency 4] [--threads 4]
    python benchmarks/serve_load.py --quick --servers neurona --data embedded      # a few requests, seconds
    python benchmarks/serve_load.py --model runs/mnist_cnn_saved --single 1000 --batched 300
"""

import argparse
import contextlib
import http.client
import ipaddress
import json
import os
import pathlib
import queue
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

SERVERS = ("neurona", "torch")
IMAGE_SHAPE = (28, 28)
AGREEMENT = 1e-5  # probabilities: torch vs Neurona before timing, and every answer vs the local model
SERVING_LINE = re.compile(r"Serving \S+ on http://\[?([^\s\]/]+)\]?:(\d+)/")


# ----------------------------------------------------------------------------------------------- the two models


def build_cnn(seed=0):
    """The Keras example convnet in Neurona, seeded, compiled with Adam and sparse categorical cross-entropy."""
    import neurona as nr
    from neurona import layers, models

    nr.seed(seed)
    model = models.Sequential([
        layers.Input((28, 28, 1)),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ], name="mnist_cnn")
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def torch_cnn():
    """The same network in ``torch.nn`` (NCHW), in eval mode (dropout off, as in Neurona's predict)."""
    import torch

    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Dropout(0.5), torch.nn.Linear(1600, 10), torch.nn.Softmax(dim=1),
    ).eval()


# (kernel shape, bias shape) of the CNN's weighted layers, in order: what copy_weights can translate
CNN_WEIGHTS = [((3, 3, 1, 32), (32,)), ((3, 3, 32, 64), (64,)), ((1600, 10), (10,))]


def is_cnn(model):
    """Whether ``model`` has the CNN's input, weights and preprocessing (so the torch server computes the same)."""
    weighted = [[w.shape for w in layer.get_weights()] for layer in model.layers if layer.get_weights()]
    steps = getattr(model, "preprocessing", None) or []
    return (tuple(model.input_shape[1:]) == (28, 28, 1) and weighted == [list(pair) for pair in CNN_WEIGHTS]
            and len(steps) == 1 and steps[0].get("op") == "rescale" and steps[0].get("divisor") == 255.0)


def copy_weights(model, tmodel):
    """Copy the Neurona CNN's weights into ``torch_cnn()``.

    Conv2D kernels are (k_h, k_w, in, out) in Neurona (Keras's layout) and (out, in, k_h, k_w) in PyTorch: a
    transpose, both being cross-correlations. Flatten reads an NHWC map in (h, w, c) order and PyTorch's an NCHW
    map in (c, h, w) order, so Dense row (h, w, c) becomes Linear column (c, h, w).
    """
    import torch

    weighted = [layer.get_weights() for layer in model.layers if layer.get_weights()]
    if [[w.shape for w in ws] for ws in weighted] != [list(pair) for pair in CNN_WEIGHTS]:
        raise ValueError(f"copy_weights: expected the MNIST CNN's weights {CNN_WEIGHTS}, got "
                         f"{[[w.shape for w in ws] for ws in weighted]}")
    (k1, b1), (k2, b2), (dense, bias) = weighted
    dense_chw = dense.reshape(5, 5, 64, 10).transpose(2, 0, 1, 3).reshape(1600, 10)
    targets = [(tmodel[0], k1.transpose(3, 2, 0, 1), b1), (tmodel[3], k2.transpose(3, 2, 0, 1), b2),
               (tmodel[8], dense_chw.T, bias)]
    with torch.no_grad():
        for module, weight, b in targets:
            module.weight.copy_(torch.from_numpy(np.ascontiguousarray(weight, dtype=np.float32)))
            module.bias.copy_(torch.from_numpy(np.asarray(b, dtype=np.float32)))
    return tmodel


def torch_probabilities(tmodel, raw):
    """The torch model's probabilities for raw 0-255 images ``(n, 28, 28)``, preprocessed as the server does."""
    import torch

    x = np.asarray(raw, dtype=np.float32).reshape(-1, 1, 28, 28) / np.float32(255.0)
    with torch.inference_mode():
        return tmodel(torch.from_numpy(x)).numpy()


def neurona_probabilities(model, raw):
    """The Neurona model's probabilities for raw images, after its saved preprocessing (as the server does)."""
    from neurona.saving import preprocessing as prep

    x = prep.apply(model.preprocessing, np.asarray(raw).reshape((-1,) + tuple(model.input_shape[1:])))
    return np.asarray(model.predict(x, batch_size=256, verbose=0))


def prepare_model(args, data, workdir):
    """``(model, model_dir, note)``: the saved model the Neurona server will load."""
    from neurona.saving import load_model
    from neurona.saving import preprocessing as prep

    if args.model:
        model = load_model(args.model, compile=False)
        return model, pathlib.Path(args.model), f"loaded from {args.model}"
    (x_train, y_train), _ = data
    model = build_cnn(args.seed)
    model.preprocessing = [prep.rescale(255.0)]
    x = prep.apply(model.preprocessing, x_train[:args.train_samples, ..., None])
    if args.train_epochs > 0:
        start = time.perf_counter()
        model.fit(x, y_train[:args.train_samples], batch_size=128, epochs=args.train_epochs, verbose=0)
        note = (f"seed {args.seed}, trained {args.train_epochs} epoch(s) of Adam on {len(x)} training images in "
                f"{time.perf_counter() - start:.0f} s")
    else:
        model.compute_reference_statistics(x[:2000])
        note = f"seed {args.seed}, untrained (--train-epochs 0)"
    folder = workdir / "mnist_cnn"
    model.save(folder)
    return model, folder, note


# -------------------------------------------------------------------------------------- the PyTorch server mode


def torch_app(state_path, compute_threads, serialize=False):
    """The minimal Flask app: ``POST /predict`` (the same JSON in and out as Neurona's) and ``GET /ready``."""
    import flask
    import torch

    torch.set_num_threads(compute_threads)
    tmodel = torch_cnn()
    tmodel.load_state_dict(torch.load(state_path, weights_only=True))
    lock = threading.Lock() if serialize else contextlib.nullcontext()
    app = flask.Flask("torch_cnn")

    @app.post("/predict")
    def predict():
        document = flask.request.get_json()
        x = np.asarray(document["instances"], dtype=np.float32).reshape(-1, 1, 28, 28) / np.float32(255.0)
        with lock, torch.inference_mode():
            probabilities = tmodel(torch.from_numpy(x)).numpy()
        return flask.jsonify({"predictions": [{"class": int(row.argmax()), "probabilities": [float(p) for p in row]}
                                              for row in probabilities]})

    @app.get("/ready")
    def ready():
        return flask.jsonify({"ready": True})

    return app


def torch_server_main(args):
    """Serve ``torch_app`` under waitress until SIGTERM, printing the same kind of "Serving" line as Neurona."""
    import signal

    import waitress

    app = torch_app(args.torch_server, args.compute_threads, args.torch_lock)
    server = waitress.create_server(app, host=args.host, port=args.port, threads=args.threads, ident="torch")
    print(f"Serving torch_cnn on http://{server.effective_host}:{server.effective_port}/ "
          f"({args.threads} threads, torch {args.compute_threads} threads)", flush=True)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))  # so that the finally below runs
    try:
        server.run()
    finally:
        server.close()
    return 0


# ---------------------------------------------------------------------------------------- starting the servers


def check_loopback(host):
    """``host`` if it is a loopback address (or ``localhost``), else a ValueError: this benchmark stays local."""
    if host == "localhost":
        return host
    try:
        if ipaddress.ip_address(host).is_loopback:
            return host
    except ValueError:
        pass
    raise ValueError(f"--host must be a loopback address (127.0.0.1, ::1 or localhost); got {host!r}: this "
                     "benchmark never sends its load over a network")


def neurona_command():
    script = shutil.which("neurona", path=os.path.dirname(sys.executable))
    if script:
        return [script]
    return [sys.executable, "-c", "import sys; from neurona.cli.main import main; sys.exit(main())"]


class Server:
    """A server subprocess: started, waited for (its ``Serving ... on http://HOST:PORT/`` line, then GET
    /ready), and stopped (SIGTERM, then SIGKILL) by ``stop``; its stderr goes to a log file."""

    def __init__(self, name, command, env, log_path):
        self.name, self.command, self.log_path = name, command, log_path
        self.port = None
        self._log = open(log_path, "wb")
        self._lines = queue.Queue()
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self._log, stdin=subprocess.DEVNULL,
                                        env=env)
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):  # keeps reading stdout, so the server never blocks on a full pipe
        for line in self.process.stdout:
            self._lines.put(line.decode("utf-8", "replace"))
        self._lines.put(None)

    def log_tail(self, n=20):
        self._log.flush()
        lines = pathlib.Path(self.log_path).read_text(errors="replace").splitlines()
        return "\n".join(lines[-n:])

    def wait_ready(self, host, timeout):
        deadline = time.monotonic() + timeout
        while self.port is None:
            left = deadline - time.monotonic()
            try:
                line = self._lines.get(timeout=max(left, 0.01))
            except queue.Empty:
                line = ""
            if line is None or left <= 0:
                why = "exited" if line is None else f"said nothing in {timeout:.0f} s"
                raise RuntimeError(f"the {self.name} server {why} (command {' '.join(self.command)}); its log "
                                   f"ends:\n{self.log_tail()}")
            match = SERVING_LINE.search(line)
            if match:
                self.port = int(match.group(2))
        while True:  # listening; /ready answers 200 once the model is loaded
            try:
                status, _ = request_once(host, self.port, "GET", "/ready", None, timeout=5)
                if status == 200:
                    return self.port
            except OSError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"the {self.name} server never answered GET /ready; its log ends:\n"
                                   f"{self.log_tail()}")
            time.sleep(0.1)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


def request_once(host, port, method, path, body, timeout):
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers={"Content-Type": "application/json"} if body else {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


# ----------------------------------------------------------------------------------------------------- the load


class Payloads:
    """Pre-encoded request bodies and the answers the local models give to them."""

    def __init__(self, images, batch, count):
        self.batch = batch
        self.indices = [np.arange(i * batch, (i + 1) * batch) % len(images) for i in range(count)]
        self.bodies = [json.dumps({"instances": images[idx].tolist(), "input_format": "raw"}).encode()
                       for idx in self.indices]
        self.expected = {}  # server name -> (classes (count, batch), probabilities (count, batch, classes))

    def expect(self, name, probabilities_of):
        rows = probabilities_of(np.concatenate(self.indices))
        rows = rows.reshape(len(self.indices), self.batch, -1)
        self.expected[name] = (rows.argmax(axis=-1), rows)


def run_load(host, port, payloads, n_requests, concurrency, warmup, timeout):
    """Send ``n_requests`` bodies (request i: body i mod count) from ``concurrency`` keep-alive connections.

    Returns ``(wall seconds, latencies (s), answers, errors)``: ``answers[i]`` is ``(body index, status, bytes)``
    or None after a transport error; errors lists ``(request, message)``, warm-up failures included.
    """
    lock = threading.Lock()
    cursor = [0]
    latencies, answers, errors = [None] * n_requests, [None] * n_requests, []
    start = threading.Barrier(concurrency + 1, timeout=max(timeout * (warmup + 1), 60))
    headers = {"Content-Type": "application/json"}

    def post(connection, body):
        connection.request("POST", "/predict", body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()

    def client(thread):
        connection = http.client.HTTPConnection(host, port, timeout=timeout)
        try:
            for k in range(warmup):  # untimed: connection set-up, first-call costs
                try:
                    post(connection, payloads.bodies[(thread * warmup + k) % len(payloads.bodies)])
                except (OSError, http.client.HTTPException) as error:
                    with lock:
                        errors.append(("warm-up", repr(error)))
                    connection.close()
            start.wait()
            while True:
                with lock:
                    i = cursor[0]
                    if i >= n_requests:
                        return
                    cursor[0] += 1
                b = i % len(payloads.bodies)
                began = time.perf_counter()
                try:
                    status, data = post(connection, payloads.bodies[b])
                except (OSError, http.client.HTTPException) as error:
                    with lock:
                        errors.append((i, repr(error)))
                    connection.close()  # http.client reconnects on the next request
                    continue
                latencies[i] = time.perf_counter() - began
                answers[i] = (b, status, data)
        except threading.BrokenBarrierError:
            with lock:
                errors.append(("start", "the client threads never all finished their warm-up"))
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(t,), daemon=True) for t in range(concurrency)]
    for t in threads:
        t.start()
    try:
        start.wait()
    except threading.BrokenBarrierError:
        pass
    began = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - began, [x for x in latencies if x is not None], answers, errors


def check_answers(answers, payloads, name):
    """Errors among the answers: not 200, not JSON, the wrong number of predictions, a class or probabilities
    other than the local model's for that image."""
    classes, probabilities = payloads.expected[name]
    errors = []
    for i, answer in enumerate(answers):
        if answer is None:
            continue  # a transport error, already counted
        b, status, data = answer
        try:
            if status != 200:
                raise ValueError(f"status {status}: {data[:200]!r}")
            predictions = json.loads(data)["predictions"]
            if len(predictions) != payloads.batch:
                raise ValueError(f"{len(predictions)} predictions for {payloads.batch} images")
            got_classes = [p["class"] for p in predictions]
            got = np.array([p["probabilities"] for p in predictions])
            if got_classes != classes[b].tolist():
                raise ValueError(f"classes {got_classes}, the local model says {classes[b].tolist()}")
            if got.shape != probabilities[b].shape or not np.allclose(got, probabilities[b], rtol=0, atol=AGREEMENT):
                raise ValueError(f"probabilities differ from the local model's by up to "
                                 f"{np.abs(got - probabilities[b]).max():.2e}")
        except (ValueError, KeyError, TypeError) as error:
            errors.append((i, str(error)))
    return errors


def measure(host, port, payloads, n_requests, args, name):
    wall, latencies, answers, errors = run_load(host, port, payloads, n_requests, args.concurrency, args.warmup,
                                                args.timeout)
    errors += check_answers(answers, payloads, name)
    ms = np.asarray(latencies) * 1e3 if latencies else np.array([np.nan])
    done = len(latencies)
    return {"requests": n_requests, "errors": len(errors), "first_errors": errors[:3], "rps": done / wall,
            "ips": done * payloads.batch / wall, "p50": float(np.percentile(ms, 50)),
            "p99": float(np.percentile(ms, 99)), "wall": wall}


# ------------------------------------------------------------------------------------------------------ report


def summarize(runs):
    """Median over repeats of every figure, and the min-max of requests/s."""
    keys = ("rps", "ips", "p50", "p99")
    out = {k: statistics.median(r[k] for r in runs) for k in keys}
    out.update(requests=runs[0]["requests"], errors=sum(r["errors"] for r in runs),
               rps_min=min(r["rps"] for r in runs), rps_max=max(r["rps"] for r in runs))
    return out


def print_table(results, labels, servers, repeats):
    print(f"\nmedian of {repeats} repeat(s); [min-max] of requests/s over the repeats; latencies in ms")
    print(f"{'server':8s} {'mode':9s} {'requests':>8s} {'errors':>6s} {'requests/s':>24s} {'images/s':>9s} "
          f"{'p50':>8s} {'p99':>8s}")
    for label in labels:
        for name in servers:
            s = summarize(results[name, label])
            spread = f"[{s['rps_min']:.1f}-{s['rps_max']:.1f}]"
            print(f"{name:8s} {label:9s} {s['requests'] * repeats:8d} {s['errors']:6d} {s['rps']:9.1f} {spread:>14s} "
                  f"{s['ips']:9.1f} {s['p50']:8.2f} {s['p99']:8.2f}")
    if set(SERVERS) <= set(servers):
        print("\nneurona / torch (per repeat, both servers measured back to back; median [min-max]):")
        print("  requests/s above 1: Neurona serves more; latency below 1: Neurona answers faster")
        for label in labels:
            pairs = list(zip(results["neurona", label], results["torch", label]))
            for key, what in (("rps", "requests/s"), ("p50", "p50 latency"), ("p99", "p99 latency")):
                ratios = [n[key] / t[key] if t[key] else float("nan") for n, t in pairs]  # 0: every request failed
                print(f"  {label:9s} {what:12s} {statistics.median(ratios):6.2f} "
                      f"[{min(ratios):.2f}-{max(ratios):.2f}]")


# -------------------------------------------------------------------------------------------------------- main


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="a saved Neurona model folder to serve (default: build the MNIST CNN)")
    parser.add_argument("--servers", default="neurona,torch",
                        help="comma-separated, from neurona and torch (torch is dropped, with a note, when PyTorch "
                             "or Flask is not installed)")
    parser.add_argument("--single", type=int, default=500, help="timed one-image requests per repeat (500)")
    parser.add_argument("--batched", type=int, default=200, help="timed batch requests per repeat (200)")
    parser.add_argument("--batch-size", type=int, default=32, help="images per batch request (32)")
    parser.add_argument("--concurrency", type=int, default=4, help="client threads, one connection each (4)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests per client thread per run (3)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of every server and mode (3)")
    parser.add_argument("--threads", type=int, default=4, help="waitress worker threads of both servers (4)")
    parser.add_argument("--compute-threads", type=int, default=None,
                        help="Neurona's NEURONA_NUM_THREADS and torch.set_num_threads (default: the CPU count)")
    parser.add_argument("--torch-lock", action="store_true",
                        help="the torch server runs one request at a time, as Neurona's does")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind and load (127.0.0.1)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds allowed for every request (30)")
    parser.add_argument("--start-timeout", type=float, default=120.0, help="seconds for a server to get ready")
    parser.add_argument("--train-epochs", type=int, default=None,
                        help="epochs to train the CNN before serving (default 1; 0 with --quick)")
    parser.add_argument("--train-samples", type=int, default=10_000, help="training images used (10000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", choices=("auto", "full", "embedded"), default="auto",
                        help="MNIST source (nr.datasets.mnist.load_data's source; full MNIST from "
                             "$NEURONA_DATA_DIR/mnist)")
    parser.add_argument("--quick", action="store_true",
                        help="a few requests: --single 16 --batched 4 --repeats 1 --warmup 1 (a smoke run)")
    parser.add_argument("--torch-server", metavar="STATE_DICT", help=argparse.SUPPRESS)  # the PyTorch server mode
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.single, args.batched, args.repeats, args.warmup = 16, 4, 1, 1
    if args.train_epochs is None:
        args.train_epochs = 0 if args.quick else 1
    if args.compute_threads is None:
        args.compute_threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    for name in ("single", "batched", "warmup", "train_epochs"):
        if getattr(args, name) < 0:
            parser.error(f"--{name.replace('_', '-')} must be >= 0, got {getattr(args, name)}")
    for name in ("batch_size", "concurrency", "repeats", "threads", "compute_threads", "train_samples"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    if not args.timeout > 0 or not args.start_timeout > 0:
        parser.error("--timeout and --start-timeout must be > 0 seconds")
    try:
        check_loopback(args.host)
    except ValueError as error:
        parser.error(str(error))
    args.servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    unknown = sorted(set(args.servers) - set(SERVERS))
    if unknown or not args.servers:
        parser.error(f"--servers takes names from {list(SERVERS)}, got {unknown or 'none'}")
    return args


def torch_available():
    try:
        import flask  # noqa: F401
        import torch  # noqa: F401
        import waitress  # noqa: F401
    except ImportError as error:
        return str(error)
    return None


def make_payloads(model, modes, x_test, y_test):
    """The request bodies of every mode, with the local Neurona model's answers to them; and its accuracy."""
    payloads = {label: Payloads(x_test, batch, min(n, max(1, 512 // batch))) for n, batch, label in modes}
    images = np.unique(np.concatenate([np.concatenate(p.indices) for p in payloads.values()]))
    local = neurona_probabilities(model, x_test[images])
    lookup = dict(zip(images.tolist(), local))
    for p in payloads.values():
        p.expect("neurona", lambda idx: np.stack([lookup[i] for i in idx.tolist()]))
    return payloads, float(np.mean(local.argmax(1) == y_test[images])), len(images)


def prepare_torch(model, payloads, x_test, args, state_path):
    """Copy the weights into torch, check both compute the same, record torch's answers, save the state dict.

    Returns an error message, or None when the torch server can be started."""
    import torch

    if not is_cnn(model):
        return ("the torch server computes the MNIST CNN with [rescale(255)]; this model is not it: pass "
                "--servers neurona")
    torch.set_num_threads(args.compute_threads)
    tmodel = copy_weights(model, torch_cnn())
    check = x_test[:8]
    gap = float(np.abs(torch_probabilities(tmodel, check) - neurona_probabilities(model, check)).max())
    print(f"torch copy of the weights: largest probability difference on 8 test images {gap:.2e} "
          f"(must be <= {AGREEMENT:.0e})")
    if not gap <= AGREEMENT:
        return "the torch model does not compute what the Neurona model computes; not timing"
    for p in payloads.values():
        p.expect("torch", lambda idx: torch_probabilities(tmodel, x_test[idx]))
    torch.save(tmodel.state_dict(), state_path)
    return None


def server_commands(args, model_dir, state_path):
    return {
        "neurona": neurona_command() + ["serve", str(model_dir), "--host", args.host, "--port", "0", "--threads",
                                        str(args.threads)],
        "torch": [sys.executable, os.path.abspath(__file__), "--torch-server", str(state_path), "--host", args.host,
                  "--port", "0", "--threads", str(args.threads), "--compute-threads", str(args.compute_threads)]
                 + (["--torch-lock"] if args.torch_lock else []),
    }


def run_all(args, commands, env, modes, payloads, workdir):
    """Start the servers, run every repeat (servers alternating), stop them; ``{(server, mode): [run, ...]}``."""
    servers, results = {}, {}
    try:
        for name in args.servers:
            servers[name] = Server(name, commands[name], env, workdir / f"{name}.log")
        for name in args.servers:
            servers[name].wait_ready(args.host, args.start_timeout)
            print(f"{name} server ready on port {servers[name].port}")
        for repeat in range(args.repeats):
            order = args.servers if repeat % 2 == 0 else args.servers[::-1]
            for n, _, label in modes:
                for name in order:
                    run = measure(args.host, servers[name].port, payloads[label], n, args, name)
                    results.setdefault((name, label), []).append(run)
                    print(f"repeat {repeat + 1} {name:8s} {label:9s} {run['rps']:8.1f} req/s  p50 {run['p50']:7.2f} "
                          f"ms  p99 {run['p99']:7.2f} ms  errors {run['errors']}", flush=True)
                    for where, message in run["first_errors"]:
                        print(f"    error at request {where}: {message}")
    finally:
        for server in servers.values():
            server.stop()
    return results


def main(argv=None):
    args = parse_args(argv)
    if args.torch_server:
        return torch_server_main(args)
    if "torch" in args.servers:
        missing = torch_available()
        if missing:
            print(f"note: no torch server ({missing}); serving Neurona only")
            args.servers.remove("torch")
        if not args.servers:
            return 1

    import neurona as nr

    data = nr.datasets.mnist.load_data(source=args.data)
    source = nr.datasets.mnist.last_source()
    (_, _), (x_test, y_test) = data
    modes = [(args.single, 1, "single"), (args.batched, args.batch_size, f"batch {args.batch_size}")]
    modes = [m for m in modes if m[0] > 0]
    env = dict(os.environ)
    env.update(PYTHONUNBUFFERED="1", NEURONA_NUM_THREADS=str(args.compute_threads),
               OMP_NUM_THREADS=str(args.compute_threads))
    env.setdefault("OPENBLAS_NUM_THREADS", str(args.compute_threads))  # an explicit setting wins (see the docstring)
    with tempfile.TemporaryDirectory(prefix="serve_load_") as tmp:
        workdir = pathlib.Path(tmp)
        model, model_dir, note = prepare_model(args, data, workdir)
        payloads, accuracy, n_images = make_payloads(model, modes, x_test, y_test)
        print(f"model {model.name}: {note}; {model.count_params()} parameters; accuracy {accuracy:.4f} on the "
              f"{n_images} test images sent")
        print(f"data: {source.kind} MNIST ({source.num_train} train / {source.num_test} test images)")
        state_path = workdir / "torch_cnn.pt"
        if "torch" in args.servers:
            problem = prepare_torch(model, payloads, x_test, args, state_path)
            if problem:
                print(problem, file=sys.stderr)
                return 2
        print(f"{len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()} CPUs; both "
              f"servers: waitress {version('waitress')}, {args.threads} threads; Flask {version('flask')}; numpy "
              f"{np.__version__}; Neurona NEURONA_NUM_THREADS={env['NEURONA_NUM_THREADS']} OPENBLAS_NUM_THREADS="
              f"{env['OPENBLAS_NUM_THREADS']}"
              + (f"; torch {version('torch')} set_num_threads({args.compute_threads})" if "torch" in args.servers
                 else "")
              + (", one request at a time (--torch-lock)" if args.torch_lock else ""))
        print(f"client: {args.concurrency} threads with keep-alive connections on {args.host}, {args.warmup} warm-up "
              f"request(s) each per run, timeout {args.timeout:g} s; per repeat "
              + ", ".join(f"{n} x {label}" for n, _, label in modes))
        results = run_all(args, server_commands(args, model_dir, state_path), env, modes, payloads, workdir)
    print_table(results, [label for _, _, label in modes], args.servers, args.repeats)
    errors = sum(r["errors"] for runs in results.values() for r in runs)
    print(f"\n{errors} error(s)")
    return 1 if errors else 0


def version(distribution):
    from importlib.metadata import version as installed

    return installed(distribution)


if __name__ == "__main__":
    sys.exit(main())
