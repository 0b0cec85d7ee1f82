"""Smaller and faster models: quantization, binarization and pruning, as transforms of a model.

Nothing here is a branch inside a layer class: each transform returns a copy of a model in which some layers
are wrapped (``QuantizeWrapper``), and the wrappers save, load and export to ONNX like any layer.
"""

from ..layers import register as _register
from ..ops.quantization import binarize_weights, fake_quantize
from .binary import BinaryWrapper, ClipBinaryWeights, binary_connect, strip_binary
from .calibration import MinMaxObserver, PercentileObserver
from .pruning import PruneWrapper, UpdatePruningStep, prune_low_magnitude, sparsity_report, strip_pruning
from .quantize import quantize, quantize_aware, quantize_dynamic
from .quantize_wrapper import QuantizeWrapper
from .sparsity_schedules import ConstantSparsity, PolynomialDecay
from .structured import prune_filters
from .wrapper import KernelWrapper

_register(QuantizeWrapper)
_register(PruneWrapper)
_register(BinaryWrapper)

__all__ = ["quantize", "quantize_dynamic", "quantize_aware", "QuantizeWrapper", "KernelWrapper", "fake_quantize",
           "MinMaxObserver", "PercentileObserver", "prune_low_magnitude", "strip_pruning", "sparsity_report",
           "PruneWrapper", "UpdatePruningStep", "ConstantSparsity", "PolynomialDecay", "prune_filters",
           "binary_connect", "strip_binary", "BinaryWrapper", "ClipBinaryWeights", "binarize_weights"]
