"""mnist.load_data: source selection, checksum rejection, downloads (faked) and the embedded subset."""

import hashlib
import os
import urllib.error

import numpy as np
import pytest

from neurona.datasets import cache, mnist
from neurona.datasets.idx import IdxFormatError, write_idx

# Class counts of the original files (LeCun et al.), used to check the subset's stratification.
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture(autouse=True)
def no_network(tmp_path, monkeypatch):
    """Offline, an empty data dir, and an urlopen that fails the test if anything reaches it."""
    monkeypatch.setenv(cache.OFFLINE_ENV, "1")
    monkeypatch.setenv(cache.DATA_DIR_ENV, str(tmp_path / "data"))

    def forbidden(url, timeout):
        raise AssertionError(f"network access attempted: {url}")

    monkeypatch.setattr(cache, "urlopen", forbidden)


def synthetic_mnist(directory, rng, n_train=30, n_test=12, image_shape=(28, 28)):
    """Write four small MNIST-format files; return the arrays and their SHA-256 table."""
    directory.mkdir(parents=True, exist_ok=True)
    arrays = [rng.integers(0, 256, size=(n_train, *image_shape), dtype=np.uint8),
              (np.arange(n_train) % 10).astype(np.uint8),
              rng.integers(0, 256, size=(n_test, *image_shape), dtype=np.uint8),
              (np.arange(n_test)[::-1] % 10).astype(np.uint8)]
    digests = {}
    for name, array in zip(mnist.FULL_FILES, arrays):
        write_idx(directory / name, array)
        digests[name] = hashlib.sha256((directory / name).read_bytes()).hexdigest()
    return arrays, digests


@pytest.fixture
def full_dir(tmp_path, rng, monkeypatch):
    """Synthetic full files in $NEURONA_DATA_DIR/mnist, with the expected checksums patched to match."""
    directory = tmp_path / "data" / "mnist"
    arrays, digests = synthetic_mnist(directory, rng)
    monkeypatch.setattr(mnist, "FULL_SHA256", digests)
    return directory, arrays


def assert_returns(result, arrays):
    (x_train, y_train), (x_test, y_test) = result
    for got, want in zip((x_train, y_train, x_test, y_test), arrays):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, want)


def test_auto_uses_full_files_from_default_dir(full_dir, capsys):
    directory, arrays = full_dir
    assert_returns(mnist.load_data(), arrays)
    info = mnist.last_source()
    assert info == mnist.MnistSource("full", str(directory), 30, 12)
    assert info.is_full
    assert capsys.readouterr().err == f"neurona.datasets.mnist: full MNIST (30 train / 12 test) from {directory}\n"


def test_explicit_path_and_full_source(tmp_path, rng, monkeypatch, capsys):
    arrays, digests = synthetic_mnist(tmp_path / "elsewhere", rng, n_train=20, n_test=10)
    monkeypatch.setattr(mnist, "FULL_SHA256", digests)
    assert_returns(mnist.load_data(path=tmp_path / "elsewhere", source="full", verbose=False), arrays)
    assert mnist.last_source().path == str(tmp_path / "elsewhere")
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("download, reason", [(True, "download disabled (NEURONA_OFFLINE is set)"),
                                              (False, "download=False")])
def test_auto_falls_back_to_embedded_and_says_so(tmp_path, capsys, download, reason):
    (x_train, _), (x_test, _) = mnist.load_data(download=download)
    assert x_train.shape == (10_000, 28, 28) and x_test.shape == (2_000, 28, 28)
    info = mnist.last_source()
    expected_dir = os.path.join(str(tmp_path), "data", "mnist")
    assert info.kind == "embedded" and not info.is_full
    assert info.reason == f"full MNIST files not found in {expected_dir} and {reason}"
    assert (info.num_train, info.num_test, info.path) == (10_000, 2_000, mnist.EMBEDDED_DIR)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("neurona.datasets.mnist: full MNIST files not found in ")
    assert "embedded subset (10,000 train / 2,000 test images drawn from the original files)" in err


def test_embedded_on_request(capsys, full_dir):
    mnist.load_data(source="embedded")
    assert mnist.last_source().kind == "embedded" and mnist.last_source().reason is None
    assert "using the embedded subset" in capsys.readouterr().err


