"""Cross-entropy metrics report the mean of the matching loss."""

import numpy as np
import pytest

import neurona as nr
from neurona import losses, metrics, ops


def test_crossentropy_metrics_match_the_losses(rng):
    z = nr.Tensor(rng.standard_normal((6, 4)) * 30, requires_grad=True)
    labels = rng.integers(0, 4, 6)
    probs, first = ops.softmax(z), ops.softmax(z[:4])  # recorded: scored from the logits, like the loss
    m = metrics.SparseCategoricalCrossentropy()
    m.update_state(labels[:4], first)
    m.update_state(labels, probs)
    per_sample = np.concatenate(
        [losses.sparse_categorical_crossentropy(labels[:4], first).numpy(),
         losses.sparse_categorical_crossentropy(labels, probs).numpy()]
    )
    assert m.result() == pytest.approx(per_sample.mean(), rel=1e-6)
    assert per_sample.max() > 20  # saturated softmax: the clipped probability path would cap each term at 16.1
    c = metrics.CategoricalCrossentropy(from_logits=True)
    c.update_state(np.eye(4)[labels], z)
    assert c.result() == pytest.approx(losses.CategoricalCrossentropy(from_logits=True)(np.eye(4)[labels], z).item())
    b = metrics.BinaryCrossentropy(label_smoothing=0.1)
    b.update_state([[1.0], [0.0]], [[0.8], [0.4]])
    assert b.result() == pytest.approx(losses.BinaryCrossentropy(label_smoothing=0.1)([[1.0], [0.0]],
                                                                                      nr.Tensor([[0.8], [0.4]])).item())
    assert z.grad is None and b.get_config()["label_smoothing"] == 0.1
