"""Atomic writes: a file or a folder appears whole or not at all, so a killed save never destroys the last one.

A file is written to a temporary file in the same directory, flushed and
fsynced, then renamed over the target with ``os.replace`` (atomic on POSIX and
Windows when both paths are on one file system, which the same directory
guarantees).

A folder (a saved model: ``model.json`` + ``model.h5``) cannot be swapped for
another in one rename, since ``rename(2)`` refuses to replace a non-empty
directory. It is written whole into a temporary folder beside the target, then
swapped in with two renames::

    target  -> .target.previous      (1)
    tmp     -> target                (2), then .target.previous is deleted

A process killed before (1) leaves the target untouched; one killed between
(1) and (2) leaves the previous save complete under ``.target.previous``,
which readers use (``readable_folder``) and the next save puts back first
(``recover_folder``); one killed after (2) leaves the new save. Temporary
folders left by killed writers carry the writer's process id and are removed
by the next save once that process is gone.
"""

import contextlib
import os
import shutil
import tempfile

TMP_TAG = ".tmp-"
BACKUP_SUFFIX = ".previous"


def fsync_path(path):
    """Flush ``path`` (a file, or a directory's entries) to disk; directories are skipped where unsupported."""
    is_dir = os.path.isdir(path)
    if is_dir and os.name != "posix":  # Windows cannot open a directory for fsync
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _split(path):
    path = os.path.abspath(os.fspath(path))
    parent, name = os.path.split(path.rstrip(os.sep))
    if not name:
        raise ValueError(f"cannot save to {path!r}: expected a file or folder name, not a root directory")
    return parent, name


def _tmp_prefix(name):
    return f".{name}{TMP_TAG}{os.getpid()}-"


@contextlib.contextmanager
def atomic_file(path, mode="wb"):
    """Open a temporary file beside ``path``; on a clean exit flush, fsync and rename it to ``path``.

    On an exception the temporary file is removed and ``path`` is left as it was.

    Yields:
        The path of the temporary file (writers that open files themselves, such as h5py, use it).
    """
    parent, name = _split(path)
    os.makedirs(parent, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=_tmp_prefix(name), dir=parent)
    os.close(fd)
    try:
        yield tmp
        fsync_path(tmp)
        os.replace(tmp, os.path.join(parent, name))
        fsync_path(parent)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def write_bytes(path, data):
    """Write ``data`` to ``path`` atomically."""
    with atomic_file(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()


def backup_path(path):
    """Where the previous version of the folder ``path`` waits during the swap."""
    parent, name = _split(path)
    return os.path.join(parent, f".{name}{BACKUP_SUFFIX}")


def readable_folder(path):
    """The folder holding the latest complete save of ``path``: ``path`` itself, or its backup when a save
    was killed between its two renames (read-only: nothing is moved)."""
    path = os.fspath(path)
    backup = backup_path(path)
    if not os.path.exists(path) and os.path.isdir(backup):
        return backup
    return path


def recover_folder(path):
    """Finish what a killed save of the folder ``path`` left: restore the backup, or delete a stale one."""
    backup = backup_path(path)
    if not os.path.isdir(backup):
        return
    if os.path.exists(path):  # the swap completed; only deleting the backup was cut short
        shutil.rmtree(backup)
    else:  # killed between the two renames: the previous save comes back
        os.rename(backup, path)
        fsync_path(os.path.dirname(backup))


def _remove_orphans(parent, name):
    """Delete temporary files and folders of ``name`` left by writers that were killed (POSIX only)."""
    if os.name != "posix":
        return
    prefix = f".{name}{TMP_TAG}"
    for entry in os.listdir(parent):
        if not entry.startswith(prefix):
            continue
        pid = entry[len(prefix):].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            target = os.path.join(parent, entry)
            if os.path.isdir(target):
                shutil.rmtree(target, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    os.remove(target)


def _alive(pid):
    try:
        os.kill(pid, 0)  # signal 0 checks existence only (never called on Windows, where it would terminate)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def atomic_folder(path, overwrite=True):
    """Fill a fresh temporary folder beside ``path``; on a clean exit swap it in for ``path``.

    Every file written into the folder must be complete when the block ends
    (writers close their files; this function fsyncs them and the folder).

    Args:
        path: the folder to (re)place.
        overwrite: if False, an existing ``path`` raises ``FileExistsError`` before anything is written.

    Yields:
        The temporary folder's path.
    """
    parent, name = _split(path)
    target = os.path.join(parent, name)
    if os.path.exists(target) and not os.path.isdir(target):
        raise FileExistsError(f"cannot save a model folder to {target!r}: a file of that name exists")
    if not overwrite and os.path.exists(target):
        raise FileExistsError(f"{target!r} exists and overwrite=False")
    os.makedirs(parent, exist_ok=True)
    _remove_orphans(parent, name)
    tmp = tempfile.mkdtemp(prefix=_tmp_prefix(name), dir=parent)
    try:
        yield tmp
        for entry in os.listdir(tmp):
            fsync_path(os.path.join(tmp, entry))
        fsync_path(tmp)
        _swap_in(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _swap_in(tmp, target):
    recover_folder(target)
    backup = backup_path(target)
    parent = os.path.dirname(target)
    if os.path.exists(target):
        os.rename(target, backup)
        fsync_path(parent)
    os.rename(tmp, target)
    fsync_path(parent)
    if os.path.isdir(backup):
        shutil.rmtree(backup)