def test_full_missing_raises_with_where_and_how(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        mnist.load_data(source="full")
    message = str(info.value)
    assert os.path.join(str(tmp_path), "data", "mnist") in message
    assert "NEURONA_DATA_DIR" in message and "train-images-idx3-ubyte.gz" in message


def test_partial_files_count_as_missing(full_dir):
    directory, _ = full_dir
    os.remove(directory / "t10k-labels-idx1-ubyte.gz")
    mnist.load_data(verbose=False)
    assert mnist.last_source().kind == "embedded"
    with pytest.raises(FileNotFoundError):
        mnist.load_data(source="full", verbose=False)


@pytest.mark.parametrize("source", ["auto", "full"])
def test_modified_byte_is_rejected_not_replaced(full_dir, monkeypatch, source):
    directory, _ = full_dir
    monkeypatch.delenv(cache.OFFLINE_ENV)  # even with downloads allowed, a corrupt file is an error
    path = directory / "train-labels-idx1-ubyte.gz"
    data = bytearray(path.read_bytes())
    data[-9] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(cache.ChecksumError) as info:
        mnist.load_data(source=source)
    message = str(info.value)
    assert str(path) in message and mnist.FULL_SHA256[path.name] in message
    assert hashlib.sha256(bytes(data)).hexdigest() in message
    assert path.read_bytes() == bytes(data)  # left for the user to inspect; the fake urlopen was never reached


def test_real_checksums_reject_impostor_file(tmp_path):
    directory = tmp_path / "data" / "mnist"
    directory.mkdir(parents=True)
    write_idx(directory / "t10k-images-idx3-ubyte.gz", np.zeros((10, 28, 28), dtype=np.uint8))
    with pytest.raises(cache.ChecksumError, match="8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"):
        mnist.load_data()


def test_download_fills_missing_files(tmp_path, rng, monkeypatch):
    served, digests = synthetic_mnist(tmp_path / "server", rng)
    monkeypatch.setattr(mnist, "FULL_SHA256", digests)
    monkeypatch.delenv(cache.OFFLINE_ENV)
    calls = []

    def urlopen(url, timeout):
        calls.append(url)
        if url.startswith(mnist.MIRRORS[0]):
            raise urllib.error.URLError("first mirror down")
        return open(tmp_path / "server" / url.rsplit("/", 1)[1], "rb")

    monkeypatch.setattr(cache, "urlopen", urlopen)
    assert_returns(mnist.load_data(verbose=False), served)
    assert mnist.last_source().kind == "full"
    assert calls == [mirror + name for name in mnist.FULL_FILES for mirror in mnist.MIRRORS]
    assert sorted(os.listdir(tmp_path / "data" / "mnist")) == sorted(mnist.FULL_FILES)


def test_failed_download_falls_back_and_leaves_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(cache.OFFLINE_ENV)

    class Dropping:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def read(self, size):
            raise ConnectionResetError("dropped midway")

    monkeypatch.setattr(cache, "urlopen", lambda url, timeout: Dropping())
    mnist.load_data()
    info = mnist.last_source()
    assert info.kind == "embedded" and info.reason.endswith("and download unavailable")
    assert "dropped midway" in info.detail and mnist.MIRRORS[1] in info.detail
    assert "download unavailable; using the embedded subset" in capsys.readouterr().err
    assert os.listdir(tmp_path / "data" / "mnist") == []
    with pytest.raises(FileNotFoundError, match="dropped midway"):
        mnist.load_data(source="full")


def test_embedded_subset_contents():
    (x_train, y_train), (x_test, y_test) = mnist.load_data(source="embedded", verbose=False)
    assert (x_train.shape, y_train.shape, x_test.shape, y_test.shape) == (
        (10_000, 28, 28), (10_000,), (2_000, 28, 28), (2_000,))
    assert all(a.dtype == np.uint8 for a in (x_train, y_train, x_test, y_test))
    assert x_train.min() == 0 and x_train.max() == 255 and x_test.min() == 0 and x_test.max() == 255
    # Stratified: each class within one image of its share of the original split.
    for labels, counts, k in ((y_train, MNIST_TRAIN_COUNTS, 10_000), (y_test, MNIST_TEST_COUNTS, 2_000)):
        share = k * np.asarray(counts) / sum(counts)
        assert np.all(np.abs(np.bincount(labels, minlength=10) - share) < 1)
    assert len({img.tobytes() for img in x_train}) == 10_000  # drawn without replacement
    # Real digits: ink covers roughly a fifth of the pixels (MNIST mean intensity is 0.13 of 255).
    assert 0.10 < x_train.mean() / 255 < 0.16


def test_corrupt_embedded_file_is_rejected(monkeypatch):
    name = mnist.EMBEDDED_FILES[1]
    monkeypatch.setitem(mnist.EMBEDDED_SHA256, name, "0" * 64)
    with pytest.raises(cache.ChecksumError, match=name):
        mnist.load_data(source="embedded")


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="source must be one of"):
        mnist.load_data(source="web")
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(NotADirectoryError, match="must be a directory"):
        mnist.load_data(path=tmp_path / "file")


def test_files_with_wrong_shapes_are_reported(tmp_path, rng, monkeypatch):
    _, digests = synthetic_mnist(tmp_path / "odd", rng, image_shape=(27, 27))
    monkeypatch.setattr(mnist, "FULL_SHA256", digests)
    with pytest.raises(IdxFormatError, match=r"shape \(N, 28, 28\), got \(30, 27, 27\)"):
        mnist.load_data(path=tmp_path / "odd")
    write_idx(tmp_path / "odd" / "train-images-idx3-ubyte.gz", np.zeros((29, 28, 28), dtype=np.uint8))
    digests = dict(digests, **{"train-images-idx3-ubyte.gz": cache.sha256_file(
        tmp_path / "odd" / "train-images-idx3-ubyte.gz")})
    monkeypatch.setattr(mnist, "FULL_SHA256", digests)
    with pytest.raises(IdxFormatError, match="30 labels for the 29 images"):
        mnist.load_data(path=tmp_path / "odd")


@pytest.mark.parametrize("path", [3, 2.5, ["data"], True])
def test_load_data_refuses_a_path_that_is_not_a_path(path):
    # used to be os.fspath's "expected str, bytes or os.PathLike object, not int"
    with pytest.raises(TypeError, match=r"mnist.load_data: path must be None or a directory path \(str or "
                                        r"os.PathLike\), got "):
        mnist.load_data(path=path, verbose=False)


@pytest.mark.parametrize("argument", ["download", "verbose"])
@pytest.mark.parametrize("value", ["yes", "no", 0, 1, None])
def test_load_data_flags_must_be_bools(argument, value):
    # download="no" is truthy: it used to allow the download it was meant to forbid
    kwargs = {"source": "embedded", "download": False, "verbose": False, argument: value}
    with pytest.raises(TypeError, match=rf"mnist.load_data: {argument} must be True or False, got "):
        mnist.load_data(**kwargs)


def test_load_data_accepts_numpy_bool_flags(capsys):
    (x_train, _), _ = mnist.load_data(source="embedded", download=np.bool_(False), verbose=np.bool_(False))
    assert x_train.shape == (10_000, 28, 28) and capsys.readouterr().err == ""
