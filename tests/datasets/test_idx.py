"""IDX reader/writer: byte layout against a hand-built header, round trips, and every malformed-file error."""

import gzip
import struct

import numpy as np
import pytest

from neurona.datasets.idx import IdxFormatError, encode_idx, gzip_bytes, read_idx, write_idx


def _raw(array, code=0x08):
    """IDX bytes built by hand from the format description, independent of encode_idx."""
    header = bytes([0, 0, code, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def test_encode_matches_hand_built_bytes(rng):
    images = rng.integers(0, 256, size=(3, 4, 5), dtype=np.uint8)
    assert encode_idx(images) == _raw(images)
    assert encode_idx(images)[:8] == b"\x00\x00\x08\x03\x00\x00\x00\x03"


@pytest.mark.parametrize("suffix", [".gz", ""])
@pytest.mark.parametrize("dtype, code", [("uint8", 0x08), ("int8", 0x09), ("int16", 0x0B), ("int32", 0x0C),
                                         ("float32", 0x0D), ("float64", 0x0E)])
def test_round_trip_every_type(tmp_path, rng, dtype, code, suffix):
    array = (rng.normal(size=(4, 3, 2)) * 100).astype(dtype)
    path = tmp_path / f"a-idx3{suffix}"
    write_idx(path, array)
    back = read_idx(path, expected_ndim=3, expected_dtype=dtype)
    assert back.dtype == np.dtype(dtype) and back.shape == array.shape
    np.testing.assert_array_equal(back, array)
    raw = gzip.decompress(path.read_bytes()) if suffix else path.read_bytes()
    assert raw == _raw(array, code)


def test_reads_file_written_by_stdlib_gzip(tmp_path):
    labels = np.arange(10, dtype=np.uint8)
    path = tmp_path / "labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(_raw(labels), mtime=0))
    np.testing.assert_array_equal(read_idx(path, expected_ndim=1), labels)


def test_gzip_output_is_deterministic_and_valid(tmp_path, rng):
    array = rng.integers(0, 256, size=(20, 28, 28), dtype=np.uint8)
    first, second = tmp_path / "a.gz", tmp_path / "b.gz"
    write_idx(first, array)
    write_idx(second, array)
    assert first.read_bytes() == second.read_bytes()
    data = first.read_bytes()
    assert data[:4] == b"\x1f\x8b\x08\x00" and data[4:8] == b"\x00\x00\x00\x00"  # no FNAME flag, mtime 0
    assert gzip.decompress(data) == _raw(array)
    assert gzip_bytes(b"xyz") == gzip_bytes(b"xyz")


@pytest.mark.parametrize("header", [b"\x01\x00\x08\x01", b"\x00\x01\x08\x01", b"\x00\x00\x07\x01", b"PK\x03\x04"])
def test_wrong_magic_names_path(tmp_path, header):
    path = tmp_path / "bad.idx"
    path.write_bytes(header + b"\x00\x00\x00\x02" + b"\x01\x02")
    with pytest.raises(IdxFormatError, match="bad IDX magic number") as info:
        read_idx(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("compress", [True, False])
def test_truncated_payload_says_expected_and_found(tmp_path, rng, compress):
    images = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    data = _raw(images)[:-100]
    path = tmp_path / ("cut.gz" if compress else "cut")
    path.write_bytes(gzip.compress(data) if compress else data)
    with pytest.raises(IdxFormatError) as info:
        read_idx(path)
    message = str(info.value)
    assert str(path) in message and "truncated" in message
    assert "(5, 28, 28)" in message and "3920 bytes" in message and f"{3920 - 100} bytes" in message


def test_trailing_data_is_rejected(tmp_path):
    path = tmp_path / "long"
    path.write_bytes(_raw(np.arange(4, dtype=np.uint8)) + b"\x00")
    with pytest.raises(IdxFormatError, match="trailing data"):
        read_idx(path)


def test_truncated_gzip_stream(tmp_path, rng):
    path = tmp_path / "half.gz"
    write_idx(path, rng.integers(0, 256, size=(50, 28, 28), dtype=np.uint8))
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    with pytest.raises(IdxFormatError, match="corrupt or truncated gzip stream") as info:
        read_idx(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("data, match", [(b"\x00\x00", "at least a 4-byte IDX header"),
                                         (b"\x00\x00\x08\x03\x00\x00\x00\x01", "truncated inside the header"),
                                         (b"\x00\x00\x08\x00", "0 dimensions")])
def test_broken_headers(tmp_path, data, match):
    path = tmp_path / "h"
    path.write_bytes(data)
    with pytest.raises(IdxFormatError, match=match):
        read_idx(path)


def test_expected_ndim_and_dtype(tmp_path):
    path = tmp_path / "labels.gz"
    write_idx(path, np.zeros(7, dtype=np.uint8))
    with pytest.raises(IdxFormatError, match=r"expected an idx3 file .* declares 1 dimensions \(7,\)"):
        read_idx(path, expected_ndim=3)
    write_idx(path, np.zeros(7, dtype=np.int16))
    with pytest.raises(IdxFormatError, match="expected elements of type uint8.*0x0B"):
        read_idx(path, expected_dtype="uint8")


def test_writer_rejects_unsupported_arrays(tmp_path):
    with pytest.raises(TypeError, match="int64"):
        write_idx(tmp_path / "x", np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError, match=r"shape \(\)"):
        write_idx(tmp_path / "x", np.uint8(3))
    assert list(tmp_path.iterdir()) == []  # nothing half-written
