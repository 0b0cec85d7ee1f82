"""Running a kernel under both implementations (the compiled one and the NumPy reference), for the kernel tests."""

import pytest


def needs_numba():
    pytest.importorskip("numba", reason="the compiled kernels need numba")


def both(monkeypatch, fn):
    """``fn()`` under NEURONA_KERNELS=numba and numpy: (compiled result, reference result)."""
    results = []
    for choice in ("numba", "numpy"):
        monkeypatch.setenv("NEURONA_KERNELS", choice)
        results.append(fn())
    return results
