"""``QuantizeWrapper``: a Dense or convolution layer computed on int8 (or narrower) grids, simulated in float.

What the wrapped layer computes (Jacob et al. 2018; onnxruntime's QDQ format, which export_onnx writes)::

    x_q = fake_quantize(x, s_x, z_x, 0, 2^a - 1)                 input, per tensor (affine, unsigned)
    W_q = fake_quantize(W, s_w, 0, -(2^(b-1) - 1), 2^(b-1) - 1)  kernel, per output channel (symmetric)
    b_q = fake_quantize(b, s_x * s_w, 0, int32 range)            bias, on the grid of the products' sum
                                                                  (static ranges only)
    y = layer(x_q) with W_q, b_q;   y_q = fake_quantize(y, s_y, z_y, 0, 2^a - 1)   when quantize_output

``s_w`` is read from the current kernel at every call (``max |W_c| / (2^(b-1) - 1)``), so a kernel that
training changes is always on its own grid. The activation ranges ``[lo, hi]`` (giving ``s`` and ``z``) are
variables of the wrapper: set by calibration (``quantize``), and, with ``moving_ranges=True`` (quantization-
aware training), moved in each training call towards the batch's ``[min, max]`` by an exponential moving
average (Jacob et al. 2018, section 3.1). With ``activations="dynamic"`` each call takes its own input's
range (dynamic quantization); with ``activations="none"`` only the weights are quantized.
"""

import numpy

from .. import backend
from ..autograd import no_grad
from ..ops.quantization import fake_quantize
from . import grid
from .wrapper import KernelWrapper

ACTIVATIONS = ("static", "dynamic", "none")
INT32_CODES = (-(2**31 - 1), 2**31 - 1)


