"""Real Keras 3 as an oracle for layer tests, on its numpy backend (installed by the test extra)."""

import pytest


def numpy_keras(monkeypatch):
    """The ``keras`` module on its numpy backend; the test is skipped when Keras is missing or already loaded
    with another backend."""
    monkeypatch.setenv("KERAS_BACKEND", "numpy")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "numpy":
        pytest.skip("these comparisons run on Keras's numpy backend")
    return keras
