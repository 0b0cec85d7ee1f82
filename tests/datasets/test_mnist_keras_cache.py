"""mnist.load_data reads Keras's own download, ``$KERAS_HOME/datasets/mnist.npz``, checked like every other file."""

import hashlib

import numpy as np
import pytest

from neurona.datasets import cache, mnist
from neurona.datasets.idx import IdxFormatError


@pytest.fixture(autouse=True)
def no_network(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.OFFLINE_ENV, "1")
    monkeypatch.setenv(cache.DATA_DIR_ENV, str(tmp_path / "data"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))

    def forbidden(url, timeout):
        raise AssertionError(f"network access attempted: {url}")

    monkeypatch.setattr(cache, "urlopen", forbidden)


def _write_npz(path, rng, monkeypatch, n_train=20, n_test=8, **overrides):
    """A Keras-layout mnist.npz with synthetic digits; the expected digest is patched to this file's."""
    arrays = {"x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
              "y_train": (np.arange(n_train) % 10).astype(np.uint8),
              "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
              "y_test": (np.arange(n_test)[::-1] % 10).astype(np.uint8)}
    arrays.update(overrides)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
    monkeypatch.setattr(mnist, "KERAS_NPZ_SHA256", hashlib.sha256(path.read_bytes()).hexdigest())
    return arrays


def _assert_same(result, arrays):
    (x_train, y_train), (x_test, y_test) = result
    for got, key in zip((x_train, y_train, x_test, y_test), mnist.KERAS_NPZ_KEYS):
        np.testing.assert_array_equal(got, arrays[key])


def test_keras_download_is_used_when_neuronas_folder_has_no_files(tmp_path, rng, monkeypatch, capsys):
    npz = tmp_path / "keras" / "datasets" / "mnist.npz"
    arrays = _write_npz(npz, rng, monkeypatch)
    _assert_same(mnist.load_data(), arrays)
    source = mnist.last_source()
    assert source.is_full and source.path == str(npz) and (source.num_train, source.num_test) == (20, 8)
    assert f"full MNIST (20 train / 8 test) from {npz}" in capsys.readouterr().err
    _assert_same(mnist.load_data(path="mnist.npz", source="full"), arrays)  # Keras's own argument


def test_an_absolute_npz_path_is_read(tmp_path, rng, monkeypatch):
    npz = tmp_path / "elsewhere" / "digits.npz"
    arrays = _write_npz(npz, rng, monkeypatch)
    _assert_same(mnist.load_data(path=str(npz), verbose=False), arrays)


def test_a_keras_file_with_another_digest_is_refused_never_used(tmp_path, rng, monkeypatch):
    npz = tmp_path / "keras" / "datasets" / "mnist.npz"
    _write_npz(npz, rng, monkeypatch)
    monkeypatch.setattr(mnist, "KERAS_NPZ_SHA256", "0" * 64)
    with pytest.raises(cache.ChecksumError, match="mnist.npz: SHA-256 checksum mismatch"):
        mnist.load_data()


def test_a_malformed_keras_file_is_named(tmp_path, rng, monkeypatch):
    npz = tmp_path / "keras" / "datasets" / "mnist.npz"
    _write_npz(npz, rng, monkeypatch, x_test=np.zeros((8, 27, 28), np.uint8))
    with pytest.raises(IdxFormatError, match=r"mnist.npz: expected images of shape \(N, 28, 28\)"):
        mnist.load_data()
    _write_npz(npz, rng, monkeypatch, y_train=np.arange(3.0))
    with pytest.raises(IdxFormatError, match="expected uint8 images"):
        mnist.load_data()


def test_embedded_stays_embedded_and_an_absent_npz_name_falls_back_to_the_usual_order(tmp_path, rng, monkeypatch):
    _write_npz(tmp_path / "keras" / "datasets" / "mnist.npz", rng, monkeypatch)
    (x_train, _), _ = mnist.load_data(source="embedded", verbose=False)
    assert len(x_train) == 10_000 and not mnist.last_source().is_full
    missing = tmp_path / "keras" / "datasets" / "other.npz"
    (x_train, _), _ = mnist.load_data(path="other.npz", verbose=False)  # absent: the usual order, here embedded
    assert not missing.exists() and len(x_train) == 10_000