class QuantizeWrapper(KernelWrapper):
    """Simulated integer quantization of a Dense, Conv1D or Conv2D layer's weights and activations.

    Args:
        layer: the layer to quantize (or a serialized one).
        weight_bits: width of the symmetric per-channel kernel codes (2 to 8; default 8).
        activation_bits: width of the unsigned activation codes (2 to 8; default 8).
        activations: ``"static"`` (calibrated ranges), ``"dynamic"`` (each batch's own input range, for Dense
            layers) or ``"none"`` (weights only).
        quantize_output: also quantize the layer's output (after its activation) on a static range.
        moving_ranges: training calls move the ranges by an exponential moving average (QAT); False keeps
            the calibrated ranges fixed.
        range_momentum: the moving average's momentum (the weight of the old range).
        input_range, output_range: initial ``(lo, hi)`` ranges (default unset: calibration, or the first
            training batch with ``moving_ranges``, sets them).
        **kwargs: base Layer arguments (the name defaults to ``quantize_<layer name>``).
    """

    prefix = "quantize"
    onnx_converter_module = "neurona.compression.onnx_qdq"  # export_onnx imports it (saving sits below us)

    def __init__(self, layer, weight_bits=8, activation_bits=8, activations="static", quantize_output=False,
                 moving_ranges=False, range_momentum=0.99, input_range=None, output_range=None, **kwargs):
        super().__init__(layer, **kwargs)
        self.weight_bits = grid.check_bits(weight_bits, f"{type(self).__name__} weight_bits")
        self.activation_bits = grid.check_bits(activation_bits, f"{type(self).__name__} activation_bits")
        if activations not in ACTIVATIONS:
            raise ValueError(f"QuantizeWrapper activations must be one of {ACTIVATIONS}, got {activations!r}")
        if activations != "static" and (quantize_output or moving_ranges):
            raise ValueError("QuantizeWrapper quantize_output and moving_ranges need activations='static', got "
                             f"activations={activations!r}")
        if not isinstance(quantize_output, bool) or not isinstance(moving_ranges, bool):
            raise TypeError("QuantizeWrapper quantize_output and moving_ranges must be bools")
        if not 0.0 <= float(range_momentum) < 1.0:
            raise ValueError(f"QuantizeWrapper range_momentum must be in [0, 1), got {range_momentum!r}")
        self.activations, self.quantize_output = activations, quantize_output
        self.moving_ranges, self.range_momentum = moving_ranges, float(range_momentum)
        self.initial_ranges = {"input_range": _check_range(input_range, "input_range"),
                               "output_range": _check_range(output_range, "output_range")}
        if activations != "static" and input_range is not None or not quantize_output and output_range is not None:
            raise ValueError("QuantizeWrapper: input_range needs activations='static', output_range needs "
                             "quantize_output=True")
        self.input_range = self.output_range = None

    def build_wrapper(self, input_shape):
        if self.activations != "static":
            return
        # [lo, hi]; [0, 0] means "not observed yet" (the first training batch, or calibration, sets it)
        for name in ("input_range", "output_range") if self.quantize_output else ("input_range",):
            initial = self.initial_ranges[name]
            setattr(self, name, self.add_weight(name=name, shape=(2,), trainable=False,
                                                initializer=_filled_with(initial or [0.0, 0.0])))

    # ---- the grids -------------------------------------------------------------------------------------
    def weight_scale(self):
        """Per-output-channel kernel scales (last kernel axis), from the current kernel."""
        kernel = backend.asnumpy(self.layer.kernel.data)
        absmax = numpy.abs(kernel).reshape(-1, kernel.shape[-1]).max(axis=0)
        return grid.symmetric_scale(absmax, self.weight_bits)

    def activation_params(self, which="input"):
        """``(scale, zero_point)`` of the input's (or the output's) calibrated range."""
        variable = self.input_range if which == "input" else self.output_range
        ends = [float(v) for v in backend.asnumpy(variable.data)]
        lo, hi = min(ends), max(ends)  # the interval between the two ends, however they were set
        if lo == hi == 0.0:
            raise ValueError(f"layer {self.name!r} (QuantizeWrapper) has no {which} range yet: calibrate it "
                             "(neurona.compression.quantize(model, calibration_x)) or train it with "
                             "moving_ranges=True")
        return grid.affine_params(lo, hi, self.activation_bits)

    def _observe(self, variable, values, training):
        """Move a range towards the batch's ``[min, max]`` (QAT), or set it if it was never observed."""
        if not (training and self.moving_ranges):
            return
        data = backend.asnumpy(values.data)
        batch = numpy.array([data.min(), data.max()], dtype=numpy.float64)
        old = backend.asnumpy(variable.data).astype(numpy.float64)
        new = batch if (old == 0.0).all() else self.range_momentum * old + (1.0 - self.range_momentum) * batch
        with no_grad():
            variable.assign(new.astype(variable.dtype))

    def _fake_quantize_activation(self, values, scale, zero_point):
        return fake_quantize(values, scale, zero_point, *grid.activation_codes(self.activation_bits))

    # ---- the call --------------------------------------------------------------------------------------
    def call(self, inputs, training=None):
        x, input_scale = inputs, None
        if self.activations == "static":
            self._observe(self.input_range, inputs, training)
            input_scale, zero_point = self.activation_params("input")
            x = self._fake_quantize_activation(inputs, input_scale, zero_point)
        elif self.activations == "dynamic":
            data = backend.asnumpy(inputs.data)
            input_scale, zero_point = grid.affine_params(float(data.min()), float(data.max()),
                                                         self.activation_bits)
            x = self._fake_quantize_activation(inputs, input_scale, zero_point)
        weight_scale = self.weight_scale()
        kernel = fake_quantize(self.layer.kernel, weight_scale, 0, *grid.weight_codes(self.weight_bits), axis=-1)
        weights = {"kernel": kernel}
        if self.layer.bias is not None and self.activations == "static":
            weights["bias"] = fake_quantize(self.layer.bias, input_scale * weight_scale, 0, *INT32_CODES, axis=0)
        y = self.call_inner(x, training, **weights)
        if self.quantize_output:
            self._observe(self.output_range, y, training)
            y = self._fake_quantize_activation(y, *self.activation_params("output"))
        return y

    def set_ranges(self, input_range=None, output_range=None):
        """Set the calibrated ``(lo, hi)`` ranges (the layer must be built)."""
        for variable, value in ((self.input_range, input_range), (self.output_range, output_range)):
            if value is not None and variable is not None:
                variable.assign(numpy.asarray(value, dtype=variable.dtype))

    def get_config(self):
        return {**super().get_config(), "weight_bits": self.weight_bits, "activation_bits": self.activation_bits,
                "activations": self.activations, "quantize_output": self.quantize_output,
                "moving_ranges": self.moving_ranges, "range_momentum": self.range_momentum, **self.initial_ranges}


def _filled_with(values):
    """An initializer ``(shape, dtype) -> values`` (a range is two numbers, not one constant)."""
    def initializer(shape, dtype=None):
        return numpy.asarray(values, dtype=dtype).reshape(shape)

    return initializer


def _check_range(value, what):
    """``value`` as a JSON-safe ``[lo, hi]`` of finite floats (or None)."""
    if value is None:
        return None
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"QuantizeWrapper {what} must be a pair (lo, hi) of numbers, got {value!r}") from None
    if not (numpy.isfinite(lo) and numpy.isfinite(hi)) or lo > hi:
        raise ValueError(f"QuantizeWrapper {what} must be finite with lo <= hi, got {value!r}")
    return [lo, hi]


