"""fit's Keras 3 arguments: sample and class weights, generators, PyDataset, steps, validation data and frequency."""

import warnings

import numpy as np
import pytest

import neurona as nr
from neurona import callbacks, layers


def _data(n=10, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3)).astype("float32")
    labels = rng.integers(0, 3, n)
    return x, labels, np.eye(3, dtype="float32")[labels]


def _model(lr=0.1, metrics=("accuracy",), seed=1, **compile_kwargs):
    nr.seed(seed)
    model = nr.Sequential([nr.Input((3,)), layers.Dense(5, activation="relu"), layers.Dense(3, activation="softmax")])
    model.compile(nr.optimizers.SGD(lr), "categorical_crossentropy", metrics=list(metrics), **compile_kwargs)
    return model


def _per_sample_cce(model, x, y):
    probs = model.predict(x).astype(np.float64)
    return -np.log(np.clip((probs * y).sum(axis=1), 1e-7, 1.0))


def _same_weights(a, b):
    return all(np.array_equal(u, v) for u, v in zip(a.get_weights(), b.get_weights()))


# ---- sample_weight and class_weight ---------------------------------------------------------------------------
def test_sample_weight_gives_the_weighted_formula():
    x, _, y = _data()
    w = np.linspace(0.5, 2.0, 10).astype("float32")
    model = _model(lr=0.0, weighted_metrics=["accuracy"])
    per_sample = _per_sample_cce(model, x, y)
    # Keras's reduction: sum(w * loss) / N per batch, the epoch's value the batch-size-weighted mean of those
    batches = [slice(0, 4), slice(4, 8), slice(8, 10)]
    expected = sum((w[b] * per_sample[b]).sum() for b in batches) / 10
    history = model.fit(x, y, sample_weight=w, batch_size=4, epochs=1, shuffle=False, verbose=0)
    np.testing.assert_allclose(history.history["loss"][0], expected, rtol=1e-5)
    logs = model.evaluate(x, y, sample_weight=w, batch_size=10, verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["loss"], (w * per_sample).sum() / 10, rtol=1e-5)
    hits = (model.predict(x).argmax(1) == y.argmax(1)).astype(np.float64)
    np.testing.assert_allclose(logs["weighted_accuracy"], (w * hits).sum() / w.sum(), rtol=1e-6)
    np.testing.assert_allclose(logs["accuracy"], hits.mean(), rtol=1e-6)  # plain metrics ignore the weights


def test_class_weight_gives_the_weighted_formula_and_equals_its_sample_weights():
    x, labels, y = _data()
    class_weight = {0: 0.5, 1: 3.0}  # class 2 keeps weight 1, as in Keras
    w = np.array([class_weight.get(int(c), 1.0) for c in labels])
    frozen = _model(lr=0.0)
    history = frozen.fit(x, y, class_weight=class_weight, batch_size=10, epochs=1, verbose=0)
    np.testing.assert_allclose(history.history["loss"][0], (w * _per_sample_cce(frozen, x, y)).sum() / 10, rtol=1e-5)

    by_class, by_sample = _model(), _model()
    by_class.fit(x, y, class_weight=class_weight, batch_size=4, epochs=2, shuffle=False, verbose=0)
    by_sample.fit(x, y, sample_weight=w.astype("float32"), batch_size=4, epochs=2, shuffle=False, verbose=0)
    assert _same_weights(by_class, by_sample)
    sparse = nr.Sequential([nr.Input((3,)), layers.Dense(3, activation="softmax")])
    sparse.compile(nr.optimizers.SGD(0.0), "sparse_categorical_crossentropy")
    probs = sparse.predict(x).astype(np.float64)
    expected = (w * -np.log(probs[np.arange(10), labels])).sum() / 10
    loss = sparse.fit(x, labels, class_weight=class_weight, batch_size=10, verbose=0).history["loss"][0]
    np.testing.assert_allclose(loss, expected, rtol=1e-5)


