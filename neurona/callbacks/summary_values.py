"""The ``Summary.Value`` messages TensorBoard reads: scalars, histograms, images and the Keras model graph.

Each function returns one encoded ``Summary.Value`` (tensorflow/core/framework/summary.proto)
for ``event_file.EventFileWriter.write``::

    message Summary.Value {
      string tag = 1;
      SummaryMetadata metadata = 9;     // which TensorBoard plugin reads a tensor value
      oneof value {
        float simple_value = 2;         // scalars dashboard
        HistogramProto histo = 5;       // histograms and distributions dashboards
        TensorProto tensor = 8;         // anything else, named by the metadata's plugin
      }
    }

Scalars and histograms use these first-class fields, which TensorBoard (and its
``EventAccumulator``) reads directly and converts to its tensor form on load; a
scalar is therefore stored as a binary32 float, as ``tf.summary.scalar`` stores it.
Images and the model graph are tensor values, written as ``tf.summary.image`` and
Keras write them.
"""

import struct
import zlib

import numpy

from . import _protobuf as pb

__all__ = ["HISTOGRAM_BUCKETS", "encode_png", "histogram_value", "image_value", "keras_model_value", "scalar_value"]

#: Buckets per histogram: ``tf.summary.histogram``'s default.
HISTOGRAM_BUCKETS = 30

_DT_STRING = 7  # tensorflow/core/framework/types.proto


def scalar_value(tag, value):
    """A scalar: ``Value{tag, simple_value}``, the float rounded to binary32 (beyond its range: +-inf)."""
    return pb.string_field(1, tag) + pb.float_field(2, value)


def histogram_value(tag, values, buckets=HISTOGRAM_BUCKETS):
    """A histogram of the finite entries of the array ``values``: ``Value{tag, histo}``.

    ``HistogramProto`` holds ``min`` (1), ``max`` (2), ``num`` (3, the count), ``sum`` (4),
    ``sum_squares`` (5) and the packed doubles ``bucket_limit`` (6) and ``bucket`` (7):
    ``bucket[i]`` counts the values in ``[bucket_limit[i-1], bucket_limit[i])``, the first
    bucket starting at ``min`` and the last one closed at ``max``. The range is cut into
    ``buckets`` equal widths, as ``tf.summary.histogram`` does (``numpy.histogram``'s bins);
    all values equal give one bucket ``[v, v]``; no finite value gives no bucket. NaN and
    infinities (a diverged weight) are left out of every statistic, since they have no bucket.

    Args:
        tag: the series name.
        values: an array-like of real numbers, any shape (flattened).
        buckets: the number of equal-width buckets, >= 1.
    """
    data = numpy.asarray(values, dtype=numpy.float64).ravel()
    data = data[numpy.isfinite(data)]
    if data.size == 0:
        low = high = 0.0
        limits, counts = [], []
    else:
        low, high = float(data.min()), float(data.max())
        if low == high:
            limits, counts = [high], [data.size]
        else:
            counts, edges = numpy.histogram(data, bins=buckets, range=(low, high))
            limits = edges[1:]
            limits[-1] = high  # exactly max, whatever rounding linspace did
    histo = (pb.double_field(1, low) + pb.double_field(2, high) + pb.double_field(3, data.size)
             + pb.double_field(4, data.sum()) + pb.double_field(5, numpy.dot(data, data))
             + pb.packed_doubles_field(6, limits) + pb.packed_doubles_field(7, counts))
    return pb.string_field(1, tag) + pb.bytes_field(5, histo)


def _plugin_metadata(plugin_name, content=b""):
    """``SummaryMetadata{plugin_data: PluginData{plugin_name = 1, content = 2}}``."""
    return pb.bytes_field(1, pb.string_field(1, plugin_name) + pb.bytes_field(2, content))


def _string_tensor(*strings, vector=False):
    """A string ``TensorProto``: ``dtype`` (1) DT_STRING, ``tensor_shape`` (2), one ``string_val`` (8) each.

    The shape is a scalar's (an empty ``TensorShapeProto``) for one string, else (``vector``)
    ``[len(strings)]``: ``TensorShapeProto{dim (2): Dim{size (1)}}``.
    """
    shape = pb.bytes_field(2, pb.int64_field(1, len(strings))) if vector else b""
    return (pb.int64_field(1, _DT_STRING) + pb.bytes_field(2, shape)
            + b"".join(pb.bytes_field(8, data) for data in strings))


def keras_model_value(model_json, tag="keras"):
    """The model's Keras JSON for TensorBoard's graph dashboard ("conceptual graph"), as Keras writes it.

    The value is a scalar string tensor with plugin ``graph_keras_model`` and content
    ``b"1"`` (the plugin's version); TensorBoard draws the layers and their connections from
    the ``class_name``/``config``/``inbound_nodes`` of the JSON, which ``Model.to_json`` writes
    in Keras 3's format.
    """
    return (pb.string_field(1, tag) + pb.bytes_field(9, _plugin_metadata("graph_keras_model", b"1"))
            + pb.bytes_field(8, _string_tensor(model_json.encode("utf-8"))))


_PNG_COLOR_TYPES = {1: 0, 3: 2, 4: 6}  # channels -> PNG colour type: grey, RGB, RGBA


def _png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(pixels):
    """A PNG file of the ``uint8`` array ``pixels`` of shape ``(height, width, channels)``, 1, 3 or 4 channels.

    8 bits per sample, no interlacing; every row is stored with filter type 0 (none) and
    the rows are deflated together (``zlib``), the chunk checksums being CRC-32
    (PNG specification, https://www.w3.org/TR/png/).
    """
    pixels = numpy.ascontiguousarray(pixels, dtype=numpy.uint8)
    if pixels.ndim != 3 or pixels.shape[2] not in _PNG_COLOR_TYPES or 0 in pixels.shape:
        raise ValueError(f"encode_png: expected a non-empty (height, width, channels) array with 1, 3 or 4 "
                         f"channels, got shape {pixels.shape}")
    height, width, channels = pixels.shape
    rows = numpy.concatenate([numpy.zeros((height, 1), numpy.uint8), pixels.reshape(height, width * channels)],
                             axis=1)
    header = struct.pack(">IIBBBBB", width, height, 8, _PNG_COLOR_TYPES[channels], 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", zlib.compress(rows.tobytes()))
            + _png_chunk(b"IEND", b""))


def image_value(tag, images):
    """Images as ``tf.summary.image`` writes them: one string tensor ``[width, height, png, png ...]``.

    Args:
        tag: the series name.
        images: a ``uint8`` array ``(count, height, width, channels)``; each image becomes one
            sample of the tag in TensorBoard's Images dashboard.

    The metadata names the ``images`` plugin with empty content (``ImagePluginData`` at its
    defaults), as ``tf.summary.image`` does.
    """
    images = numpy.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"image_value: expected images of shape (count, height, width, channels), got {images.shape}")
    _, height, width, _ = images.shape
    strings = [str(width).encode("ascii"), str(height).encode("ascii"), *(encode_png(image) for image in images)]
    return (pb.string_field(1, tag) + pb.bytes_field(9, _plugin_metadata("images"))
            + pb.bytes_field(8, _string_tensor(*strings, vector=True)))
