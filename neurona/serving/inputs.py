"""What a request to the server may hold, read into the batch a model predicts on, or refused with a reason.

``InputSpec`` describes one model's inputs: the shape of one instance, the preprocessing saved with the model
and, for image models, the picture's height, width and channels. ``InputSpec.batch`` turns a parsed JSON
document or a PNG into ``(raw, x)``: the instances as sent and the array the model sees, after the saved
preprocessing (the very ``saving.preprocessing.apply`` that ``neurona predict`` uses, so a served prediction is
bit-identical to ``model.predict`` on the same preprocessed data).

Every problem raises ``RequestError`` with the HTTP status, a short machine-readable code and a message that
says what was expected; nothing here touches the model.
"""

import io
import json
import math
import zlib

import numpy

from ..saving import preprocessing as prep

INPUT_FORMATS = ("raw", "preprocessed")
_NUMBER = (int, float)


class RequestError(Exception):
    """A request the server refuses: ``status`` (4xx), ``code`` (e.g. ``"bad_shape"``) and a message."""

    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def to_dict(self):
        return {"error": {"code": self.code, "message": self.message}}


def _refuse_constant(name):
    raise RequestError(400, "not_finite", f"the JSON holds {name}; expected finite numbers")


def parse_json(body):
    """The JSON document in ``body`` (bytes); NaN and Infinity, which Python's json would accept, are refused."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        message = f"the body is not UTF-8 text ({error.reason} at byte {error.start})"
        raise RequestError(400, "bad_json", message) from None
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise RequestError(400, "bad_json", "the JSON is nested too deeply") from None
    except json.JSONDecodeError as error:
        raise RequestError(400, "bad_json", f"malformed JSON: {error.msg} at line {error.lineno} column "
                                            f"{error.colno}") from None


def _check_numbers(value, where, depth=0):
    """Raise unless ``value`` is nested lists of numbers (bools, strings and nulls are not numbers)."""
    if isinstance(value, list):
        if depth > 8:
            raise RequestError(400, "bad_shape", f"{where} is nested more than 8 lists deep")
        if value and not isinstance(value[0], list):  # the common case, a flat row: checked in one pass
            if all(type(v) in _NUMBER for v in value):
                return
        for i, item in enumerate(value):
            _check_numbers(item, f"{where}[{i}]", depth + 1)
        return
    if type(value) not in _NUMBER:
        raise RequestError(400, "bad_type", f"{where} is {json.dumps(value)[:40]} ({_json_type(value)}); expected "
                                            "a number")


def _json_type(value):
    names = {bool: "a boolean", str: "a string", dict: "an object", type(None): "null"}
    return names.get(type(value), type(value).__name__)


class InputSpec:
    """The inputs one model accepts.

    Args:
        input_shape: the shape of one instance as the model takes it (without the batch axis).
        steps: the preprocessing steps saved with the model (``saving.preprocessing``), or None.
        dtype: the dtype the model computes in (inputs are cast to it when there is no preprocessing).
        max_instances: the most instances one request may hold.
    """

    def __init__(self, input_shape, steps, dtype="float32", max_instances=1024):
        self.input_shape = tuple(int(s) for s in input_shape)
        self.size = math.prod(self.input_shape)
        self.steps = list(steps or [])
        self.dtype = numpy.dtype(dtype)
        self.max_instances = int(max_instances)
        self.raw_range = prep.raw_range(self.steps)
        self.image = _image_shape(self.input_shape, self.steps)
        # the shapes an instance may be sent in: the model's, flat, and a one-channel image without its channel
        self.shapes = {self.input_shape, (self.size,)}
        if self.image is not None:
            height, width, channels = self.image
            self.shapes |= {(height, width, channels)} | ({(height, width)} if channels == 1 else set())
        flattens = any(step["op"] == "flatten" for step in self.steps)
        # the shape preprocessing starts from: an image for a model that flattens its picture itself
        self.raw_shape = (self.image[:2] if self.image[2] == 1 else self.image) if flattens and self.image \
            else self.input_shape

    def describe(self):
        """What ``GET /info`` says about the inputs."""
        image = None if self.image is None else dict(zip(("height", "width", "channels"), self.image))
        return {"input_shape": list(self.input_shape), "image": image, "preprocessing": self.steps,
                "raw_range": None if self.raw_range is None else list(self.raw_range),
                "max_instances": self.max_instances}

    # ---- JSON ---------------------------------------------------------------------------------------
    def from_json(self, document, booleans=True):
        """``(raw, x)`` for a parsed ``{"instances": [...]}`` or ``{"instance": ...}`` document.

        ``booleans=False`` says the document holds no JSON ``true``/``false`` (the fast conversion is then exact).
        """
        if not isinstance(document, dict):
            raise RequestError(400, "bad_request", f"the JSON body is {_json_type(document)}; expected an object "
                                                   '{"instances": [...]}')
        unknown = sorted(set(document) - {"instances", "instance", "input_format"})
        if unknown:
            raise RequestError(400, "bad_request", f"unknown field(s) {unknown}; expected 'instances' (or "
                                                   "'instance') and optionally 'input_format'")
        if ("instances" in document) == ("instance" in document):
            raise RequestError(400, "bad_request", "give exactly one of 'instances' (a list of instances) and "
                                                   "'instance' (one instance)")
        instances = document["instances"] if "instances" in document else [document["instance"]]
        input_format = document.get("input_format")
        if input_format is not None and input_format not in INPUT_FORMATS:
            raise RequestError(400, "bad_input_format", f"input_format is {json.dumps(input_format)[:40]}; "
                                                        f"expected one of {list(INPUT_FORMATS)}")
        if not isinstance(instances, list):
            raise RequestError(400, "bad_request", f"'instances' is {_json_type(instances)}; expected a list of "
                                                   "instances")
        self._check_count(len(instances))
        raw = self._fast_batch(instances, booleans) if not booleans else None
        if raw is None:  # mixed shapes, or something to refuse: instance by instance, to name the culprit
            raw = numpy.stack([self._instance(item, f"instances[{i}]") for i, item in enumerate(instances)])
        return raw, self._preprocess(raw, input_format or self._infer_format(raw))

    def _fast_batch(self, instances, booleans):
        """The batch in one NumPy conversion when every instance has the same accepted shape, else None.

        ``numpy.array`` of nested lists is ~20x faster than checking every value in Python; what it cannot tell
        apart is a boolean among numbers (``[True, 2]`` converts to ``[1, 2]``), so the caller passes
        ``booleans=False`` only when the body holds no ``true``/``false`` token at all.
        """
        try:
            array = numpy.array(instances)
        except (ValueError, OverflowError):  # ragged, or a number too large for any dtype
            return None
        if array.dtype.kind not in "iuf" or array.shape[1:] not in self.shapes:
            return None
        array = array.astype(numpy.float64, copy=False)
        if not numpy.isfinite(array).all():
            return None
        return array.reshape((array.shape[0],) + self.raw_shape)

    def _check_count(self, count):
        if count == 0:
            raise RequestError(400, "empty_batch", "'instances' is empty; expected at least one instance")
        if count > self.max_instances:
            raise RequestError(413, "too_many_instances", f"{count} instances in one request; the server takes at "
                                                          f"most {self.max_instances} (send several requests)")

    def _instance(self, item, where):
        _check_numbers(item, where)
        try:
            array = numpy.asarray(item, dtype=numpy.float64)
        except OverflowError:  # an integer beyond float64, such as 10**400
            raise RequestError(400, "not_finite", f"{where} holds an integer too large for a float; expected "
                                                  "finite numbers") from None
        except ValueError:  # ragged lists
            raise RequestError(400, "bad_shape", f"{where} is a ragged list (rows of different lengths); expected "
                                                 f"{self._shapes_text()}") from None
        if array.shape not in self.shapes:
            raise RequestError(400, "bad_shape", f"{where} has shape {list(array.shape)}; expected "
                                                 f"{self._shapes_text()}")
        if not numpy.isfinite(array).all():  # 1e999 parses as inf
            raise RequestError(400, "not_finite", f"{where} holds a value too large for a float; expected finite "
                                                  "numbers")
        return array.reshape(self.raw_shape)

    def _shapes_text(self):
        return " or ".join(str(list(s)) for s in sorted(self.shapes, key=len, reverse=True))

    def _infer_format(self, raw):
        """``"raw"`` or ``"preprocessed"``, read strictly from the values when the request does not say.

        Known only when the saved preprocessing is a rescale (pixels / 255). Each instance is read alone: values
        in [0, 1] with fractions are already scaled; whole numbers in [0, 255] with one above 1 are raw; only zeros
        and ones could be either. A batch whose instances disagree, or that holds only instances that could be
        either, is refused. With other preprocessing (or none) an unmarked instance is raw, as saved models expect.
        """
        if self.raw_range is None:
            return "raw"
        formats = [self._infer_one(row) for row in raw]
        known = sorted(set(formats) - {None, "either"})
        if len(known) > 1:
            looks = {f: [i for i, g in enumerate(formats) if g == f][:5] for f in known}
            raise RequestError(400, "ambiguous_input_format", f"instances {looks['raw']} look raw (0-"
                                                              f"{self.raw_range[1]:g}) and instances "
                                                              f"{looks['preprocessed']} look preprocessed (0-1); say "
                                                              'which with "input_format": "raw" or "preprocessed"')
        if known:
            return known[0]
        if "either" in formats:
            raise RequestError(400, "ambiguous_input_format", "the instances hold only 0s and 1s, which could be "
                                                              f"raw values in [0, {self.raw_range[1]:g}] or "
                                                              "values already scaled to [0, 1]; say which with "
                                                              '"input_format": "raw" or "preprocessed"')
        return "raw"  # all zeros read the same either way; out-of-range values are refused next

    @staticmethod
    def _infer_one(raw):
        """What one instance looks like: "raw", "preprocessed", "either" (only 0s and 1s) or None (all zeros)."""
        high, low = float(raw.max()), float(raw.min())
        whole = bool(numpy.all(raw == numpy.round(raw)))
        if whole and high > 1:
            return "raw"
        if not whole and high <= 1 and low >= 0:
            return "preprocessed"
        if whole and high <= 1 and low >= 0:
            return "either" if high > 0 else None
        return "raw"  # negative or fractional values above 1: refused as out of range or read as raw, as before

    def _preprocess(self, raw, input_format):
        if input_format == "raw" and self.raw_range is not None:
            low, high = self.raw_range
            if raw.min() < low or raw.max() > high:
                raise RequestError(400, "out_of_range", f"raw values must lie in [{low:g}, {high:g}] (the saved "
                                                        f"preprocessing is {prep.describe(self.steps)}); got values "
                                                        f"in [{raw.min():g}, {raw.max():g}]")
        if input_format == "preprocessed" and self.raw_range is not None and (raw.min() < 0 or raw.max() > 1):
            raise RequestError(400, "out_of_range", "preprocessed values must lie in [0, 1] (the saved "
                                                    f"preprocessing {prep.describe(self.steps)} maps raw values "
                                                    f"there); got values in [{raw.min():g}, {raw.max():g}]")
        if input_format == "raw" and self.steps:
            x = prep.apply(self.steps, raw)
        else:
            x = raw
        with numpy.errstate(over="ignore"):  # an overflow is refused just below, with a reason
            x = numpy.asarray(x, dtype=self.dtype)
        if not numpy.isfinite(x).all():  # finite in float64 (1e39, 1e300), but not in the model's dtype
            bad = sorted({int(i) for i in numpy.nonzero(~numpy.isfinite(x.reshape(len(x), -1)))[0]})
            raise RequestError(400, "not_finite", f"instances {bad[:10]} hold values beyond the range of the model's "
                                                  f"{self.dtype} (|x| <= {numpy.finfo(self.dtype).max:.3g} after "
                                                  f"the saved preprocessing {prep.describe(self.steps)}); expected "
                                                  "finite numbers")
        return x.reshape((x.shape[0],) + self.input_shape)

    # ---- PNG ----------------------------------------------------------------------------------------
    def from_png(self, data):
        """``(raw, x)`` for the bytes of one PNG image of the model's picture size (decoded to 0-255 values)."""
        if self.image is None:
            raise RequestError(400, "not_an_image_model", f"this model takes instances of shape "
                                                          f"{list(self.input_shape)}, not images; send JSON")
        height, width, channels = self.image
        pixels = decode_png(data, height, width, channels)
        raw = pixels.reshape((1,) + self.raw_shape).astype(numpy.float64)
        return raw, self._preprocess(raw, "raw")


