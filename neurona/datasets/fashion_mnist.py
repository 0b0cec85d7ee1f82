"""Fashion-MNIST, loaded like ``keras.datasets.fashion_mnist.load_data``.

H. Xiao, K. Rasul and R. Vollgraf, "Fashion-MNIST: a novel image dataset for benchmarking machine learning
algorithms", arXiv:1708.07747, 2017 (Zalando SE, MIT license). 60,000 training and 10,000 test images of
28 x 28 uint8 grey levels of clothing, in the IDX format of MNIST, labels 0-9 (:data:`CLASS_NAMES`).

The four gzip files are read from ``$NEURONA_DATA_DIR/fashion_mnist/`` (``~/.cache/neurona/fashion_mnist/``),
else from Keras's cache (``~/.keras/datasets/fashion-mnist/``), else downloaded, each checked against its
SHA-256 digest below; see :mod:`neurona.datasets.remote`.
"""

import os

from . import remote
from .idx import read_idx
from .mnist import _checked_pair

DATASET = "fashion_mnist"
# In load order: train images, train labels, test images, test labels.
FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
# SHA-256 of the files Zalando publishes (the digests tensorflow_datasets checks them against); their MD5s, in
# the Fashion-MNIST README: 8d4fb7e6c68d591d4c3dfef9ec88bf0d, 25c81989df183df01b3e8a0aad5dffbe,
# bef4ecab320f06d8554ea6380940ec79, bb300cfdad3c16e7a12a480ee83cd310 (same order as FILES).
SHA256 = {
    "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
}
MIRRORS = (
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",  # where Keras downloads them from
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
)
KERAS_SUBDIR = os.path.join("datasets", "fashion-mnist")
CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot")


def load_data(path=None, download=True):
    """Load Fashion-MNIST as ``(x_train, y_train), (x_test, y_test)``, like Keras.

    Args:
        path: folder holding the four ``*-ubyte.gz`` files (default ``$NEURONA_DATA_DIR/fashion_mnist``).
        download: whether missing files may be downloaded (never while ``NEURONA_OFFLINE`` is set).

    Returns:
        uint8 arrays ``x_train (60000, 28, 28)``, ``y_train (60000,)``, ``x_test (10000, 28, 28)``,
        ``y_test (10000,)``; labels index :data:`CLASS_NAMES`.

    Raises:
        ChecksumError: a cached file's SHA-256 digest is wrong (it is left in place, unused).
        FileNotFoundError: a file is neither cached nor downloadable; the message names the URLs,
            the cache folder and ``NEURONA_DATA_DIR``.
        IdxFormatError: a file passed its checksum but does not hold 28 x 28 images and matching labels.
    """
    directory = remote.dataset_dir(DATASET, path)
    paths = [remote.fetch(DATASET, name, SHA256[name], MIRRORS, directory, download, KERAS_SUBDIR)
             for name in FILES]
    return tuple(_read_pair(images, labels) for images, labels in (paths[:2], paths[2:]))


def _read_pair(images_path, labels_path):
    images = read_idx(images_path, expected_ndim=3, expected_dtype="uint8")
    labels = read_idx(labels_path, expected_ndim=1, expected_dtype="uint8")
    return _checked_pair(images, labels, images_path, labels_path)
