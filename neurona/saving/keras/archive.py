"""Keras 3's ``.keras`` archive, read and written without extracting anything to disk.

The archive ``model.save("m.keras")`` writes in Keras 3 (checked against Keras 3.15.1, ``saving_lib.py``) is
a zip of three members, stored uncompressed:

===================  ==========================================================================================
``metadata.json``    ``{"keras_version": "3.15.1", "date_saved": "2026-12-03@07:40:02"}``
``config.json``      the model's serialized config, as ``model.to_json()`` writes it, plus ``build_config`` and
                     ``compile_config``
``model.weights.h5`` the weights in Keras 3's HDF5 layout (``layers/<name>/vars/0``, ...; weights.py), and in
                     Keras's own archives the optimizer's variables under ``optimizer/vars`` (not read, and
                     not written by Neurona: a loaded model's optimizer starts afresh)
===================  ==========================================================================================

plus, for layers with assets (text vocabularies), an ``assets/`` folder. Keras can also write the weights as
``model.weights.npz`` (``weights_format="npz"``); that form is refused with a message saying so.

Every member is checked before it is read: a name that is absolute, climbs out of the archive (``..``), holds a
backslash or a NUL, or appears twice, an encrypted member, a declared size above the limits
(``MAX_JSON_BYTES``, ``MAX_WEIGHTS_BYTES``), and a member that decompresses to more than it declares (a zip
bomb) are refused with a ``FileFormatError`` naming the archive and the member. Nothing is ever extracted: the
members are read into memory, and the weights file is opened from memory through ``h5_files.open_h5``, which
refuses HDF5 links, external storage and virtual datasets.
"""

import datetime
import io
import json
import posixpath
import struct
import zipfile
import zlib

from ..errors import FileFormatError

CONFIG = "config.json"
METADATA = "metadata.json"
WEIGHTS = "model.weights.h5"
WEIGHTS_NPZ = "model.weights.npz"
ASSETS = "assets/"
MAX_JSON_BYTES = 64 * 1024 * 1024  # a config of thousands of layers is a few MiB
MAX_WEIGHTS_BYTES = 16 * 1024 ** 3  # the weights are read into memory
KERAS_FORMAT = "3.15.1"  # the Keras version whose archive layout this module writes (and was checked against)


def _member_problem(info):
    """Why the zip member ``info`` is refused, or None."""
    name = info.filename
    if "\x00" in name or "\\" in name:
        return "holds a NUL or a backslash"
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "is an absolute path"
    if ".." in posixpath.normpath(name).split("/") or ".." in name.split("/"):
        return "climbs out of the archive ('..')"
    if info.flag_bits & 0x1:
        return "is encrypted"
    return None


def _checked_members(archive, label):
    """``{name: ZipInfo}`` of the archive, every member checked (module docstring)."""
    members = {}
    for info in archive.infolist():
        problem = _member_problem(info)
        if problem is not None:
            raise FileFormatError(f"{label}: member {info.filename[:200]!r} {problem}; a .keras archive holds only "
                                  f"{METADATA}, {CONFIG}, {WEIGHTS} and {ASSETS}...")
        if info.filename in members:
            raise FileFormatError(f"{label}: member {info.filename[:200]!r} appears twice (a tampered archive?)")
        members[info.filename] = info
    return members


_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # a zip member's local header, 30 bytes (APPNOTE 4.3.7)
MAX_RATIO = 100  # a deflated member expanding more than this is refused above BOMB_FLOOR (Keras stores its members)
BOMB_FLOOR = 16 * 1024 * 1024


def _raw_member(archive, info, label):
    """The member's bytes as stored, read from after its local header (``zipfile`` would stop inflating at the
    declared size and hide a member that holds more than it declares)."""
    archive.fp.seek(info.header_offset)
    header = archive.fp.read(_LOCAL_HEADER.size)
    if len(header) != _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
        raise FileFormatError(f"{label}: member {info.filename!r} has no local header (a corrupted archive)")
    fields = _LOCAL_HEADER.unpack(header)
    archive.fp.seek(fields[10] + fields[11], 1)  # past the name and the extra field
    raw = archive.fp.read(info.compress_size)
    if len(raw) != info.compress_size:
        raise FileFormatError(f"{label}: member {info.filename!r} is cut short (a truncated archive)")
    return raw


