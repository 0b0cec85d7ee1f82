"""The protocol-buffer wire format, encoding only: enough to write TensorBoard's ``Event`` messages by hand.

A message is a sequence of fields; each field is a key followed by its payload. The key
is the varint ``(field_number << 3) | wire_type``, and the wire types used here are:

=========  ==========================  =========================================================
wire type  payload                     used for
=========  ==========================  =========================================================
0          varint                      ``int64``, ``enum``, ``bool``
1          8 bytes, little-endian      ``double``
2          varint length, then bytes   ``string``, ``bytes``, sub-messages, packed repeated numbers
5          4 bytes, little-endian      ``float``
=========  ==========================  =========================================================

A varint is the number in base 128, least significant group first, with the high bit of
every byte but the last set (300 -> ``ac 02``). A negative ``int64`` is written as its
64-bit two's complement, hence always 10 bytes. Repeated numbers are written "packed"
(proto3's default): one wire-type-2 field holding the payloads back to back.
Fields are written in the order given; readers accept any order. See
https://protobuf.dev/programming-guides/encoding/.
"""

import math
import struct

__all__ = ["varint", "int64_field", "double_field", "float_field", "bytes_field", "string_field",
           "packed_doubles_field"]

_VARINT, _FIXED64, _LENGTH, _FIXED32 = 0, 1, 2, 5


def varint(value):
    """The varint bytes of the integer ``value`` (a negative one as its 64-bit two's complement)."""
    value = int(value)
    if value < 0:
        value += 1 << 64
    if not 0 <= value < 1 << 64:
        raise ValueError(f"protobuf: {value} does not fit in 64 bits")
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _key(field, wire_type):
    return varint((field << 3) | wire_type)


def int64_field(field, value):
    """An ``int64`` (or ``enum``) field."""
    return _key(field, _VARINT) + varint(value)


def double_field(field, value):
    """A ``double`` field: the IEEE 754 binary64 value, little-endian."""
    return _key(field, _FIXED64) + struct.pack("<d", float(value))


def float_field(field, value):
    """A ``float`` field: the value rounded to IEEE 754 binary32, little-endian (beyond its range: +-inf)."""
    value = float(value)
    try:
        payload = struct.pack("<f", value)
    except OverflowError:  # finite in binary64 but not in binary32: rounds to an infinity, as a C cast does
        payload = struct.pack("<f", math.copysign(math.inf, value))
    return _key(field, _FIXED32) + payload


def bytes_field(field, data):
    """A length-delimited field: ``bytes``, or an already encoded sub-message."""
    data = bytes(data)
    return _key(field, _LENGTH) + varint(len(data)) + data


def string_field(field, text):
    """A ``string`` field (UTF-8)."""
    return bytes_field(field, text.encode("utf-8"))


def packed_doubles_field(field, values):
    """A packed ``repeated double`` field (nothing at all for no values, as protobuf writes it)."""
    values = [float(v) for v in values]
    if not values:
        return b""
    return bytes_field(field, struct.pack(f"<{len(values)}d", *values))
