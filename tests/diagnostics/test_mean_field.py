"""Mean-field signal propagation: closed forms, Monte Carlo, other quadratures, and real wide networks."""

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.polynomial.hermite_e import hermegauss

import neurona as nr
from neurona import layers, models
from neurona.diagnostics.mean_field import (
    NotADenseStack,
    chi,
    dense_chain,
    expected_square,
    fixed_point,
    measured_preactivation_variances,
    predict_preactivation_variances,
)

SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805  # Klambauer et al. 2017


def _negative_exp_moment(a, q):
    """E[exp(a z) 1{z < 0}] for z ~ N(0, q): exp(a^2 q / 2) Phi(-a sqrt(q)), completing the square."""
    return math.exp(a * a * q / 2) * 0.5 * math.erfc(a * math.sqrt(q) / math.sqrt(2))


# ---- the Gaussian integrals ---------------------------------------------------------------------------------
@pytest.mark.parametrize("q", [0.0, 0.25, 1.0, 7.5])
def test_homogeneous_closed_forms(q):
    assert expected_square("relu", q) == pytest.approx(q / 2)
    assert expected_square(nr.activations.relu, q) == pytest.approx(q / 2)
    for linear in (None, "linear", "identity", nr.activations.linear):
        assert expected_square(linear, q) == pytest.approx(q)
        assert chi(linear, q, sigma_w2=1.7) == pytest.approx(1.7)
    assert expected_square("leaky_relu", q) == pytest.approx((1 + 0.2 ** 2) * q / 2)
    assert chi("relu", q, sigma_w2=2.0) == pytest.approx(1.0)  # He et al. 2015: the edge of chaos


@pytest.mark.parametrize("q", [0.3, 2.0, 25.0])
def test_tanh_against_monte_carlo(q):
    z = np.random.default_rng(0).standard_normal(1_000_000) * math.sqrt(q)
    square, slope = np.tanh(z) ** 2, np.cosh(z) ** -4  # tanh' = 1 / cosh^2
    for predicted, sample in ((expected_square("tanh", q), square), (chi("tanh", q), slope)):
        assert abs(predicted - sample.mean()) < 5 * sample.std() / math.sqrt(sample.size)


@pytest.mark.parametrize("name,fn", [("tanh", np.tanh), ("sigmoid", lambda z: 1 / (1 + np.exp(-z))),
                                     ("softplus", lambda z: np.log1p(np.exp(z)))])
@pytest.mark.parametrize("q", [0.1, 1.0, 3.0])
def test_smooth_activations_against_gauss_hermite(name, fn, q):
    # an independent rule (Hermite nodes over the whole line) agrees where it converges well: moderate q
    nodes, weights = hermegauss(201)
    reference = weights @ fn(math.sqrt(q) * nodes) ** 2 / math.sqrt(2 * math.pi)
    assert expected_square(name, q) == pytest.approx(reference, rel=1e-9)


@settings(max_examples=25, deadline=None)
@given(q=st.floats(0.01, 12.0))
def test_elu_and_selu_against_closed_forms(q):
    # elu: z on the right, exp(z) - 1 on the left; the kink at 0 is why the rule splits the line there
    e1, e2 = _negative_exp_moment(1, q), _negative_exp_moment(2, q)
    assert expected_square("elu", q) == pytest.approx(q / 2 + e2 - 2 * e1 + 0.5, rel=1e-9)
    assert chi("elu", q) == pytest.approx(0.5 + e2, rel=1e-9)
    # selu' jumps at 0, from scale * alpha to scale
    assert chi("selu", q) == pytest.approx(SELU_SCALE ** 2 * (0.5 + SELU_ALPHA ** 2 * e2), rel=1e-9)
    selu_square = SELU_SCALE ** 2 * (q / 2 + SELU_ALPHA ** 2 * (e2 - 2 * e1 + 0.5))
    assert expected_square("selu", q) == pytest.approx(selu_square, rel=1e-9)