def _inflate(raw, info, label):
    """The member's data: stored bytes as they are, deflated ones inflated to at most one byte past the size
    they declare."""
    if info.compress_type == zipfile.ZIP_STORED:
        return raw
    if info.compress_type != zipfile.ZIP_DEFLATED:
        raise FileFormatError(f"{label}: member {info.filename!r} uses compression method {info.compress_type}; "
                              "Keras writes its members stored (or deflated)")
    try:
        return zlib.decompressobj(-zlib.MAX_WBITS).decompress(raw, info.file_size + 1)
    except zlib.error as error:
        raise FileFormatError(f"{label}: member {info.filename!r} is corrupted ({error})") from None


def _read_member(archive, info, limit, label):
    """The bytes of one member: its declared size within ``limit`` and a plausible expansion ratio, no more
    and no less data than declared, and its CRC-32 right."""
    if info.file_size > limit:
        raise FileFormatError(f"{label}: member {info.filename!r} declares {info.file_size:,} bytes, more than the "
                              f"{limit:,} this reader accepts")
    if info.file_size > BOMB_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        raise FileFormatError(f"{label}: member {info.filename!r} would expand {info.compress_size:,} bytes into "
                              f"{info.file_size:,} (more than {MAX_RATIO}x: a zip bomb?); Keras stores its members "
                              "uncompressed")
    data = _inflate(_raw_member(archive, info, label), info, label)
    if len(data) != info.file_size:
        raise FileFormatError(f"{label}: member {info.filename!r} decompresses to "
                              f"{'more' if len(data) > info.file_size else 'less'} than the {info.file_size:,} bytes "
                              "it declares (a zip bomb or a corrupted archive)")
    if zlib.crc32(data) != info.CRC:
        raise FileFormatError(f"{label}: member {info.filename!r} is corrupted (its CRC-32 does not match)")
    return data


class Archive:
    """An open ``.keras`` archive (a path or a binary file object): ``config`` and ``metadata`` are read and
    checked on opening, the weights by ``weights(limit)``, once the model they belong to is known (so the
    limit can follow its size). Use as a context manager.

    Raises:
        FileFormatError: not a zip, a member refused (module docstring), no config or weights, weights in npz
            form, JSON that does not parse.
    """

    def __init__(self, source, label):
        self.label = label
        try:
            self._zip = zipfile.ZipFile(source)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as error:
            raise FileFormatError(f"{label} is not a .keras archive (a zip file): {error}") from None
        try:
            self._members = _checked_members(self._zip, label)
            if CONFIG not in self._members:
                raise FileFormatError(f"{label}: the archive has no {CONFIG} (members: {sorted(self._members)[:10]})")
            if WEIGHTS not in self._members:
                if WEIGHTS_NPZ in self._members:
                    raise FileFormatError(f"{label}: the weights are in npz form ({WEIGHTS_NPZ}); Neurona reads the "
                                          f"HDF5 form, Keras's default (save with weights_format='h5')")
                raise FileFormatError(f"{label}: the archive has no {WEIGHTS} (members: "
                                      f"{sorted(self._members)[:10]})")
            self.config = _json_member(self._zip, self._members[CONFIG], label)
            self.metadata = _json_member(self._zip, self._members[METADATA], label) \
                if METADATA in self._members else {}
        except BaseException:
            self._zip.close()
            raise

    def weights(self, limit=MAX_WEIGHTS_BYTES):
        """The bytes of ``model.weights.h5``, refused above ``limit``."""
        return _read_member(self._zip, self._members[WEIGHTS], min(limit, MAX_WEIGHTS_BYTES), self.label)

    def close(self):
        self._zip.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def weights_limit(model):
    """How large a model's weights file may plausibly be: its arrays four times over (Keras's archives also hold
    the optimizer's slots, two per weight for Adam) plus room for HDF5's metadata."""
    import numpy  # the sizes from shapes and dtypes: no array is copied

    return 4 * sum(int(numpy.prod(w.shape)) * numpy.dtype(w.dtype).itemsize for w in model.weights) \
        + 16 * 1024 * 1024


def _json_member(archive, info, label):
    from .. import json_config

    data = _read_member(archive, info, MAX_JSON_BYTES, label)
    return json_config.parse(data, f"{label}: {info.filename}", versioned=False)


def image(config, weights, producer):
    """The bytes of a ``.keras`` archive holding ``config`` (a dict) and ``weights`` (HDF5 bytes)."""
    from .. import json_config

    metadata = {"keras_version": KERAS_FORMAT, "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
                "producer": producer}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(METADATA, json.dumps(metadata))
        archive.writestr(CONFIG, json_config.dumps(config))
        archive.writestr(WEIGHTS, weights)
    return buffer.getvalue()
