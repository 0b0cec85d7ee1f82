"""Reference statistics recorded by fit and by Model.compute_reference_statistics (neurona/models/reference.py).

The independent check is ReferenceStatistics.from_arrays (serving/drift.py, tested on its own) applied by hand to
the rows fit should have chosen and to the model's own predictions on them.
"""

import subprocess
import sys
import warnings

import numpy as np
import pytest

import neurona as nr
from neurona import callbacks, layers, models
from neurona.serving.drift import ReferenceStatistics

N_FEATURES, N_CLASSES = 6, 3
BATCH = 256  # the rows per predict step fit uses (models/reference.py PREDICT_BATCH_SIZE)


def _data(n=200, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, N_FEATURES)).astype(np.float32)
    labels = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0.5).astype(int)  # learnable, so the outputs move
    return x, np.eye(N_CLASSES, dtype=np.float32)[labels]


def _classifier(name="clf"):
    model = models.Sequential([layers.Input((N_FEATURES,)), layers.Dense(8, activation="relu"),
                               layers.Dense(N_CLASSES, activation="softmax")], name=name)
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    return model


def _expected(model, x, max_samples=2000, seed=0, components=32):
    """from_arrays on the rows fit/compute should pick: all of them up to 2 * max_samples, else a sorted draw."""
    if len(x) > 2 * max_samples:
        x = x[np.sort(np.random.default_rng(seed).choice(len(x), 2 * max_samples, replace=False))]
    probabilities = model.predict(x, batch_size=BATCH, verbose=0)
    return ReferenceStatistics.from_arrays(x, probabilities, components=components, max_samples=max_samples, seed=seed)


def _assert_same(a, b):
    assert isinstance(a, ReferenceStatistics) and isinstance(b, ReferenceStatistics)
    assert (a.input_shape, a.n_classes, a.n_components) == (b.input_shape, b.n_classes, b.n_components)
    for name, array in a.to_arrays().items():
        other = b.to_arrays()[name]
        assert array.dtype == other.dtype == np.float32
        np.testing.assert_array_equal(array, other, err_msg=name)


