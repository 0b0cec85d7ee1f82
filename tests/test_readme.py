"""The README's Python snippets run as written, in order, in one namespace (on the embedded MNIST subset)."""

import re
from pathlib import Path

import numpy as np
import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.DOTALL)


@pytest.fixture(autouse=True)
def _in_a_scratch_folder(embedded_mnist_only, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # a snippet that saves writes here


def test_readme_has_the_snippets_this_test_runs():
    assert len(_python_blocks()) >= 3


def test_readme_snippets_run_as_written(capsys):
    namespace = {"__name__": "readme"}
    for block in _python_blocks():
        exec(compile(block, str(README), "exec"), namespace)  # noqa: S102 - the README is ours
    # the tour trained a classifier, the hand-written step produced gradients, the saliency map has the image's shape
    assert namespace["acc"] > 0.9
    assert all(w.grad is not None for w in namespace["model"].trainable_weights)
    assert namespace["saliency"].shape == (28, 28) and np.isfinite(namespace["saliency"]).all()
    assert namespace["features_of_five"].shape == (5, 16)  # the functional model's feature extractor
    # the compression tour: int8 keeps the MLP's accuracy, the pruned kernels are 90% zeros, the mixed model
    # computes in float16 on float32 weights
    assert namespace["int8_acc"] > 0.85
    kernels = [layer.kernel.numpy() for layer in namespace["plain"].layers if hasattr(layer, "kernel")]
    assert all(abs(np.mean(k == 0) - 0.9) < 0.01 for k in kernels)
    half = namespace["half"].layers[0]
    assert (half.compute_dtype, half.kernel.dtype) == ("float16", np.float32)
    printed = capsys.readouterr().out
    assert "Total params: 101,770" in printed
    assert "Connected to" in printed and re.search(r"conv2d(_\d+)?\[0\]\[0\], stem\[0\]\[0\]", printed)