def test_validation_data_with_sample_weight():
    x, _, y = _data()
    w = np.linspace(0.0, 1.0, 10).astype("float32")
    model = _model(lr=0.0)
    history = model.fit(x, y, epochs=1, verbose=0, validation_data=(x, y, w), validation_batch_size=3)
    np.testing.assert_allclose(history.history["val_loss"][0],
                               sum((w[i:i + 3] * _per_sample_cce(model, x, y)[i:i + 3]).sum() for i in (0, 3, 6, 9))
                               / 10, rtol=1e-5)


# ---- generators and PyDataset ---------------------------------------------------------------------------------
def _batches(x, y, size=4, weights=None):
    for start in range(0, len(x), size):
        part = slice(start, start + size)
        yield (x[part], y[part]) if weights is None else (x[part], y[part], weights[part])


def _endless(x, y, size=4):
    while True:
        yield from _batches(x, y, size)


def test_a_generator_trains_exactly_like_the_same_arrays():
    x, _, y = _data()
    arrays, one_pass, endless = _model(), _model(), _model()
    arrays.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    one_pass.fit(_batches(x, y), epochs=1, verbose=0)
    assert _same_weights(arrays, one_pass)
    arrays.fit(x, y, batch_size=4, epochs=3, shuffle=False, verbose=0)
    endless.fit(_endless(x, y), steps_per_epoch=3, epochs=4, verbose=0)
    assert _same_weights(arrays, endless) and endless.optimizer.iterations == 12


def test_a_generator_with_sample_weights_and_class_weights():
    x, labels, y = _data()
    w = np.linspace(0.5, 2.0, 10).astype("float32")
    arrays, gen = _model(), _model()
    arrays.fit(x, y, sample_weight=w, batch_size=4, epochs=1, shuffle=False, verbose=0)
    gen.fit(_batches(x, y, weights=w), epochs=1, verbose=0)
    assert _same_weights(arrays, gen)
    by_class, gen = _model(), _model()
    by_class.fit(x, y, class_weight={1: 2.0}, batch_size=4, epochs=1, shuffle=False, verbose=0)
    gen.fit(_batches(x, y), class_weight={1: 2.0}, epochs=1, verbose=0)
    assert _same_weights(by_class, gen)


def test_a_finite_generator_ends_the_epoch_and_then_runs_out():
    x, _, y = _data()
    model = _model()
    with pytest.warns(UserWarning, match="Your input ran out of data: epoch 2 got no batch"):
        history = model.fit(_batches(x, y), epochs=3, verbose=0)
    assert history.epoch == [0] and model.optimizer.iterations == 3


