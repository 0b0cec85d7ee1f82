"""mnist.load_data reads Keras's own download, ``$KERAS_HOME/datasets/mnist.npz``, checked like every other file."""

import hashlib

import numpy as np
import pytest

from neurona.datasets import keras_cache, mnist

pytestmark = pytest.mark.usefixtures("no_network")  # offline, empty folders: tests/datasets/conftest.py


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


def test_a_keras_file_with_another_digest_is_never_used_and_the_next_source_is_tried(tmp_path, rng, monkeypatch):
    npz = tmp_path / "keras" / "datasets" / "mnist.npz"
    _write_npz(npz, rng, monkeypatch)
    monkeypatch.setattr(mnist, "KERAS_NPZ_SHA256", "0" * 64)
    with pytest.warns(UserWarning, match=r"not using Keras's cached .*mnist.npz: .*SHA-256 checksum mismatch"):
        (x_train, _), _ = mnist.load_data(verbose=False)
    assert len(x_train) == 10_000 and not mnist.last_source().is_full  # the embedded subset, as offline
    with pytest.warns(UserWarning), pytest.raises(FileNotFoundError, match="source='full' needs the full MNIST"):
        mnist.load_data(source="full")


def test_a_malformed_keras_file_is_named_and_skipped(tmp_path, rng, monkeypatch):
    npz = tmp_path / "keras" / "datasets" / "mnist.npz"
    _write_npz(npz, rng, monkeypatch, x_test=np.zeros((8, 27, 28), np.uint8))
    with pytest.warns(UserWarning, match=r"mnist.npz: expected images of shape \(N, 28, 28\)"):
        mnist.load_data(verbose=False)
    _write_npz(npz, rng, monkeypatch, y_train=np.arange(3.0))
    with pytest.warns(UserWarning, match="expected uint8 images"):
        mnist.load_data(verbose=False)


def test_tmp_keras_is_read_only_when_keras_home_is_not_writable(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(keras_cache.os, "access", lambda path, mode: calls.append(path) or False)
    assert keras_cache.find("no-such-file.npz") is None and calls  # looked at /tmp/.keras, found nothing
    monkeypatch.setattr(keras_cache.os, "access", lambda path, mode: True)
    home_file = tmp_path / "keras" / "datasets" / "x.npz"
    home_file.parent.mkdir(parents=True)
    home_file.write_bytes(b"")
    assert keras_cache.find("x.npz") == str(home_file)


def test_embedded_stays_embedded_and_an_absent_npz_name_falls_back_to_the_usual_order(tmp_path, rng, monkeypatch):
    _write_npz(tmp_path / "keras" / "datasets" / "mnist.npz", rng, monkeypatch)
    (x_train, _), _ = mnist.load_data(source="embedded", verbose=False)
    assert len(x_train) == 10_000 and not mnist.last_source().is_full
    missing = tmp_path / "keras" / "datasets" / "other.npz"
    (x_train, _), _ = mnist.load_data(path="other.npz", verbose=False)  # absent: the usual order, here embedded
    assert not missing.exists() and len(x_train) == 10_000
