"""Input-output Jacobians: closed forms, dynamical isometry, finite differences, PyTorch, and mean field."""

import json

import numpy as np
import pytest

import neurona as nr
from neurona import layers, models
from neurona.diagnostics.jacobian import JacobianTooLarge, input_output_jacobian, jacobian_singular_values
from neurona.diagnostics.mean_field import predict_preactivation_variances


@pytest.fixture
def float64():
    nr.set_floatx("float64")  # the conftest fixture puts float32 back after the test


def _tanh_stack(sizes, final_activation=None):
    hidden = [layers.Dense(n, activation="tanh", bias_initializer="random_normal") for n in sizes[1:-1]]
    return models.Sequential([layers.Input((sizes[0],)), *hidden, layers.Dense(sizes[-1], activation=final_activation,
                                                                             bias_initializer="random_normal")])


def _summary_is_json_safe(result):
    summary = {k: v for k, v in result.items() if k != "singular_values"}
    json.dumps(summary)
    assert all(v is None or type(v) in (int, float) for v in summary.values())


def test_linear_dense_jacobian_is_the_kernel(float64):
    model = models.Sequential([layers.Input((7,)), layers.Dense(4, bias_initializer="random_normal")])
    x = np.random.default_rng(0).standard_normal((5, 7))
    kernel = model.layers[0].kernel.numpy()
    jac = input_output_jacobian(model, x)
    assert jac.shape == (5, 4, 7)
    np.testing.assert_allclose(jac, np.broadcast_to(kernel.T, jac.shape), rtol=0, atol=1e-15)
    result = jacobian_singular_values(model, x)
    expected = np.linalg.svd(kernel, compute_uv=False)
    assert result["singular_values"].shape == (5, 4)
    np.testing.assert_allclose(result["singular_values"], np.broadcast_to(expected, (5, 4)), rtol=1e-12)
    assert (result["n_samples"], result["output_dim"], result["input_dim"]) == (5, 4, 7)
    assert result["max"] == pytest.approx(expected[0]) and result["min"] == pytest.approx(expected[-1])
    assert result["mean_squared"] == pytest.approx(np.sum(kernel ** 2) / 4)  # tr(J J^T) / min(out, in)
    _summary_is_json_safe(result)


def test_orthogonal_deep_linear_network_is_an_isometry():
    # a product of orthogonal matrices is orthogonal: every singular value is 1, at any depth (Saxe et al. 2014)
    model = models.Sequential([layers.Input((32,))] + [layers.Dense(32, kernel_initializer="orthogonal")
                                                       for _ in range(12)])
    result = jacobian_singular_values(model, np.random.default_rng(1).standard_normal((6, 32)).astype("float32"))
    np.testing.assert_allclose(result["singular_values"], 1.0, atol=1e-4)
    assert result["fraction_within_10_percent_of_1"] == 1.0
    assert result["condition_number"] == pytest.approx(1.0, abs=1e-3)
    # a Gaussian-initialized deep linear network is far from it: its spectrum spreads with depth
    gaussian = models.Sequential([layers.Input((32,))] + [layers.Dense(32, kernel_initializer="glorot_normal")
                                                          for _ in range(12)])
    spread = jacobian_singular_values(gaussian, np.ones((2, 32), dtype="float32"))
    assert spread["condition_number"] > 100 and spread["fraction_within_10_percent_of_1"] < 0.2


def test_jacobian_matches_central_finite_differences(float64):
    model = models.Sequential([layers.Input((3, 2)), layers.Flatten(), layers.Dense(5, activation="tanh"),
                               layers.Dense(4, activation="softplus"), layers.Dense(3, activation="sigmoid")])
    x = np.random.default_rng(2).standard_normal((3, 3, 2))
    jac = input_output_jacobian(model, x)
    assert jac.shape == (3, 3, 6)
    eps = 1e-6
    for i in range(x.shape[0]):
        for j in range(6):
            step = np.zeros(6)
            step[j] = eps
            up = model(x[i:i + 1] + step.reshape(1, 3, 2), training=False).numpy()
            down = model(x[i:i + 1] - step.reshape(1, 3, 2), training=False).numpy()
            np.testing.assert_allclose(jac[i, :, j], (up - down)[0] / (2 * eps), rtol=1e-7, atol=1e-9)