def _image_shape(input_shape, steps):
    """``(height, width, channels)`` when one instance is a picture, else None.

    A (H, W, 1|3) or (H, W) input is one; so is a flat input of H*H features when the saved preprocessing
    flattens (the picture is flattened by the model's own preprocessing, as ``neurona train`` saves MNIST).
    """
    if len(input_shape) == 3 and input_shape[2] in (1, 3) and min(input_shape[:2]) >= 2:
        return tuple(input_shape)
    if len(input_shape) == 2 and min(input_shape) >= 2:
        return input_shape + (1,)
    if len(input_shape) == 1 and any(step["op"] == "flatten" for step in steps):
        side = math.isqrt(input_shape[0])
        if side >= 2 and side * side == input_shape[0]:
            return (side, side, 1)
    return None


def decode_png(data, height, width, channels):
    """``(height, width, channels)`` uint8 pixels of the PNG in ``data``; any other size or format is refused.

    The size is read from the header before anything is decoded, so a small file that would inflate to a huge
    picture costs nothing. Colour pictures become gray (ITU-R 601 luma, Pillow's ``convert("L")``) for a one-
    channel model; transparency is dropped.
    """
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:  # the serve extra installs it
        raise ImportError("PNG uploads need Pillow: pip install 'neurona[serve]'") from None
    if not data:
        raise RequestError(400, "bad_image", "the image is empty; expected the bytes of a PNG file")
    try:
        with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
            if image.size != (width, height):
                raise RequestError(400, "bad_image_size", f"the PNG is {image.size[0]}x{image.size[1]} pixels; "
                                                          f"this model takes {width}x{height}")
            _check_image_data(data, width, height)
            image.load()
            if image.mode.startswith("I"):  # 16-bit gray (I;16*) or I: scale 0-65535 to 0-255, Pillow would clip
                wide = numpy.asarray(image, dtype=numpy.uint32)
                converted = ((numpy.minimum(wide, 65535) + 128) // 257).astype(numpy.uint8)
                converted = converted if channels == 1 else numpy.repeat(converted[..., None], 3, axis=-1)
            else:
                converted = image.convert("L" if channels == 1 else "RGB")
    except RequestError:
        raise
    except Image.DecompressionBombError:  # the header declares a picture of hundreds of millions of pixels
        raise RequestError(400, "bad_image_size", f"the PNG declares a huge picture; this model takes "
                                                  f"{width}x{height}") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:  # what Pillow raises on bad files
        raise RequestError(400, "bad_image", f"the upload is not a readable PNG ({type(error).__name__}: "
                                             f"{str(error)[:120]})") from None
    pixels = numpy.asarray(converted, dtype=numpy.uint8)
    return pixels.reshape(height, width, channels)


_SAMPLES = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # samples per pixel of each PNG colour type
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))


