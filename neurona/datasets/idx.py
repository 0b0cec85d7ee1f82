"""Reader and writer for the IDX format that MNIST ships in.

An IDX file (LeCun, Cortes and Burges, "The MNIST database of handwritten
digits", http://yann.lecun.com/exdb/mnist/) is a header followed by the raw
array in C order, every number big-endian:

    bytes 0-1   0x00 0x00
    byte  2     element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
    byte  3     number of dimensions d (1 for labels: "idx1", 3 for images: "idx3")
    4 * d       each dimension as a big-endian uint32
    rest        prod(dims) elements

The MNIST files are this stream compressed with gzip. ``read_idx`` accepts both
the compressed and the plain form (it looks at the gzip magic bytes, not at the
file name) and checks every part of the header, so a truncated download or a
wrong file fails with an :class:`IdxFormatError` that names the path and says
what was expected, instead of producing a garbage array.

``write_idx`` writes the gzip container itself with a fixed header (no file
name, modification time 0) so that the same array always gives the same bytes;
``neurona.datasets.make_subset`` depends on that to rebuild the embedded subset
byte for byte.
"""

import gzip
import os
import struct
import zlib

import numpy as np

from .cache import atomic_output

GZIP_MAGIC = b"\x1f\x8b"

# IDX type code -> big-endian NumPy dtype.
IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODE_OF_KIND = {(dt.kind, dt.itemsize): code for code, dt in IDX_DTYPES.items()}


class IdxFormatError(ValueError):
    """A file is not a well-formed IDX file (wrong magic, wrong shape, truncated, corrupt gzip)."""


def read_idx(path, expected_ndim=None, expected_dtype=None):
    """Read an IDX file (plain or gzip-compressed) into a NumPy array.

    Args:
        path: file to read.
        expected_ndim: if given, the number of dimensions the header must declare
            (1 for an idx1 label file, 3 for an idx3 image file).
        expected_dtype: if given, the element type the header must declare
            (e.g. ``"uint8"`` for MNIST).

    Returns:
        A C-ordered array in native byte order with the shape the header declares.

    Raises:
        IdxFormatError: the magic number, type code, dimension count or payload size
            is not what an IDX file (or the caller) requires; the message names the path.
    """
    path = os.fspath(path)
    data = _read_bytes(path)
    code, dims, offset = _parse_header(path, data)
    dtype = IDX_DTYPES[code]
    if expected_ndim is not None and len(dims) != expected_ndim:
        raise IdxFormatError(f"{path}: expected an idx{expected_ndim} file ({expected_ndim} dimensions), "
                             f"the header declares {len(dims)} dimensions {tuple(dims)}")
    if expected_dtype is not None and dtype.newbyteorder("=") != np.dtype(expected_dtype):
        raise IdxFormatError(f"{path}: expected elements of type {np.dtype(expected_dtype)}, "
                             f"the header declares type code 0x{code:02X} ({dtype.newbyteorder('=')})")
    expected_bytes = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    actual_bytes = len(data) - offset
    if actual_bytes != expected_bytes:
        kind = "truncated" if actual_bytes < expected_bytes else "has trailing data"
        raise IdxFormatError(f"{path}: file is {kind}: the header declares shape {tuple(dims)} "
                             f"({expected_bytes} bytes of data), found {actual_bytes} bytes")
    array = np.frombuffer(data, dtype=dtype, offset=offset).reshape(dims)
    return array.astype(dtype.newbyteorder("="))


def write_idx(path, array, compresslevel=9):
    """Write ``array`` as an IDX file, gzip-compressed when ``path`` ends with ``.gz``.

    The file is written to a temporary name in the same directory and moved into
    place with ``os.replace``, so a failure never leaves a half-written file.

    Args:
        path: destination file.
        array: array of one of the IDX element types (uint8, int8, int16, int32,
            float32, float64) with 1 to 255 dimensions.
        compresslevel: zlib level for ``.gz`` output (9 = smallest).

    Raises:
        TypeError: the dtype has no IDX type code.
        ValueError: the array has no dimensions or more than 255.
    """
    path = os.fspath(path)
    payload = encode_idx(array)
    if path.endswith(".gz"):
        payload = gzip_bytes(payload, compresslevel)
    with atomic_output(path) as f:
        f.write(payload)


def encode_idx(array):
    """The uncompressed IDX bytes (header + big-endian data) of ``array``."""
    array = np.asarray(array)
    code = _CODE_OF_KIND.get((array.dtype.kind, array.dtype.itemsize))
    if code is None:
        raise TypeError(f"IDX has no type code for dtype {array.dtype}; expected one of "
                        f"{sorted(str(dt.newbyteorder('=')) for dt in IDX_DTYPES.values())}")
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"IDX arrays need 1 to 255 dimensions, got shape {array.shape}")
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=IDX_DTYPES[code]).tobytes()


def gzip_bytes(payload, compresslevel=9):
    """Gzip ``payload`` with a fixed header: no file name, mtime 0, OS "unknown".

    ``gzip.compress`` fills the OS byte differently across Python versions, so the
    RFC 1952 container is written here by hand around a raw deflate stream. The
    deflate bytes themselves still depend on the zlib build (1.2.x gives stable output).
    """
    compressor = zlib.compressobj(compresslevel, zlib.DEFLATED, -zlib.MAX_WBITS)
    body = compressor.compress(payload) + compressor.flush()
    extra_flags = 2 if compresslevel == 9 else 0  # RFC 1952 XFL: 2 = maximum compression
    header = GZIP_MAGIC + bytes([8, 0, 0, 0, 0, 0, extra_flags, 255])
    trailer = struct.pack("<II", zlib.crc32(payload), len(payload) & 0xFFFFFFFF)
    return header + body + trailer


def _read_bytes(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] != GZIP_MAGIC:
        return data
    try:
        return gzip.decompress(data)
    except (EOFError, OSError, zlib.error) as err:
        raise IdxFormatError(f"{path}: corrupt or truncated gzip stream ({err}); "
                             "expected a complete gzip-compressed IDX file") from err


def _parse_header(path, data):
    if len(data) < 4:
        raise IdxFormatError(f"{path}: file is truncated: {len(data)} bytes, expected at least a 4-byte IDX header")
    if data[0] != 0 or data[1] != 0 or data[2] not in IDX_DTYPES:
        codes = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise IdxFormatError(f"{path}: bad IDX magic number 0x{data[:4].hex().upper()}; expected "
                             f"0x0000 followed by a type code ({codes}) and the number of dimensions")
    ndim = data[3]
    if ndim == 0:
        raise IdxFormatError(f"{path}: IDX header declares 0 dimensions, expected at least 1")
    offset = 4 + 4 * ndim
    if len(data) < offset:
        raise IdxFormatError(f"{path}: file is truncated inside the header: {ndim} dimensions need "
                             f"{offset} header bytes, found {len(data)}")
    dims = struct.unpack(f">{ndim}I", data[4:offset])
    return data[2], dims, offset