def test_custom_elementwise_activation_uses_neurona_autograd():
    def doubled_tanh(x):
        return 2 * nr.ops.tanh(x)

    assert expected_square(doubled_tanh, 1.3) == pytest.approx(4 * expected_square("tanh", 1.3), rel=1e-12)
    assert chi(doubled_tanh, 1.3, sigma_w2=0.5) == pytest.approx(2 * chi("tanh", 1.3), rel=1e-12)


def test_sharp_tanh_still_integrates_accurately():
    # tanh(sqrt(q) t) is nearly a step at q = 1000; E[tanh^2] -> 1 - sqrt(2 / (pi q)) * c, checked by sampling
    z = np.random.default_rng(1).standard_normal(2_000_000) * math.sqrt(1000.0)
    sample = np.tanh(z) ** 2
    assert abs(expected_square("tanh", 1000.0) - sample.mean()) < 5 * sample.std() / math.sqrt(sample.size)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="not elementwise"):
        expected_square("softmax", 1.0)
    with pytest.raises(ValueError, match="q"):
        expected_square("tanh", -1.0)
    with pytest.raises(ValueError, match="q"):
        chi("tanh", float("nan"))
    with pytest.raises(ValueError, match="sigma_w2"):
        chi("tanh", 1.0, sigma_w2=-2)
    with pytest.raises(TypeError, match="activation"):
        expected_square(3, 1.0)


# ---- fixed points (Poole et al. 2016) -----------------------------------------------------------------------
def test_relu_fixed_point_closed_form_and_divergence():
    q_star, converged = fixed_point("relu", sigma_w2=1.5, sigma_b2=0.1)
    assert converged and q_star == pytest.approx(0.1 / (1 - 1.5 / 2), rel=1e-8)
    assert fixed_point("relu", sigma_w2=2.5, sigma_b2=0.0) == (math.inf, False)


def test_tanh_fixed_point_and_phases():
    q_star, converged = fixed_point("tanh", sigma_w2=1.5, sigma_b2=0.05)
    assert converged
    assert q_star == pytest.approx(1.5 * expected_square("tanh", q_star) + 0.05, rel=1e-9)
    # sigma_b = 0: q* = 0 and chi_1 = sigma_w^2 tanh'(0)^2 = sigma_w^2, so sigma_w^2 = 1 is the order-chaos line
    assert chi("tanh", 0.0, sigma_w2=0.8) == pytest.approx(0.8)
    assert chi("tanh", 0.0, sigma_w2=1.3) == pytest.approx(1.3)
    # in the chaotic phase the fixed point moves away from 0 and chi_1 there exceeds 1 (Poole et al. 2016, fig. 2)
    q_chaos, _ = fixed_point("tanh", sigma_w2=4.0, sigma_b2=0.0)
    assert q_chaos > 1 and chi("tanh", q_chaos, sigma_w2=4.0) > 1


# ---- wide networks ----------------------------------------------------------------------------------------
def _numpy_preactivations(model, x, phi):
    """Each Dense layer's inputs @ kernel + bias, by hand with NumPy from the model's weights."""
    out, h = [], x.astype(np.float64)
    for layer in model.layers:
        pre = h @ layer.kernel.numpy().astype(np.float64) + layer.bias.numpy()
        out.append(pre)
        h = phi(pre)
    return out


def _stack(depth, width, activation, initializer):
    return models.Sequential([layers.Input((width,))] + [
        layers.Dense(width, activation=activation, kernel_initializer=initializer) for _ in range(depth)])


@pytest.mark.parametrize("initializer", ["glorot_normal", "glorot_uniform"])
def test_tanh_network_follows_the_recursion(initializer):
    model = _stack(20, 512, "tanh", initializer)
    x = np.random.default_rng(2).normal(0.3, 1.0, size=(512, 512)).astype("float32")  # second moment 1.09
    predicted = predict_preactivation_variances(model, x=x)
    measured = [float(np.mean(pre ** 2)) for pre in _numpy_preactivations(model, x, np.tanh)]
    assert len(predicted) == 20
    for entry, value in zip(predicted, measured):
        assert entry["predicted_preactivation_variance"] == pytest.approx(value, rel=0.10), entry["layer"]
    # Glorot on a square stack: sigma_w^2 = 1, so q decays towards 0 and chi_1 < 1 (the ordered phase)
    assert predicted[0]["predicted_preactivation_variance"] == pytest.approx(np.mean(x.astype(float) ** 2), rel=0.02)
    assert predicted[-1]["predicted_preactivation_variance"] < 0.1 * predicted[0]["predicted_preactivation_variance"]
    assert all(entry["chi"] < 1 for entry in predicted[1:])


