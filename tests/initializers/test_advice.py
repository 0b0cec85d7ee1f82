"""recommend / check_initializer: the activation-to-initializer rules, checked against signal propagation."""

import dataclasses
import math

import numpy as np
import pytest

from neurona import activations, ops
from neurona.initializers import (
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    Initializer,
    LecunNormal,
    Orthogonal,
    RandomNormal,
    VarianceScaling,
)
from neurona.initializers.advice import (
    RECTIFIERS,
    SATURATING,
    Mismatch,
    Recommendation,
    activation_name,
    check_initializer,
    known_activations,
    recommend,
)

# ---- recommend ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", RECTIFIERS)
def test_rectifiers_get_he(name):
    rec = recommend(name)
    assert (rec.initializer, rec.gain, rec.stddev) == ("he_normal", math.sqrt(2.0), None)
    assert "He et al., 2015" in rec.reason


@pytest.mark.parametrize("name", SATURATING)
def test_saturating_and_linear_units_get_glorot(name):
    rec = recommend(name)
    assert (rec.initializer, rec.gain) == ("glorot_uniform", 1.0) and "Glorot & Bengio, 2010" in rec.reason


def test_selu_gets_lecun_normal():
    rec = recommend("selu", fan_in=256)
    assert (rec.initializer, rec.gain) == ("lecun_normal", 1.0) and "Klambauer et al., 2017" in rec.reason
    assert rec.stddev == pytest.approx(LecunNormal().expected_std((256, 10)))


def test_stddev_is_the_recommended_initializers_own():
    assert recommend("relu", fan_in=784).stddev == pytest.approx(math.sqrt(2 / 784))
    assert recommend("relu", fan_in=784).stddev == pytest.approx(HeNormal().expected_std((784, 128)))
    assert recommend("tanh", fan_in=100, fan_out=300).stddev == pytest.approx(GlorotUniform().expected_std((100, 300)))
    assert recommend("tanh", fan_in=100).stddev is None  # Glorot needs both fans
    assert recommend("relu", fan_out=100).stddev is None


def test_names_aliases_none_and_functions():
    assert activation_name("swish") == activation_name(ops.swish) == "silu"
    assert activation_name("Leaky_ReLU") == activation_name("LeakyReLU") == "leaky_relu"
    assert activation_name(None) == activation_name("identity") == activation_name(activations.linear) == "linear"
    assert activation_name(ops.relu6) == "relu6" and activation_name(ops.hard_sigmoid) == "hard_sigmoid"
    assert activation_name(ops.softsign) == "softsign" and activation_name(ops.silu) == "silu"
    assert recommend(activations.get("relu")).initializer == "he_normal"


def test_every_registered_activation_has_a_rule():
    # a new activation in neurona.activations must be given a rule here too
    for name in activations.names():
        assert activation_name(activations.get(name)) == name
        assert activation_name(name) in known_activations()


def test_unknown_and_wrong_activations_are_refused():
    with pytest.raises(ValueError, match=r"unknown activation .relux.; known activations: celu, elu, exponential, "):
        recommend("relux")
    with pytest.raises(ValueError, match="cannot tell which activation"):
        recommend(lambda x: x)
    with pytest.raises(TypeError, match=r"activation must be a name, an activation function or None, got 3 \(int\)"):
        recommend(3)


def test_fans_are_checked():
    with pytest.raises(ValueError, match="recommend fan_in must be a positive int or None, got 0"):
        recommend("relu", fan_in=0)
    with pytest.raises(TypeError, match=r"recommend fan_out must be a positive int or None, got 2.5 \(float\)"):
        recommend("tanh", fan_in=3, fan_out=2.5)
    with pytest.raises(TypeError, match="fan_in"):
        recommend("relu", fan_in=True)
    assert recommend("relu", fan_in=np.int64(8)).stddev == pytest.approx(0.5)


def test_recommendation_is_a_frozen_sentence():
    rec = recommend("relu", fan_in=784)
    assert isinstance(rec, Recommendation)
    assert str(rec).startswith("Use he_normal (weight std 0.05051): a rectifier") and str(rec).endswith(").")
    assert str(recommend("tanh")).startswith("Use glorot_uniform: ")
    with pytest.raises(dataclasses.FrozenInstanceError):
        rec.stddev = 1.0


# ---- the rules against the math they come from: second moments through a deep random network ---------------

def _propagate(activation, std_for, depth=30, width=256, batch=128, seed=0):
    """Pre-activation second moments, layer by layer, of a random network whose weights have std ``std_for(n)``."""
    rng = np.random.default_rng(seed)
    x, second = rng.standard_normal((batch, width)), []
    for _ in range(depth):
        y = x @ (std_for(width) * rng.standard_normal((width, width)))
        second.append(np.mean(y**2))
        x = activation(y)
    return np.array(second)


def test_he_keeps_a_relu_signal_where_glorot_halves_it_per_layer():
    relu = lambda y: np.maximum(y, 0)  # noqa: E731
    he = _propagate(relu, lambda n: recommend("relu", fan_in=n).stddev)
    glorot = _propagate(relu, lambda n: GlorotUniform().expected_std((n, n)))
    # per-layer factor of the second moment (geometric mean over the layers, after the first ReLU)
    factor = lambda m: (m[-1] / m[1]) ** (1 / (len(m) - 2))  # noqa: E731
    assert factor(he) == pytest.approx(1.0, abs=0.06)
    assert factor(glorot) == pytest.approx(0.5, abs=0.03)


