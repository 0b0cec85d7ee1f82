"""MNIST handwritten digits, loaded like ``keras.datasets.mnist.load_data``.

Y. LeCun, L. Bottou, Y. Bengio and P. Haffner, "Gradient-based learning applied
to document recognition", Proc. IEEE 86(11), 1998. 60,000 training and 10,000
test images of 28 x 28 uint8 grey levels (0 = background, 255 = ink), labels 0-9.

Where the data comes from (``source="auto"``):

1. the directory ``path``, or ``$NEURONA_DATA_DIR/mnist/`` (default ``~/.cache/neurona/mnist/``):
   the four original gzip files, each checked against its SHA-256 digest below. A file
   with a wrong digest raises :class:`~neurona.datasets.cache.ChecksumError`; it is never
   used, replaced or skipped over.
2. else Keras's own download, ``mnist.npz`` in ``$KERAS_HOME/datasets/`` (``~/.keras/datasets/``),
   checked against the digest Keras publishes; ``path="mnist.npz"`` (Keras's argument: a file
   name in that folder, or an absolute path) asks for that file first;
3. missing files are downloaded into that directory (atomically, digest checked) when
   ``download=True`` and ``NEURONA_OFFLINE`` is not set;
4. otherwise the subset embedded in the package (10,000 train / 2,000 test images drawn
   from the original files by :mod:`neurona.datasets.make_subset`).

Every call prints one line to stderr saying which data it returned (unless
``verbose=False``), and :func:`last_source` returns the same facts as a
:class:`MnistSource` so programs can check, e.g., that a benchmark ran on the full set.
"""

import dataclasses
import os
import sys
import warnings

import numpy as np

from . import cache, keras_cache
from .idx import IdxFormatError, read_idx

# The original files, in load order (train images, train labels, test images, test labels).
FULL_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
# SHA-256 of the original gzip files, the digests every file is checked against.
# The MD5 sums that mirrors and other libraries publish, for cross-reference:
#   train-images-idx3-ubyte.gz  f68b3c2dcbeaaa9fbdd348bbdeb94873
#   train-labels-idx1-ubyte.gz  d53e105ee54ea40749a09fcbcd1e9432
#   t10k-images-idx3-ubyte.gz   9fb629c4189551a2d022fa330f9573f3
#   t10k-labels-idx1-ubyte.gz   ec29112dd5afa0611ce80d1b7f02629c
FULL_SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
# Keras's single-file copy of the same data (its `keras.datasets.mnist.load_data` file and digest)
KERAS_NPZ = "mnist.npz"
KERAS_NPZ_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
KERAS_NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
MIRRORS = (
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
)

EMBEDDED_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
EMBEDDED_FILES = (
    "mnist-subset-train-images-idx3-ubyte.gz",
    "mnist-subset-train-labels-idx1-ubyte.gz",
    "mnist-subset-test-images-idx3-ubyte.gz",
    "mnist-subset-test-labels-idx1-ubyte.gz",
)
# Written by `python -m neurona.datasets.make_subset`, which prints this table.
EMBEDDED_SHA256 = {
    "mnist-subset-train-images-idx3-ubyte.gz": "d6cc53e1aaa8377cb27c01600cf85857a63c818501abec2c9137ec6707cb5522",
    "mnist-subset-train-labels-idx1-ubyte.gz": "88413d81f4c70c947d80607a2e53e8e32f2bcade24622ea93747aed9579b61d1",
    "mnist-subset-test-images-idx3-ubyte.gz": "2bf10c3d32b7548cb1036a6b52cd62ff9dbc0a40050e22f655b252a34bf9e7af",
    "mnist-subset-test-labels-idx1-ubyte.gz": "b1e6c389ae672c1d8035314a243b4481337a05a894ae941903035fd24d5a527e",
}

IMAGE_SHAPE = (28, 28)
NUM_CLASSES = 10
SOURCES = ("auto", "full", "embedded")


