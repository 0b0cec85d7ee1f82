"""Where dataset files live, how they are checked, and how they are downloaded.

Files are looked for in ``$NEURONA_DATA_DIR/<dataset>/`` (default data directory
``~/.cache/neurona``). A file is trusted only when its SHA-256 digest equals the
published one; a mismatch raises :class:`ChecksumError` naming the path and both
digests, and the file is never used or silently overwritten.

Downloads are atomic: the bytes go to a hidden ``.part`` file in the destination
directory, are hashed while they stream in, and only a file with the right digest
is moved into place with ``os.replace`` (atomic on POSIX and Windows within one
file system). Any failure (network error, timeout, wrong digest, interrupt)
deletes the partial file, so nothing half-written is ever left where a later
run would find it.

Setting ``NEURONA_OFFLINE`` to anything but ``""``, ``0``, ``false`` or ``no``
disables downloads.
"""

import hashlib
import os

from ..files import atomic_output

DATA_DIR_ENV = "NEURONA_DATA_DIR"
OFFLINE_ENV = "NEURONA_OFFLINE"
DEFAULT_DATA_DIR = os.path.join("~", ".cache", "neurona")
DOWNLOAD_TIMEOUT_S = 10.0
_CHUNK = 1 << 16


def urlopen(url, timeout):
    """``urllib.request.urlopen``, imported on first use: it pulls in http, ssl and email (30 ms) at import."""
    from urllib.request import urlopen as open_url

    return open_url(url, timeout=timeout)


class ChecksumError(ValueError):
    """A file's SHA-256 digest is not the expected one."""


class DownloadError(OSError):
    """No mirror could deliver a file with the expected checksum."""


def get_data_dir():
    """The root data directory: ``$NEURONA_DATA_DIR`` if set, else ``~/.cache/neurona``."""
    return os.path.abspath(os.path.expanduser(os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR))


def offline():
    """True when ``NEURONA_OFFLINE`` forbids downloads."""
    return os.environ.get(OFFLINE_ENV, "").strip().lower() not in ("", "0", "false", "no")


def sha256_file(path):
    """Hex SHA-256 digest of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_file(path, expected_sha256):
    """Raise :class:`ChecksumError` unless ``path`` has the SHA-256 digest ``expected_sha256``."""
    actual = sha256_file(path)
    if actual != expected_sha256:
        raise ChecksumError(
            f"{path}: SHA-256 checksum mismatch: expected {expected_sha256}, got {actual}. "
            "The file is corrupt or not the original; it was not used. Delete or replace it."
        )


def download_file(url, path, sha256, timeout=DOWNLOAD_TIMEOUT_S):
    """Download ``url`` to ``path`` atomically, keeping it only if its SHA-256 is ``sha256``.

    Raises:
        ChecksumError: the server sent bytes with another digest (nothing is written).
        OSError: any network or file-system failure (nothing is written).
    """
    with urlopen(url, timeout=timeout) as response:
        # The directory is created only once a server answers, so offline runs leave no trace.
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with atomic_output(path) as out:
            digest = hashlib.sha256()
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                digest.update(chunk)
                out.write(chunk)
            if digest.hexdigest() != sha256:
                raise ChecksumError(f"{url}: downloaded data has SHA-256 {digest.hexdigest()}, "
                                    f"expected {sha256}; not saved to {path}")


def download_from_mirrors(filename, directory, sha256, mirrors, timeout=DOWNLOAD_TIMEOUT_S):
    """Try each mirror in turn for ``filename`` and save it as ``directory/filename``.

    Args:
        filename: name of the file on the mirrors and on disk.
        directory: destination directory (created once a mirror answers).
        sha256: expected hex digest.
        mirrors: base URLs ending with ``/``, tried in order.
        timeout: seconds before a connection or read is abandoned.

    Returns:
        The path of the verified file.

    Raises:
        DownloadError: every mirror failed; the message lists each failure.
    """
    from http.client import HTTPException  # here, not at import: http.client pulls in email and ssl

    path = os.path.join(directory, filename)
    failures = []
    for base in mirrors:
        try:
            download_file(base + filename, path, sha256, timeout)
            return path
        # URLError and timeouts are OSErrors, a dropped connection an HTTPException, a bad digest a ChecksumError.
        except (OSError, HTTPException, ChecksumError) as err:
            failures.append(f"{base + filename}: {err}")
    raise DownloadError(f"could not download {filename}: " + "; ".join(failures))
