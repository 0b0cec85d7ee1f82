"""Writing a file whole or not at all, for every part of Neurona (this module imports nothing from Neurona).

``atomic_output(path)`` hands out a temporary file beside ``path`` and renames
it over ``path`` (``os.replace``, atomic on POSIX and Windows within one
filesystem) only when the ``with`` body succeeds: a reader sees the old file or
the new one, never half of one. Saved models use ``saving.atomic``, which adds
fsync and locking for their two files.
"""

import contextlib
import os
import stat
import uuid


@contextlib.contextmanager
def atomic_output(path):
    """Open a temporary file beside ``path`` for binary writing; move it to ``path`` only on success.

    A file replaced this way keeps its permission bits; a new one gets the usual ``0o666`` less the umask.

    Yields:
        A binary file object. If the ``with`` body raises, the temporary file is
        removed and ``path`` is left exactly as it was.
    """
    path = os.fspath(path)
    directory, name = os.path.split(os.path.abspath(path))
    tmp = os.path.join(directory, f".{name}.{uuid.uuid4().hex[:12]}.part")
    try:
        with open(tmp, "xb") as f:
            yield f
        with contextlib.suppress(FileNotFoundError):
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
