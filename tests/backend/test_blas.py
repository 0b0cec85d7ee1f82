"""BLAS thread control: lowered inside a region, restored after it, nested and failing regions included."""

import numpy as np
import pytest

from neurona.backend import blas, parallel

needs_openblas = pytest.mark.skipif(not blas.available(), reason="NumPy's BLAS is not OpenBLAS here")


@needs_openblas
def test_single_threaded_region_restores_the_thread_count():
    before = blas.num_threads()
    with blas.single_threaded():
        assert blas.num_threads() == 1
        with blas.single_threaded():  # nested: the inner exit must not restore early
            assert blas.num_threads() == 1
        assert blas.num_threads() == 1
    assert blas.num_threads() == before


@needs_openblas
def test_an_exception_inside_the_region_still_restores():
    before = blas.num_threads()
    with pytest.raises(RuntimeError, match="inside"):
        with blas.single_threaded():
            raise RuntimeError("inside the region")
    assert blas.num_threads() == before


def test_control_can_be_switched_off(monkeypatch):
    monkeypatch.setenv("NEURONA_BLAS_CONTROL", "0")
    monkeypatch.setattr(blas, "_state", {"loaded": False, "set": None, "get": None, "depth": 0, "saved": None,
                                            "gemm": {}, "core": None})
    assert not blas.available() and blas.num_threads() is None
    with blas.single_threaded():  # a no-op, not an error
        pass


def test_blas_work_runs_as_one_call_without_control(monkeypatch):
    """Without a way to hold BLAS to one thread, splitting would oversubscribe the cores: one call instead."""
    monkeypatch.setattr(blas, "available", lambda: False)
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", 1)
    monkeypatch.setenv("NEURONA_NUM_THREADS", "2")
    assert parallel.map_chunks(6, lambda s: s, np.zeros(6), blas_work=True) == [slice(0, 6)]


def test_map_chunks_returns_results_in_slice_order(monkeypatch):
    monkeypatch.setattr(parallel, "MIN_ELEMENTS", 1)
    monkeypatch.setenv("NEURONA_NUM_THREADS", "3")
    assert parallel.map_chunks(7, lambda s: (s.start, s.stop), np.zeros(7)) == [(0, 2), (2, 4), (4, 7)]


@needs_openblas
def test_core_name_is_the_kernels_openblas_chose():
    name = blas.core_name()
    assert isinstance(name, str) and name and name.isprintable()


def test_no_core_name_without_control(monkeypatch):
    monkeypatch.setenv("NEURONA_BLAS_CONTROL", "0")
    monkeypatch.setattr(blas, "_state", {"loaded": False, "set": None, "get": None, "depth": 0, "saved": None,
                                         "gemm": {}, "core": None})
    assert blas.core_name() is None and blas.gemm_address("float32") is None
