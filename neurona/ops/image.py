"""Image resizing with Keras's name and numerics: ``resize`` (``keras.ops.image.resize``), differentiable.

Composed, not a new primitive: bilinear interpolation is a product with one
``(in, out)`` weight matrix per resized axis (``tensordot``, whose gradient is
the transposed product), nearest-neighbour a gather (``getitem``), and the
aspect-ratio crop and pad are ``getitem`` and ``pad``. The weights follow
Keras's NumPy backend (``jax.image.scale_and_translate``): half-pixel centres,
a triangle kernel renormalized at the borders, widened by the scale when
downsampling with ``antialias``.
"""

import builtins

from ..arguments import check_bool, check_int, check_real, shown
from ..backend import xp_of
from .convert import as_tensor
from .linalg import tensordot
from .shape import getitem
from .shape_extra import moveaxis, pad

INTERPOLATIONS = ("nearest", "bilinear")
DATA_FORMATS = ("channels_last", "channels_first")


def check_data_format(value, owner):
    """Keras's ``data_format``: None is ``"channels_last"`` (Keras's default ``image_data_format``)."""
    value = "channels_last" if value is None else value
    if value not in DATA_FORMATS:
        raise ValueError(f"{owner}: data_format must be one of {DATA_FORMATS} (or None), got {shown(value)}")
    return value


def linear_weights(xp, size_in, size_out, antialias, dtype):
    """The ``(size_in, size_out)`` matrix of bilinear interpolation along one axis (Keras's ``_compute_weight_mat``
    with translation 0): output ``j`` samples the input at ``(j + 0.5) * size_in / size_out - 0.5``."""
    inverse = size_in / size_out
    width = builtins.max(inverse, 1.0) if antialias else 1.0
    sample = (xp.arange(size_out, dtype="float64") + 0.5) * inverse - 0.5
    weights = xp.maximum(0.0, 1.0 - xp.abs(sample[None, :] - xp.arange(size_in, dtype="float64")[:, None]) / width)
    total = weights.sum(axis=0, keepdims=True)
    weights = xp.where(xp.abs(total) > 1000.0 * xp.finfo(xp.float32).eps,
                       weights / xp.where(total != 0, total, 1.0), 0.0)
    inside = (sample >= -0.5) & (sample <= size_in - 0.5)
    return xp.where(inside[None, :], weights, 0.0).astype(dtype)


def nearest_indices(xp, size_in, size_out):
    """Keras's nearest-neighbour source index of every output position: ``floor((j + 0.5) * in / out)`` in float32."""
    offsets = (xp.arange(size_out, dtype="float32") + xp.float32(0.5)) * size_in / size_out
    return xp.floor(offsets).astype("int64")


def _aspect_box(height, width, target_height, target_width, crop):
    """Keras's centred box for ``crop_to_aspect_ratio`` (crop) or ``pad_to_aspect_ratio``: (box h, box w, h0, w0)."""
    box_height = int(float(width * target_height) / target_width)
    box_width = int(float(height * target_width) / target_height)
    if crop:
        box_height, box_width = builtins.max(builtins.min(height, box_height), 1), \
            builtins.max(builtins.min(width, box_width), 1)
        return box_height, box_width, int(float(height - box_height) / 2), int(float(width - box_width) / 2)
    box_height, box_width = builtins.max(height, box_height), builtins.max(width, box_width)
    return box_height, box_width, int(float(box_height - height) / 2), int(float(box_width - width) / 2)


def resize(images, size, interpolation="bilinear", antialias=False, crop_to_aspect_ratio=False,
           pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0, data_format=None):
    """``images`` resized to ``size = (height, width)``, as ``keras.ops.image.resize``.

    Args:
        images: a batch ``(N, H, W, C)`` or one image ``(H, W, C)`` (channels first with
            ``data_format="channels_first"``).
        size: the output ``(height, width)``, positive ints.
        interpolation: ``"bilinear"`` or ``"nearest"``.
        antialias: widen the bilinear kernel by the scale when downsampling.
        crop_to_aspect_ratio: first crop the centred largest box of the target aspect ratio.
        pad_to_aspect_ratio: first pad to the target aspect ratio with ``fill_value``, centred
            (Keras pads both sides by the same amount, so an odd difference leaves one row short).
        fill_mode: ``"constant"`` (the only mode Keras has).
        fill_value: the padding value of ``pad_to_aspect_ratio``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Raises:
        ValueError: an unknown interpolation, fill_mode or data_format, both aspect options, a bad size or rank.
    """
    x = as_tensor(images)
    data_format = check_data_format(data_format, "resize")
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"resize: interpolation must be one of {INTERPOLATIONS}, got {shown(interpolation)}")
    if fill_mode != "constant":
        raise ValueError(f"resize: fill_mode must be 'constant' (the only mode Keras has), got {shown(fill_mode)}")
    antialias = check_bool(antialias, "resize", "antialias")
    crop = check_bool(crop_to_aspect_ratio, "resize", "crop_to_aspect_ratio")
    padded = check_bool(pad_to_aspect_ratio, "resize", "pad_to_aspect_ratio")
    if crop and padded:
        raise ValueError("resize: only one of crop_to_aspect_ratio and pad_to_aspect_ratio can be True")
    if not isinstance(size, (tuple, list)) or len(size) != 2:
        raise ValueError(f"resize: size must be (height, width), got {shown(size)}")
    target = tuple(check_int(s, "resize", "size", low=1) for s in size)
    if x.ndim not in (3, 4):
        raise ValueError(f"resize: expected images of rank 4 (a batch) or 3 (one image), got shape {x.shape}")
    axes = (x.ndim - 3, x.ndim - 2) if data_format == "channels_last" else (x.ndim - 2, x.ndim - 1)
    if crop or padded:
        box_h, box_w, h0, w0 = _aspect_box(x.shape[axes[0]], x.shape[axes[1]], *target, crop)
        if crop:
            index = [builtins.slice(None)] * x.ndim
            index[axes[0]], index[axes[1]] = builtins.slice(h0, h0 + box_h), builtins.slice(w0, w0 + box_w)
            x = getitem(x, tuple(index))
        elif h0 > 0 or w0 > 0:
            width = [(0, 0)] * x.ndim
            width[axes[0] if h0 > 0 else axes[1]] = (h0, h0) if h0 > 0 else (w0, w0)
            x = pad(x, width, constant_values=check_real(fill_value, "resize", "fill_value"))
    xp = xp_of(x.data)
    for axis, n in zip(axes, target):
        m = x.shape[axis]
        if m == n:
            continue
        if interpolation == "nearest":
            x = getitem(x, (builtins.slice(None),) * axis + (nearest_indices(xp, m, n),))
        else:
            weights = as_tensor(linear_weights(xp, m, n, antialias, x.dtype))
            x = moveaxis(tensordot(x, weights, axes=([axis], [0])), -1, axis)
    return x
