"""Shared fixtures: every test that takes ``device`` runs once per available backend."""

import os
import sys
from pathlib import Path

import numpy as np
import pytest

import neurona as nr
from neurona.backend import cuda

# the shared test harnesses live in the package tests/_harness; with --import-mode=importlib test modules are not
# put on sys.path, so tests/ is appended here (after site-packages, so nothing installed is shadowed)
_TESTS_DIR = str(Path(__file__).resolve().parent)
if _TESTS_DIR not in sys.path:
    sys.path.append(_TESTS_DIR)

DEVICES = ["cpu"] + (["cuda"] if cuda.available else [])


@pytest.fixture(params=DEVICES)
def device(request):
    """The backend under test ("cpu", and "cuda" when CuPy and a GPU are present)."""
    previous = nr.get_device()
    nr.set_device(request.param)
    yield request.param
    nr.set_device(previous)


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same library-wide seed and float32 default."""
    nr.seed(1234)
    nr.set_floatx("float32")
    yield
    nr.set_floatx("float32")


@pytest.fixture
def rng():
    """A seeded NumPy generator for test data."""
    return np.random.default_rng(0)


@pytest.fixture(autouse=True, scope="session")
def _no_keras_cache(tmp_path_factory):
    """Keras's dataset cache (``~/.keras/datasets``, read by ``mnist.load_data``) is an empty folder in every test,
    subprocesses included, so a developer's downloaded ``mnist.npz`` never changes what a test loads."""
    previous = os.environ.get("KERAS_HOME")
    os.environ["KERAS_HOME"] = str(tmp_path_factory.mktemp("keras_home"))
    yield
    if previous is None:
        os.environ.pop("KERAS_HOME", None)
    else:
        os.environ["KERAS_HOME"] = previous


@pytest.fixture
def embedded_mnist_only(monkeypatch, tmp_path):
    """No downloads and an empty data folder: MNIST comes from the subset embedded in the package."""
    monkeypatch.setenv("NEURONA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEURONA_OFFLINE", "1")
