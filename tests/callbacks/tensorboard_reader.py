"""An event-file reader for the TensorBoard tests, independent of ``neurona.callbacks.event_file``.

It checks the TFRecord framing and both CRCs with a bit-by-bit CRC32C (no table, unlike
the writer), and decodes the protocol buffers generically, field by field, from the
field numbers of tensorflow/core/util/event.proto and framework/summary.proto.
"""

import os
import struct
import zlib


def crc32c_bitwise(data):
    """CRC32C one bit at a time: the reflected Castagnoli polynomial 0x82F63B78, init and final XOR all ones."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def masked(crc):
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def read_records(path):
    """The data of every TFRecord in ``path``, checking lengths and both masked CRCs."""
    with open(path, "rb") as f:
        blob = f.read()
    records, i = [], 0
    while i < len(blob):
        header = blob[i:i + 8]
        (length,) = struct.unpack("<Q", header)
        (header_crc,) = struct.unpack("<I", blob[i + 8:i + 12])
        assert header_crc == masked(crc32c_bitwise(header)), f"bad length CRC at byte {i} of {path}"
        data = blob[i + 12:i + 12 + length]
        assert len(data) == length, f"truncated record at byte {i} of {path}"
        (data_crc,) = struct.unpack("<I", blob[i + 12 + length:i + 16 + length])
        assert data_crc == masked(crc32c_bitwise(data)), f"bad data CRC at byte {i} of {path}"
        records.append(data)
        i += 16 + length
    return records


def _varint(buf, i):
    value = shift = 0
    while True:
        byte = buf[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i


def decode(buf):
    """A message as ``{field number: [values]}``: ints, floats (wire types 1 and 5) or bytes."""
    fields, i = {}, 0
    while i < len(buf):
        key, i = _varint(buf, i)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value, i = _varint(buf, i)
        elif wire_type == 1:
            (value,) = struct.unpack_from("<d", buf, i)
            i += 8
        elif wire_type == 5:
            (value,) = struct.unpack_from("<f", buf, i)
            i += 4
        elif wire_type == 2:
            size, i = _varint(buf, i)
            value = bytes(buf[i:i + size])
            i += size
        else:
            raise AssertionError(f"unexpected wire type {wire_type}")
        fields.setdefault(number, []).append(value)
    return fields


def _doubles(packed):
    return list(struct.unpack(f"<{len(packed) // 8}d", packed))


def histogram(payload):
    """A ``HistogramProto`` as a dict."""
    f = decode(payload)
    out = {name: f.get(n, [0.0])[0] for n, name in enumerate(("min", "max", "num", "sum", "sum_squares"), 1)}
    out["bucket_limit"] = _doubles(b"".join(f.get(6, [])))
    out["bucket"] = _doubles(b"".join(f.get(7, [])))
    return out


def tensor(payload):
    """A string ``TensorProto``: (dtype, shape as a list of sizes, string values)."""
    f = decode(payload)
    shape = decode(f[2][0]) if 2 in f else {}
    sizes = [decode(dim).get(1, [0])[0] for dim in shape.get(2, [])]
    return f[1][0], sizes, f.get(8, [])


def event(data):
    """An ``Event`` as a dict: wall_time, step, and file_version or values (a list of dicts)."""
    f = decode(data)
    step = f.get(2, [0])[0]
    out = {"wall_time": f[1][0], "step": step - (1 << 64) if step >= 1 << 63 else step}
    if 3 in f:
        out["file_version"] = f[3][0].decode()
    values = []
    for raw in decode(f[5][0]).get(1, []) if 5 in f else []:
        v = decode(raw)
        value = {"tag": v[1][0].decode()}
        if 2 in v:
            value["scalar"] = v[2][0]
        if 5 in v:
            value["histo"] = histogram(v[5][0])
        if 8 in v:
            value["tensor"] = tensor(v[8][0])
        if 9 in v:
            plugin = decode(decode(v[9][0])[1][0])
            value["plugin"] = (plugin[1][0].decode(), plugin.get(2, [b""])[0])
        values.append(value)
    out["values"] = values
    return out


def event_files(folder):
    return sorted(os.path.join(folder, name) for name in os.listdir(folder) if name.startswith("events.out."))


def read_run(folder):
    """Every summary value of every event file in ``folder`` (in file-name order) as ``(step, value dict)``.

    Each file must start with the ``brain.Event:2`` record.
    """
    out = []
    for path in event_files(folder):
        events = [event(record) for record in read_records(path)]
        assert events[0].get("file_version") == "brain.Event:2", path
        out.extend((e["step"], v) for e in events[1:] for v in e["values"])
    return out


def scalars(folder):
    """``{tag: [(step, value), ...]}`` of the scalar values in ``folder``."""
    out = {}
    for step, value in read_run(folder):
        if "scalar" in value:
            out.setdefault(value["tag"], []).append((step, value["scalar"]))
    return out


def decode_png(data):
    """The pixels of an 8-bit, non-interlaced PNG whose rows all use filter 0, as nested lists (rows of samples)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    i, chunks = 8, {}
    while i < len(data):
        (size,) = struct.unpack(">I", data[i:i + 4])
        kind, body = data[i + 4:i + 8], data[i + 8:i + 8 + size]
        assert struct.unpack(">I", data[i + 8 + size:i + 12 + size])[0] == zlib.crc32(kind + body)
        chunks[kind] = chunks.get(kind, b"") + body
        i += 12 + size
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert depth == 8 and interlace == 0
    channels = {0: 1, 2: 3, 6: 4}[color]
    raw = zlib.decompress(chunks[b"IDAT"])
    stride = 1 + width * channels
    rows = [raw[r * stride:(r + 1) * stride] for r in range(height)]
    assert all(row[0] == 0 for row in rows)
    return [[list(row[1 + c * channels:1 + (c + 1) * channels]) for c in range(width)] for row in rows]
