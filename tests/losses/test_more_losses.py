"""The Keras 3 losses of more_functions / more_classes, and sparse ignore_class, against real Keras 3 (numpy
backend, which computes in float32 whatever it is given): per-sample functions, loss objects with sample weights
and every reduction, names, configs, saving with a model. The float64 values against independent references and
the gradients are test_harness_more_losses.py's."""

import json

import numpy as np
import pytest
from _harness.keras_oracle import numpy_keras

import neurona as nr
from neurona import layers, losses, models
from neurona.saving import compile_settings
from neurona.saving.keras.compile_config import compile_from_keras


def _data(kind, rng, n=6, d=4):
    """``(y_true, y_pred)`` float64 arrays for a kind of loss."""
    shape = (n, d)
    if kind == "regression":
        return rng.normal(size=shape), rng.normal(size=shape) * 2
    if kind == "positive":  # with some negative predictions, which MSLE floors at 1e-7
        return rng.uniform(0, 3, shape), rng.uniform(-0.5, 3, shape)
    if kind == "counts":
        return rng.poisson(2.0, shape).astype(float), rng.uniform(0.01, 4, shape)
    if kind == "signs":
        return np.where(rng.random(shape) < 0.5, -1.0, 1.0), rng.normal(size=shape)
    if kind == "bits":
        return (rng.random(shape) < 0.5).astype(float), rng.normal(size=shape)
    if kind == "one_hot":
        return np.eye(d)[rng.integers(0, d, n)], rng.normal(size=shape)
    if kind == "one_hot_probs":  # unnormalized scores with exact 0 and 1 entries: renormalizing and clipping show
        p = rng.uniform(0, 1, shape)
        p[0, 0], p[1] = 0.0, np.eye(d)[1]
        return np.eye(d)[rng.integers(0, d, n)], p
    if kind == "distributions":  # with zeros in y_true and y_pred: the [1e-7, 1] clipping shows
        t, p = rng.dirichlet(np.ones(d), n), rng.dirichlet(np.ones(d), n)
        t[0, 0], p[1, 1] = 0.0, 0.0
        return t, p
    if kind == "binary_probs":  # with exact 0 and 1 predictions
        p = rng.uniform(0, 1, shape)
        p[0, :2] = [0.0, 1.0]
        return (rng.random(shape) < 0.5).astype(float), p
    if kind == "soft_logits":
        return rng.uniform(0, 1, shape), rng.normal(size=shape) * 3
    if kind == "masks":
        return (rng.random((n, 3, d)) < 0.5).astype(float), rng.uniform(0, 1, (n, 3, d))
    if kind == "sequences":
        return rng.normal(size=(n, 3, d)), rng.normal(size=(n, 3, d))
    raise ValueError(kind)


# (Keras class name, constructor kwargs, data kind)
CASES = [
    ("MeanAbsolutePercentageError", {}, "regression"),
    ("MeanSquaredLogarithmicError", {}, "positive"),
    ("CosineSimilarity", {}, "regression"),
    ("CosineSimilarity", {"axis": 1}, "sequences"),
    ("Huber", {}, "regression"),
    ("Huber", {"delta": 0.3}, "regression"),
    ("LogCosh", {}, "regression"),
    ("Hinge", {}, "signs"),
    ("Hinge", {}, "bits"),
    ("SquaredHinge", {}, "signs"),
    ("SquaredHinge", {}, "bits"),
    ("CategoricalHinge", {}, "one_hot"),
    ("KLDivergence", {}, "distributions"),
    ("Poisson", {}, "counts"),
    ("BinaryFocalCrossentropy", {}, "binary_probs"),
    ("BinaryFocalCrossentropy", {"apply_class_balancing": True, "alpha": 0.4, "gamma": 1.0}, "binary_probs"),
    ("BinaryFocalCrossentropy", {"from_logits": True, "label_smoothing": 0.2, "gamma": 3.0}, "soft_logits"),
    ("CategoricalFocalCrossentropy", {}, "one_hot_probs"),
    ("CategoricalFocalCrossentropy", {"from_logits": True, "alpha": 0.5, "gamma": 1.5, "label_smoothing": 0.1},
     "one_hot"),
    ("CategoricalFocalCrossentropy", {"alpha": [0.1, 0.2, 0.3, 0.4]}, "one_hot_probs"),
    ("Dice", {"axis": (1, 2)}, "masks"),
]
FUNCTION_OF = {"MeanAbsolutePercentageError": "mean_absolute_percentage_error",
               "MeanSquaredLogarithmicError": "mean_squared_logarithmic_error", "CosineSimilarity": "cosine_similarity",
               "Huber": "huber", "LogCosh": "log_cosh", "Hinge": "hinge", "SquaredHinge": "squared_hinge",
               "CategoricalHinge": "categorical_hinge", "KLDivergence": "kl_divergence", "Poisson": "poisson",
               "BinaryFocalCrossentropy": "binary_focal_crossentropy",
               "CategoricalFocalCrossentropy": "categorical_focal_crossentropy", "Dice": "dice"}
