"""ReLU, LeakyReLU, PReLU, ELU and Softmax against Keras 3's layers of the same names (numpy backend): outputs,
defaults, masks, weights and argument checks. The shared harness (test_harness_activation.py) checks shapes,
gradients, configs and saving."""

import inspect

import numpy as np
import pytest
from _harness.keras_oracle import numpy_keras

import neurona as nr
from neurona import layers, models

X = np.random.default_rng(0).normal(scale=3.0, size=(4, 3, 6)).astype("float32")


@pytest.mark.parametrize("name, kwargs", [
    ("ReLU", {}), ("ReLU", dict(max_value=6.0)), ("ReLU", dict(max_value=1.5, negative_slope=0.2)),
    ("ReLU", dict(threshold=0.5)), ("ReLU", dict(max_value=2.0, negative_slope=0.1, threshold=1.0)),
    ("LeakyReLU", {}), ("LeakyReLU", dict(negative_slope=0.05)), ("ELU", {}), ("ELU", dict(alpha=0.5)),
    ("Softmax", {}), ("Softmax", dict(axis=1)), ("Softmax", dict(axis=[1, 2])), ("Softmax", dict(axis=(0, 2))),
])
def test_layers_compute_what_keras_computes(monkeypatch, name, kwargs):
    keras = numpy_keras(monkeypatch)
    theirs = {k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()}  # Keras's numpy backend
    expected = np.asarray(getattr(keras.layers, name)(**theirs)(X))  # takes no list (its TrackedList) there
    np.testing.assert_allclose(getattr(layers, name)(**kwargs)(X).numpy(), expected, rtol=2e-6, atol=1e-7)


@pytest.mark.parametrize("shared_axes", [None, [1], [1, 2], 2])
def test_prelu_computes_what_keras_computes_with_the_same_alpha(monkeypatch, shared_axes):
    keras = numpy_keras(monkeypatch)
    theirs, ours = keras.layers.PReLU(shared_axes=shared_axes), layers.PReLU(shared_axes=shared_axes)
    theirs.build(X.shape)
    ours(X)
    assert ours.alpha.shape == tuple(theirs.alpha.shape) and ours.alpha.name.endswith("alpha")
    assert not np.any(ours.alpha.numpy())  # Keras's Zeros: a ReLU at first
    alpha = np.random.default_rng(1).uniform(-1, 1, ours.alpha.shape).astype("float32")
    theirs.alpha.assign(alpha)
    ours.set_weights([alpha])
    np.testing.assert_allclose(ours(X).numpy(), np.asarray(theirs(X)), rtol=1e-6, atol=1e-7)


def test_prelu_alpha_is_trained():
    model = models.Sequential([layers.Input((3,)), layers.PReLU(alpha_initializer="ones")])
    x = -np.abs(np.random.default_rng(2).normal(size=(8, 3))).astype("float32")
    model.compile(optimizer="sgd", loss="mse")
    before = model.layers[-1].alpha.numpy().copy()
    model.fit(x, np.zeros_like(x), epochs=2, verbose=0)
    assert np.all(model.layers[-1].alpha.numpy() < before)  # towards 0, where alpha * x fits the zero target


@pytest.mark.parametrize("mask", [
    np.array([[1, 1, 0, 1, 0, 1]] * 3, dtype=bool),  # (3, 6): broadcast over the batch
    np.random.default_rng(3).random((4, 3, 6)) > 0.4,
    np.array([0.2, 0.9, 0.7, 0.1, 1.0, 0.6], dtype="float32"),  # numbers: kept where > 0.5, as Keras reads them
    np.zeros((4, 3, 1), dtype=bool),  # everything masked: zeros, as Keras
])
@pytest.mark.parametrize("axis", [-1, [1, 2]])
def test_softmax_mask_matches_keras(monkeypatch, mask, axis):
    keras = numpy_keras(monkeypatch)
    expected = np.asarray(keras.layers.Softmax(axis=tuple(axis) if isinstance(axis, list) else axis)(X, mask=mask))
    got = layers.Softmax(axis=axis)(X, mask=mask).numpy()
    np.testing.assert_allclose(got, expected, rtol=2e-6, atol=1e-7)
    keep = np.broadcast_to(mask > 0.5 if mask.dtype != bool else mask, X.shape)
    assert not np.any(got[~keep])


def test_softmax_mask_takes_no_gradient_to_masked_positions():
    x = nr.Tensor(X.astype("float64"), requires_grad=True)
    mask = np.random.default_rng(4).random(X.shape) > 0.5
    out = layers.Softmax(dtype="float64")(x, mask=mask)
    (out * nr.Tensor(np.random.default_rng(5).normal(size=X.shape))).sum().backward()
    assert not np.any(np.asarray(x.grad)[~mask]) and np.count_nonzero(np.asarray(x.grad)[mask]) > mask.sum() // 2
    assert nr.gradcheck(lambda t: layers.Softmax(dtype="float64")(t, mask=mask[:2, :2]), X.astype("float64")[:2, :2])


def test_defaults_and_config_keys_are_keras_3s(monkeypatch):
    keras = numpy_keras(monkeypatch)
    for name in ("ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax"):
        ours, theirs = inspect.signature(getattr(layers, name)), inspect.signature(getattr(keras.layers, name))
        defaults = {k: p.default for k, p in theirs.parameters.items() if p.default is not inspect.Parameter.empty}
        assert {k: p.default for k, p in ours.parameters.items() if k in defaults} == defaults, name
        keras_keys = set(getattr(keras.layers, name)().get_config()) - {"dtype"}
        assert keras_keys <= set(getattr(layers, name)().get_config()), name
    assert layers.LeakyReLU().negative_slope == 0.3 and layers.LeakyReLU(alpha=0.1).negative_slope == 0.1


@pytest.mark.parametrize("make, error, message", [
    (lambda: layers.ReLU(max_value=-1.0), ValueError, r"ReLU: max_value must be a finite number >= 0"),
    (lambda: layers.ReLU(negative_slope=-0.1), ValueError, r"ReLU: negative_slope must be a finite number >= 0"),
    (lambda: layers.ReLU(threshold=None), TypeError, r"ReLU: threshold must be a real number, got None"),
    (lambda: layers.LeakyReLU(negative_slope=-1), ValueError, r"LeakyReLU: negative_slope must be"),
    (lambda: layers.ELU(alpha="1"), TypeError, r"ELU: alpha must be a real number"),
    (lambda: layers.PReLU(alpha_constraint="non_neg"), NotImplementedError, r"PReLU: weight constraints"),
    (lambda: layers.PReLU(shared_axes=[0]), ValueError, r"PReLU: shared_axes must be .* >= 1"),
    (lambda: layers.PReLU(shared_axes=3)(X), ValueError, r"shared axis 3 is out of range .*\(4, 3, 6\)"),
    (lambda: layers.Softmax(axis="last"), ValueError, r"Softmax: axis must be an int or a non-empty list"),
    (lambda: layers.Softmax()(X, mask=np.ones((3, 5), bool)), ValueError,
     r"\(Softmax\): the mask must be broadcastable .*\(3, 5\) for inputs of shape \(4, 3, 6\)"),
])
def test_bad_arguments_are_named(make, error, message):
    with pytest.raises(error, match=message):
        make()