def test_he_relu_networks_follow_the_recursion_on_average():
    # He-ReLU sits where the length map is marginal (q^l = q^{l-1}), so a single finite network's deviations add up
    # instead of dying out: at width 512 and depth 20 one network is off by a log-normal factor of spread ~0.4
    # (Hanin & Rolnick 2018). Mean field predicts the average over weight draws, checked over 32 of them.
    rng = np.random.default_rng(3)
    model = _stack(20, 512, "relu", "he_normal")
    ratios = []
    for _ in range(32):
        for layer in model.layers:
            layer.kernel.assign(rng.standard_normal((512, 512), dtype=np.float32) * np.float32(math.sqrt(2 / 512)))
        x = rng.standard_normal((64, 512)).astype("float32")
        predicted = predict_preactivation_variances(model, x=x)
        measured = [float(np.mean(pre ** 2)) for pre in _numpy_preactivations(model, x, lambda v: np.maximum(v, 0))]
        ratios.append([m / p["predicted_preactivation_variance"] for m, p in zip(measured, predicted)])
        assert all(entry["chi"] == pytest.approx(1.0, rel=0.02) for entry in predicted[1:])  # the edge of chaos
    np.testing.assert_allclose(np.mean(ratios, axis=0), 1.0, rtol=0.15)


def test_measured_statistics_match_a_numpy_forward_pass():
    model = _stack(3, 16, "tanh", "glorot_normal")
    for layer in model.layers:
        layer.bias.assign(np.full(16, 0.1, dtype="float32"))
    x = np.random.default_rng(4).standard_normal((32, 16)).astype("float32")
    measured = measured_preactivation_variances(model, x)
    for entry, pre in zip(measured, _numpy_preactivations(model, x, np.tanh)):
        assert entry["measured_preactivation_variance"] == pytest.approx(np.var(pre), rel=1e-5)
        assert entry["measured_preactivation_second_moment"] == pytest.approx(np.mean(pre ** 2), rel=1e-5)
    # a constant bias of 0.1 adds its square to every predicted q (sigma_b^2 = Var(b) + mean(b)^2)
    predicted = predict_preactivation_variances(model, input_variance=2.0)
    assert predicted[0]["sigma_b2"] == pytest.approx(0.01)
    assert predicted[0]["predicted_preactivation_variance"] == pytest.approx(predicted[0]["sigma_w2"] * 2.0 + 0.01)


def test_input_variance_and_layers_between():
    model = models.Sequential([
        layers.Input((4, 5)), layers.Flatten(), layers.Dense(30, kernel_initializer="he_normal"),
        layers.Activation("relu"), layers.Dropout(0.5), layers.Dense(10, activation="softmax"),
    ])
    first, second = predict_preactivation_variances(model)  # input_variance defaults to 1
    assert first["fan_in"] == 20 and first["predicted_preactivation_variance"] == pytest.approx(first["sigma_w2"])
    # the Dense is linear, the Activation layer applies relu to its output before the next Dense
    assert second["input_second_moment"] == pytest.approx(first["predicted_preactivation_variance"] / 2)
    assert second["chi"] == pytest.approx(second["sigma_w2"] / 2)
    json.dumps([first, second])  # plain floats, ints and strings
    assert all(type(v) in (str, int, float) for entry in (first, second) for v in entry.values())


