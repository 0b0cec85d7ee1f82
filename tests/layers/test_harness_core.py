"""Dense, Activation, Flatten, Reshape, InputLayer, Dropout and TensorOp through the shared layer harness.

Weight counts are worked out by hand: Dense(units) on ``d`` features has ``d * units`` kernel
values plus ``units`` bias values.
"""

from _harness import layer_harness as harness
from _harness.layer_harness import LayerCase

from neurona import layers

CASES = [
    # Dense: 4 * 3 + 3 = 15
    LayerCase(layers.Dense, dict(units=3, activation="tanh"), (2, 4), (2, 3), trainable=2, params=15),
    # on (batch, steps, features): applied to the last axis; 4 * 5 = 20, no bias
    LayerCase(layers.Dense, dict(units=5, use_bias=False, kernel_regularizer="l2", activity_regularizer="l1"),
              (2, 3, 4), (2, 3, 5), trainable=1, params=20, losses=2),
    LayerCase(layers.Dense, dict(units=2, activation="relu", kernel_initializer="he_normal",
                                 bias_initializer="ones", bias_regularizer="l1"), (3, 4), (3, 2),
              trainable=2, params=10, losses=1),
    LayerCase(layers.Activation, dict(activation="softmax"), (2, 5), (2, 5)),
    LayerCase(layers.Activation, dict(activation="sigmoid", name="act"), (2, 3, 2), (2, 3, 2)),
    LayerCase(layers.Activation, dict(activation="relu", activity_regularizer="l2"), (3, 4), (3, 4), losses=1),
    LayerCase(layers.Flatten, dict(name="flat"), (2, 3, 2, 2), (2, 12)),
    LayerCase(layers.Flatten, dict(input_shape=(5,), activity_regularizer="l1", trainable=False), (2, 5), (2, 5),
              losses=1),
    LayerCase(layers.Reshape, dict(target_shape=(3, -1)), (2, 12), (2, 3, 4)),
    LayerCase(layers.Reshape, dict(target_shape=(2, 2, 3)), (2, 3, 4), (2, 2, 2, 3)),
    LayerCase(layers.InputLayer, dict(shape=(3, 4)), (2, 3, 4), (2, 3, 4)),
    LayerCase(layers.InputLayer, dict(shape=(5,), batch_size=2, name="features"), (2, 5), (2, 5)),
    LayerCase(layers.Dropout, dict(rate=0.5, seed=3), (2, 6), (2, 6), stochastic=True),
    # noise_shape (None, 1, 3): one keep/drop decision per sample and channel, shared by the 4 steps
    LayerCase(layers.Dropout, dict(rate=0.25, noise_shape=(None, 1, 3), seed=5), (2, 4, 3), (2, 4, 3),
              stochastic=True),
    # rate 0 keeps everything: deterministic in training too
    LayerCase(layers.Dropout, dict(rate=0.0, seed=1), (2, 3), (2, 3)),
    # TensorOp: what x[:, 0:2] and 2.0 * x on symbolic tensors record ({"__tensor__": 0} is the input)
    LayerCase(layers.TensorOp, dict(function="getitem", arguments=[
        [{"__tensor__": 0}, {"__tuple__": [{"__slice__": [None, None, None]}, {"__slice__": [0, 2, None]}]}], {}]),
        (2, 5), (2, 2), keeps_input_dtype=True),
    LayerCase(layers.TensorOp, dict(function="multiply", arguments=[[2.0, {"__tensor__": 0}], {}], name="twice"),
              (3, 4), (3, 4), keeps_input_dtype=True),
]


@harness.parametrize(CASES)
def test_layer_harness(device, case, check):
    check(case)
