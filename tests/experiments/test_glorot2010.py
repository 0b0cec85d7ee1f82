"""experiments/glorot2010.py end to end at --quick size on the embedded MNIST subset (a few seconds)."""

import math
import pathlib

import numpy as np
import pytest

from ._scripts import load, run_quick


@pytest.fixture(scope="module")
def script():
    return load("glorot2010")


@pytest.fixture(scope="module")
def result(script, tmp_path_factory):
    return run_quick(script, "glorot2010", tmp_path_factory)[1]


def test_writes_figure_and_report(result):
    png, md = pathlib.Path(result["png"]), pathlib.Path(result["md"])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = md.read_text()
    assert "python experiments/glorot2010.py --quick" in text
    assert "## Paper beside Neurona" in text and "| scheme | layer |" in text and "## Discussion" in text
    assert result["data"] == "embedded"
    assert len(result["summary"]) == 14  # 7 comparisons per scheme with training on


def test_standard_init_shrinks_activations_layer_by_layer_as_eq5_predicts(result):
    rows = result["results"]["standard"]["init"]
    stds = [row["activation_std"] for row in rows]
    assert all(a > b for a, b in zip(stds, stds[1:]))
    ratio = stds[-1] / stds[0]
    assert ratio == pytest.approx((1 / math.sqrt(3)) ** 4, rel=0.3)  # n Var[W] = 1/3 per layer


def test_normalized_init_keeps_activations_alike(result):
    standard = result["results"]["standard"]["init"]
    normalized = result["results"]["normalized"]["init"]
    ratio = normalized[-1]["activation_std"] / normalized[0]["activation_std"]
    assert ratio > 0.5
    assert ratio > 3 * standard[-1]["activation_std"] / standard[0]["activation_std"]
    for row in normalized:  # the mean-field recursion, which counts tanh's curvature, predicts each layer
        assert row["activation_std"] == pytest.approx(row["activation_std_mean_field"], rel=0.15)


def test_back_propagated_gradients_shrink_toward_the_input_under_standard_only(result):
    standard = [row["gradient_std"] for row in result["results"]["standard"]["init"]]
    assert all(a < b for a, b in zip(standard, standard[1:]))
    first_over_last = result["results"]["standard"]["init"][0]["gradient_ratio"]
    assert first_over_last == pytest.approx(1 / 9, rel=0.35)  # eq. 6: (1/3)^4 in variance
    assert result["results"]["normalized"]["init"][0]["gradient_ratio"] > 3 * first_over_last


def test_weight_gradients_and_jacobian(result):
    for scheme in ("standard", "normalized"):
        rms = [row["weight_gradient_rms"] for row in result["results"][scheme]["init"]]
        assert max(rms) / min(rms) < 2.0  # eq. 14: about the same in every layer
    sv = {scheme: np.mean([r["jacobian_mean_sv"] for r in result["results"][scheme]["init"][1:]])
          for scheme in ("standard", "normalized")}
    assert sv["standard"] == pytest.approx(0.5, abs=0.08)
    assert 0.65 < sv["normalized"] < 0.9


def test_training_is_measured_after_init(result):
    for scheme in ("standard", "normalized"):
        run = result["results"][scheme]
        assert len(run["trained"]) == 5 and 0.0 <= run["training"]["test_accuracy"] <= 1.0
        assert all(math.isfinite(v) for v in run["training"]["train_loss"])


def test_captured_gradients_rebuild_the_kernel_gradients(script):
    """The hooks' z and dCost/ds give back what backward puts in each kernel's .grad (eq. 3 summed)."""
    from neurona import layers, losses

    rng = np.random.default_rng(0)
    x = rng.random((8, 784)).astype(np.float32)
    y = rng.integers(0, 10, 8)
    model = script.build_model("standard", 16, seed=0)
    z, g = script.capture(model, x, y)
    loss = losses.sparse_categorical_crossentropy(y, model(x), from_logits=True).sum()
    model.zero_grad()
    loss.backward()
    dense = [layer for layer in model.layers if isinstance(layer, layers.Dense)]
    for k in range(5):
        inputs = x if k == 0 else z[k - 1]
        np.testing.assert_allclose(inputs.T @ g[k], np.asarray(dense[k].kernel.grad), rtol=1e-4, atol=1e-6)


def test_standard_initializer_has_eq1_bounds(script):
    model = script.build_model("standard", 32, seed=1)
    kernel = np.asarray(model.layers[0].kernel.numpy())
    assert np.abs(kernel).max() <= 1 / math.sqrt(784)
    assert kernel.var() == pytest.approx(1 / (3 * 784), rel=0.1)


def test_bad_option_names_it(script, capsys):
    with pytest.raises(SystemExit):
        script.main(["--quick", "--width", "0"])
    assert "--width" in capsys.readouterr().err
