"""Atomic, serialized writes and consistent reads: a save appears whole or not at all, concurrent saves to one
path take turns, and a reader always gets one complete save, never a mix of two.

Files. A file is written to a temporary file in the same directory, flushed
and fsynced, then renamed over the target with ``os.replace`` (atomic on POSIX
and Windows when both paths are on one file system, which the same directory
guarantees).

Folders. A folder (a saved model: ``model.json`` + ``model.h5``) cannot be
swapped for another in one rename, since ``rename(2)`` refuses to replace a
non-empty directory. It is written whole into a temporary folder beside the
target, then swapped in with two renames::

    target  -> .target.previous      (1)
    tmp     -> target                (2), then .target.previous is deleted

A process killed before (1) leaves the target untouched; one killed between
(1) and (2) leaves the previous save complete under ``.target.previous``,
which readers use (``readable_folder``) and the next save puts back first
(``recover_folder``); one killed after (2) leaves the new save. Temporary
folders left by killed writers carry the writer's process id and are removed
by the next save once that process is gone.

Concurrent writers. The swap (recovering a killed save, the two renames,
deleting the backup) runs under an exclusive ``fcntl.flock`` on the lock file
``.target.lock`` beside the target, so processes or threads saving to one path
take turns: every save lands whole and the last one to swap wins. Writing the
temporary folder, which takes the time, is not under the lock. The holder
deletes the lock file before releasing it; a writer that was waiting on the
deleted file sees that the path now names another file (or none) and locks
again, so two writers never hold "the" lock at once. Where ``fcntl`` does not
exist (Windows) saves to one folder are not serialized.

Concurrent readers. Readers take no lock: they need no write access to the
parent folder and never wait for a writer. ``open_folder`` opens the folder
once (a directory descriptor) and every file relative to it, so all the files
come from one save whatever is renamed meanwhile: a published folder is never
modified, only renamed and, once replaced, deleted. When a file has vanished
because its folder was replaced and deleted, the reader starts again from the
path (a bounded number of times); a file absent from the folder that is still
the published one is reported as missing.

Symbolic links. The path is resolved first (``os.path.realpath``): a save
replaces the folder or file a link points to, and the link keeps pointing at
the new save; lock and backup live beside the real target.

Permissions. Temporary files and folders are created as ``open()`` and
``mkdir()`` create them (files 0o666, folders 0o777, less the umask), not with
``tempfile``'s private 0o600/0o700, so a save gets the permissions any other
file written by the process gets; a save that replaces an earlier one gives
the new file or folder the earlier one's permission bits (``keep_mode``), as
rewriting a file in place would.

Errors. An ``OSError`` met while saving (disk full, file size limit, no
permission) is raised again with the same errno and a message naming the
user's path, never a temporary one; the previous save is left as it was.
"""

import contextlib
import errno as errno_codes
import os
import secrets
import shutil
import stat
import time

try:
    import fcntl
except ImportError:  # Windows: no advisory locks (see the module docstring)
    fcntl = None

TMP_TAG = ".tmp-"
BACKUP_SUFFIX = ".previous"
LOCK_SUFFIX = ".lock"
READ_ATTEMPTS = 50
FULL = {errno_codes.ENOSPC, errno_codes.EFBIG, getattr(errno_codes, "EDQUOT", errno_codes.ENOSPC)}
_DIR_FD = os.open in os.supports_dir_fd and hasattr(os, "O_DIRECTORY")


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
    """``(parent, name)`` of the real target of ``path`` (absolute, symbolic links resolved)."""
    real = os.path.realpath(os.fspath(path))
    parent, name = os.path.split(real.rstrip(os.sep))
    if not name:
        raise ValueError(f"cannot save to {os.fspath(path)!r}: expected a file or folder name, not a root directory")
    return parent, name


def _tmp_prefix(name):
    return f".{name}{TMP_TAG}{os.getpid()}-"


def save_error(error, path):
    """``error``, an ``OSError`` met while saving to ``path``, as an ``OSError`` of the same errno naming ``path``."""
    path = os.fspath(path)
    hint = " (the disk is full, or a quota or file size limit was reached)" if error.errno in FULL else ""
    message = (f"cannot save to {path!r}: writing failed: {error.strerror or error}{hint}; the previous save at "
               f"{path!r}, if any, is intact")
    return OSError(error.errno, message) if error.errno is not None else OSError(message)


def _new_tmp(parent, name, folder):
    """Create a temporary file or folder beside ``name`` with the permissions an ordinary write gives it."""
    for _ in range(100):
        tmp = os.path.join(parent, f"{_tmp_prefix(name)}{secrets.token_hex(4)}")
        try:
            if folder:
                os.mkdir(tmp, 0o777)  # the kernel applies the umask, as for any mkdir
            else:
                os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno_codes.EEXIST, f"no free temporary name for {name!r} in {parent!r}")


