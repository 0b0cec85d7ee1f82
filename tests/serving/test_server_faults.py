"""A fault and bad-input matrix against real `neurona serve` processes over HTTP (second reader of issue 13).

Two servers are started as subprocesses on free loopback ports (a 28x28x1 CNN saved with ``rescale(255)``, an
MLP on 784 inputs saved with ``rescale(255), flatten()``) and driven with http.client and raw sockets: malformed
and hostile bodies, PNG variants and bombs, HTTP framing faults, slow clients, concurrent predict + feedback
whose counts must add up exactly in /stats and /metrics, path traversal on /static, and the command line's exits.

The tests near the end reproduce defects found in review (each fixed since): PNG bombs, short image data,
16-bit pictures, batches over 32 steps, mixed input formats, waitress's own refusals, float32 overflow, non-finite
outputs, a reference of other features, 405's Allow header, /metrics' Content-Type and the newest drift verdict.
"""

import hashlib
import http.client
import io
import json
import math
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib

import numpy as np
import pytest

pytest.importorskip("flask")
pytest.importorskip("waitress")
prometheus_parser = pytest.importorskip("prometheus_client.parser")
Image = pytest.importorskip("PIL.Image")

import neurona as nr  # noqa: E402
from neurona import layers, models  # noqa: E402
from neurona.cli.main import main  # noqa: E402
from neurona.saving import preprocessing as prep  # noqa: E402
from neurona.serving import create_app, monitoring  # noqa: E402
from neurona.serving.drift import ReferenceStatistics  # noqa: E402

LIMIT = 200_000  # --max-body-bytes of the servers under test
MAX_INSTANCES = 64
JSON = {"Content-Type": "application/json"}
PNG = {"Content-Type": "image/png"}


# ---- models and servers ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def mnist():
    (x, y), _ = nr.datasets.mnist.load_data(source="embedded")
    return x[:400], y[:400]


@pytest.fixture(scope="module")
def cnn_dir(tmp_path_factory, mnist):
    nr.seed(11)
    model = models.Sequential([layers.Input((28, 28, 1)), layers.Conv2D(4, 3, activation="relu"),
                               layers.MaxPooling2D(2), layers.Flatten(), layers.Dense(10, activation="softmax")],
                              name="fault_cnn")
    model.preprocessing = [prep.rescale(255.0)]
    model.compute_reference_statistics((mnist[0].astype("float32") / 255.0).reshape(-1, 28, 28, 1))
    folder = tmp_path_factory.mktemp("faults") / "cnn"
    model.save(folder)
    return folder


@pytest.fixture(scope="module")
def mlp_dir(tmp_path_factory):
    nr.seed(12)
    model = models.Sequential([layers.Input((784,)), layers.Dense(16, activation="relu"),
                               layers.Dense(10, activation="softmax")], name="fault_mlp")
    model.preprocessing = [prep.rescale(255.0), prep.flatten()]
    folder = tmp_path_factory.mktemp("faults") / "mlp"
    model.save(folder)
    return folder


@pytest.fixture(scope="module")
def plain_dir(tmp_path_factory):
    """A softmax model saved without preprocessing: its inputs have no bounded range."""
    nr.seed(13)
    model = models.Sequential([layers.Input((4,)), layers.Dense(3, activation="softmax")], name="plain")
    kernel = np.array([[10.0, -10.0, 1.0]] * 4, dtype=np.float32)  # inputs near float32's top overflow its logits
    model.set_weights([kernel, np.zeros(3, dtype=np.float32)])
    folder = tmp_path_factory.mktemp("faults") / "plain"
    model.save(folder)
    return folder


def _command():
    script = shutil.which("neurona", path=os.path.dirname(sys.executable))
    return [script] if script else [sys.executable, "-c", "import sys; from neurona.cli.main import main; "
                                                          "sys.exit(main())"]


