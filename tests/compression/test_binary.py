"""BinaryConnect: the binarization op and its straight-through gradient, and binary_connect models that train,
stay binary, save, load, strip and export."""

import math

import numpy as np
import pytest
from _harness.compression_models import accuracy, small_cnn

import neurona as nr
from neurona import compression, layers
from neurona.compression import BinaryWrapper, ClipBinaryWeights
from neurona.compression.binary import binary_wrappers
from neurona.ops.quantization import binarize_weights


def _kernel_layer_names(model):
    return [layer.name for layer in model.layers if getattr(layer, "kernel", None) is not None]


def _binarized(w, scale, rng=None):
    t = nr.Tensor(w, requires_grad=True)
    y = binarize_weights(t, scale, rng)
    g = np.random.default_rng(1).normal(size=w.shape).astype(w.dtype)
    y.backward(nr.Tensor(g))
    return y.numpy(), np.asarray(t.grad), g


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_forward_is_h_times_sign_with_sign_0_positive_and_the_gradient_is_hard_tanh_s(dtype):
    h = 0.3
    hd = np.array(h, dtype)
    edges = [0.0, -0.0, hd, -hd, np.nextafter(hd, hd + 1), -np.nextafter(hd, hd + 1)]  # |w| = H still passes
    w = np.concatenate([np.random.default_rng(0).normal(scale=0.4, size=50).astype(dtype), np.array(edges, dtype)])
    y, grad, g = _binarized(w, h)
    assert y.dtype == np.dtype(dtype) and y.shape == w.shape
    np.testing.assert_array_equal(y, np.where(w >= 0, 1, -1).astype(dtype) * hd)
    np.testing.assert_array_equal(y, np.where(np.sign(w) == 0, 1, np.sign(w)).astype(dtype) * hd)
    inside = np.abs(w) <= hd
    assert 0 < inside.mean() < 1 and inside[-4:-2].all() and not inside[-2:].any()
    np.testing.assert_array_equal(grad, np.where(inside, g, 0))


def test_the_gradient_is_pytorch_s_straight_through_estimator():
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle of this test")
    w = np.random.default_rng(2).uniform(-1.0, 1.0, size=(4, 3, 5)).astype(np.float32)
    h = 0.45
    y, grad, g = _binarized(w, h)
    wt = torch.tensor(w, requires_grad=True)
    torch.nn.functional.hardtanh(wt, -h, h).backward(torch.tensor(g))  # the derivative of hard tanh, in torch
    np.testing.assert_array_equal(y, torch.where(wt >= 0, h, -h).detach().numpy())
    np.testing.assert_array_equal(grad, wt.grad.numpy())
    np.testing.assert_array_equal(grad, torch.where(wt.abs() <= h, torch.tensor(g), 0).detach().numpy())


def test_the_stochastic_sign_is_positive_with_probability_hard_sigmoid_and_reproducible():
    h = 0.5
    w = np.repeat(np.array([-0.75, -0.5, -0.25, 0.0, 0.1, 0.4, 0.5, 2.0]), 20000).reshape(8, -1)
    y, grad, _ = _binarized(w, h, np.random.default_rng(5))
    assert set(np.unique(y)) == {-h, h}
    expected = np.clip((w[:, 0] / h + 1) / 2, 0, 1)
    np.testing.assert_allclose((y > 0).mean(axis=1), expected, atol=0.01)
    assert (grad[np.abs(w) > h] == 0).all() and (grad[np.abs(w) <= h] != 0).all()
    again, _, _ = _binarized(w, h, np.random.default_rng(5))
    np.testing.assert_array_equal(y, again)


@pytest.mark.parametrize("bad", [0, -0.1, float("inf"), float("nan"), "big", True, None])
def test_binarize_weights_refuses_a_scale_that_is_not_positive(bad):
    with pytest.raises(ValueError, match="scale must be a positive"):
        binarize_weights(np.ones(3), bad)


def test_named_scales_are_the_paper_code_s_glorot_and_the_glorot_uniform_bound():
    for layer, (fan_in, fan_out) in ((layers.Dense(7), (5, 7)), (layers.Conv2D(4, 3), (18, 36)),
                                     (layers.Conv1D(2, 3), (15, 6))):
        wrapper = BinaryWrapper(layer)
        wrapper.build_for((None, 5) if isinstance(layer, layers.Dense) else
                          (None, 6, 6, 2) if isinstance(layer, layers.Conv2D) else (None, 8, 5))
        assert wrapper.H == pytest.approx(math.sqrt(1.5 / (fan_in + fan_out)), rel=1e-12)
        wrapper.scale = "glorot_uniform"
        assert wrapper.H == pytest.approx(math.sqrt(6.0 / (fan_in + fan_out)), rel=1e-12)
    assert BinaryWrapper(layers.Dense(2), scale=1).H == 1.0  # a number needs no kernel
    with pytest.raises(ValueError, match="build the layer first"):
        _ = BinaryWrapper(layers.Dense(2)).H