@contextlib.contextmanager
def atomic_file(path, mode="wb"):
    """Create a temporary file beside ``path``; on a clean exit fsync it and rename it to ``path``.

    On an exception the temporary file is removed and ``path`` is left as it was; an ``OSError`` is raised
    again naming ``path`` (``save_error``).

    Yields:
        The path of the temporary file (writers open it themselves).
    """
    parent, name = _split(path)
    try:
        os.makedirs(parent, exist_ok=True)
        tmp = _new_tmp(parent, name, folder=False)
    except OSError as error:
        raise save_error(error, path) from None
    try:
        yield tmp
        fsync_path(tmp)
        keep_mode(tmp, os.path.join(parent, name))
        os.replace(tmp, os.path.join(parent, name))
        fsync_path(parent)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        if isinstance(error, OSError) and error.errno is not None:
            raise save_error(error, path) from None
        raise


def write_bytes(path, data):
    """Write ``data`` (bytes or a buffer) to ``path`` atomically."""
    with atomic_file(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()


def backup_path(path):
    """Where the previous version of the folder ``path`` waits during the swap."""
    parent, name = _split(path)
    return os.path.join(parent, f".{name}{BACKUP_SUFFIX}")


def readable_folder(path):
    """The folder holding the latest complete save of ``path`` (links resolved): the target itself, or its
    backup when a save was killed between its two renames (read-only: nothing is moved)."""
    real = os.path.realpath(os.fspath(path))
    parent, name = os.path.split(real)
    if not name:
        return real
    backup = os.path.join(parent, f".{name}{BACKUP_SUFFIX}")
    if not os.path.exists(real) and os.path.isdir(backup):
        return backup
    return real


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
def writer_lock(parent, name):
    """Hold the exclusive lock of the target ``name`` in ``parent`` (see "Concurrent writers" above)."""
    if fcntl is None:
        yield
        return
    lock_path = os.path.join(parent, f".{name}{LOCK_SUFFIX}")
    while True:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:  # the holder we waited for may have deleted this file: then lock the one at the path now
                current = os.path.samestat(os.fstat(fd), os.stat(lock_path))
            except FileNotFoundError:
                current = False
        except BaseException:
            os.close(fd)
            raise
        if current:
            break
        os.close(fd)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.remove(lock_path)  # while still holding it, so that waiters on this file lock again
        os.close(fd)


def check_replaceable(path, target, replaces):
    """Raise ``FileExistsError`` unless the existing folder ``target`` holds only names in ``replaces``.

    A save replaces the whole folder: a folder of the user's own files (``model.save("~/Documents")``) must be
    refused, never emptied.
    """
    try:
        foreign = sorted(set(os.listdir(target)) - set(replaces))
    except FileNotFoundError:
        return
    if foreign:
        shown = ", ".join(repr(entry) for entry in foreign[:5]) + (", ..." if len(foreign) > 5 else "")
        raise FileExistsError(f"cannot save to {os.fspath(path)!r}: the folder exists and holds "
                              f"{len(foreign)} file(s) that are not part of a save ({shown}); a save replaces the "
                              "whole folder, so choose a new or empty folder, or remove them first")


@contextlib.contextmanager
def atomic_folder(path, overwrite=True, replaces=None):
    """Fill a fresh temporary folder beside ``path``; on a clean exit swap it in for ``path`` (under the lock).

    Every file written into the folder must be complete when the block ends
    (writers close their files; this function fsyncs them and the folder).

    Args:
        path: the folder to (re)place; a symbolic link is followed (its target is replaced).
        overwrite: if False, an existing ``path`` raises ``FileExistsError`` (checked again under the lock).
        replaces: the names an existing folder may hold to be replaced (those of an earlier save); one that
            holds anything else raises ``FileExistsError`` and is left untouched. None: any folder is replaced.

    Yields:
        The temporary folder's path.
    """
    parent, name = _split(path)
    target = os.path.join(parent, name)
    if _is_file(target):
        raise FileExistsError(f"cannot save a model folder to {os.fspath(path)!r}: a file of that name exists")
    if not overwrite and os.path.exists(target):
        raise FileExistsError(f"{os.fspath(path)!r} exists and overwrite=False")
    if replaces is not None:
        check_replaceable(path, target, replaces)
    try:
        os.makedirs(parent, exist_ok=True)
        _remove_orphans(parent, name)
        tmp = _new_tmp(parent, name, folder=True)
    except OSError as error:
        raise save_error(error, path) from None
    try:
        yield tmp
        for entry in os.listdir(tmp):
            fsync_path(os.path.join(tmp, entry))
        fsync_path(tmp)
        with writer_lock(parent, name):
            if not overwrite and os.path.exists(target):  # another writer saved it meanwhile
                raise FileExistsError(f"{os.fspath(path)!r} exists and overwrite=False")
            if replaces is not None:  # and again under the lock: files may have appeared since the check above
                check_replaceable(path, target, replaces)
            _swap_in(tmp, target)
    except BaseException as error:
        shutil.rmtree(tmp, ignore_errors=True)
        # a refusal (FileExistsError, raised with its own message) is not a write failure to describe again
        if isinstance(error, OSError) and error.errno is not None and not isinstance(error, FileExistsError):
            raise save_error(error, path) from None
        raise


def _is_file(target):
    """Whether ``target`` exists and is not a folder, from one ``stat``: two calls (exists, then isdir) could fall
    on either side of another writer's swap, which renames the folder away for an instant, and see a file."""
    try:
        return not stat.S_ISDIR(os.stat(target).st_mode)
    except FileNotFoundError:
        return False


def keep_mode(tmp, target):
    """Give ``tmp`` the permission bits of an existing ``target``, as rewriting a file in place keeps them.

    A save replaces the target with a new file or folder (created with the umask's permissions); a user
    who made a model private (``chmod 600``) must not find it readable by everyone after the next save.
    """
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        return
    os.chmod(tmp, mode)


def _swap_in(tmp, target):
    recover_folder(target)
    keep_mode(tmp, target)
    backup = backup_path(target)
    parent = os.path.dirname(target)
    if os.path.exists(target):
        os.rename(target, backup)
        fsync_path(parent)
    os.rename(tmp, target)
    fsync_path(parent)
    if os.path.isdir(backup):
        # the new save is in place: a backup that cannot be deleted now is deleted by the next save
        shutil.rmtree(backup, ignore_errors=True)


# ---- consistent reads ------------------------------------------------------------------------------
def _identity(path):
    """``(device, inode)`` of the folder now published at ``path``, or None when there is none.

    A writer's swap moves the target to its backup (1), then the new folder to
    the target (2), then deletes the backup: at every instant one of the two
    names holds a save, but a single look can fall between two steps (the
    target checked before (2), the backup after its deletion). So the two names
    are looked at in turn, several times, before concluding there is no save.
    """
    real = os.path.realpath(os.fspath(path))
    parent, name = os.path.split(real)
    candidates = (real, os.path.join(parent, f".{name}{BACKUP_SUFFIX}")) if name else (real,)
    for _ in range(READ_ATTEMPTS):
        found = _first_present(candidates)
        if found is not None:
            return found
        if not _writer_active(parent, name):
            # the swap seen half-done may have finished (and its lock gone) between that look and the lock
            # check: look once more now that no writer holds the name
            found = _first_present(candidates)
            if found is not None or not _writer_active(parent, name):
                return found
        time.sleep(0.0005)
    return None


def _first_present(candidates):
    """``(device, inode)`` of the first of ``candidates`` that exists, or None."""
    for candidate in candidates:
        try:
            info = os.stat(candidate)
        except OSError:
            continue
        return info.st_dev, info.st_ino
    return None


def _writer_active(parent, name):
    """Whether a writer may be between the renames of a swap of ``name`` (its lock file exists)."""
    return bool(name) and os.path.exists(os.path.join(parent, f".{name}{LOCK_SUFFIX}"))


def _close(files):
    for f in files.values():
        if f is not None:
            f.close()


def _open_once(path, names):
    """``{name: file or None}`` all from one folder, or None when a concurrent save moved it away (try again)."""
    folder = readable_folder(path)
    if not _DIR_FD:  # no directory descriptors: open by path (the SHA-256 check still refuses a mix)
        files = {}
        for name in names:
            try:
                files[name] = open(os.path.join(folder, name), "rb")
            except FileNotFoundError:
                files[name] = None
        return files
    try:
        dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:
        if _identity(path) is None:
            raise FileNotFoundError(errno_codes.ENOENT, f"no saved model at {os.fspath(path)!r}") from None
        return None
    files = {}
    try:
        for name in names:
            try:
                files[name] = open(name, "rb", opener=lambda p, flags: os.open(p, flags, dir_fd=dir_fd))
            except FileNotFoundError:
                if _identity(path) != (os.fstat(dir_fd).st_dev, os.fstat(dir_fd).st_ino):
                    _close(files)  # the folder was replaced (and deleted) meanwhile
                    return None
                files[name] = None  # missing from the folder that is still published
        return files
    except BaseException:
        _close(files)
        raise
    finally:
        os.close(dir_fd)


@contextlib.contextmanager
def open_folder(path, names):
    """Open the files ``names`` of the saved folder ``path``, all from one and the same save.

    Yields:
        ``{name: binary file object, or None where the published folder has no such file}``; the files are
        closed when the block ends.

    Raises:
        FileNotFoundError: there is no folder at ``path``.
    """
    for attempt in range(READ_ATTEMPTS):
        files = _open_once(path, names)
        if files is not None:
            break
        time.sleep(0.001 * attempt)  # a writer is between its renames: let it finish
    else:
        raise OSError(f"the save at {os.fspath(path)!r} was replaced {READ_ATTEMPTS} times while being read")
    try:
        yield files
    finally:
        _close(files)