@dataclasses.dataclass(frozen=True)
class MnistSource:
    """Which MNIST data a :func:`load_data` call returned.

    Attributes:
        kind: ``"full"`` (the original 60,000 / 10,000 files) or ``"embedded"`` (the packaged subset).
        path: directory the four files were read from.
        num_train: number of training images returned.
        num_test: number of test images returned.
        reason: why the embedded subset was used instead of the full set
            (``None`` for the full set or when ``source="embedded"`` was asked for).
        detail: the download errors behind ``reason``, one per mirror tried, or None.
    """

    kind: str
    path: str
    num_train: int
    num_test: int
    reason: str | None = None
    detail: str | None = None

    @property
    def is_full(self):
        """True when the original full MNIST files were used."""
        return self.kind == "full"

    def describe(self):
        """The one-line summary ``load_data`` prints to stderr."""
        counts = f"{self.num_train:,} train / {self.num_test:,} test"
        if self.is_full:
            return f"neurona.datasets.mnist: full MNIST ({counts}) from {self.path}"
        why = f"{self.reason}; using" if self.reason else "using"
        return (f"neurona.datasets.mnist: {why} the embedded subset ({counts} images "
                f"drawn from the original files) from {self.path}")


_last_source = None


def last_source():
    """The :class:`MnistSource` of the latest :func:`load_data` call in this process (None before any)."""
    return _last_source


def load_data(path=None, source="auto", download=True, verbose=True):
    """Load MNIST as ``(x_train, y_train), (x_test, y_test)``, like Keras.

    Args:
        path: directory holding the four original ``*-ubyte.gz`` files; default
            ``$NEURONA_DATA_DIR/mnist`` (``~/.cache/neurona/mnist``). A name ending in ``.npz``
            is Keras's meaning of the argument: that file in Keras's cache folder (or at that
            absolute path), read when present; Keras's default ``"mnist.npz"`` is always looked for.
        source: ``"auto"`` (full set if present or downloadable, else the embedded
            subset), ``"full"`` (the full set or an error) or ``"embedded"`` (the subset).
        download: whether missing full files may be downloaded (never when the
            ``NEURONA_OFFLINE`` environment variable is set).
        verbose: print one line to stderr saying which data was returned.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 arrays of shapes ``(N, 28, 28)``
        and ``(N,)``; N = 60,000 / 10,000 for the full set, 10,000 / 2,000 for the subset.

    Raises:
        ChecksumError: a file is present but its SHA-256 digest is wrong (also with "auto").
        FileNotFoundError: ``source="full"`` and the full files are neither present nor downloadable.
        IdxFormatError: a file passed its checksum but does not hold MNIST-shaped arrays.
        ValueError: ``source`` is not one of "auto", "full", "embedded".
        TypeError: ``path`` is not None, a string or a path object, or ``download``/``verbose`` is not a bool.
    """
    global _last_source
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
    if path is not None and not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(f"mnist.load_data: path must be None or a directory path (str or os.PathLike), "
                        f"got {path!r} ({type(path).__name__})")
    for what, flag in (("download", download), ("verbose", verbose)):
        if not isinstance(flag, (bool, np.bool_)):  # "no" is a non-empty string: truthy, so it would download
            raise TypeError(f"mnist.load_data: {what} must be True or False, got {flag!r} ({type(flag).__name__})")
    npz_name = KERAS_NPZ
    if path is not None and os.fspath(path).endswith(".npz"):
        npz_name, path = os.fspath(path), None
    if source == "embedded":
        arrays, info = _load_embedded(reason=None, detail=None)
    elif (arrays := _from_keras_cache(path, npz_name)) is not None:
        arrays, npz = arrays
        info = MnistSource("full", npz, len(arrays[0][0]), len(arrays[1][0]))
    else:
        directory = _resolve_dir(path)
        unavailable, detail = _ensure_full_files(directory, download)
        if unavailable is None:
            arrays = _read_split_files(directory, FULL_FILES)
            info = MnistSource("full", directory, len(arrays[0][0]), len(arrays[1][0]))
        elif source == "full":
            raise FileNotFoundError(_not_found_message(directory, unavailable, detail))
        else:
            reason = f"full MNIST files not found in {directory} and {unavailable}"
            arrays, info = _load_embedded(reason, detail)
    _last_source = info
    if verbose:
        print(info.describe(), file=sys.stderr)
    return arrays


def _keras_npz(path, name):
    """Keras's ``mnist.npz`` when no full set of gzip files is in the directory Neurona reads first."""
    directory = _resolve_dir(path)
    if all(os.path.isfile(os.path.join(directory, file)) for file in FULL_FILES):
        return None
    return keras_cache.find(name)


