"""cross_validate: a fresh model per fold, each scored on its held-out fold, mean and std right."""

import numpy as np
import pytest

import neurona as nr
from neurona import layers, models
from neurona.model_selection import CrossValidationResult, cross_validate, kfold_indices


def _data(n=60, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    x = (np.array([[2.0, 0.0], [-2.0, 0.0], [0.0, 2.0]])[labels] + 0.7 * rng.standard_normal((n, 2)))
    return x.astype("float32"), labels


def _builder(built):
    def build():
        model = models.Sequential([layers.Input((2,)), layers.Dense(3, activation="softmax")])
        model.compile(optimizer=nr.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        built.append(model)
        return model
    return build


def test_each_fold_trains_a_new_model_and_scores_it_on_its_fold():
    x, y = _data()
    built = []
    result = cross_validate(_builder(built), x, y, k=4, fit_kwargs={"epochs": 3, "batch_size": 15}, seed=0,
                            stratify=True)
    assert len(built) == 4 and len({id(m) for m in built}) == 4
    ids = [{id(w) for w in m.weights} for m in built]
    assert all(not (ids[i] & ids[j]) for i in range(4) for j in range(i))  # no weight object shared
    assert not np.array_equal(built[0].get_weights()[0], built[1].get_weights()[0])
    assert result.folds[0][1].tolist() == kfold_indices(60, 4, seed=0, labels=y)[0][1].tolist()
    for model, (_, test), scores in zip(built, result.folds, result.scores):
        assert set(scores) == {"loss", "accuracy"}
        again = model.evaluate(x[test], y[test], verbose=0, return_dict=True)
        assert scores == pytest.approx(again, rel=1e-6)
        assert model.history.history["loss"] and len(model.history.epoch) == 3
    assert [len(h.epoch) for h in result.histories] == [3, 3, 3, 3]


def test_mean_and_std():
    scores = [{"loss": 1.0, "accuracy": 0.5}, {"loss": 2.0, "accuracy": 0.7}, {"loss": 4.0, "accuracy": 0.9}]
    result = CrossValidationResult(scores, [None] * 3, [(None, np.arange(5))] * 3)
    assert result.metric_names == ["loss", "accuracy"]
    assert result.mean == pytest.approx({"loss": 7 / 3, "accuracy": 0.7})
    assert result.std["loss"] == pytest.approx(np.sqrt(((1 - 7 / 3) ** 2 + (2 - 7 / 3) ** 2 + (4 - 7 / 3) ** 2) / 3))
    assert result.std["accuracy"] == pytest.approx(np.sqrt(0.08 / 3))
    np.testing.assert_array_equal(result.values("loss"), [1.0, 2.0, 4.0])
    text = str(result)
    assert text.splitlines()[0] == "3-fold cross-validation on 15 samples"
    assert "fold 3" in text and "2.3333" in text and "0.7000" in text
    assert "mean: loss=2.3333" in repr(result)
    with pytest.raises(KeyError, match="no metric 'auc'"):
        result.values("auc")


def test_per_class_scores_average_per_class():
    scores = [{"loss": 1.0, "f1": [0.2, 0.4]}, {"loss": 1.0, "f1": [0.4, 0.8]}]
    result = CrossValidationResult(scores, [None] * 2, [(None, np.arange(2))] * 2)
    assert result.mean["f1"] == pytest.approx([0.3, 0.6]) and result.std["f1"] == pytest.approx([0.1, 0.2])
    assert "[0.300 0.600]" in str(result)


def test_same_seed_same_result():
    x, y = _data()
    runs = [cross_validate(_builder([]), x, y, k=3, fit_kwargs={"epochs": 2}, seed=5) for _ in range(2)]
    assert runs[0].scores == runs[1].scores


def test_models_that_are_not_fresh_are_refused():
    x, y = _data(n=30)
    shared = _builder([])()
    with pytest.raises(ValueError, match="the same model object as the previous fold"):
        cross_validate(lambda: shared, x, y, k=3, fit_kwargs={"epochs": 1})
    optimizer = nr.optimizers.SGD(0.1)

    def sharing_optimizer():
        model = models.Sequential([layers.Input((2,)), layers.Dense(3, activation="softmax")])
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
        return model

    with pytest.raises(ValueError, match="sharing the previous fold's optimizer"):
        cross_validate(sharing_optimizer, x, y, k=3, fit_kwargs={"epochs": 1})
    dense = layers.Dense(3, activation="softmax")

    def sharing_layer():
        model = models.Sequential([layers.Input((2,)), dense])
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        return model

    with pytest.raises(ValueError, match="sharing weights with the previous fold's model"):
        cross_validate(sharing_layer, x, y, k=3, fit_kwargs={"epochs": 1})


def test_bad_arguments():
    x, y = _data(n=30)
    with pytest.raises(ValueError, match="must return a compiled model"):
        cross_validate(lambda: models.Sequential([layers.Input((2,)), layers.Dense(3)]), x, y, k=3)
    with pytest.raises(ValueError, match=r"fit_kwargs must not set \['x'\]"):
        cross_validate(_builder([]), x, y, fit_kwargs={"x": x})
    with pytest.raises(TypeError, match="build_fn must be a function"):
        cross_validate(None, x, y)