def test_every_model_starts_without_reference_statistics():
    inputs = nr.Input((N_FEATURES,))
    functional = models.Model(inputs, layers.Dense(N_CLASSES, activation="softmax")(inputs))

    class Sub(models.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(N_CLASSES, activation="softmax")

        def call(self, x):
            return self.dense(x)

    for model in (_classifier(), functional, Sub(), models.Sequential()):
        assert model.reference_statistics is None


def test_fit_records_from_the_validation_split():
    x, y = _data(200)
    model = _classifier()
    model.fit(x, y, epochs=2, batch_size=32, validation_split=0.25, verbose=0)
    stats = model.reference_statistics
    _assert_same(stats, _expected(model, x[150:]))  # Keras holds out the last 25%, before shuffling
    assert stats.input_shape == (N_FEATURES,) and stats.n_classes == N_CLASSES
    assert stats.projections.shape == (25, N_FEATURES)  # the 50 held-out rows: 25 for the PCA, 25 projected
    assert stats.entropies.shape == (50,)
    assert np.all(stats.entropies <= np.log(N_CLASSES) + 1e-6) and np.all(stats.entropies >= 0)


def test_fit_records_from_validation_data_when_given():
    x, y = _data(160)
    x_val, y_val = _data(60, seed=1)
    model = _classifier()
    model.fit(x, y, epochs=1, validation_data=(x_val, y_val), validation_split=0.5, verbose=0)
    _assert_same(model.reference_statistics, _expected(model, x_val))


def test_fit_records_from_the_training_data_without_validation():
    x, y = _data(120)
    model = _classifier()
    model.fit(x, y, epochs=1, verbose=0)
    _assert_same(model.reference_statistics, _expected(model, x))


def test_fit_uses_training_arrays_when_validation_is_a_generator():
    x, y = _data(120)
    x_val, y_val = _data(64, seed=1)
    model = _classifier()
    model.fit(x, y, epochs=1, validation_data=((x_val[i:i + 32], y_val[i:i + 32]) for i in (0, 32)), verbose=0)
    _assert_same(model.reference_statistics, _expected(model, x))


def test_fit_predicts_a_bounded_sample_of_large_data(monkeypatch):
    x, y = _data(4500)
    model = _classifier()
    seen = []
    predict = model.predict

    def counting_predict(data, **kwargs):
        seen.append(len(data))
        return predict(data, **kwargs)

    monkeypatch.setattr(model, "predict", counting_predict)
    model.fit(x, y, epochs=1, batch_size=500, verbose=0)
    assert seen == [2000]  # once, only the 2000 rows whose entropies are kept (of the 2 x 2000 summarized)
    stats = model.reference_statistics
    assert stats.projections.shape == (2000, N_FEATURES) and stats.entropies.shape == (2000,)
    monkeypatch.undo()
    _assert_same(stats, _expected(model, x))


def test_statistics_describe_the_weights_fit_ends_with():
    """EarlyStopping restores its best weights in on_train_end: the statistics are taken after that."""
    x, y = _data(200)
    model = _classifier()
    stop = callbacks.EarlyStopping(monitor="val_loss", patience=1, restore_best_weights=True)
    model.compile(optimizer=nr.optimizers.SGD(learning_rate=5.0), loss="categorical_crossentropy")  # noisy: stops
    history = model.fit(x, y, epochs=8, validation_split=0.25, callbacks=[stop], verbose=0)
    assert stop.stopped_epoch > 0 and min(history.history["val_loss"]) < history.history["val_loss"][-1]  # restored
    recorded = model.reference_statistics
    _assert_same(recorded, model.compute_reference_statistics(x[150:]))


def test_switched_off_fit_leaves_the_attribute_alone():
    x, y = _data(100)
    model = _classifier()
    model.fit(x, y, epochs=1, verbose=0, reference_statistics=False)
    assert model.reference_statistics is None
    earlier = model.compute_reference_statistics(x[:40])
    model.fit(x, y, epochs=1, verbose=0, reference_statistics=False)
    assert model.reference_statistics is earlier
    model.fit(x, y, epochs=1, verbose=0, reference_statistics=np.bool_(True))
    assert model.reference_statistics is not earlier


@pytest.mark.parametrize("flag", ["no", 1, 0, None, 1.0])
def test_fit_refuses_a_flag_that_is_not_a_bool_before_training(flag):
    x, y = _data(64)
    model = _classifier()
    model.build((None, N_FEATURES))
    before = model.get_weights()
    with pytest.raises(TypeError, match=r"fit: reference_statistics must be True .* or False, got"):
        model.fit(x, y, epochs=1, verbose=0, reference_statistics=flag)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def _two_outputs():
    inputs = nr.Input((N_FEATURES,))
    hidden = layers.Dense(8, activation="relu")(inputs)
    model = models.Model(inputs, [layers.Dense(N_CLASSES, activation="softmax", name="a")(hidden),
                                  layers.Dense(2, activation="softmax", name="b")(hidden)])
    model.compile(optimizer="adam", loss=["categorical_crossentropy", "categorical_crossentropy"])
    return model


def _two_inputs():
    a, b = nr.Input((N_FEATURES,)), nr.Input((2,))
    model = models.Model([a, b], layers.Dense(N_CLASSES, activation="softmax")(layers.concatenate([a, b])))
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    return model


def _regression():
    model = models.Sequential([layers.Input((N_FEATURES,)), layers.Dense(4, activation="relu"), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def _logits():
    model = models.Sequential([layers.Input((N_FEATURES,)), layers.Dense(N_CLASSES)])
    model.compile(optimizer="adam", loss=nr.losses.CategoricalCrossentropy(from_logits=True))
    return model


def _binary():
    model = models.Sequential([layers.Input((N_FEATURES,)), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model


def _fit_args(kind):
    x, y = _data(80)
    if kind == "two_outputs":
        return (x, [y, np.eye(2, dtype=np.float32)[(x[:, 2] > 0).astype(int)]]), _two_outputs(), x
    if kind == "two_inputs":
        x2 = x[:, :2].copy()
        return ([x, x2], y), _two_inputs(), [x, x2]
    if kind == "regression":
        return (x, x[:, :1].copy()), _regression(), x
    if kind == "binary":
        return (x, (x[:, :1] > 0).astype(np.float32)), _binary(), x
    return (x, y), _logits(), x


KINDS = {"two_outputs": "one input and one output", "two_inputs": "one input and one output",
         "regression": r"output has shape \(\d+, 1\)", "binary": r"output has shape \(\d+, 1\)",
         "logits": "not probabilities"}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_fit_skips_models_that_are_not_classifiers_silently(kind):
    (x, y), model, x_in = _fit_args(kind)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning either
        model.fit(x, y, epochs=1, verbose=0, validation_split=0.25)
    assert model.reference_statistics is None
    with pytest.raises(ValueError, match=KINDS[kind]):
        model.compute_reference_statistics(x_in)
    assert model.reference_statistics is None


def test_fit_on_a_generator_or_pydataset_records_nothing():
    x, y = _data(96)
    model = _classifier()
    model.fit(((x[i:i + 32], y[i:i + 32]) for i in range(0, 96, 32)), epochs=1, verbose=0)
    assert model.reference_statistics is None

    class Batches(nr.utils.PyDataset):
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return x[32 * i:32 * i + 32], y[32 * i:32 * i + 32]

    model.fit(Batches(), epochs=1, verbose=0)
    assert model.reference_statistics is None


def test_fit_with_too_few_or_constant_rows_records_nothing():
    x, y = _data(3)
    model = _classifier()
    model.fit(x, y, epochs=1, verbose=0)
    assert model.reference_statistics is None
    model.fit(np.ones((20, N_FEATURES), np.float32), _data(20)[1], epochs=1, verbose=0)
    assert model.reference_statistics is None


def test_feature_does_not_consume_the_library_rng():
    """Two seeded runs, with and without the feature, give identical weights, also after a second fit (whose
    shuffling generator is drawn from the library-wide one) and leave that generator in the same state."""
    x, y = _data(300)

    def run(flag):
        nr.seed(123)
        model = _classifier()
        model.fit(x, y, epochs=2, batch_size=32, validation_split=0.2, verbose=0, reference_statistics=flag)
        model.fit(x, y, epochs=1, batch_size=32, verbose=0, reference_statistics=flag)
        return model, nr.backend.get_generator().integers(0, 2**62, size=4)

    on, draws_on = run(True)
    off, draws_off = run(False)
    assert on.reference_statistics is not None and off.reference_statistics is None
    np.testing.assert_array_equal(draws_on, draws_off)
    for a, b in zip(on.get_weights(), off.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_compute_reference_statistics_sets_and_returns():
    x, _ = _data(300)
    model = _classifier()
    stats = model.compute_reference_statistics(x, components=4, max_samples=50, seed=7)
    assert model.reference_statistics is stats
    assert stats.n_components == 4 and stats.projections.shape == (50, 4)
    _assert_same(stats, _expected(model, x, max_samples=50, seed=7, components=4))
    other = model.compute_reference_statistics(x, components=4, max_samples=50, seed=8)
    assert not np.array_equal(other.projections, stats.projections)  # another seed, other rows


def test_compute_accepts_what_predict_accepts():
    x, _ = _data(40)
    model = _classifier()
    _assert_same(model.compute_reference_statistics(x.tolist()), _expected(model, x))
    _assert_same(model.compute_reference_statistics(nr.Tensor(x)), _expected(model, x))
    _assert_same(model.compute_reference_statistics(x, batch_size=7), _expected(model, x))  # batch size: values only


def test_compute_on_a_subclassed_and_an_image_model():
    class Sub(models.Model):
        def __init__(self):
            super().__init__()
            self.flat = layers.Flatten()
            self.out = layers.Dense(N_CLASSES, activation="softmax")

        def call(self, x):
            return self.out(self.flat(x))

    images = np.random.default_rng(2).random((30, 4, 4, 1)).astype(np.float32)
    model = Sub()
    stats = model.compute_reference_statistics(images)
    assert stats.input_shape == (4, 4, 1) and stats.mean.shape == (16,)
    _assert_same(stats, _expected(model, images))


@pytest.mark.parametrize("kwargs, match", [
    ({"components": 0}, r"components must be an integer >= 1, got 0"),
    ({"max_samples": 1}, r"max_samples must be an integer >= 2, got 1"),
    ({"seed": -1}, r"seed must be an integer >= 0, got -1"),
    ({"seed": 1.5}, r"seed must be an integer >= 0, got 1.5"),
    ({"batch_size": 0}, r"batch_size must be an integer >= 1, got 0"),
])
def test_compute_refuses_bad_arguments(kwargs, match):
    model = _classifier()
    with pytest.raises(ValueError, match=match):
        model.compute_reference_statistics(_data(20)[0], **kwargs)
    assert model.reference_statistics is None


def test_compute_refuses_bad_data():
    model = _classifier()
    x, _ = _data(20)
    with pytest.raises(ValueError, match=r"at least 4 examples \(two for the PCA, two for the reference\), got 3"):
        model.compute_reference_statistics(x[:3])
    with pytest.raises(ValueError, match="x must be an array of inputs, got a generator"):
        model.compute_reference_statistics(row for row in x)
    bad = x.copy()
    bad[2, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        model.compute_reference_statistics(bad)
    with pytest.raises(ValueError, match="constant"):
        model.compute_reference_statistics(np.ones((10, N_FEATURES), np.float32))
    with pytest.raises(ValueError, match="one input"):
        model.compute_reference_statistics([x, x])
    assert model.reference_statistics is None


def test_fit_imports_no_server_dependencies():
    """models reach serving/drift.py only at call time, and drift.py pulls in nothing heavy (no Flask)."""
    code = ("import sys, numpy as np, neurona as nr\n"
            "from neurona import layers, models\n"
            "assert 'neurona.serving' not in sys.modules\n"
            "m = models.Sequential([layers.Input((3,)), layers.Dense(2, activation='softmax')])\n"
            "m.compile(optimizer='sgd', loss='categorical_crossentropy')\n"
            "x = np.random.default_rng(0).normal(size=(16, 3)).astype('float32')\n"
            "m.fit(x, np.eye(2, dtype='float32')[np.arange(16) % 2], verbose=0)\n"
            "assert m.reference_statistics is not None\n"
            "heavy = [name for name in ('flask', 'waitress', 'prometheus_client') if name in sys.modules]\n"
            "assert not heavy, heavy\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_on_mnist_images_with_preprocessing_as_fit_sees_it():
    (x, y), _ = nr.datasets.mnist.load_data(source="embedded")
    x = x[:600].reshape(-1, 28, 28, 1).astype(np.float32) / 255.0
    model = models.Sequential([layers.Input((28, 28, 1)), layers.Flatten(), layers.Dense(16, activation="relu"),
                               layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y[:600], epochs=1, batch_size=64, validation_split=0.5, verbose=0)
    stats = model.reference_statistics
    assert stats.input_shape == (28, 28, 1) and stats.n_classes == 10 and stats.n_components == 32
    _assert_same(stats, _expected(model, x[300:]))