def _from_keras_cache(path, name):
    """``(arrays, file)`` from Keras's cached ``mnist.npz``, or None when there is none or it is not Keras's file.

    A file there with another digest (a partial Keras download, another dataset) is Keras's to replace, as Keras
    does when it finds one: it is never used, and the next source is tried, with a warning that names it.
    """
    npz = _keras_npz(path, name)
    if npz is None:
        return None
    try:
        return _read_keras_npz(npz), npz
    except (cache.ChecksumError, ValueError, IdxFormatError) as error:
        warnings.warn(f"neurona.datasets.mnist: not using Keras's cached {npz}: {error}", stacklevel=3)
        return None


def _read_keras_npz(path):
    x_train, y_train, x_test, y_test = keras_cache.read_npz(path, KERAS_NPZ_SHA256, KERAS_NPZ_KEYS)
    return _checked_pair(x_train, y_train, path), _checked_pair(x_test, y_test, path)


def _resolve_dir(path):
    if path is None:
        return os.path.join(cache.get_data_dir(), "mnist")
    directory = os.path.abspath(os.path.expanduser(os.fspath(path)))
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise NotADirectoryError(f"path must be a directory holding the four MNIST files {FULL_FILES}, "
                                 f"got the file {directory}")
    return directory


def _ensure_full_files(directory, download):
    """Check the present files and fetch the missing ones.

    Returns:
        ``(None, None)`` when all four files are ready, else ``(why not, download errors or None)``.
    """
    missing = []
    for name in FULL_FILES:
        file_path = os.path.join(directory, name)
        if os.path.isfile(file_path):
            cache.verify_file(file_path, FULL_SHA256[name])
        else:
            missing.append(name)
    if not missing:
        return None, None
    if not download:
        return "download=False", None
    if cache.offline():
        return f"download disabled ({cache.OFFLINE_ENV} is set)", None
    try:
        for name in missing:
            cache.download_from_mirrors(name, directory, FULL_SHA256[name], MIRRORS)
    except cache.DownloadError as err:
        return "download unavailable", str(err)
    return None, None


def _not_found_message(directory, unavailable, detail):
    why = f"{unavailable}: {detail}" if detail else unavailable
    return (f"source='full' needs the full MNIST files, but they are not all in {directory} and {why}. "
            f"Put {', '.join(FULL_FILES)} in that directory (or pass path=, or set ${cache.DATA_DIR_ENV} "
            f"to a directory whose mnist/ subdirectory holds them), allow download=True with network access, "
            f"or use source='auto'/'embedded' for the bundled subset")


def _load_embedded(reason, detail):
    for name in EMBEDDED_FILES:
        cache.verify_file(os.path.join(EMBEDDED_DIR, name), EMBEDDED_SHA256[name])
    arrays = _read_split_files(EMBEDDED_DIR, EMBEDDED_FILES)
    info = MnistSource("embedded", EMBEDDED_DIR, len(arrays[0][0]), len(arrays[1][0]), reason, detail)
    return arrays, info


def _read_split_files(directory, names):
    paths = [os.path.join(directory, name) for name in names]
    train = _read_pair(paths[0], paths[1])
    test = _read_pair(paths[2], paths[3])
    return train, test


def _read_pair(images_path, labels_path):
    images = read_idx(images_path, expected_ndim=3, expected_dtype="uint8")
    labels = read_idx(labels_path, expected_ndim=1, expected_dtype="uint8")
    return _checked_pair(images, labels, images_path, labels_path)


def _checked_pair(images, labels, images_path, labels_path=None):
    """Images ``(N, 28, 28)`` uint8 and as many digit labels, or an IdxFormatError naming the file."""
    labels_path = labels_path or images_path
    if images.dtype != np.uint8 or labels.dtype != np.uint8 or images.ndim != 3 or labels.ndim != 1:
        raise IdxFormatError(f"{images_path}: expected uint8 images (N, 28, 28) and uint8 labels (N,), got "
                             f"{images.dtype} {images.shape} and {labels.dtype} {labels.shape}")
    if images.shape[1:] != IMAGE_SHAPE:
        raise IdxFormatError(f"{images_path}: expected images of shape (N, 28, 28), got {images.shape}")
    if len(images) != len(labels):
        raise IdxFormatError(f"{labels_path}: {len(labels)} labels for the {len(images)} images of {images_path}")
    if labels.size and labels.max() >= NUM_CLASSES:
        raise IdxFormatError(f"{labels_path}: labels must be digits 0-9, found {int(labels.max())}")
    return images, labels
