"""ONNX converters of issue 21's catalog: padding, cropping, up-sampling, Permute, RepeatVector, UnitNormalization
and the image preprocessing layers; the noise layers and ActivityRegularization are the identity at inference.

Resizing runs ONNX's ``Resize`` on channels-first images with the output size computed from the input's shape
(the batch stays symbolic): ``linear`` with ``half_pixel`` coordinates is Keras's bilinear resize (borders
clamped), and ``nearest`` with ``half_pixel`` and ``round_prefer_ceil`` picks Keras's ``floor((j + 0.5) * in /
out)``. Keras's ``antialias`` needs opset 18's attribute, so a model that downsamples with it is refused.
"""

import numpy

from ..ops.image import _aspect_box
from .onnx_export import register_converter


def _ints(values):
    return numpy.array(list(values), dtype=numpy.int64)


def _known(layer, axes):
    sizes = [layer.input_shape[a] for a in axes]
    if any(s is None for s in sizes):
        raise ValueError(f"export_onnx: layer {layer.name!r} ({type(layer).__name__}) needs inputs of a fixed size "
                         f"along axes {list(axes)}, got {layer.input_shape}; build the model for a fixed input size")
    return sizes


def _slice(g, x, name, axes, starts, ends):
    return g.node("Slice", [x, g.constant(f"{name}_starts", _ints(starts)), g.constant(f"{name}_ends", _ints(ends)),
                            g.constant(f"{name}_axes", _ints(axes))])


@register_converter("SpatialDropout1D")
@register_converter("SpatialDropout2D")
@register_converter("GaussianNoise")
@register_converter("GaussianDropout")
@register_converter("AlphaDropout")
@register_converter("ActivityRegularization")
def identity(layer, g, x):
    """Inference mode: the noise layers pass their inputs through (the penalty is a training loss)."""
    return x


@register_converter("ZeroPadding1D")
@register_converter("ZeroPadding2D")
def zero_padding(layer, g, x):
    rank = len(layer.input_shape)
    before, after = [0] * rank, [0] * rank
    for axis, (b, a) in zip(layer._axes, layer._pairs):
        before[axis], after[axis] = b, a
    return g.node("Pad", [x, g.constant(f"{layer.name}_pads", _ints(before + after))], mode="constant")


@register_converter("Cropping1D")
@register_converter("Cropping2D")
def cropping(layer, g, x):
    sizes = _known(layer, layer._axes)
    return _slice(g, x, layer.name, layer._axes, [b for b, _ in layer._pairs],
                  [n - a for n, (_, a) in zip(sizes, layer._pairs)])


@register_converter("CenterCrop")
def center_crop(layer, g, x):
    rows, cols = _known(layer, layer._axes)
    if rows < layer.height or cols < layer.width:  # smaller than the box: cropped to its aspect and resized
        return _resize(layer, g, x, "bilinear", crop=True)
    top, left = (rows - layer.height) // 2, (cols - layer.width) // 2
    return _slice(g, x, layer.name, layer._axes, [top, left], [top + layer.height, left + layer.width])


@register_converter("Permute")
def permute(layer, g, x):
    return g.node("Transpose", [x], perm=[0, *layer.dims])


@register_converter("RepeatVector")
def repeat_vector(layer, g, x):
    wide = g.node("Unsqueeze", [x, g.constant("axis_1", _ints([1]))])
    return g.node("Expand", [wide, g.constant(f"{layer.name}_repeats", _ints([1, layer.n, 1]))])


@register_converter("UnitNormalization")
def unit_normalization(layer, g, x):
    from ..layers.normalization.unit_normalization import EPSILON

    axes = layer.axis if isinstance(layer.axis, list) else [layer.axis]
    squares = g.node("ReduceSumSquare", [x], axes=axes, keepdims=1)
    norm = g.node("Sqrt", [g.node("Max", [squares, g.constant("unit_norm_epsilon", [EPSILON ** 2])])])
    return g.node("Div", [x, norm])


@register_converter("Rescaling")
def rescaling(layer, g, x):
    scaled = g.node("Mul", [x, g.constant(f"{layer.name}_scale", numpy.atleast_1d(layer.scale))])
    return g.node("Add", [scaled, g.constant(f"{layer.name}_offset", numpy.atleast_1d(layer.offset))])


@register_converter("UpSampling1D")
@register_converter("UpSampling2D")
def up_sampling(layer, g, x):
    return _resize(layer, g, x, getattr(layer, "interpolation", "nearest"))


@register_converter("Resizing")
def resizing(layer, g, x):
    return _resize(layer, g, x, layer.interpolation, crop=layer.crop_to_aspect_ratio, pad=layer.pad_to_aspect_ratio)


def _output_size(layer):
    if hasattr(layer, "height"):
        return [layer.height, layer.width]
    return [n * f for n, f in zip(_known(layer, layer._axes), layer._factors)]


def _resize(layer, g, x, interpolation, crop=False, pad=False):
    """ONNX's ``Resize`` over the layer's spatial axes (channels-first inside), after the aspect crop or pad."""
    rank = len(layer.input_shape)
    axes, target = list(layer._axes), _output_size(layer)
    rows_cols = _known(layer, axes)
    if crop or pad:
        box_h, box_w, h0, w0 = _aspect_box(*rows_cols, *target, crop)
        if crop:
            x = _slice(g, x, layer.name, axes, [h0, w0], [h0 + box_h, w0 + box_w])
            rows_cols = [box_h, box_w]
        elif h0 > 0 or w0 > 0:
            pads = [0] * (2 * rank)
            axis = axes[0] if h0 > 0 else axes[1]
            pads[axis] = pads[rank + axis] = h0 if h0 > 0 else w0
            x = g.node("Pad", [x, g.constant(f"{layer.name}_pads", _ints(pads)),
                               g.constant(f"{layer.name}_fill", numpy.array(layer.fill_value))], mode="constant")
            rows_cols = [rows_cols[0] + 2 * h0, rows_cols[1]] if h0 > 0 else [rows_cols[0], rows_cols[1] + 2 * w0]
    if getattr(layer, "antialias", False) and any(n < m for n, m in zip(target, rows_cols)):
        raise ValueError(f"export_onnx: layer {layer.name!r} (Resizing) downsamples with antialias=True, which "
                         "ONNX's Resize has only from opset 18")
    channels_last = axes[0] == 1
    if rank == 3:  # UpSampling1D: (batch, steps, features) as (batch, features, steps, 1) images
        x = g.node("Unsqueeze", [g.node("Transpose", [x], perm=[0, 2, 1]), g.constant("axis_3", _ints([3]))])
        target = target + [1]
    elif channels_last:
        x = g.node("Transpose", [x], perm=[0, 3, 1, 2])
    leading = _slice(g, g.node("Shape", [x]), f"{layer.name}_batch_channels", [0], [0], [2])
    sizes = g.node("Concat", [leading, g.constant(f"{layer.name}_size", _ints(target))], axis=0)
    attrs = dict(mode="linear") if interpolation == "bilinear" else dict(mode="nearest",
                                                                          nearest_mode="round_prefer_ceil")
    y = g.node("Resize", [x, "", "", sizes], coordinate_transformation_mode="half_pixel", **attrs)
    if rank == 3:
        return g.node("Transpose", [g.node("Squeeze", [y, g.constant("axis_3", _ints([3]))])], perm=[0, 2, 1])
    return g.node("Transpose", [y], perm=[0, 2, 3, 1]) if channels_last else y
