"""The compression wrappers through the shared layer harness (their gradient is the straight-through one, which
tests/compression/test_straight_through.py and test_binary.py check against its formula; the moving ranges of
quantization-aware training, a state every training call changes, are tested in tests/compression/test_quantize.py)."""

from _harness import layer_harness as harness
from _harness.layer_harness import LayerCase

from neurona.compression import BinaryWrapper, PolynomialDecay, PruneWrapper, QuantizeWrapper

STE = "quantization's straight-through estimator (the forward pass is piecewise constant)"
BINARY_STE = "BinaryConnect's hard-tanh straight-through estimator (the forward pass is H sign(w))"


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
    # the harness's weights have magnitudes in [0.5, 1.5]: an H above 0.5 leaves some inside [-H, H], where the
    # gradient passes (tests/compression/test_binary.py checks it against its formula and the "glorot" H)
    LayerCase(BinaryWrapper, dict(layer=_dense(3, activation="tanh"), scale=1.0), (2, 4), (2, 3), trainable=2,
              params=15, surrogate_gradient=BINARY_STE, id="BinaryWrapper(Dense(tanh), H=1)"),
    LayerCase(BinaryWrapper, dict(layer={"class_name": "Conv2D", "config": {"filters": 2, "kernel_size": 2,
                                                                             "use_bias": False}},
                                  scale=1.25),
              (2, 4, 4, 3), (2, 3, 3, 2), trainable=1, params=24, surrogate_gradient=BINARY_STE,
              id="BinaryWrapper(Conv2D, H=1.25, no bias)"),
    LayerCase(BinaryWrapper, dict(layer={"class_name": "Conv1D", "config": {"filters": 2, "kernel_size": 2}},
                                  scale="glorot_uniform", stochastic=True, seed=3),
              (2, 4, 3), (2, 3, 2), trainable=2, params=14, stochastic=True, surrogate_gradient=BINARY_STE,
              id="BinaryWrapper(Conv1D, stochastic)"),
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