IDS = [f"{name}-{kind}-{','.join(kwargs)}" for name, kwargs, kind in CASES]


@pytest.mark.parametrize("name, kwargs, kind", CASES, ids=IDS)
def test_functions_equal_keras(monkeypatch, name, kwargs, kind):
    keras = numpy_keras(monkeypatch)
    fn = FUNCTION_OF[name]
    for seed in range(3):
        y_true, y_pred = (a.astype(np.float32) for a in _data(kind, np.random.default_rng(seed)))
        expected = np.asarray(getattr(keras.losses, fn)(y_true, y_pred, **kwargs))
        got = getattr(losses, fn)(y_true, nr.Tensor(y_pred), **kwargs)
        assert got.dtype == np.float32
        np.testing.assert_allclose(got.numpy(), expected, rtol=2e-5, atol=1e-6, err_msg=f"{fn} seed {seed}")


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean_with_sample_weight", "none"])
@pytest.mark.parametrize("name, kwargs, kind", CASES, ids=IDS)
def test_loss_objects_equal_keras_with_sample_weights(monkeypatch, name, kwargs, kind, reduction):
    keras = numpy_keras(monkeypatch)
    for seed in range(3):
        rng = np.random.default_rng(seed)
        y_true, y_pred = (a.astype(np.float32) for a in _data(kind, rng))
        weights = rng.uniform(0, 2, len(y_true)).astype(np.float32)
        # Keras cannot weigh (N, K) losses by (N,) weights (it fails to broadcast them): no weights there
        for w in (None,) if kind == "sequences" else (None, weights):
            expected = np.asarray(getattr(keras.losses, name)(reduction=reduction, **kwargs)(y_true, y_pred,
                                                                                            sample_weight=w))
            got = getattr(losses, name)(reduction=reduction, **kwargs)(y_true, nr.Tensor(y_pred), sample_weight=w)
            assert got.dtype == np.float32
            np.testing.assert_allclose(got.numpy(), expected, rtol=2e-5, atol=1e-6,
                                       err_msg=f"{name} seed {seed} weights {w is not None}")


def test_dice_over_all_axes_is_one_value_for_the_batch(monkeypatch):
    keras = numpy_keras(monkeypatch)
    y_true, y_pred = _data("masks", np.random.default_rng(0))
    assert losses.dice(y_true, nr.Tensor(y_pred)).shape == ()
    np.testing.assert_allclose(losses.Dice()(y_true, nr.Tensor(y_pred)).item(),
                               float(keras.losses.Dice()(y_true, y_pred)), rtol=1e-6)


@pytest.mark.parametrize("from_logits", [True, False])
@pytest.mark.parametrize("ignore_class", [-1, 255, 1])
def test_sparse_ignore_class_equals_keras(monkeypatch, from_logits, ignore_class):
    keras = numpy_keras(monkeypatch)
    for seed in range(3):
        rng = np.random.default_rng(seed)
        labels = rng.integers(0, 3, (5, 4))
        labels[rng.random((5, 4)) < 0.3] = ignore_class
        scores = rng.normal(size=(5, 4, 3)) if from_logits else rng.uniform(0.05, 1, (5, 4, 3))
        scores = scores.astype(np.float32)
        expected = keras.losses.sparse_categorical_crossentropy(labels, scores, from_logits=from_logits,
                                                                ignore_class=ignore_class)
        got = losses.sparse_categorical_crossentropy(labels, nr.Tensor(scores), from_logits=from_logits,
                                                     ignore_class=ignore_class)
        np.testing.assert_allclose(got.numpy(), np.asarray(expected), rtol=2e-5, atol=1e-6)
        assert np.array_equal(got._keras_mask, labels != ignore_class)
        weights = rng.uniform(0, 2, (5, 4)).astype(np.float32)  # Keras fails to broadcast (N,) ones to the mask
        for reduction in ("sum_over_batch_size", "sum", "mean_with_sample_weight"):
            for w in (None, weights):
                kwargs = dict(from_logits=from_logits, ignore_class=ignore_class, reduction=reduction)
                want = keras.losses.SparseCategoricalCrossentropy(**kwargs)(labels, scores, sample_weight=w)
                value = losses.SparseCategoricalCrossentropy(**kwargs)(labels, nr.Tensor(scores), sample_weight=w)
                np.testing.assert_allclose(value.item(), float(want), rtol=2e-5, err_msg=f"{reduction} {w}")


def test_ignored_samples_get_no_gradient(rng):
    z = nr.Tensor(rng.normal(size=(4, 3)), requires_grad=True)
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1)([0, -1, 2, -1], z)
    loss.backward()
    assert np.all(z.grad[[1, 3]] == 0) and np.all(z.grad[[0, 2]] != 0)
    # the mean runs over the two real samples: twice the plain mean of the four
    per_sample = losses.sparse_categorical_crossentropy([0, -1, 2, -1], z.data, from_logits=True, ignore_class=-1)
    np.testing.assert_allclose(loss.item(), per_sample.numpy().sum() / 2, rtol=1e-6)


