"""Post-training quantization, dynamic quantization and quantization-aware training: model transforms.

- ``quantize(model, calibration_x)``: post-training static quantization (Krishnamoorthi 2018; Wu et al.
  2020): int8 symmetric per-channel kernels, uint8 activations on ranges observed on ``calibration_x``.
- ``quantize_dynamic(model)``: Dense layers with int8 kernels whose inputs are quantized on each batch's own
  range at run time (PyTorch's ``quantize_dynamic``): no calibration data needed.
- ``quantize_aware(model)``: the same grids as ``quantize``, with ranges that training moves (an exponential
  moving average of each batch's range) and the straight-through gradient, so that ``fit`` fine-tunes the
  model for its integer grid (quantization-aware training, Jacob et al. 2018), at 8 bits or fewer.

Each returns a new model whose Dense and convolution layers are ``QuantizeWrapper``s (the model given is not
changed). The result runs in Neurona (simulated quantization: the integer grids computed in float), saves and
loads like any model, and ``export_onnx`` writes it in the QDQ form that onnxruntime runs with int8 kernels.
"""

from .. import activations as activations_lib
from .calibration import METHODS, observe_ranges
from .quantize_wrapper import QuantizeWrapper
from .transform import check_model, target_layers, wrapped_copy

# a layer whose output (after its activation) is quantized too: one whose activation keeps a useful range on
# a uniform grid (a softmax output is a probability, which the grid of the logits already decides)
_OUTPUT_QUANTIZED = {"relu", "linear", "relu6"}


def _quantizes_output(layer):
    name = activations_lib.serialize(layer.activation)
    return isinstance(name, str) and name in _OUTPUT_QUANTIZED


def quantize(model, calibration_x, weight_bits=8, activation_bits=8, calibration="minmax", percentile=99.99,
             batch_size=128, layers=None):
    """A post-training-quantized copy of ``model``.

    Args:
        model: a built Sequential or functional model.
        calibration_x: representative inputs (a few hundred to a few thousand samples; anything ``predict``
            takes) on which the activation ranges are observed.
        weight_bits, activation_bits: code widths (2 to 8; default 8).
        calibration: ``"minmax"`` or ``"percentile"`` (the ``100 - percentile``..``percentile`` range).
        percentile: the percentile of ``"percentile"`` calibration (default 99.99).
        batch_size: batch size of the calibration run.
        layers: names of the Dense/Conv1D/Conv2D layers to quantize (default all of them).

    Returns:
        A new model with those layers wrapped in ``QuantizeWrapper``s with calibrated, fixed ranges.
    """
    check_model(model, "quantize")
    if calibration not in METHODS:
        raise ValueError(f"quantize: calibration must be one of {', '.join(METHODS)}, got {calibration!r}")
    if calibration_x is None:
        raise ValueError("quantize: calibration_x is required (a sample of inputs on which the activation ranges "
                         "are observed); use quantize_dynamic(model) for quantization without data")
    targets = target_layers(model, layers)
    ranges = observe_ranges(model, targets, calibration_x, calibration, percentile, batch_size)
    copy, wrappers = wrapped_copy(model, targets, lambda layer: QuantizeWrapper(
        layer, weight_bits, activation_bits, "static", quantize_output=_quantizes_output(layer)))
    for layer, wrapper in wrappers.items():
        wrapper.set_ranges(*ranges[layer])
    return copy


def quantize_dynamic(model, weight_bits=8, activation_bits=8, layers=None):
    """A copy of ``model`` whose Dense layers have int8 kernels and quantize their inputs per batch at run time.

    Args:
        model: a built Sequential or functional model.
        weight_bits, activation_bits: code widths (2 to 8; default 8).
        layers: names of the Dense layers to quantize (default all of them).
    """
    from ..layers import Dense

    check_model(model, "quantize_dynamic")
    targets = target_layers(model, layers, kinds=(Dense,))
    copy, _ = wrapped_copy(model, targets, lambda layer: QuantizeWrapper(layer, weight_bits, activation_bits,
                                                                        "dynamic"))
    return copy


def quantize_aware(model, weight_bits=8, activation_bits=8, calibration_x=None, range_momentum=0.99,
                   batch_size=128, layers=None):
    """A copy of ``model`` ready for quantization-aware training (fine-tune it with ``fit``).

    Args:
        model: a built Sequential or functional model (compiled models give a compiled copy).
        weight_bits, activation_bits: code widths (2 to 8; 8 and 4 are the usual choices).
        calibration_x: optional inputs to start the ranges from (min-max); otherwise the first training batch
            sets them.
        range_momentum: momentum of the ranges' moving average in training.
        batch_size: batch size of the calibration run.
        layers: names of the Dense/Conv1D/Conv2D layers to quantize (default all of them).
    """
    check_model(model, "quantize_aware")
    targets = target_layers(model, layers)
    ranges = observe_ranges(model, targets, calibration_x, batch_size=batch_size) if calibration_x is not None \
        else {}
    copy, wrappers = wrapped_copy(model, targets, lambda layer: QuantizeWrapper(
        layer, weight_bits, activation_bits, "static", quantize_output=_quantizes_output(layer),
        moving_ranges=True, range_momentum=range_momentum))
    for layer, wrapper in wrappers.items():
        if layer in ranges:
            wrapper.set_ranges(*ranges[layer])
    return copy