class Server:
    """One `neurona serve` subprocess on a free loopback port."""

    def __init__(self, folder, *flags):
        self.process = subprocess.Popen([*_command(), "serve", str(folder), "--port", "0", *flags],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()  # printed (and flushed) once the socket listens
        match = re.search(r"on http://127\.0\.0\.1:(\d+)/", line)
        if not match:
            self.process.kill()
            raise AssertionError(f"no start line: {line!r}; stderr: {self.process.communicate()[1][-2000:]}")
        self.port = int(match.group(1))

    def request(self, method, path, body=None, headers=None, timeout=30):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def post_json(self, path, document):
        return self.request("POST", path, json.dumps(document).encode(), JSON)

    def raw(self, data, timeout=5.0, shut=True):
        """Send ``data`` on a fresh socket and return everything read until the server closes (or ``timeout``)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as s:
            try:
                s.sendall(data)
                if shut:
                    s.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            out = b""
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    out += chunk
            except socket.timeout:
                out += b"<<timeout>>"
            except OSError:
                pass
            return out

    def alive(self):
        return self.process.poll() is None and self.request("GET", "/health")[0] == 200

    def stop(self):
        if self.process.poll() is not None:
            return self.process.communicate()[1]
        self.process.send_signal(signal.SIGTERM)
        try:
            _, err = self.process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise
        return err


@pytest.fixture(scope="module")
def cnn_server(cnn_dir):
    server = Server(cnn_dir, "--threads", "2", "--max-body-bytes", str(LIMIT), "--max-instances",
                    str(MAX_INSTANCES), "--drift-window", "50")
    yield server
    if server.process.poll() is None:  # test_the_servers_stop_cleanly stops them, last of this file
        server.stop()


@pytest.fixture(scope="module")
def mlp_server(mlp_dir):
    server = Server(mlp_dir, "--threads", "1", "--max-body-bytes", str(LIMIT))
    yield server
    if server.process.poll() is None:  # test_the_servers_stop_cleanly stops them, last of this file
        server.stop()


def _json_error(status, headers, body, expected_status=None, code=None):
    """Every refusal: 4xx/5xx, Content-Type application/json, {"error": {"code", "message"}}."""
    assert status >= 400, (status, body[:300])
    if expected_status is not None:
        assert status == expected_status, (status, body[:300])
    kind = headers.get("Content-Type", "")
    assert kind.startswith("application/json"), (status, kind, body[:300])
    error = json.loads(body)["error"]
    assert isinstance(error["code"], str) and error["code"], error
    assert isinstance(error["message"], str) and len(error["message"]) > 10, error
    if code is not None:
        assert error["code"] == code, error
    return error


def _strict_json(body):
    """JSON as a browser's JSON.parse reads it: NaN and Infinity are not JSON."""
    def refuse(name):
        raise ValueError(f"{name} is not JSON")
    return json.loads(body, parse_constant=refuse)


def _probabilities(body):
    return np.float32([p["probabilities"] for p in _strict_json(body)["predictions"]])


def _expected(folder, raw):
    """model.predict on the saved preprocessing applied to ``raw``, as a user would compute it."""
    model = models.load_model(folder, compile=False)
    x = prep.apply(model.preprocessing, np.asarray(raw, dtype=np.float64))
    return model.predict(x.reshape((len(x),) + model.input_shape[1:]), verbose=0)


def _png(array, mode=None, **options):
    buffer = io.BytesIO()
    image = Image.fromarray(np.asarray(array)) if mode is None else Image.fromarray(np.asarray(array), mode=mode)
    image.save(buffer, format="PNG", **options)
    return buffer.getvalue()


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _raw_png(width, height, rows, depth=8, color=0, interlace=0):
    """A PNG written by hand (Pillow writes neither interlaced nor lying headers)."""
    header = struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, interlace)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(rows))
            + _chunk(b"IEND", b""))


def _adam7(pixels):
    """The rows of an 8-bit gray picture in Adam7 interlaced order, each with filter byte 0."""
    rows = b""
    for x0, y0, dx, dy in ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
                           (0, 1, 1, 2)):
        sub = pixels[y0::dy, x0::dx]
        if sub.size:
            rows += b"".join(b"\0" + row.tobytes() for row in sub)
    return rows


def _gray(seed=0):
    return np.random.default_rng(seed).integers(0, 256, (28, 28)).astype(np.uint8)


