"""examples/keras_files_to_neurona.py: Keras trains and saves model.json + model.h5; Neurona loads, predicts the
same and serves it (on the embedded MNIST subset, 2,000 images, two epochs).

The example runs in a subprocess: it trains in Keras, which needs a backend that trains (jax, from the test
extra), while the interop tests in this process use Keras's numpy backend.
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("flask")
# not imported here: Keras picks its backend when first imported, and the subprocess picks jax
if importlib.util.find_spec("keras") is None or importlib.util.find_spec("jax") is None:
    pytest.skip("the example needs keras and jax (the test extra installs both)", allow_module_level=True)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "keras_files_to_neurona.py"


def test_keras_files_load_predict_alike_and_serve(tmp_path):
    argv = ["--out", str(tmp_path / "keras_mnist"), "--samples", "2000", "--epochs", "2"]
    code = (f"import json, runpy; main = runpy.run_path({str(EXAMPLE)!r}, run_name='example')['main']; "
            f"print('RESULT', json.dumps(main({argv!r})))")
    env = {**os.environ, "KERAS_BACKEND": "jax", "NEURONA_DATA_DIR": str(tmp_path / "no-data"),
           "JAX_PLATFORMS": "cpu", "NEURONA_OFFLINE": "1"}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.split("RESULT ", 1)[1])
    assert sorted(p.name for p in (tmp_path / "keras_mnist").iterdir()) == ["model.h5", "model.json"]
    assert result["max_difference"] < 1e-5
    assert result["accuracy"] == result["keras_accuracy"] > 0.5  # two epochs on 2,000 images learn something
    assert result["prediction"]["class"] in range(10) and len(result["prediction"]["probabilities"]) == 10
    assert "GlorotUniform" in run.stdout  # the summary shows each layer's initializer
    assert "neurona serve" in run.stdout
