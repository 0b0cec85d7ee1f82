"""benchmarks/serve_load.py: a ``--quick`` load run against a real ``neurona serve`` subprocess (tiny model), its
answer checker, its loopback guard, and the Neurona -> PyTorch weight copy it times against (when torch exists)."""

import importlib.util
import json
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("flask")
pytest.importorskip("waitress")

from neurona import layers, models  # noqa: E402
from neurona.saving import preprocessing as prep  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "serve_load.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("serve_load", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


serve_load = _load_script()


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
    import neurona as nr

    nr.seed(3)
    model = models.Sequential([layers.Input((28, 28, 1)), layers.Flatten(), layers.Dense(10, activation="softmax")],
                              name="tiny_softmax")
    model.preprocessing = [prep.rescale(255.0)]
    folder = tmp_path_factory.mktemp("serve_load") / "tiny"
    model.save(folder)
    return folder


def test_quick_run_against_neurona_serve_has_zero_errors(tiny_model_dir):
    done = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--servers", "neurona", "--data", "embedded",
                           "--model", str(tiny_model_dir), "--concurrency", "2", "--threads", "2",
                           "--start-timeout", "60", "--timeout", "10"],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "neurona server ready on port" in out and "\n0 error(s)" in out
    rows = {m.group(1): m for m in re.finditer(r"^neurona\s+(single|batch 32)\s+(\d+)\s+(\d+)\s+([\d.]+)\s+\[", out,
                                               re.MULTILINE)}
    assert set(rows) == {"single", "batch 32"}, out
    assert rows["single"].group(2) == "16" and rows["batch 32"].group(2) == "4"  # --quick's request counts
    assert all(m.group(3) == "0" and float(m.group(4)) > 0 for m in rows.values())
    assert not re.search(r"^torch\s", out, re.MULTILINE)  # --servers neurona: no PyTorch server started


IMAGES = (np.arange(4 * 28 * 28) % 256).astype(np.uint8).reshape(4, 28, 28)


def _payloads():
    payloads = serve_load.Payloads(IMAGES, batch=2, count=2)
    rows = np.array([[0.7, 0.3], [0.2, 0.8], [0.6, 0.4], [0.1, 0.9]])
    payloads.expect("m", lambda idx: rows[idx])
    return payloads


def _answer(probabilities, classes=None):
    classes = [int(np.argmax(p)) for p in probabilities] if classes is None else classes
    body = {"predictions": [{"class": c, "probabilities": list(p)} for c, p in zip(classes, probabilities)]}
    return json.dumps(body).encode()


def test_checker_counts_every_kind_of_wrong_answer():
    payloads = _payloads()
    # request bodies: raw 0-255 integers of consecutive images, as the server's JSON format takes them
    assert json.loads(payloads.bodies[1]) == {"instances": IMAGES[2:4].tolist(), "input_format": "raw"}
    answers = [
        (0, 200, _answer([[0.7, 0.3], [0.2, 0.8]])),  # right
        (1, 200, _answer([[0.6, 0.4 + 5e-6], [0.1, 0.9]])),  # right, within the 1e-5 tolerance
        (1, 500, b'{"error": {"code": "internal_error"}}'),
        (0, 200, _answer([[0.7, 0.3]])),  # one prediction for two images
        (0, 200, _answer([[0.7, 0.3], [0.2, 0.8]], classes=[0, 0])),  # wrong class
        (1, 200, _answer([[0.6, 0.4], [0.1 + 1e-3, 0.9 - 1e-3]])),  # probabilities off by 1e-3
        (0, 200, b"not json"),
        None,  # a transport error, counted where it happened
    ]
    errors = serve_load.check_answers(answers, payloads, "m")
    assert [i for i, _ in errors] == [2, 3, 4, 5, 6]
    assert "status 500" in errors[0][1] and "1 predictions for 2 images" in errors[1][1]
    assert "classes [0, 0]" in errors[2][1] and "differ" in errors[3][1]


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.5", "example.com", "::"])
def test_a_non_loopback_host_is_refused(host, capsys):
    with pytest.raises(SystemExit) as done:
        serve_load.parse_args(["--host", host])
    assert done.value.code == 2
    assert "loopback" in capsys.readouterr().err


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_hosts_are_accepted(host):
    assert serve_load.parse_args(["--host", host]).host == host


def test_torch_copy_computes_the_same_probabilities():
    torch = pytest.importorskip("torch")
    model = serve_load.build_cnn(seed=5)
    model.preprocessing = [prep.rescale(255.0)]
    assert serve_load.is_cnn(model)
    tmodel = serve_load.copy_weights(model, serve_load.torch_cnn())
    images = np.random.default_rng(0).integers(0, 256, size=(6, 28, 28))
    expected = serve_load.neurona_probabilities(model, images)
    np.testing.assert_allclose(serve_load.torch_probabilities(tmodel, images), expected, rtol=0, atol=1e-5)
    # the Dense rows must be reordered: copying them in Neurona's (h, w, c) order gives other probabilities
    dense = model.layers[-1].get_weights()[0]
    with torch.no_grad():
        tmodel[8].weight.copy_(torch.from_numpy(np.ascontiguousarray(dense.T)))
    assert np.abs(serve_load.torch_probabilities(tmodel, images) - expected).max() > 1e-4


def test_copy_refuses_another_network(tiny_model_dir):
    pytest.importorskip("torch")
    from neurona.saving import load_model

    model = load_model(tiny_model_dir, compile=False)
    assert not serve_load.is_cnn(model)
    with pytest.raises(ValueError, match="MNIST CNN"):
        serve_load.copy_weights(model, serve_load.torch_cnn())


@pytest.mark.parametrize("serialize", [False, True])
def test_torch_server_answers_like_the_neurona_model(tmp_path, serialize):
    torch = pytest.importorskip("torch")
    model = serve_load.build_cnn(seed=2)
    model.preprocessing = [prep.rescale(255.0)]
    state = tmp_path / "torch_cnn.pt"
    torch.save(serve_load.copy_weights(model, serve_load.torch_cnn()).state_dict(), state)
    client = serve_load.torch_app(state, compute_threads=1, serialize=serialize).test_client()
    assert client.get("/ready").get_json() == {"ready": True}
    payloads = serve_load.Payloads(IMAGES, batch=3, count=1)
    payloads.expect("neurona", lambda idx: serve_load.neurona_probabilities(model, IMAGES[idx]))
    response = client.post("/predict", data=payloads.bodies[0], content_type="application/json")
    answers = [(0, response.status_code, response.data)]
    assert serve_load.check_answers(answers, payloads, "neurona") == []  # classes and probabilities to 1e-5