def test_activation_before_the_first_dense():
    model = models.Sequential([layers.Input((6,)), layers.Activation("tanh"), layers.Dense(4)])
    x = np.random.default_rng(6).normal(0.5, 2.0, size=(40, 6))
    (entry,) = predict_preactivation_variances(model, x=x)
    assert entry["input_second_moment"] == pytest.approx(np.mean(np.tanh(x) ** 2), rel=1e-12)
    assert entry["chi"] == pytest.approx(entry["sigma_w2"] * np.mean(np.cosh(x) ** -4), rel=1e-12)
    # without data, the input is taken as a Gaussian of the given variance
    (gaussian,) = predict_preactivation_variances(model, input_variance=3.0)
    assert gaussian["input_second_moment"] == pytest.approx(expected_square("tanh", 3.0))


def test_functional_and_nested_chains_give_the_sequential_prediction():
    inner = models.Sequential([layers.Input((8,)), layers.Dense(6, activation="tanh"), layers.Dense(6)])
    inputs = nr.Input((8,))
    outputs = layers.Dense(3)(layers.Activation("tanh")(inner(inputs)))
    model = nr.Model(inputs, outputs)
    x = np.random.default_rng(5).standard_normal((10, 8)).astype("float32")
    chain = dense_chain(model)
    assert [type(layer).__name__ for layer in chain] == ["Dense", "Dense", "Activation", "Dense"]
    predicted = predict_preactivation_variances(model, x=x)
    assert [entry["layer"] for entry in predicted] == [inner.layers[0].name, inner.layers[1].name,
                                                       chain[-1].name]
    expected = inner.layers[0].kernel.shape[0] * np.mean(inner.layers[0].kernel.numpy().astype(float) ** 2)
    assert predicted[0]["predicted_preactivation_variance"] == pytest.approx(expected * np.mean(x.astype(float) ** 2))


# ---- refusals -----------------------------------------------------------------------------------------------
def test_models_that_are_not_dense_stacks_are_refused():
    conv = models.Sequential([layers.Input((8, 8, 1)), layers.Conv2D(2, 3, name="conv"), layers.Flatten(),
                              layers.Dense(3)])
    with pytest.raises(NotADenseStack, match="'conv'.*Conv2D"):
        predict_preactivation_variances(conv)
    assert issubclass(NotADenseStack, ValueError)

    inputs = nr.Input((4,))
    branch = layers.Add(name="merge")([layers.Dense(4)(inputs), layers.Dense(4)(inputs)])
    with pytest.raises(NotADenseStack, match="'merge'"):
        predict_preactivation_variances(nr.Model(inputs, layers.Dense(2)(branch)))

    hidden_softmax = models.Sequential([layers.Input((4,)), layers.Dense(4, name="probs", activation="softmax"),
                                        layers.Dense(2)])
    with pytest.raises(NotADenseStack, match="'probs'.*not elementwise"):
        predict_preactivation_variances(hidden_softmax)
    # a softmax at the end feeds no Dense layer: nothing to refuse
    assert len(predict_preactivation_variances(models.Sequential([layers.Input((4,)), layers.Dense(3),
                                                                  layers.Activation("softmax")]))) == 1

    with pytest.raises(NotADenseStack, match="no Dense"):
        predict_preactivation_variances(models.Sequential([layers.Input((4,)), layers.Activation("relu")]))


def test_other_refusals():
    class Subclassed(nr.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(2)

        def call(self, x, training=None):
            return self.dense(x)

    with pytest.raises(NotADenseStack, match="subclassed"):
        predict_preactivation_variances(Subclassed())
    with pytest.raises(ValueError, match="not built"):
        predict_preactivation_variances(models.Sequential([layers.Dense(2)]))
    with pytest.raises(TypeError, match="Model"):
        predict_preactivation_variances(layers.Dense(2))
    model = _stack(2, 4, "tanh", "glorot_normal")
    with pytest.raises(ValueError, match="not both"):
        predict_preactivation_variances(model, input_variance=1.0, x=np.ones((2, 4)))
    with pytest.raises(ValueError, match="input_variance"):
        predict_preactivation_variances(model, input_variance=-1.0)
    with pytest.raises(ValueError, match="x must be a numeric batch"):
        predict_preactivation_variances(model, x=np.ones(4))
