"""Find or fetch one published dataset file: the cache folder, Keras's cache, then a checked download.

The datasets other than MNIST (which also has an embedded subset, see :mod:`.mnist`) share one rule:

1. ``directory/name``, by default ``$NEURONA_DATA_DIR/<dataset>/name`` (``~/.cache/neurona/<dataset>/``),
   checked against its published SHA-256 digest: a file with another digest raises
   :class:`~neurona.datasets.cache.ChecksumError` and is never used or replaced;
2. else, where Keras caches the same file (``$KERAS_HOME/datasets/<subfolder>/name``), that file when its
   digest is right (one with another digest is skipped, with a warning naming it);
3. else a download from each mirror in turn into ``directory`` (atomic, digest checked), unless
   ``download=False`` or ``NEURONA_OFFLINE`` is set;
4. else a ``FileNotFoundError`` naming the URLs, the cache path and ``NEURONA_DATA_DIR``.
"""

import os
import warnings

import numpy as np

from . import cache, keras_cache


def dataset_dir(dataset, path=None):
    """The folder a dataset's files are kept in: ``path``, or ``$NEURONA_DATA_DIR/<dataset>``.

    Raises:
        TypeError: ``path`` is neither None nor a path.
        NotADirectoryError: ``path`` names a file.
    """
    if path is None:
        return os.path.join(cache.get_data_dir(), dataset)
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{dataset}.load_data: path must be None or a directory path (str or os.PathLike), "
                        f"got {path!r} ({type(path).__name__})")
    directory = os.path.abspath(os.path.expanduser(os.fspath(path)))
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise NotADirectoryError(f"{dataset}.load_data: path must be a directory, got the file {directory}")
    return directory


def _from_keras_cache(name, sha256, keras_subdir):
    found = keras_cache.find(name, subdir=keras_subdir) if keras_subdir else None
    if found is None:
        return None
    try:
        cache.verify_file(found, sha256)
    except cache.ChecksumError as error:
        warnings.warn(f"neurona.datasets: not using Keras's cached {found}: {error}", stacklevel=4)
        return None
    return found


def fetch(dataset, name, sha256, mirrors, directory, download=True, keras_subdir=None):
    """The path of the verified file ``name`` of ``dataset`` (see the module docstring for the order).

    Args:
        dataset: the dataset's name, used in messages (``"cifar10"``).
        name: the file's name, on disk and on the mirrors.
        sha256: its published hex digest.
        mirrors: base URLs ending in ``/``, tried in order.
        directory: the cache folder (see :func:`dataset_dir`).
        download: whether a missing file may be downloaded.
        keras_subdir: the folder under ``$KERAS_HOME`` where Keras caches the same file, or None.

    Raises:
        ChecksumError: the cached file's digest is wrong.
        FileNotFoundError: the file is neither cached nor downloadable.
    """
    if not isinstance(download, (bool, np.bool_)):  # "no" is truthy: it would download what it means to forbid
        raise TypeError(f"{dataset}.load_data: download must be True or False, got {download!r}")
    path = os.path.join(directory, name)
    if os.path.isfile(path):
        cache.verify_file(path, sha256)
        return path
    found = _from_keras_cache(name, sha256, keras_subdir)
    if found is not None:
        return found
    if not download:
        why, detail = "download=False", None
    elif cache.offline():
        why, detail = f"downloads are disabled ({cache.OFFLINE_ENV} is set)", None
    else:
        try:
            return cache.download_from_mirrors(name, directory, sha256, mirrors)
        except cache.DownloadError as error:
            why, detail = "the download failed", str(error)
    urls = " or ".join(base + name for base in mirrors)
    raise FileNotFoundError(
        f"neurona.datasets.{dataset}: {name} is not in {directory} and {why}{': ' + detail if detail else ''}. "
        f"Download {urls} (SHA-256 {sha256}) into {directory}, or set ${cache.DATA_DIR_ENV} to a data "
        f"directory whose {dataset}/ folder holds it, or allow downloads with network access")