# ---- names, configs, saving ---------------------------------------------------------------------
@pytest.mark.parametrize("name, cls", [
    ("huber", losses.Huber), ("huber_loss", losses.Huber), ("log_cosh", losses.LogCosh), ("logcosh", losses.LogCosh),
    ("kld", losses.KLDivergence), ("kl_divergence", losses.KLDivergence), ("KLDivergence", losses.KLDivergence),
    ("poisson", losses.Poisson), ("hinge", losses.Hinge), ("squared_hinge", losses.SquaredHinge),
    ("categorical_hinge", losses.CategoricalHinge), ("cosine_similarity", losses.CosineSimilarity),
    ("mape", losses.MeanAbsolutePercentageError), ("msle", losses.MeanSquaredLogarithmicError),
    ("binary_focal_crossentropy", losses.BinaryFocalCrossentropy),
    ("CategoricalFocalCrossentropy", losses.CategoricalFocalCrossentropy), ("dice", losses.Dice),
])
def test_names(name, cls):
    assert type(losses.get(name)) is cls


@pytest.mark.parametrize("name, kwargs, kind", CASES, ids=IDS)
def test_configs_hold_keras_arguments_and_round_trip(monkeypatch, name, kwargs, kind):
    keras = numpy_keras(monkeypatch)
    loss = getattr(losses, name)(reduction="sum", **kwargs)
    config = json.loads(json.dumps(losses.serialize(loss)))
    keras_config = getattr(keras.losses, name)(reduction="sum", **kwargs).get_config()
    ours = config["config"]
    assert {k: v for k, v in ours.items() if k in keras_config} == \
        {k: list(v) if isinstance(v, tuple) else v for k, v in keras_config.items() if k != "dtype"}
    clone = losses.deserialize(config)
    assert type(clone) is type(loss) and clone.get_config() == loss.get_config()
    y_true, y_pred = _data(kind, np.random.default_rng(0))
    assert clone(y_true, nr.Tensor(y_pred)).item() == loss(y_true, nr.Tensor(y_pred)).item()


def test_functions_serialize_by_name():
    for fn in (losses.huber, losses.dice, losses.binary_focal_crossentropy, losses.kl_divergence):
        assert losses.serialize(fn) == fn.__name__
        assert type(losses.deserialize(fn.__name__)).__name__ in {"Huber", "Dice", "BinaryFocalCrossentropy",
                                                                  "KLDivergence"}


def test_keras_compile_config_rebuilds_the_losses(monkeypatch):
    keras = numpy_keras(monkeypatch)
    loss = keras.losses.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.3, gamma=1.0)
    settings = compile_from_keras({"optimizer": "adam", "loss": keras.losses.serialize(loss),
                                   "metrics": ["accuracy"]}, "test")
    rebuilt = settings["loss"]
    assert type(rebuilt) is losses.BinaryFocalCrossentropy
    assert (rebuilt.fn_kwargs["alpha"], rebuilt.fn_kwargs["gamma"], rebuilt.fn_kwargs["apply_class_balancing"]) == \
        (0.3, 1.0, True)
    scce = keras.losses.serialize(keras.losses.SparseCategoricalCrossentropy(ignore_class=255))
    assert compile_from_keras({"loss": scce}, "test")["loss"].fn_kwargs["ignore_class"] == 255


SAVED = [getattr(losses, name)(**{**kwargs, "alpha": [0.2, 0.8]} if isinstance(kwargs.get("alpha"), list) else kwargs)
         for name, kwargs, kind in CASES if kind not in ("sequences", "masks")]


@pytest.mark.parametrize("loss", SAVED + [
    losses.Dice(axis=(1,)), "log_cosh", "kld", losses.squared_hinge, losses.huber,
    losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1),
], ids=lambda value: f"{getattr(value, 'name', None) or getattr(value, '__name__', value)}-{type(value).__name__}")
def test_a_model_compiled_with_the_loss_saves_and_loads_it(tmp_path, rng, loss):
    model = models.Sequential([layers.Input((3,)), layers.Dense(2, activation="sigmoid")])  # (0, 1): Poisson's log
    model.compile(optimizer="sgd", loss=loss)
    x = rng.normal(size=(8, 3)).astype(np.float32)
    y = rng.integers(0, 2, (8,)) if isinstance(loss, losses.SparseCategoricalCrossentropy) else \
        rng.integers(0, 2, (8, 2)).astype(np.float32)
    before = model.evaluate(x, y, verbose=0)
    model.save(tmp_path / "m")
    loaded = models.load_model(tmp_path / "m")
    saved, reloaded = (compile_settings.compile_config(m)["loss"] for m in (model, loaded))
    if isinstance(saved, str):  # a name (given, or a built-in function's) comes back as the loss object it names
        assert reloaded == saved or reloaded["class_name"] == type(losses.get(saved)).__name__
    else:
        assert reloaded == saved
    assert np.isfinite(before) and loaded.evaluate(x, y, verbose=0) == pytest.approx(before, rel=1e-6)