def _check_image_data(data, width, height):
    """Refuse a PNG whose compressed image data (IDAT) holds fewer bytes than its header declares.

    Pillow decodes such a file without complaint and leaves the missing rows black (PNG spec 11.2.4: the
    decompressed IDAT stream holds exactly one filter byte and the packed samples of every row of every pass).
    """
    depth, color, interlace = data[24], data[25], data[28]
    bits = depth * _SAMPLES.get(color, 1)
    passes = _ADAM7 if interlace else ((0, 0, 1, 1),)
    expected = 0
    for x0, y0, dx, dy in passes:
        columns, rows = (width - x0 + dx - 1) // dx, (height - y0 + dy - 1) // dy
        if columns > 0 and rows > 0:
            expected += rows * (1 + (columns * bits + 7) // 8)
    idat, offset = [], 8
    while offset + 8 <= len(data):
        length = int.from_bytes(data[offset:offset + 4], "big")
        if data[offset + 4:offset + 8] == b"IDAT":
            idat.append(data[offset + 8:offset + 8 + length])
        offset += 12 + length
    try:
        got = len(zlib.decompressobj().decompress(b"".join(idat), expected + 1))
    except zlib.error as error:
        raise OSError(f"the image data is corrupted ({error})") from None
    if got < expected:
        raise OSError(f"the image data ends early: {got} of the {expected} bytes the header declares")
