"""Resample a batch of images through one affine map per image, differentiably: the engine of the geometric
augmentation layers (``RandomRotation``, ``RandomTranslation``, ``RandomZoom``) and of ``RandomFlip``.

Keras's convention (``keras.ops.image.affine_transform``): a transform is the 6 numbers
``[a0, a1, a2, b0, b1, b2]`` that map each *output* pixel at column ``x``, row ``y`` to the
*input* position it is read from::

    x_in = a0 * x + a1 * y + a2        y_in = b0 * x + b1 * y + b2

Positions outside the image read the image extended by ``fill_mode`` (SciPy's ``ndimage`` modes,
as Keras uses them, for an input ``a b c d``):

- ``"reflect"``: ``d c b a | a b c d | d c b a`` (the edge pixel repeated);
- ``"wrap"``: ``a b c d | a b c d | a b c d``;
- ``"nearest"``: ``a a a a | a b c d | d d d d``;
- ``"constant"``: ``k k k k | a b c d | k k k k`` with ``k = fill_value``.

``"bilinear"`` interpolation blends the four pixels around the position with weights
``(1 - dy)(1 - dx), (1 - dy) dx, dy (1 - dx), dy dx``; ``"nearest"`` reads the closest one. The output is
then a fixed linear map of the input (plus the fill constant), gathered with ``ops.getitem``, so the gradient
flows back to every pixel read.
"""

import numpy

from ... import backend, ops
from ...autograd import Tensor

FILL_MODES = ("reflect", "wrap", "constant", "nearest")
INTERPOLATIONS = ("nearest", "bilinear")


def fold_index(index, size, fill_mode):
    """Integer positions (any int array) folded into ``[0, size)`` the way ``fill_mode`` extends an axis.

    Returns:
        ``(folded, inside)``: the positions to read, and where the original position was inside the axis
        (only ``"constant"`` uses it: outside positions read ``fill_value`` instead).
    """
    inside = (index >= 0) & (index < size)
    if fill_mode == "wrap":
        return numpy.mod(index, size), inside
    if fill_mode == "reflect":  # period 2 * size: a b c d d c b a
        folded = numpy.mod(index, 2 * size)
        return numpy.where(folded >= size, 2 * size - 1 - folded, folded), inside
    return numpy.clip(index, 0, size - 1), inside  # "nearest"; "constant" masks the clipped reads


def _corners(src_y, src_x, interpolation):
    """``[(rows, cols, weight)]``: the pixels a position reads and their interpolation weights."""
    if interpolation == "nearest":
        return [(numpy.floor(src_y + 0.5).astype(numpy.int64), numpy.floor(src_x + 0.5).astype(numpy.int64),
                 numpy.ones_like(src_y))]
    y0, x0 = numpy.floor(src_y), numpy.floor(src_x)
    dy, dx = src_y - y0, src_x - x0
    y0, x0 = y0.astype(numpy.int64), x0.astype(numpy.int64)
    return [(y0, x0, (1 - dy) * (1 - dx)), (y0, x0 + 1, (1 - dy) * dx),
            (y0 + 1, x0, dy * (1 - dx)), (y0 + 1, x0 + 1, dy * dx)]


def _constant(array, like):
    """A constant Tensor of ``array`` in ``like``'s dtype, on its device."""
    return Tensor._wrap(backend.to_device(array.astype(like.dtype), like.device), False)


def gather_pixels(images, rows, cols):
    """``images[b, rows[b, i, j], cols[b, i, j], :]`` for every image ``b``: a ``(B, H', W', C)`` Tensor."""
    batch = numpy.arange(images.shape[0])[:, None, None]
    device = images.device
    index = tuple(backend.to_device(i, device) for i in numpy.broadcast_arrays(batch, rows, cols))
    return ops.getitem(images, index)


def affine_transform(images, transforms, interpolation="bilinear", fill_mode="reflect", fill_value=0.0):
    """Resample ``images`` through ``transforms`` (see the module docstring).

    Args:
        images: Tensor ``(B, H, W, C)`` (channels last).
        transforms: NumPy array ``(B, 6)``, one ``[a0, a1, a2, b0, b1, b2]`` per image.
        interpolation: ``"bilinear"`` or ``"nearest"``.
        fill_mode: ``"reflect"``, ``"wrap"``, ``"constant"`` or ``"nearest"``.
        fill_value: the value read outside the image when ``fill_mode="constant"``.

    Returns:
        Tensor ``(B, H, W, C)`` in the images' dtype.
    """
    _, height, width, _ = images.shape
    t = numpy.asarray(transforms, dtype="float64")[:, :, None, None]
    rows, cols = numpy.meshgrid(numpy.arange(height, dtype="float64"), numpy.arange(width, dtype="float64"),
                                indexing="ij")
    src_x = t[:, 0] * cols + t[:, 1] * rows + t[:, 2]
    src_y = t[:, 3] * cols + t[:, 4] * rows + t[:, 5]
    out, outside = None, numpy.zeros(src_x.shape)
    for r, c, weight in _corners(src_y, src_x, interpolation):
        r, r_in = fold_index(r, height, fill_mode)
        c, c_in = fold_index(c, width, fill_mode)
        if fill_mode == "constant":
            outside = outside + weight * ~(r_in & c_in)
            weight = weight * (r_in & c_in)
        term = ops.mul(gather_pixels(images, r, c), _constant(weight[..., None], images))
        out = term if out is None else ops.add(out, term)
    if fill_mode == "constant" and fill_value != 0 and outside.any():
        out = ops.add(out, _constant(fill_value * outside[..., None], images))
    return out


def rotation_transforms(angles, height, width):
    """Keras's rotation about the image centre by ``angles`` (radians, one per image, counter-clockwise as seen
    with row 0 on top): ``(B, 6)`` transforms."""
    cos, sin = numpy.cos(angles), numpy.sin(angles)
    cx, cy = (width - 1) / 2, (height - 1) / 2
    return numpy.stack([cos, -sin, cx - cx * cos + cy * sin, sin, cos, cy - cx * sin - cy * cos], axis=1)


def translation_transforms(dx, dy):
    """Shift every image by ``dx`` columns and ``dy`` rows (output ``(x, y)`` reads input ``(x - dx, y - dy)``)."""
    ones, zeros = numpy.ones_like(dx), numpy.zeros_like(dx)
    return numpy.stack([ones, zeros, -dx, zeros, ones, -dy], axis=1)


def zoom_transforms(zoom_x, zoom_y, height, width):
    """Scale about the image centre: output ``x`` reads ``cx + zoom_x * (x - cx)`` (> 1 zooms out)."""
    zeros = numpy.zeros_like(zoom_x)
    x_offset, y_offset = (width - 1) / 2 * (1 - zoom_x), (height - 1) / 2 * (1 - zoom_y)
    return numpy.stack([zoom_x, zeros, x_offset, zeros, zoom_y, y_offset], axis=1)
