"""cifar10.load_data on a small synthetic ``cifar-10-binary.tar.gz`` (fixed-size records, no pickle); never the
network."""

import hashlib
import io
import os
import tarfile

import numpy as np
import pytest

from neurona.datasets import cache, cifar10
from neurona.datasets.idx import IdxFormatError

pytestmark = pytest.mark.usefixtures("no_network")  # tests/datasets/conftest.py


def records(images_chw, labels):
    """The binary batch format: per image, 1 label byte, then 1024 red, 1024 green, 1024 blue bytes."""
    return b"".join(bytes([int(label)]) + image.tobytes() for image, label in zip(images_chw, labels))


def write_archive(path, rng, per_batch=3, n_test=4, members=None):
    """A cifar-10-binary.tar.gz with ``per_batch`` images in each training batch; returns the channels-first
    images and labels of the train and test splits."""
    splits = {"train": [], "test": []}
    contents = {}
    for name in cifar10.TRAIN_BATCHES + (cifar10.TEST_BATCH,):
        n = n_test if name == cifar10.TEST_BATCH else per_batch
        images = rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        splits["test" if name == cifar10.TEST_BATCH else "train"].append((images, labels))
        contents[name] = records(images, labels)
    contents.update(members or {})
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for name, data in contents.items():
            if data is None:
                continue
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return {split: (np.concatenate([i for i, _ in parts]), np.concatenate([la for _, la in parts]))
            for split, parts in splits.items()}


@pytest.fixture
def archive(tmp_path, rng, monkeypatch):
    path = tmp_path / "data" / "cifar10" / cifar10.ARCHIVE
    expected = write_archive(path, rng)
    monkeypatch.setattr(cifar10, "SHA256", hashlib.sha256(path.read_bytes()).hexdigest())
    return path, expected


def test_keras_shapes_dtypes_and_pixel_order(archive):
    _, expected = archive
    (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    assert (x_train.shape, y_train.shape, x_test.shape, y_test.shape) == ((15, 32, 32, 3), (15, 1), (4, 32, 32, 3),
                                                                          (4, 1))
    assert all(a.dtype == np.uint8 for a in (x_train, y_train, x_test, y_test))
    train_chw, train_labels = expected["train"]
    np.testing.assert_array_equal(x_train, train_chw.transpose(0, 2, 3, 1))  # red, green, blue last
    np.testing.assert_array_equal(y_train[:, 0], train_labels)
    np.testing.assert_array_equal(x_test, expected["test"][0].transpose(0, 2, 3, 1))
    # the first record's bytes: its label, then its red plane row by row
    first = cifar10.read_batch(tarfile.open(archive[0]), cifar10.TRAIN_BATCHES[0])
    assert first[0][0, 0, 0, 1] == x_train[0, 0, 1, 0]


def test_download_then_cache(tmp_path, rng, monkeypatch):
    served = tmp_path / "server" / cifar10.ARCHIVE
    expected = write_archive(served, rng, per_batch=1, n_test=2)
    monkeypatch.setattr(cifar10, "SHA256", hashlib.sha256(served.read_bytes()).hexdigest())
    monkeypatch.delenv(cache.OFFLINE_ENV)
    calls = []
    monkeypatch.setattr(cache, "urlopen", lambda url, timeout: calls.append(url) or open(served, "rb"))
    (x_train, _), _ = cifar10.load_data()
    assert calls == ["https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"]
    np.testing.assert_array_equal(x_train, expected["train"][0].transpose(0, 2, 3, 1))
    assert os.listdir(tmp_path / "data" / "cifar10") == [cifar10.ARCHIVE]
    cifar10.load_data()
    assert len(calls) == 1


def test_the_real_digest_rejects_an_impostor(tmp_path, rng):
    write_archive(tmp_path / "data" / "cifar10" / cifar10.ARCHIVE, rng)
    with pytest.raises(cache.ChecksumError, match=cifar10.SHA256):
        cifar10.load_data()


@pytest.mark.parametrize("members, message", [
    ({cifar10.TEST_BATCH: None}, "no cifar-10-batches-bin/test_batch.bin in the archive"),
    ({cifar10.TEST_BATCH: b"\x00" * 3000}, "holds 3000 bytes, expected a positive multiple of the 3073-byte"),
    ({cifar10.TEST_BATCH: b"\x0a" + b"\x00" * 3072}, "has the label 10, expected 0-9"),
])
def test_malformed_archives_are_reported(tmp_path, rng, monkeypatch, members, message):
    path = tmp_path / "odd" / cifar10.ARCHIVE
    write_archive(path, rng, members=members)
    monkeypatch.setattr(cifar10, "SHA256", hashlib.sha256(path.read_bytes()).hexdigest())
    with pytest.raises(IdxFormatError, match=message):
        cifar10.load_data(path=tmp_path / "odd")
