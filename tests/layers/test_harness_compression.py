"""The compression wrappers through the shared layer harness (their gradient is the straight-through one, which
tests/compression/test_straight_through.py checks against its formula; the moving ranges of quantization-aware
training, a state every training call changes, are tested in tests/compression/test_quantize.py)."""

from _harness import layer_harness as harness
from _harness.layer_harness import LayerCase

from neurona.compression import PolynomialDecay, PruneWrapper, QuantizeWrapper

STE = "quantization's straight-through estimator (the forward pass is piecewise constant)"


def _dense(units, **config):
    return {"class_name": "Dense", "config": {"units": units, **config}}


CASES = [
    LayerCase(QuantizeWrapper, dict(layer=_dense(3), activations="none"), (2, 4), (2, 3), trainable=2, params=15,
              surrogate_gradient=STE, id="QuantizeWrapper(Dense, weights only)"),
    LayerCase(QuantizeWrapper, dict(layer=_dense(3, use_bias=False), activations="dynamic", weight_bits=3),
              (2, 4), (2, 3), trainable=1, params=12, surrogate_gradient=STE,
              id="QuantizeWrapper(Dense, dynamic, 3-bit weights)"),
    LayerCase(QuantizeWrapper, dict(layer={"class_name": "Conv2D", "config": {
        "filters": 2, "kernel_size": 3, "activation": "relu"}}, weight_bits=4, activation_bits=6,
        quantize_output=True, input_range=(-2.0, 2.5), output_range=(0.0, 4.0)),
        (2, 5, 5, 1), (2, 3, 3, 2), trainable=2, non_trainable=2, params=24,
        surrogate_gradient=STE, id="QuantizeWrapper(Conv2D(relu), 4/6 bits, output quantized)"),
    # kernel * mask is differentiable as it is: these get the full gradient checks
    LayerCase(PruneWrapper, dict(layer=_dense(3, activation="relu")), (2, 4), (2, 3), trainable=2,
              non_trainable=2, params=28, id="PruneWrapper(Dense)"),
    LayerCase(PruneWrapper, dict(layer={"class_name": "Conv1D", "config": {"filters": 2, "kernel_size": 2}},
                                 schedule=PolynomialDecay(0.0, 0.5, 0, 10), scope="global"),
              (2, 4, 3), (2, 3, 2), trainable=2, non_trainable=2, params=27, id="PruneWrapper(Conv1D, schedule)"),
]


@harness.parametrize(CASES)
def test_layer_harness(device, case, check):
    check(case)