# ---- bad input over HTTP: each a JSON 4xx naming the problem ----------------------------------------------------
IMAGE = [[0] * 28 for _ in range(28)]
IMAGE_TEXT = json.dumps(IMAGE)
BAD_BODIES = [
    ("truncated", b'{"instances": [', JSON, 400, "bad_json"),
    ("empty body", b"", JSON, 400, "bad_json"),
    ("trailing garbage", b'{"instance": ' + IMAGE_TEXT.encode() + b"} x", JSON, 400, "bad_json"),
    ("utf-8 BOM", b"\xef\xbb\xbf" + json.dumps({"instance": IMAGE}).encode(), JSON, 400, "bad_json"),
    ("utf-16", json.dumps({"instance": IMAGE}).encode("utf-16"), JSON, 400, "bad_json"),
    ("latin-1 byte", b'{"instance": "\xe9"}', JSON, 400, "bad_json"),
    ("NaN", ('{"instance": ' + IMAGE_TEXT.replace("0", "NaN", 1) + "}").encode(), JSON, 400, "not_finite"),
    ("-Infinity", ('{"instance": ' + IMAGE_TEXT.replace("0", "-Infinity", 1) + "}").encode(), JSON, 400,
     "not_finite"),
    ("1e400", ('{"instance": ' + IMAGE_TEXT.replace("0", "1e400", 1) + "}").encode(), JSON, 400, "not_finite"),
    ("10**400", ('{"instance": ' + IMAGE_TEXT.replace("0", str(10**400), 1) + "}").encode(), JSON, 400,
     "not_finite"),
    ("-(10**400) in a batch", json.dumps({"instances": [IMAGE, IMAGE]}).replace("0", str(-10**400), 1).encode(),
     JSON, 400, "not_finite"),
    ("1e308", json.dumps({"instance": [[1e308] * 28] * 28}).encode(), JSON, 400, "out_of_range"),
    ("negative", json.dumps({"instance": [[-1] * 28] * 28}).encode(), JSON, 400, "out_of_range"),
    ("256", json.dumps({"instance": [[256] * 28] * 28}).encode(), JSON, 400, "out_of_range"),
    ("preprocessed above 1", json.dumps({"instance": [[3] * 28] * 28, "input_format": "preprocessed"}).encode(),
     JSON, 400, "out_of_range"),
    ("only 0 and 1", json.dumps({"instance": [[0, 1] * 14] * 28}).encode(), JSON, 400, "ambiguous_input_format"),
    ("deep lists", b"[" * 50_000 + b"]" * 50_000, JSON, 400, "bad_json"),
    ("deep instance", b'{"instance": ' + b"[" * 500 + b"]" * 500 + b"}", JSON, 400, "bad_shape"),
    ("deep objects", b'{"instances": [' + b'{"a": ' * 900 + b"1" + b"}" * 900 + b"]}", JSON, 400, "bad_type"),
    ("string pixel", json.dumps({"instance": [["7"] * 28] * 28}).encode(), JSON, 400, "bad_type"),
    ("unicode pixel", json.dumps({"instance": [["\u2603"] * 28] * 28}, ensure_ascii=False).encode(), JSON, 400,
     "bad_type"),
    ("lone surrogate", b'{"instance": "\\ud800"}', JSON, 400, "bad_type"),
    ("boolean pixel", json.dumps({"instance": [[True] + [0] * 27] + IMAGE[1:]}).encode(), JSON, 400, "bad_type"),
    ("null pixel", json.dumps({"instance": [[None] * 28] * 28}).encode(), JSON, 400, "bad_type"),
    ("wrong shape", json.dumps({"instance": [[0] * 27] * 28}).encode(), JSON, 400, "bad_shape"),
    ("ragged", json.dumps({"instance": [[0] * 28] * 27 + [[0] * 27]}).encode(), JSON, 400, "bad_shape"),
    ("scalar", json.dumps({"instance": 5}).encode(), JSON, 400, "bad_shape"),
    ("785 values", json.dumps({"instance": [0] * 785}).encode(), JSON, 400, "bad_shape"),
    ("empty batch", json.dumps({"instances": []}).encode(), JSON, 400, "empty_batch"),
    ("too many", json.dumps({"instances": [[0] * 784] * (MAX_INSTANCES + 1)}).encode(), JSON, 413,
     "too_many_instances"),
    ("unknown field", json.dumps({"instances": [IMAGE], "extra": 1}).encode(), JSON, 400, "bad_request"),
    ("unicode field", json.dumps({"\u00efnstances": [IMAGE]}).encode(), JSON, 400, "bad_request"),
    ("both fields", json.dumps({"instances": [IMAGE], "instance": IMAGE}).encode(), JSON, 400, "bad_request"),
    ("list body", b"[1, 2]", JSON, 400, "bad_request"),
    ("bad input_format", json.dumps({"instance": IMAGE, "input_format": ["raw"]}).encode(), JSON, 400,
     "bad_input_format"),
    ("text/plain", json.dumps({"instance": IMAGE}).encode(), {"Content-Type": "text/plain"}, 415,
     "unsupported_media_type"),
    ("no content type", json.dumps({"instance": IMAGE}).encode(), {}, 415, "unsupported_media_type"),
    ("form-urlencoded", b"a=1", {"Content-Type": "application/x-www-form-urlencoded"}, 415,
     "unsupported_media_type"),
    ("multipart without image", b"--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n--b--\r\n",
     {"Content-Type": "multipart/form-data; boundary=b"}, 400, "bad_request"),
    ("not a png", b"GIF89a....", PNG, 400, "bad_image"),
    ("empty png", b"", PNG, 400, "bad_image"),
    ("png of another size", None, PNG, 400, "bad_image_size"),
    ("over the body limit", b"[" + b"0," * (LIMIT // 2) + b"0]", JSON, 413, "body_too_large"),
]


@pytest.mark.parametrize("name, body, headers, status, code", BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
def test_bad_predict_bodies_are_json_4xx_naming_the_problem(cnn_server, name, body, headers, status, code):
    if name == "png of another size":
        body = _png(np.zeros((28, 29), dtype=np.uint8))
    _json_error(*cnn_server.request("POST", "/predict", body, headers), status, code)


BAD_FEEDBACK = [
    (b"{", 400, "bad_json"),
    (b"[]", 400, "bad_request"),
    (json.dumps({"feedback": []}).encode(), 400, "bad_request"),
    (json.dumps({"feedback": [{"id": "x"}]}).encode(), 400, "bad_request"),
    (json.dumps({"feedback": [{"id": 5, "label": 1}]}).encode(), 400, "bad_request"),
    (json.dumps({"id": "x", "label": 1, "extra": 0}).encode(), 400, "bad_request"),
    (json.dumps({"id": "x", "label": 3.0}).encode(), 400, "bad_label"),
    (json.dumps({"id": "x", "label": True}).encode(), 400, "bad_label"),
    (json.dumps({"id": "x", "label": 10}).encode(), 400, "bad_label"),
    (json.dumps({"id": "x", "label": -1}).encode(), 400, "bad_label"),
    (('{"id": "x", "label": ' + str(10**400) + "}").encode(), 400, "bad_label"),
    (b"[" * 990 + b"]" * 990, 400, None),
    (json.dumps({"id": "\u2603 unknown", "label": 1}, ensure_ascii=False).encode(), 404, "unknown_id"),
]


@pytest.mark.parametrize("body, status, code", BAD_FEEDBACK, ids=range(len(BAD_FEEDBACK)))
def test_bad_feedback_is_a_json_4xx(cnn_server, body, status, code):
    _json_error(*cnn_server.request("POST", "/feedback", body, JSON), status, code)


def test_feedback_unknown_and_repeated_ids_record_nothing(cnn_server, mnist):
    status, _, body = cnn_server.post_json("/predict", {"instances": mnist[0][:3].tolist()})
    ids = [p["id"] for p in _strict_json(body)["predictions"]]
    before = _strict_json(cnn_server.request("GET", "/stats")[2])["accuracy"]["count"]
    error = _json_error(*cnn_server.post_json("/feedback", {"feedback": [{"id": ids[0], "label": 1},
                                                                         {"id": "nope", "label": 1}]}), 404)
    assert "nope" in error["message"]
    _json_error(*cnn_server.post_json("/feedback", {"feedback": [{"id": ids[0], "label": 1},
                                                                 {"id": ids[0], "label": 2}]}), 409)
    assert _strict_json(cnn_server.request("GET", "/stats")[2])["accuracy"]["count"] == before
    status, _, body = cnn_server.post_json("/feedback", {"feedback": [{"id": i, "label": 1} for i in ids]})
    assert status == 200 and _strict_json(body)["accepted"] == 3
    _json_error(*cnn_server.post_json("/feedback", {"id": ids[1], "label": 1}), 409)
    assert _strict_json(cnn_server.request("GET", "/stats")[2])["accuracy"]["count"] == before + 3


# ---- correct answers --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("count", [1, 5, 32])
def test_predictions_are_model_predict_bit_for_bit(cnn_server, mlp_server, cnn_dir, mlp_dir, mnist, count):
    raw = mnist[0][:count]
    for server, folder in ((cnn_server, cnn_dir), (mlp_server, mlp_dir)):
        expected = _expected(folder, raw)
        status, _, body = server.post_json("/predict", {"instances": raw.tolist()})
        assert status == 200
        np.testing.assert_array_equal(_probabilities(body), expected)
        scaled = (raw.astype(np.float64) / 255.0).tolist()  # the same pixels, already preprocessed
        status, _, body = server.post_json("/predict", {"instances": scaled, "input_format": "preprocessed"})
        assert status == 200
        np.testing.assert_allclose(_probabilities(body), expected, rtol=0, atol=1e-6)


@pytest.mark.parametrize("variant", ["L", "L optimized", "palette", "RGB", "RGBA opaque", "LA opaque", "1-bit",
                                     "interlaced", "2-bit gray"])
def test_png_variants_are_decoded_to_their_gray_pixels(cnn_server, cnn_dir, variant):
    gray = _gray(1)
    if variant == "L":
        data = _png(gray)
    elif variant == "L optimized":
        data = _png(gray, optimize=True)
    elif variant == "palette":
        data = _png(Image.fromarray(gray).convert("P"))
    elif variant == "RGB":  # distinct channels: gray is the ITU-R 601 luma, as documented
        data = _png(np.stack([gray, 255 - gray, gray // 2], axis=-1))
    elif variant == "RGBA opaque":
        data = _png(np.stack([gray, gray, gray, np.full_like(gray, 255)], axis=-1))
    elif variant == "LA opaque":
        data = _png(Image.fromarray(np.stack([gray, np.full_like(gray, 255)], axis=-1), mode="LA"))
    elif variant == "1-bit":
        data = _png(Image.fromarray(gray > 127).convert("1"))
    elif variant == "interlaced":
        data = _raw_png(28, 28, _adam7(gray), interlace=1)
    else:  # 2 bits per pixel, values 0..3 -> 0, 85, 170, 255
        levels = gray // 64
        packed = b"".join(b"\0" + np.packbits(np.unpackbits(row[:, None], axis=1)[:, 6:].reshape(-1)).tobytes()
                          for row in levels)
        data = _raw_png(28, 28, packed, depth=2)
    if variant in ("interlaced",):
        pixels = gray
    elif variant == "2-bit gray":
        pixels = (gray // 64) * 85
    else:
        pixels = np.asarray(Image.open(io.BytesIO(data)).convert("L"))
    status, _, body = cnn_server.request("POST", "/predict", data, PNG)
    assert status == 200, body[:300]
    np.testing.assert_array_equal(_probabilities(body), _expected(cnn_dir, pixels[None].astype(np.float64)))
    form = (b"--xyz\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\n"
            b"Content-Type: image/png\r\n\r\n" + data + b"\r\n--xyz--\r\n")
    status, _, by_form = cnn_server.request("POST", "/predict", form,
                                            {"Content-Type": "multipart/form-data; boundary=xyz"})
    assert status == 200 and np.array_equal(_probabilities(by_form), _probabilities(body))


# ---- HTTP itself --------------------------------------------------------------------------------------------------
TRAVERSALS = ["/static/../app.py", "/static/%2e%2e/app.py", "/static/..%2fapp.py", "/static/%2e%2e%2fapp.py",
              "/static/..%5capp.py", "/static/....//app.py", "/static/../../../../etc/passwd",
              "/static/%c0%ae%c0%ae/app.py", "/static/app.js%00", "/static/.", "/static/", "/static",
              "/static//etc/passwd", "/static/%2fetc%2fpasswd", "/static/..%252fapp.py"]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_static_never_serves_files_outside_its_folder(cnn_server, path):
    out = cnn_server.raw(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    head, _, body = out.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1])
    assert b"import " not in body and b"root:" not in body
    assert status in (404, 308), head  # a 308 is werkzeug's merge of '//' into '/', which then 404s
    if status == 404:
        assert b"application/json" in head and json.loads(body)["error"]["code"] == "not_found"


def test_head_options_and_wrong_methods(cnn_server):
    status, headers, body = cnn_server.request("HEAD", "/")
    assert status == 200 and body == b"" and headers["Content-Type"].startswith("text/html")
    status, headers, body = cnn_server.request("HEAD", "/metrics")
    assert status == 200 and body == b""
    status, headers, _ = cnn_server.request("OPTIONS", "/predict")
    assert status == 200 and "POST" in headers["Allow"]
    for method, path in (("GET", "/predict"), ("PUT", "/predict"), ("DELETE", "/stats"), ("POST", "/health")):
        _json_error(*cnn_server.request(method, path), 405, "method_not_allowed")
    _json_error(*cnn_server.request("GET", "/nowhere"), 404, "not_found")


def test_chunked_bodies_are_read_and_limited(cnn_server, mnist):
    body = json.dumps({"instance": mnist[0][0].tolist()}).encode()
    out = cnn_server.raw(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                         + b"".join(b"%x\r\n" % len(body[i:i + 999]) + body[i:i + 999] + b"\r\n"
                                    for i in range(0, len(body), 999)) + b"0\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 200"), out[:300]
    over = b"[" + b"0," * (LIMIT // 2 + 10) + b"0]"  # over the limit, under waitress's own cap
    out = cnn_server.raw(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                         + b"%x\r\n" % len(over) + over + b"\r\n0\r\n\r\n", timeout=15)
    head, _, rest = out.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413") and json.loads(rest)["error"]["code"] == "body_too_large", out[:300]


def test_slow_and_lying_clients_do_not_block_a_one_thread_server(mlp_server):
    held = []
    try:
        for _ in range(20):  # headers never finished
            s = socket.create_connection(("127.0.0.1", mlp_server.port))
            s.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Ty")
            held.append(s)
        for _ in range(10):  # a Content-Length longer than the body that comes
            s = socket.create_connection(("127.0.0.1", mlp_server.port))
            s.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 5000\r\n\r\n{\"instances\": [")
            held.append(s)
        start = time.perf_counter()
        for _ in range(5):
            assert mlp_server.request("GET", "/health", timeout=5)[0] == 200
        status, _, _ = mlp_server.post_json("/predict", {"instance": [7] * 784})
        assert status == 200 and time.perf_counter() - start < 3
    finally:
        for s in held:
            s.close()
    assert mlp_server.alive()


def test_concurrent_predict_and_feedback_counts_add_up_exactly(cnn_server):
    def stats():
        return _strict_json(cnn_server.request("GET", "/stats")[2])

    def metrics():
        status, headers, body = cnn_server.request("GET", "/metrics")
        assert status == 200 and headers["Content-Type"].startswith("text/plain")
        samples = {}
        for family in prometheus_parser.text_string_to_metric_families(body.decode()):
            for sample in family.samples:
                samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
        return samples

    def total(samples, name, **labels):
        return sum(v for (n, ls), v in samples.items() if n == name and all((k, labels[k]) in ls for k in labels))

    s0, m0 = stats(), metrics()
    counts = {"ok": 0, "bad": 0, "instances": 0, "fb_ok": 0, "fb_bad": 0, "labels": 0}
    lock = threading.Lock()
    failures = []

    def worker(k):
        rng = np.random.default_rng(k)
        try:
            for i in range(10):
                n = int(rng.integers(1, 5))
                bad = i % 4 == 3
                pixels = rng.integers(0, 256, (n, 28, 28)).tolist()
                status, _, body = cnn_server.post_json("/predict", {"instances": [] if bad else pixels})
                with lock:
                    counts["bad" if status >= 400 else "ok"] += 1
                    counts["instances"] += 0 if status >= 400 else n
                if status != 200:
                    continue
                ids = [p["id"] for p in _strict_json(body)["predictions"]]
                feedback = {"feedback": [{"id": j, "label": int(rng.integers(0, 10))} for j in ids]}
                for _ in range(2 if i % 3 == 0 else 1):  # the second time: 409, nothing recorded
                    status, _, _ = cnn_server.post_json("/feedback", feedback)
                    with lock:
                        counts["fb_ok" if status == 200 else "fb_bad"] += 1
                        counts["labels"] += len(ids) if status == 200 else 0
                if i % 5 == 0:
                    stats()
        except Exception as error:  # reported below: an assertion in a thread would be lost
            failures.append(repr(error))

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not failures, failures
    s1, m1 = stats(), metrics()
    assert counts["fb_bad"] > 0 and counts["bad"] > 0
    requests = counts["ok"] + counts["bad"] + counts["fb_ok"] + counts["fb_bad"]
    assert s1["requests"]["total"] - s0["requests"]["total"] == requests
    assert s1["requests"]["errors"] - s0["requests"]["errors"] == counts["bad"] + counts["fb_bad"]
    assert s1["requests"]["predictions"] - s0["requests"]["predictions"] == counts["instances"]
    assert s1["accuracy"]["count"] - s0["accuracy"]["count"] == counts["labels"]
    delta = lambda name, **labels: total(m1, name, **labels) - total(m0, name, **labels)  # noqa: E731
    assert delta("neurona_requests_total", route="/predict") == counts["ok"] + counts["bad"]
    assert delta("neurona_requests_total", route="/predict", status="200") == counts["ok"]
    assert delta("neurona_requests_total", route="/feedback", status="409") == counts["fb_bad"]
    assert delta("neurona_request_errors_total", route="/predict") == counts["bad"]
    assert delta("neurona_predictions_total") == counts["instances"]
    assert delta("neurona_feedback_total") == counts["labels"]
    assert delta("neurona_prediction_batch_size_count") == counts["ok"]
    assert delta("neurona_prediction_batch_size_sum") == counts["instances"]
    assert delta("neurona_request_latency_seconds_count", route="/predict") == counts["ok"] + counts["bad"]
    latency = s1["latency_ms"]
    assert 0 < latency["p50"] <= latency["p90"] <= latency["p99"]
    assert s1["drift"]["status"] in ("ok", "drift", "warming_up") and s1["drift"]["window_size"] == 50


def test_nothing_changes_the_model_or_its_files(cnn_server, cnn_dir, mnist):
    digests = {name: hashlib.sha256((cnn_dir / name).read_bytes()).hexdigest() for name in os.listdir(cnn_dir)}
    probe = {"instances": mnist[0][:3].tolist()}
    first = _probabilities(cnn_server.post_json("/predict", probe)[2])
    for _, body, headers, _, _ in BAD_BODIES:
        if body is not None:
            cnn_server.request("POST", "/predict", body, headers)
    cnn_server.post_json("/predict", {"instances": np.random.default_rng(0).integers(0, 256, (60, 784)).tolist()})
    np.testing.assert_array_equal(_probabilities(cnn_server.post_json("/predict", probe)[2]), first)
    assert digests == {name: hashlib.sha256((cnn_dir / name).read_bytes()).hexdigest()
                       for name in os.listdir(cnn_dir)}
    app = create_app(cnn_dir)  # in process: the very weights, after the same barrage
    client = app.test_client()
    model = app.extensions["neurona"]["model"].model
    weights = [w.copy() for w in model.get_weights()]
    for _, body, headers, _, _ in BAD_BODIES:
        if body is not None:
            client.post("/predict", data=body, headers=headers)
    for old, new in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(old, new)
    assert cnn_server.alive()


# ---- the command line -------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bad_folders(tmp_path_factory, cnn_dir):
    root = tmp_path_factory.mktemp("bad")
    folders = {"missing": root / "missing", "a file": root / "file", "empty folder": root / "empty"}
    folders["a file"].write_text("hello")
    folders["empty folder"].mkdir()

    def copy(name, json_text=None, h5=None):
        folder = root / name.replace(" ", "_")
        shutil.copytree(cnn_dir, folder)
        if json_text is not None:
            (folder / "model.json").write_text(json_text)
        if h5 is not None:
            (folder / "model.h5").write_bytes(h5)
        folders[name] = folder

    saved = json.loads((cnn_dir / "model.json").read_text())
    copy("truncated json", (cnn_dir / "model.json").read_text()[:50])
    copy("json list", "[]")
    copy("json object without fields", "{}")
    copy("bad preprocessing", json.dumps({**saved, "preprocessing": [{"op": "rescale", "divisor": "x",
                                                                      "dtype": "float32"}]}))
    copy("truncated h5", h5=(cnn_dir / "model.h5").read_bytes()[:2000])
    copy("no h5")
    os.remove(folders["no h5"] / "model.h5")
    nr.seed(1)
    inputs = nr.Input((4,))
    two = nr.Model(inputs, [layers.Dense(2, activation="softmax")(inputs), layers.Dense(3)(inputs)])
    two.save(root / "two_outputs")
    folders["two outputs"] = root / "two_outputs"
    return folders


@pytest.mark.parametrize("name", ["missing", "a file", "empty folder", "truncated json", "json list",
                                  "json object without fields", "bad preprocessing", "truncated h5", "no h5",
                                  "two outputs"])
def test_a_bad_model_folder_is_a_one_line_error(bad_folders, capsys, name):
    status = main(["serve", str(bad_folders[name]), "--port", "0"])
    err = capsys.readouterr().err
    assert status in (1, 2) and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and err.startswith("neurona: error: "), err


@pytest.mark.parametrize("flags", [["--port", "65536"], ["--port", "-1"], ["--port", "80a"], ["--threads", "0"],
                                   ["--threads", "2.5"], ["--max-body-bytes", "0"], ["--max-instances", "x"],
                                   ["--drift-window", "-3"], ["--bogus"], ["--host"]])
def test_bad_flags_exit_with_status_2_without_a_traceback(cnn_dir, capsys, flags):
    with pytest.raises(SystemExit) as done:
        main(["serve", str(cnn_dir), *flags])
    err = capsys.readouterr().err
    assert done.value.code == 2 and "Traceback" not in err and "error:" in err.strip().splitlines()[-1]


def test_a_busy_port_and_a_bad_host_are_one_line_errors(cnn_dir, capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        assert main(["serve", str(cnn_dir), "--port", str(busy.getsockname()[1])]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "in use" in err
    assert main(["serve", str(cnn_dir), "--host", "no-such-host.invalid", "--port", "0"]) in (1, 2)
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


# ---- bugs found in review: each fails now --------------------------------------------------------------------------
def test_png_bomb_is_a_400(cnn_server):
    for side in (20_000, 100_000, 2**31 - 1):
        bomb = _raw_png(side, side, zlib.compress(b"\0" * 16))
        _json_error(*cnn_server.request("POST", "/predict", bomb, PNG), 400)


def test_a_png_with_missing_rows_is_a_400(cnn_server):
    data = _raw_png(28, 28, b"".join(b"\0" + bytes(range(100, 128)) for _ in range(3)))  # 3 of 28 rows
    _json_error(*cnn_server.request("POST", "/predict", data, PNG), 400)


def test_a_16_bit_gray_png_reads_as_its_8_bit_picture(cnn_server):
    gray = _gray(2)
    status, _, by8 = cnn_server.request("POST", "/predict", _png(gray), PNG)
    status16, _, by16 = cnn_server.request("POST", "/predict", _png(gray.astype(np.uint16) * 257), PNG)
    assert status == status16 == 200
    np.testing.assert_array_equal(_probabilities(by16), _probabilities(by8))


def test_a_batch_over_32_is_model_predict_bit_for_bit(cnn_server, cnn_dir, mnist):
    raw = mnist[0][:40]
    status, _, body = cnn_server.post_json("/predict", {"instances": raw.tolist()})
    assert status == 200
    np.testing.assert_array_equal(_probabilities(body), _expected(cnn_dir, raw))


def test_a_batch_mixing_raw_and_preprocessed_instances_is_not_misread(cnn_server, mnist):
    raw = mnist[0][0].astype(np.float64)
    scaled = (raw / 255.0).tolist()
    alone = _probabilities(cnn_server.post_json("/predict", {"instances": [scaled]})[2])
    status, headers, body = cnn_server.post_json("/predict", {"instances": [scaled, raw.tolist()]})
    if status == 400:  # refusing the mix as ambiguous is a fix
        _json_error(status, headers, body, 400)
    else:
        np.testing.assert_array_equal(_probabilities(body)[:1], alone)


@pytest.mark.parametrize("request_bytes", [
    b"Content-Length: %d\r\n\r\n" % (LIMIT * 20),
    b"Content-Length: abc\r\n\r\n{}",
    b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
], ids=["content-length far over the limit", "malformed content-length", "bad chunk size"])
def test_framing_refusals_are_json(cnn_server, request_bytes):
    out = cnn_server.raw(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + request_bytes)
    head, _, body = out.partition(b"\r\n\r\n")
    assert re.match(rb"HTTP/1\.[01] 4\d\d", head), out[:200]
    assert b"application/json" in head.lower(), out[:300]
    assert json.loads(body)["error"]["code"]


def test_a_declared_oversized_body_is_refused_before_it_is_sent(cnn_server):
    out = cnn_server.raw(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\n\r\n" % (LIMIT + 1), timeout=3, shut=False)
    assert out.startswith(b"HTTP/1.1 413"), out[:200]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflow this test provokes
def test_a_value_beyond_float32_is_a_400(plain_dir):
    client = create_app(plain_dir).test_client()
    response = client.post("/predict", json={"instance": [1.0, 1e39, 0.0, 0.0]})
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "not_finite"


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflow this test provokes
def test_non_finite_model_outputs_are_never_sent_as_json_nan(plain_dir):
    client = create_app(plain_dir).test_client()
    response = client.post("/predict", json={"instance": [3e38, 3e38, 3e38, 3e38]})
    document = _strict_json(response.get_data())
    if response.status_code == 200:
        for prediction in document["predictions"]:
            values = prediction.get("probabilities") or prediction.get("outputs")
            assert all(math.isfinite(v) for v in values)
    else:
        assert document["error"]["code"]


def test_a_reference_of_other_features_is_refused_or_harmless(cnn_dir):
    rng = np.random.default_rng(0)
    reference = ReferenceStatistics.from_arrays(rng.random((40, 100)), rng.dirichlet(np.ones(10), 40), components=3)
    try:
        app = create_app(cnn_dir, reference_statistics=reference)
    except (ValueError, TypeError) as error:
        assert "100" in str(error) or "784" in str(error)
        return
    assert app.test_client().post("/predict", json={"instance": [5] * 784}).status_code == 200


def test_405_names_the_allowed_methods(cnn_server):
    status, headers, body = cnn_server.request("GET", "/predict")
    error = _json_error(status, headers, body, 405)
    assert "POST" in headers.get("Allow", "") and "POST" in error["message"]


def test_metrics_content_type_names_its_charset_once(cnn_server):
    status, headers, _ = cnn_server.request("GET", "/metrics")
    assert status == 200 and headers["Content-Type"].count("charset") == 1


def test_the_newest_drift_verdict_wins(cnn_dir):
    reference = models.load_model(cnn_dir, compile=False).reference_statistics
    monitor = monitoring.Monitor(reference, drift_window=50, drift_every=10**9)
    detector = monitor.detector
    real_check, checked, release = detector.check, threading.Event(), threading.Event()
    calls = []

    def check():  # the first caller is descheduled between its check and its store, as a busy machine may do
        result = real_check()
        calls.append(result)
        if len(calls) == 1:
            checked.set()
            release.wait(10)
        return result

    detector.check = check
    x = np.random.default_rng(0).random((30, 28, 28, 1)).astype(np.float32)
    p = np.full((30, 10), 0.1)
    monitor.record_predictions([str(i) for i in range(10)], [0] * 10, x[:10], p[:10])
    slow = threading.Thread(target=monitor.drift_status)
    slow.start()
    checked.wait(10)
    monitor.record_predictions([str(i) for i in range(10, 30)], [0] * 20, x[10:], p[10:])
    assert monitor.drift_status()["window_size"] == 30
    release.set()
    slow.join(10)
    assert monitor.drift_status()["window_size"] == 30  # no new requests: the stored verdict is the newest one


# ---- last: both servers lived through everything above and stop on SIGTERM ----------------------------------------
def test_the_servers_survived_and_stop_cleanly(cnn_server, mlp_server):
    for server in (cnn_server, mlp_server):
        assert server.alive()
        err = server.stop()
        assert server.process.returncode == 0, err[-3000:]
        assert "Traceback" not in err, err[-3000:]