class Batches(nr.utils.PyDataset):
    def __init__(self, x, y, size, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.size = x, y, size
        self.read, self.epochs_ended, self.epochs_begun = [], 0, 0

    def __len__(self):
        return -(-len(self.x) // self.size)

    def __getitem__(self, index):
        self.read.append(index)
        part = slice(index * self.size, (index + 1) * self.size)
        return self.x[part], self.y[part]

    def on_epoch_begin(self):
        self.epochs_begun += 1

    def on_epoch_end(self):
        self.epochs_ended += 1


def test_a_py_dataset_trains_like_arrays_and_hears_of_each_epoch():
    x, _, y = _data()
    arrays, by_index = _model(), _model()
    arrays.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    data = Batches(x, y, 4)
    history = by_index.fit(data, epochs=2, shuffle=False, verbose=0, validation_data=Batches(x, y, 5))
    assert _same_weights(arrays, by_index) and data.read == [0, 1, 2, 0, 1, 2]
    assert data.epochs_ended == data.epochs_begun == 2 and sorted(history.history) == [
        "accuracy", "loss", "val_accuracy", "val_loss"]
    shuffled = Batches(x, y, 4)
    _model().fit(shuffled, epochs=3, verbose=0)  # shuffle=True (fit's default) draws the batch order each epoch
    orders = [shuffled.read[i:i + 3] for i in (0, 3, 6)]
    assert all(sorted(order) == [0, 1, 2] for order in orders) and len({tuple(o) for o in orders}) > 1
    assert _model().evaluate(Batches(x, y, 3), verbose=0, return_dict=True) == pytest.approx(
        _model().evaluate(x, y, batch_size=3, verbose=0, return_dict=True))
    np.testing.assert_array_equal(_model().predict(Batches(x, y, 3)), _model().predict(x))


def test_generators_for_validation_evaluate_and_predict():
    x, _, y = _data()
    model = _model()
    history = model.fit(x, y, epochs=2, verbose=0, validation_data=_endless(x, y, 5), validation_steps=2)
    assert len(history.history["val_loss"]) == 2
    assert model.evaluate(_batches(x, y, 3), verbose=0) == pytest.approx(model.evaluate(x, y, batch_size=3, verbose=0))
    np.testing.assert_allclose(model.predict((xb for xb, _ in _batches(x, y))), model.predict(x), rtol=1e-6)
    np.testing.assert_allclose(model.predict(_endless(x, y), steps=2), model.predict(x[:8]), rtol=1e-6)
    # predict reads only x from (x, y) batches: targets it does not need are not checked
    np.testing.assert_allclose(model.predict(iter([(x, np.full((10, 3), np.nan))])), model.predict(x), rtol=1e-6)


# ---- steps_per_epoch, validation_freq -----------------------------------------------------------------------
def _batches_per_epoch(model, **fit_kwargs):
    counts = []
    cb = callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: counts.append(0),
                                  on_train_batch_end=lambda batch, logs: counts.__setitem__(-1, counts[-1] + 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(verbose=0, callbacks=[cb], **fit_kwargs)
    return counts


def test_steps_per_epoch_with_arrays_follows_keras():
    x, _, y = _data()  # 10 samples in batches of 4: 3 batches per pass
    # measured with Keras 3.15.1: a pass continues into the next epoch and an epoch ends with its pass
    assert _batches_per_epoch(_model(), x=x, y=y, batch_size=4, steps_per_epoch=2, epochs=3) == [2, 1, 2]
    assert _batches_per_epoch(_model(), x=x, y=y, batch_size=4, steps_per_epoch=5, epochs=2) == [3, 3]
    assert _batches_per_epoch(_model(), x=x, y=y, steps_per_epoch=2, epochs=1) == [2]  # batch_size = ceil(10/2)
    with pytest.warns(UserWarning, match="ran out of data after 1 of steps=2 batches"):
        _model().fit(x, y, batch_size=4, steps_per_epoch=2, epochs=2, verbose=0)


@pytest.mark.parametrize("freq, validated", [(2, [2, 4]), ([1, 3], [1, 3]), (1, [1, 2, 3, 4])])
def test_validation_freq(freq, validated):
    x, _, y = _data()
    epochs = []
    cb = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: epochs.append(epoch + 1) if "val_loss" in logs
                                  else None)
    history = _model().fit(x, y, epochs=4, verbose=0, validation_data=(x, y), validation_freq=freq, callbacks=[cb])
    assert epochs == validated and len(history.history["val_loss"]) == len(validated)  # Keras 3.15.1: 2 for 2, [1, 3]


def test_stop_training_from_a_batch_ends_the_epoch_and_fit():
    x, _, y = _data()
    model = _model()
    cb = callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: setattr(model, "stop_training", batch == 1))
    history = model.fit(x, y, batch_size=2, epochs=3, verbose=0, callbacks=[cb])
    assert history.epoch == [0] and model.optimizer.iterations == 2


# ---- bad arguments ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, message", [
    (dict(steps_per_epoch=0), r"fit: steps_per_epoch must be an integer >= 1, got 0"),
    (dict(validation_steps=1.5), r"fit: validation_steps must be an integer >= 1, got 1.5 \(float\)"),
    (dict(validation_batch_size=-1), r"fit: validation_batch_size must be a positive integer, got -1"),
    (dict(validation_freq=0), r"fit: validation_freq must be a positive integer .* or a list of epoch numbers"),
    (dict(validation_freq="2"), r"fit: validation_freq must be .*, got '2' \(str\)"),
    (dict(class_weight=[1.0, 2.0]), r"fit: class_weight must be a dict from class index to weight"),
    (dict(class_weight={"cat": 1.0}), r"fit: class_weight keys must be class indices \(integers\), got 'cat'"),
    (dict(class_weight={0: float("nan")}), r"fit: class_weight\[0\] must be a finite number"),
    (dict(class_weight={0: 2.0}, sample_weight=np.ones(10)), r"fit: give sample_weight or class_weight, not both"),
    (dict(sample_weight=np.ones(9)), r"fit: x and sample_weight must have the same number of samples, got 10 and 9"),
    (dict(sample_weight=np.full(10, "a")), r"fit: sample_weight has dtype <U1"),
    (dict(validation_data={"x": 1}), r"fit: validation_data must be a tuple \(x_val, y_val\), got a dict"),
    (dict(validation_data=(np.ones((2, 3)), np.ones((2, 3)), np.ones(3))),
     r"fit: validation x and validation sample_weight must have the same number of samples, got 2 and 3"),
])
def test_mistyped_new_arguments_are_explained(kwargs, message):
    x, _, y = _data()
    model = _model()
    with pytest.raises(ValueError, match=message):
        model.fit(x, y, verbose=0, **kwargs)
    assert model.optimizer.iterations == 0


