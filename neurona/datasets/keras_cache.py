"""The files Keras has already downloaded: its dataset cache, ``$KERAS_HOME/datasets`` (``~/.keras/datasets``).

A machine that has run ``keras.datasets.mnist.load_data()`` holds ``mnist.npz`` there;
Neurona reads it (checked against the SHA-256 digest Keras publishes for it) instead
of downloading the same data again. Keras uses ``/tmp/.keras`` only when its home is
not writable, and so does this module: a file any user can leave in ``/tmp`` is not
read otherwise.
"""

import os

import numpy as np

from . import cache

KERAS_HOME_ENV = "KERAS_HOME"


def keras_home():
    """``$KERAS_HOME``, by default ``~/.keras`` (Keras's ``config.keras_home()``)."""
    return os.path.expanduser(os.environ.get(KERAS_HOME_ENV, os.path.join("~", ".keras")))


def find(name, subdir="datasets"):
    """The path of Keras's cached file ``name`` (absolute, or relative to its cache folder), or None."""
    name = os.path.expanduser(os.fspath(name))
    if os.path.isabs(name):
        return name if os.path.isfile(name) else None
    home = keras_home()
    base = home if os.access(home if os.path.exists(home) else os.path.dirname(home) or ".", os.W_OK) \
        else os.path.join("/tmp", ".keras")
    candidate = os.path.join(base, subdir, name)
    return candidate if os.path.isfile(candidate) else None


def read_npz(path, sha256, keys):
    """The arrays ``keys`` of the ``.npz`` file at ``path``, after its digest is checked (no pickled objects).

    Raises:
        ChecksumError: the file's SHA-256 digest is not ``sha256``.
        ValueError: the file is not an ``.npz`` archive holding every one of ``keys``.
    """
    cache.verify_file(path, sha256)
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [key for key in keys if key not in archive.files]
            if missing:
                raise ValueError(f"{path}: expected the arrays {list(keys)}, the archive lacks {missing}")
            return [archive[key] for key in keys]
    except (OSError, EOFError) as error:  # np.load's errors for a file that is not an .npz archive
        raise ValueError(f"{path}: not a readable .npz archive ({error})") from None