@pytest.fixture(scope="module")
def binary_cnn(trained_cnn, mnist_small):
    """The trained CNN binarized and fine-tuned for two epochs with the clip (about 1 s on one core)."""
    x_train, y_train, _, _ = mnist_small
    nr.seed(1)
    model = compression.binary_connect(trained_cnn)
    model.compile(optimizer=nr.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy")
    model.fit(x_train, y_train, batch_size=64, epochs=2, verbose=0, callbacks=[ClipBinaryWeights()])
    return model


def test_a_binary_connect_cnn_trains_and_computes_with_two_values_per_layer(trained_cnn, binary_cnn, mnist_small):
    x_test, y_test = mnist_small[2:]
    assert accuracy(binary_cnn, x_test, y_test) > 0.7  # measured 0.824 (chance: 0.1; the float model: 0.849)
    wrappers = binary_wrappers(binary_cnn)
    assert [w.layer.name for w in wrappers] == _kernel_layer_names(trained_cnn)
    seen = {}
    handles = [w.layer.register_forward_pre_hook(lambda layer, args: seen.setdefault(layer.name, []).append(
        layer.kernel.numpy())) for w in wrappers]  # what the layer's own call reads as its kernel
    binary_cnn(x_test[:8], training=True)
    binary_cnn.predict(x_test[:8], verbose=0)
    for handle in handles:
        handle.remove()
    for wrapper in wrappers:
        h = np.float32(wrapper.H)
        kernel = wrapper.layer.kernel.numpy()
        assert np.abs(kernel).max() <= h and len(np.unique(kernel)) > 10  # real-valued, clipped to [-H, H]
        assert len(seen[wrapper.layer.name]) == 2
        for used in seen[wrapper.layer.name]:
            np.testing.assert_array_equal(np.unique(used), [-h, h])
            np.testing.assert_array_equal(used, np.where(kernel >= 0, h, -h))
    h_of = {w.layer.name: w.H for w in wrappers}
    for original in trained_cnn.layers:  # the float model keeps its own, unclipped weights
        if getattr(original, "kernel", None) is not None:
            assert np.abs(original.kernel.numpy()).max() > h_of[original.name]


def test_the_forward_pass_uses_the_binarized_kernel(binary_cnn, mnist_small):
    """A plain model holding ``H sign(w)`` (strip_binary's) predicts what the wrapped one does."""
    x = mnist_small[2][:64]
    plain = compression.strip_binary(binary_cnn)
    assert not any(isinstance(layer, BinaryWrapper) for layer in plain.layers)
    for wrapper, layer in zip(binary_wrappers(binary_cnn), [lr for lr in plain.layers if hasattr(lr, "kernel")]):
        np.testing.assert_array_equal(layer.kernel.numpy(), wrapper.binary_kernel().numpy())
        np.testing.assert_array_equal(layer.bias.numpy(), wrapper.layer.bias.numpy())  # biases stay real
    np.testing.assert_allclose(plain.predict(x, verbose=0), binary_cnn.predict(x, verbose=0), rtol=1e-6, atol=1e-7)
    assert len(np.unique(binary_wrappers(binary_cnn)[0].layer.kernel.numpy())) > 2  # stripping wrote no sign


def test_save_load_gives_identical_predictions_and_training_resumes(binary_cnn, mnist_small, tmp_path):
    x_train, y_train, x_test, _ = mnist_small
    binary_cnn.save(tmp_path / "binary")
    loaded = nr.models.load_model(tmp_path / "binary")
    np.testing.assert_array_equal(loaded.predict(x_test[:50], verbose=0), binary_cnn.predict(x_test[:50], verbose=0))
    assert [w.get_config() for w in binary_wrappers(loaded)] == [w.get_config() for w in binary_wrappers(binary_cnn)]
    loaded.fit(x_train[:256], y_train[:256], batch_size=64, epochs=1, verbose=0, callbacks=[ClipBinaryWeights()])
    assert all(np.abs(w.layer.kernel.numpy()).max() <= np.float32(w.H) for w in binary_wrappers(loaded))


def test_the_onnx_export_matches_onnxruntime(binary_cnn, mnist_small, tmp_path):
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed")
    x = mnist_small[2][:32]
    nr.saving.export_onnx(binary_cnn, tmp_path / "binary.onnx")
    got = ort.InferenceSession(str(tmp_path / "binary.onnx")).run(None, {"input": x})[0]
    np.testing.assert_allclose(got, binary_cnn.predict(x, verbose=0), rtol=0, atol=1e-5)


def test_stochastic_binary_connect_draws_in_training_only(mnist_small):
    x = mnist_small[0][:16]
    nr.seed(0)
    model = compression.binary_connect(small_cnn(), scale="glorot_uniform", stochastic=True, seed=3)
    assert [w.seed for w in binary_wrappers(model)] == [3, 4, 5, 6]
    inference = model(x, training=False).numpy()
    np.testing.assert_array_equal(model.predict(x, verbose=0), inference)
    first, second = model(x, training=True).numpy(), model(x, training=True).numpy()
    assert not np.array_equal(first, second) and not np.array_equal(first, inference)
    again = compression.binary_connect(small_cnn(), scale="glorot_uniform", stochastic=True, seed=3)
    again.set_weights(model.get_weights())
    np.testing.assert_array_equal(again(x, training=True).numpy(), first)  # the same seeds draw the same signs


def test_a_clip_callback_and_layers_argument(trained_cnn, mnist_small):
    x_train, y_train = mnist_small[:2]
    name = _kernel_layer_names(trained_cnn)[2]  # the first Dense layer
    model = compression.binary_connect(trained_cnn, scale=0.05, layers=[name])
    assert [w.layer.name for w in binary_wrappers(model)] == [name]
    wrapper = binary_wrappers(model)[0]
    assert wrapper.H == 0.05 and np.abs(wrapper.layer.kernel.numpy()).max() == np.float32(0.05)
    model.compile(optimizer=nr.optimizers.SGD(0.5), loss="sparse_categorical_crossentropy")
    model.fit(x_train[:128], y_train[:128], batch_size=64, epochs=1, verbose=0)  # no clip: the kernel leaves
    assert np.abs(wrapper.layer.kernel.numpy()).max() > np.float32(0.05)
    model.fit(x_train[:128], y_train[:128], batch_size=64, epochs=1, verbose=0, callbacks=[ClipBinaryWeights()])
    assert np.abs(wrapper.layer.kernel.numpy()).max() == np.float32(0.05)


def test_bad_arguments_are_refused(trained_cnn):
    for bad in (0, -1.0, float("nan"), float("inf"), "he", True, None):
        with pytest.raises(ValueError, match="scale must be one of"):
            compression.binary_connect(trained_cnn, scale=bad)
        with pytest.raises(ValueError, match="scale must be one of"):
            BinaryWrapper(layers.Dense(2), scale=bad)
    with pytest.raises(TypeError, match=r"wraps a layer with a kernel .*got Flatten"):
        BinaryWrapper(layers.Flatten())
    flatten = [layer.name for layer in trained_cnn.layers if isinstance(layer, layers.Flatten)][0]
    with pytest.raises(ValueError, match=rf"layers \['{flatten}'\] are not Dense/Conv1D/Conv2D layers"):
        compression.binary_connect(trained_cnn, layers=[flatten])
    with pytest.raises(ValueError, match="is already transformed"):
        compression.binary_connect(compression.binary_connect(trained_cnn))
    with pytest.raises(ValueError, match="is already transformed"):
        compression.binary_connect(compression.prune_low_magnitude(trained_cnn, 0.5))
    with pytest.raises(TypeError, match="stochastic must be a bool"):
        BinaryWrapper(layers.Dense(2), stochastic=1)
    for bad_seed in (-1, 1.5, "0"):
        with pytest.raises(ValueError, match="seed must be None or a non-negative int"):
            compression.binary_connect(trained_cnn, seed=bad_seed)
    with pytest.raises(ValueError, match="is not built"):
        compression.binary_connect(nr.Sequential([layers.Dense(3)]))
    model = nr.Sequential([layers.Input((4,)), layers.Dense(3)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="no BinaryWrapper layers"):
        model.fit(np.zeros((4, 4)), np.zeros((4, 3)), verbose=0, callbacks=[ClipBinaryWeights()])
