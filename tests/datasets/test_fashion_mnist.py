"""fashion_mnist.load_data and the shared fetch rule (remote.py), on small synthetic IDX files; never the network."""

import hashlib
import os

import numpy as np
import pytest

from neurona.datasets import cache, fashion_mnist, remote
from neurona.datasets.idx import IdxFormatError, write_idx

pytestmark = pytest.mark.usefixtures("no_network")  # tests/datasets/conftest.py


def write_files(directory, rng, n_train=12, n_test=5, image_shape=(28, 28)):
    """Four Fashion-MNIST-layout files; returns the arrays and their digests."""
    directory.mkdir(parents=True, exist_ok=True)
    arrays = [rng.integers(0, 256, (n_train, *image_shape), dtype=np.uint8), (np.arange(n_train) % 10).astype("u1"),
              rng.integers(0, 256, (n_test, *image_shape), dtype=np.uint8), (np.arange(n_test) % 10).astype("u1")]
    for name, array in zip(fashion_mnist.FILES, arrays):
        write_idx(directory / name, array)
    return arrays, {name: hashlib.sha256((directory / name).read_bytes()).hexdigest() for name in fashion_mnist.FILES}


@pytest.fixture
def served(tmp_path, rng, monkeypatch):
    arrays, digests = write_files(tmp_path / "server", rng)
    monkeypatch.setattr(fashion_mnist, "SHA256", digests)
    return arrays


def assert_same(result, arrays):
    (x_train, y_train), (x_test, y_test) = result
    for got, want in zip((x_train, y_train, x_test, y_test), arrays):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, want)


def test_reads_the_cache_folder_under_neurona_data_dir(tmp_path, rng, monkeypatch):
    arrays, digests = write_files(tmp_path / "data" / "fashion_mnist", rng)
    monkeypatch.setattr(fashion_mnist, "SHA256", digests)
    assert_same(fashion_mnist.load_data(), arrays)
    assert_same(fashion_mnist.load_data(path=tmp_path / "data" / "fashion_mnist"), arrays)


def test_downloads_missing_files_atomically_trying_each_mirror(tmp_path, served, monkeypatch):
    monkeypatch.delenv(cache.OFFLINE_ENV)
    calls = []

    def urlopen(url, timeout):
        calls.append(url)
        if url.startswith(fashion_mnist.MIRRORS[0]):
            raise OSError("first mirror down")
        return open(tmp_path / "server" / url.rsplit("/", 1)[1], "rb")

    monkeypatch.setattr(cache, "urlopen", urlopen)
    assert_same(fashion_mnist.load_data(), served)
    assert calls == [m + name for name in fashion_mnist.FILES for m in fashion_mnist.MIRRORS]
    assert sorted(os.listdir(tmp_path / "data" / "fashion_mnist")) == sorted(fashion_mnist.FILES)
    calls.clear()
    fashion_mnist.load_data()
    assert calls == []  # cached now


def test_a_download_with_another_digest_is_not_kept(tmp_path, served, monkeypatch):
    monkeypatch.delenv(cache.OFFLINE_ENV)
    # every URL serves the training images: right for the first file, a wrong digest for the others
    serve_images = lambda url, timeout: open(tmp_path / "server" / fashion_mnist.FILES[0], "rb")  # noqa: E731
    monkeypatch.setattr(cache, "urlopen", serve_images)
    with pytest.raises(FileNotFoundError, match="SHA-256") as info:
        fashion_mnist.load_data()
    assert "the download failed" in str(info.value) and "train-labels-idx1-ubyte.gz" in str(info.value)
    # no half-written or wrong file left, only the one that was right
    assert os.listdir(tmp_path / "data" / "fashion_mnist") == [fashion_mnist.FILES[0]]


def test_a_corrupt_cached_file_is_rejected_and_left(tmp_path, served, monkeypatch):
    directory = tmp_path / "data" / "fashion_mnist"
    write_files(directory, np.random.default_rng(9))
    with pytest.raises(cache.ChecksumError, match="train-images-idx3-ubyte.gz"):
        fashion_mnist.load_data()
    assert (directory / "train-images-idx3-ubyte.gz").exists()


def test_keras_cached_files_are_used_when_their_digest_is_right(tmp_path, rng, monkeypatch):
    arrays, digests = write_files(tmp_path / "keras" / "datasets" / "fashion-mnist", rng)
    monkeypatch.setattr(fashion_mnist, "SHA256", digests)
    assert_same(fashion_mnist.load_data(), arrays)
    monkeypatch.setitem(fashion_mnist.SHA256, fashion_mnist.FILES[0], "0" * 64)
    with pytest.warns(UserWarning, match="not using Keras's cached"), pytest.raises(FileNotFoundError):
        fashion_mnist.load_data()


def test_real_digests_reject_an_impostor(tmp_path):
    directory = tmp_path / "data" / "fashion_mnist"
    directory.mkdir(parents=True)
    write_idx(directory / "t10k-labels-idx1-ubyte.gz", np.zeros(10, np.uint8))
    for name in fashion_mnist.FILES[:3]:
        write_idx(directory / name, np.zeros((1,), np.uint8))
    with pytest.raises(cache.ChecksumError, match=fashion_mnist.SHA256["train-images-idx3-ubyte.gz"]):
        fashion_mnist.load_data()


def test_wrong_shapes_and_arguments_are_reported(tmp_path, rng, monkeypatch):
    _, digests = write_files(tmp_path / "odd", rng, image_shape=(28, 27))
    monkeypatch.setattr(fashion_mnist, "SHA256", digests)
    with pytest.raises(IdxFormatError, match=r"\(N, 28, 28\)"):
        fashion_mnist.load_data(path=tmp_path / "odd")
    with pytest.raises(TypeError, match="download must be True or False"):
        fashion_mnist.load_data(path=tmp_path / "odd", download="no")
    with pytest.raises(TypeError, match="path must be None or a directory path"):
        fashion_mnist.load_data(path=3)
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(NotADirectoryError):
        remote.dataset_dir("fashion_mnist", tmp_path / "file")