def test_batch_normalization_uses_inference_statistics(float64):
    # in training mode batch norm couples the samples; training=False keeps every sample's Jacobian its own
    model = models.Sequential([layers.Input((4,)), layers.Dense(4), layers.BatchNormalization(),
                               layers.Activation("tanh"), layers.Dense(2)])
    model(np.random.default_rng(3).standard_normal((64, 4)) * 3, training=True)  # move the moving statistics
    x = np.random.default_rng(4).standard_normal((5, 4))
    together = input_output_jacobian(model, x)
    alone = np.concatenate([input_output_jacobian(model, x[i:i + 1]) for i in range(5)])
    np.testing.assert_allclose(together, alone, rtol=1e-12, atol=1e-14)


def test_tanh_network_against_torch(float64):
    torch = pytest.importorskip("torch")
    model = _tanh_stack([6, 8, 8, 5], final_activation="tanh")
    x = np.random.default_rng(5).standard_normal((4, 6))
    params = [(torch.tensor(layer.kernel.numpy()), torch.tensor(layer.bias.numpy())) for layer in model.layers]

    def forward(v):
        for kernel, bias in params:
            v = torch.tanh(v @ kernel + bias)
        return v

    expected = np.stack([torch.autograd.functional.jacobian(forward, torch.tensor(row)).numpy() for row in x])
    np.testing.assert_allclose(input_output_jacobian(model, x), expected, rtol=1e-10, atol=1e-13)


def test_mean_squared_singular_value_is_the_product_of_mean_field_chis():
    # mean field: each layer multiplies E||J v||^2 by its chi_1 (Poole et al. 2016; Pennington et al. 2017), so
    # tr(J J^T) / n, the mean squared singular value of a square Jacobian, is the product of the layers' chi.
    # One finite network scatters around it (5% standard deviation over 20 draws at this width and depth)
    model = models.Sequential([layers.Input((256,))] + [layers.Dense(256, activation="tanh")
                                                        for _ in range(5)] + [layers.Dense(256)])
    x = np.random.default_rng(6).standard_normal((3, 256)).astype("float32")
    predicted = np.prod([entry["chi"] for entry in predict_preactivation_variances(model, x=x)])
    assert jacobian_singular_values(model, x)["mean_squared"] == pytest.approx(predicted, rel=0.15)


def test_samples_are_limited_and_chunked(monkeypatch):
    from neurona.diagnostics import jacobian as module

    model = _tanh_stack([4, 6, 3])
    x = np.random.default_rng(7).standard_normal((50, 4)).astype("float32")
    full = input_output_jacobian(model, x, n_samples=40)
    assert full.shape == (40, 3, 4)
    monkeypatch.setattr(module, "_CHUNK_ENTRIES", 30)  # two samples (2 x 12 entries) per forward pass
    np.testing.assert_allclose(input_output_jacobian(model, x, n_samples=40), full, rtol=1e-6)
    assert jacobian_singular_values(model, x)["n_samples"] == 32  # the default


def test_weights_gradients_are_left_alone():
    model = _tanh_stack([4, 5, 2])
    kernel = model.layers[0].kernel
    kernel.grad = np.full(kernel.shape, 7.0, dtype="float32")
    input_output_jacobian(model, np.ones((3, 4), dtype="float32"))
    np.testing.assert_array_equal(kernel.grad, 7.0)
    assert all(w.requires_grad for w in model.weights)


def test_too_large_is_refused_with_the_size_to_pass():
    model = models.Sequential([layers.Input((30,)), layers.Dense(20)])
    with pytest.raises(JacobianTooLarge, match=r"20 x 30 = 600 entries.*max_size=100.*max_size=600"):
        jacobian_singular_values(model, np.ones((2, 30), dtype="float32"), max_size=100)
    assert issubclass(JacobianTooLarge, ValueError)
    assert jacobian_singular_values(model, np.ones((2, 30), dtype="float32"), max_size=600)["output_dim"] == 20


def test_bad_arguments_are_refused():
    model = _tanh_stack([4, 3])
    with pytest.raises(ValueError, match="floating-point batch"):
        input_output_jacobian(model, np.ones((2, 4), dtype="int64"))
    with pytest.raises(ValueError, match="floating-point batch"):
        input_output_jacobian(model, np.ones(4))
    with pytest.raises(ValueError, match="n_samples"):
        input_output_jacobian(model, np.ones((2, 4)), n_samples=0)
    with pytest.raises(ValueError, match="max_size"):
        input_output_jacobian(model, np.ones((2, 4)), max_size=1.5)
    with pytest.raises(TypeError, match="Model or Layer"):
        input_output_jacobian(lambda v: v, np.ones((2, 4)))
    inputs = nr.Input((4,))
    two_outputs = nr.Model(inputs, [layers.Dense(2)(inputs), layers.Dense(3)(inputs)])
    with pytest.raises(ValueError, match="one output tensor"):
        input_output_jacobian(two_outputs, np.ones((2, 4), dtype="float32"))
