"""``neurona serve``: its command line, and one real server started as a subprocess and called over HTTP."""

import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("flask")
pytest.importorskip("waitress")

import neurona as nr  # noqa: E402
from neurona import layers, models  # noqa: E402
from neurona.cli.main import main  # noqa: E402
from neurona.saving import preprocessing as prep  # noqa: E402


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    nr.seed(7)
    model = models.Sequential([layers.Input((784,)), layers.Dense(16, activation="relu"),
                               layers.Dense(10, activation="softmax")], name="served_mlp")
    model.preprocessing = [prep.rescale(255.0), prep.flatten()]
    folder = tmp_path_factory.mktemp("cli") / "mlp"
    model.save(folder)
    return folder


def _command():
    script = shutil.which("neurona", path=os.path.dirname(sys.executable))
    return [script] if script else [sys.executable, "-c", "import sys; from neurona.cli.main import main; "
                                                          "sys.exit(main())"]


def test_help_names_the_routes_and_the_loopback_default(capsys):
    with pytest.raises(SystemExit) as done:
        main(["serve", "--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    assert "127.0.0.1" in text and "/predict" in text and "neurona[serve]" in text


@pytest.mark.parametrize("argv, fragment", [
    (["--port", "70000"], "port number"), (["--port", "x"], "port number"), (["--threads", "0"], "threads"),
    (["--threads", "1000"], "threads"), (["--max-instances", "-1"], "max-instances"),
])
def test_bad_flags_exit_with_status_2(model_dir, capsys, argv, fragment):
    with pytest.raises(SystemExit) as done:
        main(["serve", str(model_dir), *argv])
    assert done.value.code == 2
    assert fragment in capsys.readouterr().err


def test_a_missing_model_is_a_one_line_error(tmp_path, capsys):
    assert main(["serve", str(tmp_path / "nothing")]) == 2
    assert "no saved model" in capsys.readouterr().err


def test_a_missing_extra_fails_naming_it(model_dir, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "waitress", None)
    assert main(["serve", str(model_dir), "--port", "0"]) == 1
    assert "neurona[serve]" in capsys.readouterr().err


def _request(port, method, path, body=None, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type"), response.read()
    finally:
        connection.close()


def test_end_to_end_over_http(model_dir):
    process = subprocess.Popen([*_command(), "serve", str(model_dir), "--port", "0", "--threads", "2",
                                "--max-body-bytes", "100000"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()  # printed once the socket listens
        match = re.search(r"Serving served_mlp on http://127\.0\.0\.1:(\d+)/ \(loopback only", line)
        assert match, (line, process.poll())
        port = int(match.group(1))
        assert _request(port, "GET", "/health")[0] == 200
        status, kind, body = _request(port, "GET", "/ready")
        assert status == 200 and kind.startswith("application/json") and json.loads(body)["ready"] is True

        (x, _), _ = nr.datasets.mnist.load_data(source="embedded")
        payload = json.dumps({"instances": x[:4].tolist()}).encode()
        status, _, body = _request(port, "POST", "/predict", payload, {"Content-Type": "application/json"})
        assert status == 200
        predictions = json.loads(body)["predictions"]
        model = models.load_model(model_dir, compile=False)
        expected = model.predict(prep.apply(model.preprocessing, x[:4]), verbose=0)
        np.testing.assert_array_equal(np.float32([p["probabilities"] for p in predictions]), expected)

        status, _, body = _request(port, "POST", "/feedback", json.dumps(
            {"id": predictions[0]["id"], "label": int(expected[0].argmax())}).encode(),
            {"Content-Type": "application/json"})
        assert status == 200 and json.loads(body)["accuracy"] == 1.0

        status, _, body = _request(port, "POST", "/predict", b"{", {"Content-Type": "application/json"})
        assert status == 400 and json.loads(body)["error"]["code"] == "bad_json"
        big = b"[" + b"0," * 100_000 + b"0]"  # 200 kB, over --max-body-bytes
        status, _, body = _request(port, "POST", "/predict", big, {"Content-Type": "application/json"})
        assert status == 413 and json.loads(body)["error"]["code"] == "body_too_large"

        status, kind, body = _request(port, "GET", "/metrics")
        assert status == 200 and kind.startswith("text/plain")
        assert re.search(rb'neurona_requests_total\{route="/predict",status="200"\} 1\.0', body)
        assert _request(port, "GET", "/")[0] in (200, 404)  # the page itself is tested with a browser
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            _, err = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert process.returncode == 0, err
    assert "Traceback" not in err


def test_train_save_keeps_the_reference_statistics_for_serve(tmp_path, monkeypatch):
    monkeypatch.setenv("NEURONA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEURONA_OFFLINE", "1")
    run = tmp_path / "run"
    assert main(["train", "--data", "embedded", "--epochs", "1", "--hidden", "16", "--seed", "0", "--verbose", "0",
                 "--validation-split", "0.1", "--save", str(run)]) == 0
    model = models.load_model(run, compile=False)
    assert model.reference_statistics is not None and model.reference_statistics.n_classes == 10
    assert nr.saving.load_checkpoint(run).epoch == 1  # still the resumable checkpoint of the run
