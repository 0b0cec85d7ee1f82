"""The merge layers, Lambda and Identity through the shared layer harness.

A list of input shapes makes the harness call the layer on a list of tensors (each one
gradient-checked). None of these layers has weights. Output shapes are worked out by hand:
elementwise merges align the per-sample shapes from the right and broadcast size-1 axes
((3, 4) with (1, 4) and (4,) gives (3, 4)); Concatenate adds the joined sizes; Dot drops the
paired axes and the second input's batch axis.
"""

from _harness import layer_harness as harness
from _harness.layer_harness import LayerCase

import neurona as nr
from neurona import layers


@layers.register_function
def harness_scaled_sum(x, scale=1.0, axis=-1):
    """``scale * sum(x, axis)``: a registered function for the Lambda cases."""
    return nr.ops.sum(x, axis=axis) * scale


CASES = [
    LayerCase(layers.Add, dict(name="sum"), [(2, 3), (2, 3)], (2, 3)),
    # three inputs of three shapes: (3, 4), (1, 4) and (4,) broadcast to (3, 4)
    LayerCase(layers.Add, dict(activity_regularizer="l2"), [(2, 3, 4), (2, 1, 4), (2, 4)], (2, 3, 4), losses=1),
    LayerCase(layers.Subtract, dict(name="difference"), [(2, 4), (2, 4)], (2, 4)),
    LayerCase(layers.Subtract, dict(activity_regularizer="l1"), [(2, 3, 2), (2, 2)], (2, 3, 2), losses=1),
    LayerCase(layers.Multiply, dict(name="product"), [(2, 3), (2, 3), (2, 3)], (2, 3)),
    LayerCase(layers.Multiply, dict(activity_regularizer="l2"), [(2, 1, 3), (2, 4, 1)], (2, 4, 3), losses=1),
    LayerCase(layers.Average, dict(name="mean"), [(2, 3), (2, 3)], (2, 3)),
    LayerCase(layers.Average, dict(activity_regularizer="l1"), [(2, 2, 3), (2, 2, 1), (2, 3)], (2, 2, 3),
              losses=1),
    # (the seeded draws give each of the three inputs the maximum somewhere: every input gets a gradient)
    LayerCase(layers.Maximum, dict(name="largest"), [(2, 4), (2, 4), (2, 4)], (2, 4)),
    LayerCase(layers.Maximum, dict(activity_regularizer="l2"), [(2, 3, 2), (2, 1, 2)], (2, 3, 2), losses=1),
    LayerCase(layers.Minimum, dict(name="smallest"), [(2, 5), (2, 5), (2, 5)], (2, 5)),
    LayerCase(layers.Minimum, dict(activity_regularizer="l1"), [(2, 3, 2), (2, 2)], (2, 3, 2), losses=1),
    # 3 + 4 features
    LayerCase(layers.Concatenate, dict(name="joined"), [(2, 3), (2, 4)], (2, 7)),
    # along the steps: 2 + 1 + 3
    LayerCase(layers.Concatenate, dict(axis=1), [(2, 2, 3), (2, 1, 3), (2, 3, 3)], (2, 6, 3)),
    LayerCase(layers.Concatenate, dict(axis=-2, activity_regularizer="l2"), [(2, 1, 2), (2, 2, 2)], (2, 3, 2),
              losses=1),
    # two vectors: one number per sample, kept as (batch, 1)
    LayerCase(layers.Dot, dict(axes=1), [(2, 4), (2, 4)], (2, 1)),
    # x's axis 1 (3) with y's axis 2 (3): x's remaining 4, then y's remaining 5
    LayerCase(layers.Dot, dict(axes=(1, 2)), [(2, 3, 4), (2, 5, 3)], (2, 4, 5)),
    # cosine similarity of x's rows (axis -1: 4) with y (its only axis 1: 4)
    LayerCase(layers.Dot, dict(axes=-1, normalize=True), [(2, 3, 4), (2, 4)], (2, 3)),
    LayerCase(layers.Dot, dict(axes=[2, 1], normalize=True), [(2, 3, 4), (2, 4, 2)], (2, 3, 2)),
    LayerCase(layers.Identity, dict(name="same"), (2, 3), (2, 3)),
    LayerCase(layers.Identity, dict(activity_regularizer="l1"), (2, 3, 2), (2, 3, 2), losses=1),
    LayerCase(layers.Lambda, dict(function=nr.ops.square), (2, 3), (2, 3), id="Lambda(ops.square)"),
    # a registered function with arguments (a tuple among them, which the config must give back as a tuple)
    LayerCase(layers.Lambda, dict(function=harness_scaled_sum, arguments={"scale": 0.5, "axis": (1,)}),
              (2, 4, 3), (2, 3), id="Lambda(harness_scaled_sum, arguments)"),
    # a function of neurona.activations, with its output shape stated rather than probed
    LayerCase(layers.Lambda, dict(function=nr.activations.linear, output_shape=(3, 2)), (2, 3, 2), (2, 3, 2),
              id="Lambda(activations.linear, output_shape)"),
    # a Lambda called on a list of tensors
    LayerCase(layers.Lambda, dict(function=nr.ops.concatenate, arguments={"axis": -1}), [(2, 3), (2, 2)],
              (2, 5), id="Lambda(ops.concatenate, two inputs)"),
]


@harness.parametrize(CASES)
def test_layer_harness(device, case, check):
    check(case)
