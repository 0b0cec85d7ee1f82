"""fit / evaluate / predict: learning happens, the Keras semantics hold, failures are loud."""

import io
import re

import numpy as np
import pytest

import neurona as nr
from neurona import callbacks, layers, models


def _blobs(n=300, seed=0):
    """Three well-separated Gaussian blobs in 2-D: any working classifier reaches ~100%."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    centers = np.array([[3.0, 0.0], [-3.0, 0.0], [0.0, 3.0]])
    x = (centers[labels] + 0.5 * rng.standard_normal((n, 2))).astype(np.float32)
    return x, labels, np.eye(3, dtype=np.float32)[labels]


def _model(optimizer="adam", loss="categorical_crossentropy", metrics=("accuracy",)):
    model = models.Sequential([layers.Input((2,)), layers.Dense(16, activation="relu"),
                               layers.Dense(3, activation="softmax")])
    model.compile(optimizer=optimizer, loss=loss, metrics=list(metrics))
    return model


def test_fit_learns_and_history_has_keras_keys(device):
    x, labels, y = _blobs()
    model = _model(optimizer=nr.optimizers.Adam(0.05))
    history = model.fit(x, y, batch_size=32, epochs=8, validation_split=0.2, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert history.epoch == list(range(8))
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert history.history["val_accuracy"][-1] > 0.95
    loss, accuracy = model.evaluate(x, y, verbose=0)
    assert accuracy > 0.95 and loss < history.history["loss"][0]
    assert model.history is history


def test_sparse_labels_and_sparse_loss():
    x, labels, _ = _blobs()
    model = _model(optimizer=nr.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy")
    model.fit(x, labels, batch_size=32, epochs=5, verbose=0)
    assert model.evaluate(x, labels, verbose=0, return_dict=True)["accuracy"] > 0.95


def test_reported_loss_is_the_sample_weighted_epoch_mean():
    # with a learning rate of 0 the weights never change, so the epoch loss must equal evaluate()'s loss
    x, _, y = _blobs(n=70)
    model = _model(optimizer=nr.optimizers.SGD(learning_rate=0.0))
    history = model.fit(x, y, batch_size=32, epochs=1, shuffle=False, verbose=0)  # batches of 32, 32, 6
    np.testing.assert_allclose(history.history["loss"][0], model.evaluate(x, y, batch_size=70, verbose=0)[0],
                               rtol=1e-5)


def test_validation_split_holds_out_the_last_samples():
    x, _, y = _blobs(n=100)
    seen = []

    class Record(callbacks.Callback):
        def on_test_begin(self, logs=None):
            seen.append("test")

    model = _model()
    model.fit(x, y, epochs=1, validation_split=0.25, verbose=0, callbacks=[Record()], batch_size=100)
    assert seen == ["test"]
    # the validation loss is exactly the loss on the last 25 samples
    val = model.history.history["val_loss"][0]
    np.testing.assert_allclose(val, model.evaluate(x[75:], y[75:], verbose=0)[0], rtol=1e-5)


def test_callbacks_see_every_stage_in_order():
    events = []

    class Spy(callbacks.Callback):
        def on_train_begin(self, logs=None):
            events.append("train_begin")

        def on_epoch_begin(self, epoch, logs=None):
            events.append(f"epoch_begin {epoch}")

        def on_train_batch_end(self, batch, logs=None):
            events.append(f"batch {batch}")

        def on_epoch_end(self, epoch, logs=None):
            events.append(f"epoch_end {epoch} {sorted(logs)}")

        def on_train_end(self, logs=None):
            events.append("train_end")

    x, _, y = _blobs(n=20)
    _model().fit(x, y, batch_size=10, epochs=2, verbose=0, callbacks=[Spy()])
    assert events == ["train_begin", "epoch_begin 0", "batch 0", "batch 1", "epoch_end 0 ['accuracy', 'loss']",
                      "epoch_begin 1", "batch 0", "batch 1", "epoch_end 1 ['accuracy', 'loss']", "train_end"]


def test_stop_training_from_a_callback():
    class StopAfterFirstEpoch(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.stop_training = True

    x, _, y = _blobs(n=20)
    history = _model().fit(x, y, epochs=5, verbose=0, callbacks=[StopAfterFirstEpoch()])
    assert history.epoch == [0]


def test_nan_loss_stops_training_before_corrupting_the_weights():
    x, _, y = _blobs(n=64)
    x[40] = np.nan
    model = _model()
    with pytest.raises(models.TrainingError, match="loss became nan.*learning rate"):
        model.fit(x, y, batch_size=32, epochs=1, shuffle=False, verbose=0)
    assert all(np.isfinite(w).all() for w in model.get_weights())


def test_same_seed_same_training():
    x, _, y = _blobs(n=64)
    results = []
    for _ in range(2):
        nr.seed(42)
        model = _model()
        model.fit(x, y, batch_size=16, epochs=2, verbose=0)
        results.append(model.get_weights())
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_predict_returns_numpy_probabilities():
    x, _, _ = _blobs(n=50)
    probs = _model().predict(x, batch_size=16)
    assert isinstance(probs, np.ndarray) and probs.shape == (50, 3)
    np.testing.assert_allclose(probs.sum(1), np.ones(50), rtol=1e-5)


def test_bad_arguments_are_explained():
    x, _, y = _blobs(n=20)
    model = _model()
    with pytest.raises(ValueError, match="same number of samples, got 20 and 19"):
        model.fit(x, y[:19], verbose=0)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        model.fit(x, y, batch_size=0, verbose=0)
    with pytest.raises(ValueError, match=r"validation_split must be in \[0, 1\)"):
        model.fit(x, y, validation_split=1.5, verbose=0)
    with pytest.raises(ValueError, match="unknown optimizer 'adma'"):
        model.compile(optimizer="adma", loss="mse")
    with pytest.raises(ValueError, match="unknown loss"):
        model.compile(optimizer="adam", loss="categorical_crosentropy")


def test_progress_output(capsys):
    x, _, y = _blobs(n=64)
    _model().fit(x, y, batch_size=16, epochs=2, verbose=1)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out
    # keys sorted, as Keras 3 shows them
    assert re.search(r"4/4 \[=+\] - \S+ \d+ms/step - accuracy: \d\.\d{4} - loss: \d\.\d{4}", out)
    _model().fit(x, y, batch_size=16, epochs=1, verbose=0)
    assert capsys.readouterr().out == ""


def test_progbar_redraws_in_place_on_a_terminal():
    stream = io.StringIO()
    bar = callbacks.progbar_logger.Progbar(10, stream=stream, live=True, interval=0.0)
    for step in range(1, 11):
        bar.update(step, {"loss": 1.0 / step}, final=step == 10)
    text = stream.getvalue()
    assert text.count("\r") == 10 and text.endswith("\n") and "ETA" in text and "10/10" in text


def test_kernel_regularizer_is_added_to_the_training_loss():
    x, _, y = _blobs(n=40)
    plain = _model(optimizer=nr.optimizers.SGD(learning_rate=0.0))
    nr.seed(7)
    penalized = models.Sequential([layers.Input((2,)), layers.Dense(16, activation="relu",
                                                                     kernel_regularizer=nr.regularizers.L2(0.1)),
                                   layers.Dense(3, activation="softmax")])
    penalized.compile(optimizer=nr.optimizers.SGD(learning_rate=0.0), loss="categorical_crossentropy")
    plain.set_weights(penalized.get_weights())
    kernel = penalized.layers[0].kernel.numpy()
    expected = plain.evaluate(x, y, verbose=0)[0] + 0.1 * float((kernel.astype(np.float64) ** 2).sum())
    np.testing.assert_allclose(penalized.evaluate(x, y, verbose=0), expected, rtol=1e-5)
    history = penalized.fit(x, y, batch_size=40, epochs=1, verbose=0)
    np.testing.assert_allclose(history.history["loss"][0], expected, rtol=1e-5)


# ---- defect 7 (fault probe): a finite-loss step that writes NaN into the weights -------------------------------
def _overflowing():
    """Inputs of magnitude 1e30 with Adam: gradients ~1e29 are finite, their squares overflow float32, so the
    second update writes NaN while every loss stays finite."""
    x, _, y = _blobs(n=32)
    return _model(), x * np.float32(1e30), y


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflow itself
def test_weights_made_non_finite_by_a_finite_loss_step_raise_at_the_end_of_the_epoch():
    model, x, y = _overflowing()
    with pytest.raises(models.TrainingError, match=r"became non-finite \(NaN or inf\) during epoch 2 \(by optimizer "
                                                   r"step 2\) although every training loss was finite.*float32"):
        model.fit(x, y, batch_size=32, epochs=3, shuffle=False, verbose=0)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_nan_loss_after_such_a_step_says_the_weights_were_already_non_finite():
    model, x, y = _overflowing()
    with pytest.raises(models.TrainingError, match=r"loss became nan \(at optimizer step 2\); the weights .* were "
                                                   r"already non-finite: the previous update overflowed"):
        model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
