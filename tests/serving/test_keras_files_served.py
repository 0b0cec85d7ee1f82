"""``neurona serve`` on Keras's own files: the deployment article's model.json + model.h5 written by real Keras,
served over HTTP by a ``neurona serve`` subprocess (``--rescale 255``, since Keras saves no preprocessing), and a
``.keras`` archive through the app factory."""

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
os.environ.setdefault("KERAS_BACKEND", "numpy")
keras = pytest.importorskip("keras")

import neurona as nr  # noqa: E402
from neurona.saving import preprocessing as prep  # noqa: E402
from neurona.serving import create_app  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


@pytest.fixture(scope="module")
def keras_cnn():
    """The article's CNN in Keras, with random weights (a trained one is in examples/keras_files_to_neurona.py)."""
    L = keras.layers
    model = keras.Sequential([keras.Input((28, 28, 1)), L.Conv2D(8, 3, activation="relu"), L.MaxPooling2D(2),
                              L.Flatten(), L.Dropout(0.5), L.Dense(10, activation="softmax")], name="article_cnn")
    rng = np.random.default_rng(1)
    model.set_weights([rng.normal(0, 0.3, tuple(w.shape)).astype("float32") for w in model.weights])
    return model


@pytest.fixture(scope="module")
def article_dir(keras_cnn, tmp_path_factory):
    folder = tmp_path_factory.mktemp("keras") / "article"
    folder.mkdir()
    (folder / "model.json").write_text(keras_cnn.to_json())
    keras.saving.save_model(keras_cnn, folder / "model.h5")
    return folder


def _command():
    script = shutil.which("neurona", path=os.path.dirname(sys.executable))
    return [script] if script else [sys.executable, "-c", "import sys; from neurona.cli.main import main; "
                                                          "sys.exit(main())"]


def _request(port, method, path, body=None, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_neurona_serve_answers_what_keras_predicts_on_the_articles_files(keras_cnn, article_dir):
    (x, _), _ = nr.datasets.mnist.load_data(source="embedded")
    raw = x[:3, ..., None]
    expected = keras_cnn.predict(raw.astype("float32") / 255.0, verbose=0)
    process = subprocess.Popen([*_command(), "serve", str(article_dir), "--port", "0", "--threads", "2",
                                "--rescale", "255"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        match = re.search(r"Serving article_cnn on http://127\.0\.0\.1:(\d+)/", line)
        assert match, (line, process.poll())
        port = int(match.group(1))
        assert _request(port, "GET", "/ready")[0] == 200
        status, body = _request(port, "POST", "/predict", json.dumps(
            {"instances": raw.tolist(), "input_format": "raw"}).encode(), {"Content-Type": "application/json"})
        assert status == 200, body
        predictions = json.loads(body)["predictions"]
        np.testing.assert_allclose([p["probabilities"] for p in predictions], expected, atol=1e-6)
        assert [p["class"] for p in predictions] == expected.argmax(axis=1).tolist()
        status, page = _request(port, "GET", "/info")
        assert status == 200 and "GlorotUniform" in json.loads(page)["summary"]
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            _, err = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert process.returncode == 0, err


def test_a_keras_archive_is_served_by_the_app_factory(keras_cnn, tmp_path):
    keras_cnn.save(tmp_path / "cnn.keras")
    client = create_app(tmp_path / "cnn.keras", preprocessing=[prep.rescale(255.0)]).test_client()
    image = np.full((28, 28, 1), 128, dtype=np.int64)
    answer = client.post("/predict", json={"instances": [image.tolist()], "input_format": "raw"})
    assert answer.status_code == 200, answer.get_json()
    expected = keras_cnn.predict(image[None].astype("float32") / 255.0, verbose=0)
    np.testing.assert_allclose(answer.get_json()["predictions"][0]["probabilities"], expected[0], atol=1e-6)


def test_bad_preprocessing_for_the_app_factory_is_refused(article_dir):
    with pytest.raises(nr.saving.FileFormatError, match="preprocessing"):
        create_app(article_dir, preprocessing=[{"op": "unknown"}])