def test_he_pushes_tanh_units_into_saturation_where_glorot_does_not():
    saturated = {}
    for cls in (GlorotUniform, HeNormal):
        rng = np.random.default_rng(2)
        x = rng.standard_normal((256, 256))
        for _ in range(10):
            x = np.tanh(x @ np.asarray(cls(seed=int(rng.integers(1 << 30)))((256, 256), dtype="float64")))
        saturated[cls] = np.mean(np.abs(x) > 0.9)  # where tanh's slope is below 0.2
    assert saturated[HeNormal] > 0.03 and saturated[GlorotUniform] < 0.001


def test_lecun_normal_brings_selu_to_its_fixed_point():
    # SELU's constants (Klambauer et al., 2017, eq. 14): the fixed point is mean 0, variance 1
    lam, alpha = 1.0507009873554805, 1.6732632423543772
    selu = lambda y: lam * np.where(y > 0, y, alpha * np.expm1(np.minimum(y, 0)))  # noqa: E731
    rng = np.random.default_rng(1)
    x = 3.0 * rng.standard_normal((512, 256)) + 1.0  # far from the fixed point
    for _ in range(16):
        w = np.asarray(LecunNormal(seed=int(rng.integers(1 << 30)))((256, 256), dtype="float64"))
        x = selu(x @ w)
    assert abs(x.mean()) < 0.1 and x.var() == pytest.approx(1.0, abs=0.15)


# ---- check_initializer -------------------------------------------------------------------------------------

CASES = [
    ("relu", "glorot_uniform", "he_normal"), ("relu", "glorot_normal", "he_normal"),
    ("relu", "lecun_normal", "he_normal"), ("relu", "lecun_uniform", "he_normal"),
    ("gelu", "xavier_uniform", "he_normal"), ("elu", GlorotNormal(seed=1), "he_normal"),
    ("relu", VarianceScaling(1.0, "fan_avg", "uniform"), "he_normal"),
    ("relu", "he_normal", None), ("relu", "he_uniform", None), ("leaky_relu", "kaiming_normal", None),
    ("relu", VarianceScaling(2.0, "fan_in", "untruncated_normal"), None),
    ("relu", VarianceScaling(2.0, "fan_out"), None), ("relu", "orthogonal", None),
    ("relu", RandomNormal(stddev=0.01), None), ("relu", "zeros", None), ("relu", "ones", None),
    ("tanh", "he_normal", "glorot_uniform"), ("sigmoid", "kaiming_uniform", "glorot_uniform"),
    ("tanh", VarianceScaling(2.0), "glorot_uniform"), ("tanh", "glorot_uniform", None),
    ("tanh", "lecun_normal", None), ("softmax", "he_normal", None), ("linear", "he_normal", None),
    ("selu", "lecun_normal", None), ("selu", VarianceScaling(1.0, "fan_in", "untruncated_normal"), None),
    ("selu", "lecun_uniform", "lecun_normal"), ("selu", "glorot_uniform", "lecun_normal"),
    ("selu", "he_normal", "lecun_normal"), ("selu", RandomNormal(stddev=0.05), "lecun_normal"),
    ("selu", Orthogonal(), "lecun_normal"), ("selu", "zeros", None), ("selu", "identity", None),
]


@pytest.mark.parametrize("activation, initializer, suggested", CASES,
                         ids=[f"{a}-{i if isinstance(i, str) else type(i).__name__}-{s}" for a, i, s in CASES])
def test_the_issue_flag_rules(activation, initializer, suggested):
    mismatch = check_initializer(activation, initializer)
    assert (None if mismatch is None else mismatch.suggested) == suggested


def test_a_mismatch_names_the_pair_the_suggestion_and_the_reason():
    mismatch = check_initializer(activations.relu, GlorotUniform(seed=0))
    assert isinstance(mismatch, Mismatch)
    assert (mismatch.activation, mismatch.initializer, mismatch.suggested) == ("relu", "GlorotUniform", "he_normal")
    assert "Glorot's Var(W) = 2 / (fan_in + fan_out)" in mismatch.reason and "He et al., 2015" in mismatch.reason
    assert str(mismatch).startswith("relu with GlorotUniform -> suggest he_normal: Glorot's")
    assert "LeCun's Var(W) = 1 / fan_in" in check_initializer("relu", "lecun_uniform").reason
    assert check_initializer("tanh", HeUniform).initializer == "HeUniform"  # a class is resolved too
    assert check_initializer("tanh", {"class_name": "HeNormal", "config": {"seed": 3}}).initializer == "HeNormal"
    assert check_initializer("relu", VarianceScaling(1.0, "fan_avg")).initializer == "VarianceScaling"


class _Custom(Initializer):
    def generate(self, shape, dtype):
        return np.zeros(shape)


class _GlorotLike(VarianceScaling):
    def __init__(self):
        super().__init__(1.0, "fan_avg", "uniform")


def test_what_is_never_flagged():
    assert check_initializer("relu", "glorot_uniform", kind="bias") is None
    assert check_initializer("selu", "he_normal", kind="bias") is None
    assert check_initializer("relu", lambda shape, dtype=None: np.zeros(shape)) is None
    assert check_initializer("selu", _Custom()) is None  # a user's distribution is unknown
    assert check_initializer(lambda x: x, "glorot_uniform") is None  # so is a user's activation
    assert check_initializer("relu", None) is None
    assert check_initializer("relu", _GlorotLike()).suggested == "he_normal"  # classified by (scale, mode)


def test_check_initializer_refuses_bad_arguments():
    with pytest.raises(ValueError, match="kind must be 'kernel' or 'bias', got 'recurrent'"):
        check_initializer("relu", "he_normal", kind="recurrent")
    with pytest.raises(ValueError, match="unknown activation 'rleu'"):
        check_initializer("rleu", "he_normal")
    with pytest.raises(ValueError, match="unknown initializer 'glorot'"):
        check_initializer("relu", "glorot")
