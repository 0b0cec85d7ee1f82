"""BatchNormalization, LayerNormalization, GroupNormalization, InstanceNormalization and the Normalization
preprocessing layer through the shared layer harness.

Counts by hand: ``gamma`` (if ``scale``) and ``beta`` (if ``center``) are trainable, one value per
normalized position; BatchNormalization adds the non-trainable ``moving_mean`` and ``moving_variance``
(one per feature), updated by training calls only; Normalization holds its ``mean`` and ``variance``
as non-trainable weights.
"""

import numpy as np
from _harness import layer_harness as harness
from _harness.layer_harness import LayerCase

from neurona import layers


def _adapt(layer):
    layer.adapt(np.random.default_rng(7).normal(2.0, 3.0, (10, 3, 2)))


BATCH = dict(updates_in_training=True, training_differs=True)  # batch statistics in training, moving ones after

CASES = [
    # 3 features: gamma, beta, moving_mean, moving_variance of 3 values each
    LayerCase(layers.BatchNormalization, dict(momentum=0.9, epsilon=1e-4, gamma_regularizer="l2"), (4, 3), (4, 3),
              trainable=2, non_trainable=2, params=12, losses=1, **BATCH),
    # channels first: 2 channels along axis 1; no beta
    LayerCase(layers.BatchNormalization, dict(axis=1, center=False, momentum=0.5), (3, 2, 2, 2), (3, 2, 2, 2),
              trainable=1, non_trainable=2, params=6, **BATCH),
    LayerCase(layers.BatchNormalization, dict(center=False, scale=False, epsilon=0.01), (2, 2, 2, 3), (2, 2, 2, 3),
              trainable=0, non_trainable=2, params=6, **BATCH),
    LayerCase(layers.LayerNormalization, dict(epsilon=1e-4), (2, 5), (2, 5), trainable=2, params=10),
    # gamma spans both normalized axes: (3, 4)
    LayerCase(layers.LayerNormalization, dict(axis=[1, 2], center=False), (2, 3, 4), (2, 3, 4), trainable=1,
              params=12),
    LayerCase(layers.LayerNormalization, dict(axis=1, scale=False, beta_initializer="ones",
                                              beta_regularizer="l1"), (2, 3, 2), (2, 3, 2), trainable=1, params=3,
              losses=1),
    LayerCase(layers.GroupNormalization, dict(groups=2), (2, 3, 4), (2, 3, 4), trainable=2, params=8),
    LayerCase(layers.GroupNormalization, dict(groups=3, axis=1, epsilon=1e-2, center=False), (2, 6, 2), (2, 6, 2),
              trainable=1, params=6),
    LayerCase(layers.GroupNormalization, dict(groups=-1, gamma_initializer="zeros"), (2, 2, 2, 2), (2, 2, 2, 2),
              trainable=2, params=4),
    LayerCase(layers.InstanceNormalization, dict(epsilon=1e-2), (2, 3, 3, 2), (2, 3, 3, 2), trainable=2, params=4),
    LayerCase(layers.InstanceNormalization, dict(axis=1, scale=False), (2, 2, 4), (2, 2, 4), trainable=1, params=2),
    LayerCase(layers.Normalization, dict(mean=[1.0, -1.0, 0.5], variance=[4.0, 0.25, 1.0]), (2, 3), (2, 3),
              non_trainable=2, params=6),
    # axis None: one scalar mean and variance (shape ()), one value each
    LayerCase(layers.Normalization, dict(axis=None, mean=2.0, variance=3.0, invert=True), (2, 3, 2), (2, 3, 2),
              non_trainable=2, params=2),
    # statistics learned by adapt() for each of the 3 * 2 kept positions
    LayerCase(layers.Normalization, dict(axis=(1, 2)), (2, 3, 2), (2, 3, 2), non_trainable=2, params=12,
              setup=_adapt, id="Normalization(axis=(1, 2), adapted)"),
]


@harness.parametrize(CASES)
def test_layer_harness(device, case, check):
    check(case)
