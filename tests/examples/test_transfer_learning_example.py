"""examples/transfer_learning.py runs, freezes its base and learns (on the embedded MNIST subset, scaled down)."""

import runpy
from pathlib import Path

import numpy as np
import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "transfer_learning.py"

pytestmark = pytest.mark.usefixtures("embedded_mnist_only")


@pytest.fixture(scope="module")
def example():
    return runpy.run_path(str(EXAMPLE), run_name="example")


def test_the_tasks_are_split_by_digit_with_a_balanced_small_target_set(example):
    data = example["load"](target_train=50, seed=0)
    assert set(np.unique(data["source_train"][1])) == set(range(5))
    assert set(np.unique(data["source_test"][1])) == set(range(5))
    x, y = data["target_train"]
    assert x.shape == (50, 28, 28, 1) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    np.testing.assert_array_equal(np.bincount(y, minlength=5), [10] * 5)  # digits 5-9 read as classes 0-4
    assert len(data["target_test"][1]) + len(data["source_test"][1]) == 2000  # the embedded test subset


def test_the_frozen_base_is_reused_bit_exact_under_a_new_head(example, rng):
    features = example["feature_extractor"]()
    base = example["compiled"](example["classifier"](features, "base"), 1e-3)
    frozen_before = [w.numpy() for w in features.weights]
    features.trainable = False
    transfer = example["compiled"](example["classifier"](features, "transfer"), 1e-3)
    assert all(any(w is v for v in base.weights) for w in features.weights)  # the same objects, shared
    assert [w.name for w in transfer.trainable_weights] == [
        "transfer_hidden/kernel", "transfer_hidden/bias", "transfer_output/kernel", "transfer_output/bias"]
    x = rng.random((16, 28, 28, 1)).astype(np.float32)
    transfer.fit(x, rng.integers(0, 5, 16), batch_size=8, epochs=2, verbose=0)
    for before, w in zip(frozen_before, features.weights):
        np.testing.assert_array_equal(before, w.numpy())


def test_main_prints_every_stage_and_transfer_beats_chance(example, capsys):
    results = example["main"](base_epochs=1, head_epochs=15, fine_tune_epochs=3, target_train=50, base_train=2000)
    out = capsys.readouterr().out
    assert set(results) == {"base", "stage1", "stage2", "scratch"}
    for row in ("stage 1: frozen base + new head", "stage 2: fine-tuned (lr 1e-4)",
                "from scratch, same architecture and images"):
        assert f"| {row}" in out
    assert "| head (51,589)" in out and "| all (56,389)" in out  # 800*64 + 64 + 64*5 + 5; + the 4,800 conv weights
    assert results["base"] > 90  # one epoch on 2,000 images of five digits (chance 20)
    assert results["stage1"] > 50 and results["stage2"] > 50 and results["scratch"] > 20  # chance is 20
    assert all(0 <= v <= 100 for v in results.values())
