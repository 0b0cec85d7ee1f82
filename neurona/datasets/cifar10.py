"""CIFAR-10, loaded like ``keras.datasets.cifar10.load_data``, from the binary release (no pickle).

A. Krizhevsky, "Learning multiple layers of features from tiny images", tech. report, University of
Toronto, 2009. 50,000 training and 10,000 test colour images of 32 x 32 pixels in 10 classes
(:data:`CLASS_NAMES`).

Keras downloads ``cifar-10-python.tar.gz``, whose batches are Python pickles; Neurona never unpickles, so
it reads the *binary* release of the same data from the same host, ``cifar-10-binary.tar.gz``: in
``cifar-10-batches-bin/``, ``data_batch_1.bin`` ... ``data_batch_5.bin`` and ``test_batch.bin`` are
fixed-size records of 1 label byte followed by 3,072 pixel bytes (1,024 red, then green, then blue,
each row by row). The archive is read from ``$NEURONA_DATA_DIR/cifar10/`` (``~/.cache/neurona/cifar10/``)
or downloaded there, checked against its SHA-256 digest (see :mod:`neurona.datasets.remote`), and read
in place, without extracting it.
"""

import tarfile

import numpy as np

from . import remote
from .idx import IdxFormatError

DATASET = "cifar10"
ARCHIVE = "cifar-10-binary.tar.gz"
# The digest tensorflow_datasets checks the archive against (170,052,171 bytes; MD5 c32a1d4ab5d03f1284b67883e8d87530
# on the CIFAR page).
SHA256 = "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"
MIRRORS = ("https://www.cs.toronto.edu/~kriz/",)
FOLDER = "cifar-10-batches-bin"
TRAIN_BATCHES = tuple(f"{FOLDER}/data_batch_{i}.bin" for i in range(1, 6))
TEST_BATCH = f"{FOLDER}/test_batch.bin"
IMAGE_SHAPE = (3, 32, 32)  # as stored: channels first
RECORD_BYTES = 1 + 3 * 32 * 32
CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def load_data(path=None, download=True):
    """Load CIFAR-10 as ``(x_train, y_train), (x_test, y_test)``, like Keras.

    Args:
        path: folder holding ``cifar-10-binary.tar.gz`` (default ``$NEURONA_DATA_DIR/cifar10``).
        download: whether a missing archive may be downloaded (never while ``NEURONA_OFFLINE`` is set).

    Returns:
        uint8 arrays ``x_train (50000, 32, 32, 3)``, ``y_train (50000, 1)``, ``x_test (10000, 32, 32, 3)``,
        ``y_test (10000, 1)`` (channels last, Neurona's only image layout and Keras's default). Labels index
        :data:`CLASS_NAMES`.

    Raises:
        ChecksumError: the cached archive's SHA-256 digest is wrong (it is left in place, unused).
        FileNotFoundError: the archive is neither cached nor downloadable; the message names the URL,
            the cache folder and ``NEURONA_DATA_DIR``.
        IdxFormatError: the archive passed its checksum but lacks a batch or holds malformed records.
    """
    archive = remote.fetch(DATASET, ARCHIVE, SHA256, MIRRORS, remote.dataset_dir(DATASET, path), download)
    with tarfile.open(archive, "r:gz") as tar:
        train = [read_batch(tar, name, archive) for name in TRAIN_BATCHES]
        test = read_batch(tar, TEST_BATCH, archive)
    x_train = np.concatenate([x for x, _ in train])
    y_train = np.concatenate([y for _, y in train])
    return _keras_layout(x_train, y_train), _keras_layout(*test)


def read_batch(tar, name, archive="archive"):
    """The images ``(N, 3, 32, 32)`` and labels ``(N,)`` (uint8) of the batch file ``name`` in the open ``tar``.

    Raises:
        IdxFormatError: the member is missing, not a whole number of records, or has a label above 9.
    """
    try:
        member = tar.getmember(name)
    except KeyError:
        raise IdxFormatError(f"{archive}: no {name} in the archive (is it cifar-10-binary.tar.gz?)") from None
    data = tar.extractfile(member).read() if member.isfile() else b""
    if not data or len(data) % RECORD_BYTES:
        raise IdxFormatError(f"{archive}: {name} holds {len(data)} bytes, expected a positive multiple of the "
                             f"{RECORD_BYTES}-byte records (1 label byte + 3072 pixel bytes)")
    records = np.frombuffer(data, dtype=np.uint8).reshape(-1, RECORD_BYTES)
    labels = records[:, 0].copy()
    if labels.max() >= len(CLASS_NAMES):
        raise IdxFormatError(f"{archive}: {name} has the label {int(labels.max())}, expected 0-9")
    return records[:, 1:].reshape(-1, *IMAGE_SHAPE), labels


def _keras_layout(images, labels):
    return np.ascontiguousarray(images.transpose(0, 2, 3, 1)), labels.reshape(-1, 1)
