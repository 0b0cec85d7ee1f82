"""ReLU, LeakyReLU, PReLU, ELU and Softmax (and Dense/Activation with the new activation names) through the
shared layer harness.

PReLU's ``alpha`` has the input's shape without the batch axis, 1 along each shared axis: on (2, 3, 4) that
is 3 * 4 = 12 values, 1 * 4 = 4 with ``shared_axes=[1]``, 1 with ``shared_axes=[1, 2]``.
"""

from _harness import layer_harness as harness
from _harness.layer_harness import LayerCase

from neurona import layers

CASES = [
    LayerCase(layers.ReLU, dict(max_value=1.5), (2, 5), (2, 5)),
    LayerCase(layers.ReLU, dict(negative_slope=0.2, threshold=0.5, name="thresholded"), (2, 3, 4), (2, 3, 4)),
    LayerCase(layers.ReLU, dict(max_value=2.0, negative_slope=0.1, threshold=0.25, activity_regularizer="l2"),
              (3, 4), (3, 4), losses=1),
    LayerCase(layers.LeakyReLU, dict(), (2, 5), (2, 5)),
    LayerCase(layers.LeakyReLU, dict(negative_slope=0.05), (2, 3, 4), (2, 3, 4)),
    LayerCase(layers.PReLU, dict(), (2, 3, 4), (2, 3, 4), trainable=1, params=12),
    LayerCase(layers.PReLU, dict(shared_axes=[1], alpha_initializer="ones"), (2, 3, 4), (2, 3, 4), trainable=1,
              params=4),
    LayerCase(layers.PReLU, dict(shared_axes=[1, 2], alpha_regularizer="l1", alpha_initializer="he_normal"),
              (2, 3, 4), (2, 3, 4), trainable=1, params=1, losses=1),
    LayerCase(layers.PReLU, dict(shared_axes=2), (2, 3, 2, 2), (2, 3, 2, 2), trainable=1, params=6),
    LayerCase(layers.ELU, dict(), (2, 5), (2, 5)),
    LayerCase(layers.ELU, dict(alpha=0.5), (2, 3, 4), (2, 3, 4)),
    LayerCase(layers.Softmax, dict(), (2, 5), (2, 5)),
    LayerCase(layers.Softmax, dict(axis=1), (2, 3, 4), (2, 3, 4)),
    LayerCase(layers.Softmax, dict(axis=[1, 2], name="joint"), (2, 3, 4), (2, 3, 4)),
    # the activations added with Keras 3's names, by name in the layers that take one
    LayerCase(layers.Dense, dict(units=4, activation="celu"), (2, 3), (2, 4), trainable=2, params=16),
    LayerCase(layers.Dense, dict(units=3, activation="log_sigmoid"), (2, 4), (2, 3), trainable=2, params=15),
    LayerCase(layers.Activation, dict(activation="glu"), (2, 3, 6), (2, 3, 3)),
]


@harness.parametrize(CASES)
def test_layer_harness(device, case, check):
    check(case)
