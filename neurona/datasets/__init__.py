"""Datasets and CPU-side data preparation.

``datasets.mnist.load_data()`` returns MNIST exactly like Keras; see :mod:`neurona.datasets.mnist`
for where the files come from; ``fashion_mnist``, ``cifar10`` and ``imdb`` load like Keras's too (see
:mod:`~neurona.datasets.remote`). :mod:`~neurona.datasets.idx` reads and writes the IDX format,
:mod:`~neurona.datasets.cache` handles the data directory, checksums and atomic downloads.
"""

from . import cifar10, fashion_mnist, imdb, mnist
from .cache import ChecksumError, DownloadError, get_data_dir
from .idx import IdxFormatError, read_idx, write_idx
from .preprocessing import StandardizeStats, flatten_images, scale_pixels, standardize

__all__ = [
    "mnist", "fashion_mnist", "cifar10", "imdb", "ChecksumError", "DownloadError", "get_data_dir",
    "IdxFormatError", "read_idx", "write_idx",
    "StandardizeStats", "flatten_images", "scale_pixels", "standardize",
]
