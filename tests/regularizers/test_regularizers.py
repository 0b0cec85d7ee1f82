"""Regularizers against their closed forms, gradients by finite differences, registry and config."""

import json

import numpy as np
import pytest

import neurona as nr
from neurona import regularizers
from neurona.regularizers import L1, L1L2, L2, Regularizer


@pytest.fixture
def weights(rng):
    """A float64 matrix kept away from 0, where |x| has no derivative."""
    x = rng.standard_normal((4, 3))
    return np.where(np.abs(x) < 0.1, 0.5, x)


def test_defaults_match_keras():
    assert (L1().l1, L2().l2, L1L2().l1, L1L2().l2) == (0.01, 0.01, 0.0, 0.0)


def test_values_match_closed_forms(device, weights):
    x = nr.Tensor(weights)
    assert float(L1(0.3)(x)) == pytest.approx(0.3 * np.abs(weights).sum(), rel=1e-14)
    assert float(L2(0.3)(x)) == pytest.approx(0.3 * np.sum(weights**2), rel=1e-14)  # no factor 1/2
    both = 0.2 * np.abs(weights).sum() + 0.7 * np.sum(weights**2)
    assert float(L1L2(l1=0.2, l2=0.7)(x)) == pytest.approx(both, rel=1e-14)


def test_small_hand_example():
    x = nr.Tensor(np.array([1.0, -2.0, 3.0], dtype="float32"))
    assert float(L1(0.5)(x)) == 3.0  # 0.5 * (1 + 2 + 3)
    assert float(L2(0.5)(x)) == 7.0  # 0.5 * (1 + 4 + 9)
    assert L2(0.5)(x).dtype == np.float32 and L2(0.5)(x).shape == ()


@pytest.mark.parametrize("reg", [L1(0.3), L2(0.3), L1L2(0.2, 0.7), L1L2(l2=0.4)], ids=repr)
def test_gradients_pass_gradcheck(weights, reg):
    assert nr.gradcheck(reg, nr.Tensor(weights, requires_grad=True))


def test_gradients_match_closed_forms(weights):
    for reg, expected in [(L1(0.3), 0.3 * np.sign(weights)), (L2(0.3), 0.6 * weights),
                          (L1L2(0.2, 0.7), 0.2 * np.sign(weights) + 1.4 * weights)]:
        w = nr.Variable(weights.copy())
        reg(w).backward()
        np.testing.assert_allclose(w.grad, expected, rtol=1e-14)


def test_penalty_adds_to_a_loss_gradient(weights):
    w = nr.Variable(weights.copy())
    loss = (w * 2.0).sum() + L2(0.5)(w)
    loss.backward()
    np.testing.assert_allclose(w.grad, 2.0 + weights, rtol=1e-14)


def test_zero_coefficients_give_a_zero_of_the_weights_dtype():
    out = L1L2()(nr.Tensor(np.ones(3, dtype="float32")))
    assert float(out) == 0.0 and out.dtype == np.float32


def test_accepts_plain_arrays(weights):
    assert float(L2(1.0)(weights)) == pytest.approx(np.sum(weights**2), rel=1e-14)


@pytest.mark.parametrize("make", [lambda: L1(-0.1), lambda: L2(-1e-4), lambda: L1L2(l1=-1.0),
                                  lambda: L1L2(l2=float("nan"))])
def test_bad_coefficients_are_rejected(make):
    with pytest.raises(ValueError, match=r"must be a finite number >= 0"):
        make()


def test_non_numbers_are_rejected():
    with pytest.raises(TypeError, match="l2 must be a number, got 'big'"):
        L2("big")


@pytest.mark.parametrize("name, cls", [("l1", L1), ("L1", L1), ("l2", L2), ("L2", L2), ("l1_l2", L1L2),
                                       ("l1l2", L1L2), ("L1L2", L1L2)])
def test_registry_names(name, cls):
    assert type(regularizers.get(name)) is cls


def test_functional_aliases_are_the_classes():
    assert isinstance(regularizers.l2(1e-4), L2) and regularizers.l2(1e-4).l2 == 1e-4
    assert isinstance(regularizers.l1(0.1), L1) and isinstance(regularizers.l1_l2(0.1, 0.2), L1L2)


@pytest.mark.parametrize("reg", [L1(0.3), L2(1e-4), L1L2(0.1, 0.2)], ids=repr)
def test_config_round_trip(reg):
    clone = type(reg).from_config(json.loads(json.dumps(reg.get_config())))
    assert clone.get_config() == reg.get_config()
    restored = regularizers.deserialize(json.loads(json.dumps(regularizers.serialize(reg))))
    assert type(restored) is type(reg) and restored.get_config() == reg.get_config()


def test_get_passes_through_none_instances_and_callables():
    reg = L2(0.5)
    custom = lambda x: (x * x).sum()
    assert regularizers.get(None) is None and regularizers.get(reg) is reg and regularizers.get(custom) is custom
    assert regularizers.names() == ["l1", "l1_l2", "l2"]


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="unknown regularizer 'l3'; valid names: l1, l1_l2, l2"):
        regularizers.get("l3")


def test_base_class_must_be_subclassed():
    with pytest.raises(NotImplementedError):
        Regularizer()(np.ones(2))
