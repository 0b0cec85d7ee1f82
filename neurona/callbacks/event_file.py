"""TensorBoard event files written without TensorFlow: CRC32C, TFRecord framing, ``Event`` messages.

An event file is a sequence of TFRecords, each holding one serialized ``Event``
protocol buffer (tensorflow/core/util/event.proto)::

    uint64  length                  little-endian, the byte count of data
    uint32  masked_crc32c(length)   of those 8 bytes
    bytes   data                    the serialized Event
    uint32  masked_crc32c(data)

CRC32C is the CRC-32 of the Castagnoli polynomial 0x1EDC6F41 (0x82F63B78 bit-reflected),
initial value and final XOR 0xFFFFFFFF, so ``crc32c(b"123456789") == 0xE3069283``. The
stored checksum is masked, ``((crc >> 15) | (crc << 17)) + 0xA282EAD8`` modulo 2**32, so
that data containing its own CRC does not checksum to a constant.

The ``Event`` fields written here::

    double  wall_time    = 1;  // seconds since the epoch
    int64   step         = 2;  // omitted when 0, as protobuf omits defaults
    string  file_version = 3;  // "brain.Event:2", in the first record only
    Summary summary      = 5;  // Summary { repeated Summary.Value value = 1; }

The ``Summary.Value`` messages themselves are built by ``summary_values``. File names
follow TensorFlow's ``events.out.tfevents.<seconds>.<host>.<pid>.<n>.v2``, ``<n>`` counting
the files this process opened, which TensorBoard reads in name order.
"""

import itertools
import os
import socket
import struct
import time

from . import _protobuf as pb

__all__ = ["FILE_VERSION", "EventFileWriter", "crc32c", "encode_event", "event_file_name", "frame_record",
           "masked_crc32c"]

#: The ``file_version`` of the first event: the format TensorBoard expects of the records after it.
FILE_VERSION = "brain.Event:2"

_MASK_DELTA = 0xA282EAD8
_POLYNOMIAL = 0x82F63B78  # Castagnoli, bit-reflected (CRC32C works least significant bit first)


def _crc_table():
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ _POLYNOMIAL if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_TABLE = _crc_table()


def crc32c(data, crc=0):
    """The CRC32C of ``data`` (bytes-like), continuing from ``crc`` (the CRC32C of the bytes before it).

    Table-driven, one byte at a time: ``crc = T[(crc ^ byte) & 0xFF] ^ (crc >> 8)`` on the
    inverted register, where ``T[b]`` is ``b`` shifted through eight steps of polynomial division.
    """
    table = _TABLE
    crc ^= 0xFFFFFFFF
    for byte in bytes(data):
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data):
    """The CRC32C of ``data`` rotated right by 15 bits plus 0xA282EAD8 (mod 2**32), as TFRecords store it."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def frame_record(data):
    """``data`` framed as one TFRecord: length, its masked CRC, the data, the data's masked CRC."""
    data = bytes(data)
    length = struct.pack("<Q", len(data))
    return length + struct.pack("<I", masked_crc32c(length)) + data + struct.pack("<I", masked_crc32c(data))


def encode_event(wall_time, step=0, values=(), file_version=None):
    """A serialized ``Event``: a ``file_version`` record, or a summary of the encoded ``Summary.Value`` s.

    Args:
        wall_time: seconds since the epoch (a float).
        step: the global step the values belong to (an int; 0 is not written, as protobuf omits it).
        values: encoded ``Summary.Value`` messages (see ``summary_values``).
        file_version: for the first record of a file, ``FILE_VERSION`` (then ``values`` must be empty).
    """
    out = pb.double_field(1, wall_time)
    if step:
        out += pb.int64_field(2, step)
    if file_version is not None:
        if values:
            raise ValueError("encode_event: an event holds a file_version or summary values, not both")
        return out + pb.string_field(3, file_version)
    return out + pb.bytes_field(5, b"".join(pb.bytes_field(1, value) for value in values))


_file_numbers = itertools.count()


def event_file_name(wall_time=None):
    """A new file name ``events.out.tfevents.<seconds>.<host>.<pid>.<n>.v2`` (``<n>`` counts up per process)."""
    seconds = int(time.time() if wall_time is None else wall_time)
    return f"events.out.tfevents.{seconds:010d}.{socket.gethostname()}.{os.getpid()}.{next(_file_numbers)}.v2"


class EventFileWriter:
    """Appends events to a new event file in ``logdir`` (created with its parents if missing).

    The file starts with the ``file_version`` event. Each ``write`` is one record, handed to
    the file in one piece; ``flush`` pushes what was written to the operating system, so
    every flushed record survives the process dying. ``close`` flushes and closes (twice is
    harmless); writing to a closed writer raises a ValueError.

    Args:
        logdir: the folder of the file (TensorBoard shows each folder as a run).
        clock: the wall-time source, seconds since the epoch (``time.time``; tests pass a fixed one).

    Raises:
        OSError: ``logdir`` cannot be created (a file of that name exists, no permission ...).
    """

    def __init__(self, logdir, clock=time.time):
        self.logdir = os.fspath(logdir)
        self._clock = clock
        try:
            os.makedirs(self.logdir, exist_ok=True)
        except OSError as err:
            raise type(err)(f"TensorBoard: cannot create the log folder {self.logdir!r}: {err}") from None
        while True:  # a name is taken only if another writer of this process and second shares it
            self.path = os.path.join(self.logdir, event_file_name(clock()))
            try:
                self._file = open(self.path, "xb")  # noqa: SIM115 - kept open until close()
                break
            except FileExistsError:
                continue
        self._file.write(frame_record(encode_event(clock(), file_version=FILE_VERSION)))
        self._file.flush()

    @property
    def closed(self):
        return self._file.closed

    def write(self, step, values, wall_time=None):
        """Write one event at ``step`` holding the encoded ``Summary.Value`` s ``values`` (not flushed yet)."""
        if self._file.closed:
            raise ValueError(f"TensorBoard: the event file {self.path!r} is closed")
        event = encode_event(self._clock() if wall_time is None else wall_time, step, values)
        self._file.write(frame_record(event))

    def flush(self):
        if not self._file.closed:
            self._file.flush()

    def close(self):
        if not self._file.closed:
            self._file.flush()
            self._file.close()

    def __repr__(self):
        return f"<EventFileWriter {self.path!r}{' closed' if self.closed else ''}>"