def test_bad_generator_use_is_explained():
    x, _, y = _data()
    model = _model()
    with pytest.raises(ValueError, match=r"fit: when x is a generator, y must not be given: the generator yields "
                                         r"\(x, y\) or \(x, y, sample_weight\) batches itself"):
        model.fit(_batches(x, y), y, verbose=0)
    with pytest.raises(ValueError, match=r"fit: when x is a PyDataset, sample_weight must not be given"):
        model.fit(Batches(x, y, 4), sample_weight=np.ones(10), verbose=0)
    with pytest.raises(ValueError, match=r"fit: validation_split needs x and y as arrays, got x as a generator"):
        model.fit(_batches(x, y), validation_split=0.2, verbose=0)
    with pytest.raises(ValueError, match=r"fit: the generator x yielded no batch; expected at least one"):
        model.fit(iter([]), verbose=0)
    with pytest.raises(ValueError, match=r"fit: generator batch 0 is a tuple of 4 items; expected x, \(x,\), \(x, y\)"):
        model.fit(iter([(x, y, y, y)]), verbose=0)
    with pytest.raises(ValueError, match=r"fit: generator batch 1: y has dtype <U1"):
        model.fit(iter([(x, y), (x, np.full((10, 3), "a"))]), verbose=0)
    with pytest.raises(ValueError, match=r"fit: generator batch 0: x and y must have the same number of samples"):
        model.fit(iter([(x, y[:3])]), verbose=0)
    bad = x.copy()
    bad[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"evaluate: generator batch 0: x holds 1 non-finite value\(s\) \(NaN or "
                                         r"inf\), the first at x\[2, 1\] = nan"):
        model.evaluate(iter([(bad, y)]), verbose=0)
    with pytest.raises(ValueError, match=r"fit: y is required"):
        model.fit(x, verbose=0)
    assert model.optimizer.iterations == 1  # only the batch 0 of the 'batch 1' case ran


def test_compile_arguments_kept_for_keras_programs_are_checked():
    model = _model()
    model.compile("sgd", "mse", run_eagerly=True, steps_per_execution=4, jit_compile=False, auto_scale_loss=False)
    with pytest.raises(TypeError, match=r"compile: run_eagerly must be True or False, got 'yes' \(str\)"):
        model.compile("sgd", "mse", run_eagerly="yes")
    with pytest.raises(ValueError, match=r"compile: steps_per_execution must be an integer >= 1, got 0"):
        model.compile("sgd", "mse", steps_per_execution=0)


def test_compile_without_a_loss_trains_on_add_loss_terms():
    class Penalized(nr.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(2)

        def call(self, x):
            out = self.dense(x)
            self.add_loss(nr.ops.mean(out ** 2))
            return out

    x, _, _ = _data()
    model = Penalized()
    model.compile(nr.optimizers.SGD(0.1))
    history = model.fit(x, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    no_loss = nr.Sequential([nr.Input((3,)), layers.Dense(2)])
    no_loss.compile("sgd")
    with pytest.raises(ValueError, match="has no loss to compute: pass loss= to compile"):
        no_loss.fit(x, verbose=0)
