"""train_on_batch / test_on_batch / predict_on_batch, the steps they call, and the model's metrics bookkeeping."""

import numpy as np
import pytest

import neurona as nr
from neurona import layers


def _data(n=8, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3)).astype("float32")
    return x, np.eye(3, dtype="float32")[rng.integers(0, 3, n)]


def _model(lr=0.1, seed=1, metrics=("accuracy",)):
    nr.seed(seed)
    model = nr.Sequential([nr.Input((3,)), layers.Dense(4, activation="tanh"), layers.Dense(3, activation="softmax")])
    model.compile(nr.optimizers.SGD(lr), "categorical_crossentropy", metrics=None if metrics is None else list(metrics))
    return model


def _cce(model, x, y):
    probs = model.predict(x).astype(np.float64)
    return -np.log((probs * y).sum(axis=1)).mean()


def test_train_on_batch_reports_the_batch_before_the_step_and_steps_like_fit():
    x, y = _data()
    model, twin = _model(), _model()
    expected = _cce(model, x, y)
    accuracy = (model.predict(x).argmax(1) == y.argmax(1)).mean()
    loss, acc = model.train_on_batch(x, y)
    np.testing.assert_allclose([loss, acc], [expected, accuracy], rtol=1e-5)
    twin.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), twin.get_weights()))
    assert model.optimizer.iterations == 1
    logs = model.train_on_batch(x, y, return_dict=True)
    assert sorted(logs) == ["accuracy", "loss"]  # the metrics start over at every call, as in Keras
    assert logs["loss"] == pytest.approx(_cce(twin, x, y), rel=1e-5)


def test_test_on_batch_changes_nothing_and_predict_on_batch_equals_predict():
    x, y = _data()
    model = _model()
    before = model.get_weights()
    loss, _ = model.test_on_batch(x, y)
    assert loss == pytest.approx(_cce(model, x, y), rel=1e-5)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert model.test_on_batch(x, y, return_dict=True)["loss"] == loss
    out = model.predict_on_batch(x)
    assert isinstance(out, np.ndarray)
    np.testing.assert_array_equal(out, model.predict(x))


def test_weights_on_a_batch():
    x, y = _data()
    w = np.linspace(0.5, 1.5, 8).astype("float32")
    model = _model(lr=0.0)
    per_sample = -np.log((model.predict(x).astype(np.float64) * y).sum(axis=1))
    np.testing.assert_allclose(model.test_on_batch(x, y, sample_weight=w)[0], (w * per_sample).mean(), rtol=1e-5)
    cw = {0: 2.0, 2: 0.25}
    from_class = np.array([cw.get(int(c), 1.0) for c in y.argmax(1)])
    np.testing.assert_allclose(model.train_on_batch(x, y, class_weight=cw)[0], (from_class * per_sample).mean(),
                               rtol=1e-5)
    with pytest.raises(ValueError, match="give sample_weight or class_weight, not both"):
        model.train_on_batch(x, y, sample_weight=w, class_weight=cw)


def test_a_model_with_only_a_loss_returns_one_float():
    x, y = _data()
    model = _model(metrics=None)
    assert isinstance(model.train_on_batch(x, y), float) and isinstance(model.evaluate(x, y, verbose=0), float)
    assert model.metrics_names == ["loss"]  # no metrics given: no compile_metrics, as in Keras
    assert _model(metrics=()).metrics_names == ["loss", "compile_metrics"]  # metrics=[]: Keras 3.15.1 lists it


def test_bad_calls_are_explained():
    x, y = _data()
    uncompiled = nr.Sequential([nr.Input((3,)), layers.Dense(3)])
    for call in (uncompiled.train_on_batch, uncompiled.test_on_batch):
        with pytest.raises(RuntimeError, match=r"must be compiled before (train|test)_on_batch\(\)"):
            call(x, y)
    model = _model()
    with pytest.raises(TypeError, match=r"train_on_batch: return_dict must be True or False, got 1 \(int\)"):
        model.train_on_batch(x, y, return_dict=1)
    with pytest.raises(ValueError, match=r"train_on_batch: x and y must have the same number of samples, got 8 and 7"):
        model.train_on_batch(x, y[:7])
    with pytest.raises(ValueError, match=r"test_on_batch: x holds 1 non-finite value"):
        model.test_on_batch(np.where(np.arange(24).reshape(8, 3) == 5, np.nan, x), y)
    with pytest.raises(ValueError, match=r"predict_on_batch: x has dtype <U1"):
        model.predict_on_batch(np.full((2, 3), "a"))
    assert model.optimizer.iterations == 0


def test_metrics_bookkeeping_follows_keras():
    model = nr.Sequential([nr.Input((3,)), layers.Dense(3, activation="softmax")])
    assert model.metrics == [] and model.metrics_names == [] and model.compiled_metrics == []
    model.compile("sgd", "categorical_crossentropy", metrics=["accuracy"], weighted_metrics=["mse"])
    assert model.metrics_names == ["loss", "compile_metrics"]  # Keras 3.15.1's names
    assert [type(m).__name__ for m in model.compiled_metrics] == ["CategoricalAccuracy", "MeanSquaredError"]
    x, y = _data()
    model.fit(x, y, epochs=1, verbose=0)
    assert model.metrics[0].result() > 0
    model.reset_metrics()
    assert model.get_metrics_result() == {"loss": 0.0, "accuracy": 0.0, "mse": 0.0}
    assert model.stop_training is False and model.compiled


def test_earlier_neurona_calls_of_the_steps_still_work():
    x, y = _data()
    model, twin = _model(), _model()
    logs = model.train_step(x, y)  # train_step(x, y), not Keras's train_step((x, y))
    twin.train_step((x, y))
    assert set(logs) == {"loss", "accuracy"}
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), twin.get_weights()))
    out = model(x, training=False)
    assert float(model.compute_loss(y, out).data) == pytest.approx(_cce(model, x, y), rel=1e-5)
    assert float(model.compute_loss(x, y, out).data) == pytest.approx(_cce(model, x, y), rel=1e-5)


def test_a_compute_loss_override_without_training_is_called():
    class Scaled(nr.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(1)

        def call(self, x):
            return self.dense(x)

        def compute_loss(self, x, y, y_pred, sample_weight):  # written before Keras 3.3's `training`
            return super().compute_loss(x, y, y_pred, sample_weight) * 10.0

    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((6, 2)).astype("float32"), rng.standard_normal((6, 1)).astype("float32")
    model = Scaled()
    model.compile(nr.optimizers.SGD(0.0), "mse")
    loss = model.test_on_batch(x, y)
    np.testing.assert_allclose(loss, 10 * ((model.predict(x) - y) ** 2).mean(), rtol=1e-5)
