"""HDF5 files as Neurona writes and reads them: built in memory, opened only when they hold nothing but themselves.

Writing. ``image(fill)`` builds the whole file in memory (HDF5's core driver
with no backing store) and returns its bytes, byte for byte what the same
writes would leave on disk; the caller writes them with ordinary Python I/O
(atomic.py). HDF5 never touches the disk, so a full disk or a file size limit
is an ``OSError`` from ``write()``, not an HDF5 write failure at close: with
Fletcher-32 filters those have killed the process with SIGSEGV.

Reading. ``open_h5`` opens a path or a binary file object, then walks every
link of the file (``H5Lvisit``: in C, no recursion limit, hard-link cycles
visited once) and refuses, before any data is read, a file that could make
the read come from somewhere else:

- a soft, external or user-defined link (only hard links are accepted);
- a dataset with external storage (``external=[("/etc/passwd", 0, n)]``): its
  bytes live in another file, which the SHA-256 in ``model.json`` does not cover;
- a virtual dataset (its data is mapped from datasets of other files);
- a dataset whose filter pipeline names a filter that is not built into HDF5
  or h5py (reading it would load a plugin library).

The refusal is a ``FileFormatError`` naming the file and the dataset.
"""

import itertools

from .errors import FileFormatError

_labels = itertools.count()


def _h5py():
    import h5py  # a hard dependency of Neurona, imported here so that importing neurona stays fast

    return h5py


def image(fill):
    """The bytes of an HDF5 file built in memory by ``fill(h5)`` (``h5`` an open, writable ``h5py.File``)."""
    h5py = _h5py()
    # HDF5 takes two open core files of one name for one file: each image gets its own name (never a path)
    h5 = h5py.File(f"neurona-in-memory-{next(_labels)}.h5", "w", driver="core", backing_store=False)
    try:
        fill(h5)
        h5.flush()  # the superblock and every object header are in the image from here on
        return h5.id.get_file_image()
    finally:
        h5.close()


def open_h5(source, label):
    """Open ``source`` (a path or a binary file object) for reading, refusing links to other data.

    Args:
        label: the path to name in messages (the user's, never a temporary or backup path).

    Raises:
        FileNotFoundError: no file at ``source``.
        FileFormatError: not a readable HDF5 file, or one with a link, external storage, a virtual dataset or
            a plugin filter (see the module docstring).
    """
    h5py = _h5py()
    try:
        h5 = h5py.File(source, "r")
    except FileNotFoundError:
        raise FileNotFoundError(f"weights file {str(label)!r} does not exist") from None
    except OSError as error:
        raise FileFormatError(f"{str(label)!r} is not a readable HDF5 weights file (truncated or corrupted?): "
                              f"{error}") from None
    try:
        refuse_indirection(h5, label)
    except BaseException:
        h5.close()
        raise
    return h5


def _builtin_filters(h5z):
    """Filters compiled into HDF5 or h5py: reading them loads no plugin library."""
    names = ("FILTER_DEFLATE", "FILTER_SHUFFLE", "FILTER_FLETCHER32", "FILTER_SZIP", "FILTER_NBIT",
             "FILTER_SCALEOFFSET", "FILTER_LZF")
    return {getattr(h5z, name) for name in names if hasattr(h5z, name)}


def _dataset_problem(dataset_id, h5py):
    """Why the dataset's bytes may come from outside the file (or need a plugin), or None."""
    dcpl = dataset_id.get_create_plist()
    if dcpl.get_layout() == h5py.h5d.VIRTUAL:
        return "a virtual dataset (its data is mapped from other datasets, possibly in other files)"
    if dcpl.get_external_count():
        other = dcpl.get_external(0)[0].decode("utf-8", "replace")
        return f"a dataset with external storage (its bytes are read from {other!r}, outside the file)"
    allowed = _builtin_filters(h5py.h5z)
    for i in range(dcpl.get_nfilters()):
        code = dcpl.get_filter(i)[0]
        if code not in allowed:
            return f"a dataset using HDF5 filter {code}, which is not built in (reading it would load a plugin)"
    return None


def refuse_indirection(h5, label):
    """Raise ``FileFormatError`` if any link of ``h5`` is not a hard link or any dataset's data is not inside it."""
    h5py = _h5py()
    kinds = {h5py.h5l.TYPE_SOFT: "a soft link", h5py.h5l.TYPE_EXTERNAL: "an external link (to another file)"}
    found = []

    def visit(name, info):
        if info.type != h5py.h5l.TYPE_HARD:
            found.append((name, kinds.get(info.type, f"a user-defined link (type {info.type})")))
            return True  # anything but None stops the walk
        obj = h5py.h5o.open(h5.id, name)
        problem = _dataset_problem(obj, h5py) if isinstance(obj, h5py.h5d.DatasetID) else None
        if problem:
            found.append((name, problem))
            return True
        return None

    h5.id.links.visit(visit, info=True)
    if found:
        name, problem = found[0]
        name = name.decode("utf-8", "replace")
        raise FileFormatError(f"{str(label)!r}: {name!r} is {problem}; Neurona reads only plain datasets stored "
                              "in the file itself, reached by hard links, so the file is refused and nothing "
                              "was loaded")
