"""Choosing the kernels: NEURONA_KERNELS, numba absent, CuPy-like arrays; and the BLAS policy owned by the backend."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from neurona.backend import blas, kernels, parallel
from neurona.backend.kernels import select


def test_numpy_choice_never_uses_a_compiled_kernel(monkeypatch):
    monkeypatch.setenv("NEURONA_KERNELS", "numpy")
    assert kernels.implementation() == "numpy"
    assert select.compiled("activation", np.zeros(3)) is None


@pytest.mark.parametrize("value", ["", "auto", "AUTO", " numba "])
def test_auto_and_numba_choose_the_compiled_kernels_when_numba_is_there(monkeypatch, value):
    pytest.importorskip("numba")
    monkeypatch.setenv("NEURONA_KERNELS", value)
    assert kernels.implementation() == "numba"
    assert select.compiled("activation", np.zeros(3)) is not None


def test_an_unknown_choice_names_the_accepted_ones(monkeypatch):
    monkeypatch.setenv("NEURONA_KERNELS", "fortran")
    with pytest.raises(ValueError, match=r"NEURONA_KERNELS must be one of auto, numba, numpy, got 'fortran'"):
        kernels.relu(np.zeros(3))


def test_arrays_that_are_not_numpy_take_the_reference(monkeypatch):
    class NotNumpy(np.ndarray):  # stands for a CuPy array: anything but numpy.ndarray itself
        pass

    monkeypatch.setenv("NEURONA_KERNELS", "numba")
    assert select.compiled("activation", np.zeros(3).view(NotNumpy)) is None


# Run in a fresh interpreter where `import numba` fails, as on a machine without it.
WITHOUT_NUMBA = r"""
import json, sys
sys.modules["numba"] = None  # makes `import numba` raise ImportError
import numpy as np
import neurona as nr
from neurona import layers, models
report = {"implementation": nr.backend.kernels.implementation()}
nr.seed(0)
model = models.Sequential([layers.Input((8, 8, 1)), layers.Conv2D(4, 3, activation="relu"), layers.MaxPooling2D(2),
                           layers.Flatten(), layers.Dense(5, activation="relu"), layers.Dense(3, activation="softmax")])
model.compile(optimizer="adam", loss="categorical_crossentropy")
rng = np.random.default_rng(0)
x, y = rng.random((16, 8, 8, 1), dtype="float32"), np.eye(3, dtype="float32")[rng.integers(0, 3, 16)]
report["losses"] = [float(model.train_step(x, y)["loss"]) for _ in range(3)]
report["numba_imported"] = sys.modules.get("numba") is not None
try:
    import os
    os.environ["NEURONA_KERNELS"] = "numba"
    nr.backend.kernels.relu(np.zeros(3))
    report["error"] = None
except ImportError as exc:
    report["error"] = str(exc)
print(json.dumps(report))
"""


def _run(script, **env):
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                            env={**os.environ, **env}, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_without_numba_everything_runs_on_the_reference_kernels():
    report = _run(WITHOUT_NUMBA, NEURONA_KERNELS="auto")
    assert report["implementation"] == "numpy"
    assert report["numba_imported"] is False
    assert all(np.isfinite(report["losses"])) and report["losses"][-1] < report["losses"][0]
    assert "NEURONA_KERNELS=numba, but numba cannot be imported" in report["error"]
    assert "pip install numba" in report["error"]


def test_the_reference_and_compiled_kernels_train_alike():
    """Three steps of a small CNN: the same losses under both implementations, within float32 summation noise."""
    pytest.importorskip("numba")
    script = WITHOUT_NUMBA.replace('sys.modules["numba"] = None', "pass")
    numba_run, numpy_run = _run(script, NEURONA_KERNELS="numba"), _run(script, NEURONA_KERNELS="numpy")
    assert numba_run["implementation"] == "numba" and numpy_run["implementation"] == "numpy"
    np.testing.assert_allclose(numba_run["losses"], numpy_run["losses"], rtol=1e-5)


IMPORT_ONLY = r"""
import json, sys
import neurona
print(json.dumps({"numba": "numba" in sys.modules}))
"""


def test_importing_neurona_does_not_import_numba():
    assert _run(IMPORT_ONLY)["numba"] is False


def test_a_low_level_loop_runs_its_products_with_blas_on_one_thread(monkeypatch):
    """The policy belongs to the backend: a product outside fit, train_step or any region still runs with BLAS
    on one thread, and the thread count is back afterwards."""
    if not blas.available():
        pytest.skip("OpenBLAS's thread count cannot be controlled here")
    seen = []
    original = np.matmul

    def spy(a, b, out=None):
        seen.append(blas.num_threads())
        return original(a, b, out=out)

    monkeypatch.setattr(kernels.linalg, "SPLIT_MACS", 1 << 40)  # one block
    before = blas.num_threads()
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", 1 << 40)
    a = np.ones((4, 3), np.float32)
    from neurona.backend.kernels import linalg

    monkeypatch.setattr(linalg, "xp_of", lambda *arrays: type("xp", (), {"matmul": staticmethod(spy), "empty": np.empty,
                                                                          "result_type": np.result_type}))
    np.testing.assert_array_equal(kernels.matmul(a, a.T), a @ a.T)
    assert seen == [1]
    assert blas.num_threads() == before
