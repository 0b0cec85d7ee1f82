"""Training and evaluation with the built-in methods, in the order Keras's guide covers them.

compile/fit/evaluate/predict with validation data; a loss function and a Loss subclass of one's own; a Metric
subclass with add_variable/update_state/result/reset_state; add_loss inside a layer; a model with two inputs and two
outputs compiled with dicts of losses, metrics and loss weights; sample and class weights; a PyDataset; the
EarlyStopping and ModelCheckpoint callbacks; train_on_batch and friends, a Python generator; a learning-rate
schedule.

Digits come from keras.datasets.mnist, or (KERAS_PROGRAMS_SYNTHETIC=1) from MNIST-shaped arrays made with numpy.
Prints ``CHECK name: value`` lines that the port test compares between Keras and Neurona.
"""

import math
import os
import tempfile

import keras
import numpy as np
from keras import layers, ops


def check(name, value):
    print(f"CHECK {name}: {value}", flush=True)


def load_digits(n_train, n_test):
    """(x_train, y_train), (x_test, y_test) as uint8 images of shape (n, 28, 28) and integer labels."""
    if os.environ.get("KERAS_PROGRAMS_SYNTHETIC") == "1":
        rng = np.random.default_rng(0)
        prototypes = rng.uniform(0, 255, size=(10, 28, 28)) * (rng.uniform(size=(10, 28, 28)) < 0.3)

        def draw(n):
            labels = rng.integers(0, 10, size=n).astype("uint8")
            images = np.clip(prototypes[labels] + rng.normal(0, 80, size=(n, 28, 28)), 0, 255)
            return images.astype("uint8"), labels

        return draw(n_train), draw(n_test)
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    return (x_train[:n_train], y_train[:n_train]), (x_test[:n_test], y_test[:n_test])


(x_train, y_train), (x_test, y_test) = load_digits(2000, 500)
x_train = x_train.reshape(-1, 784).astype("float32") / 255
x_test = x_test.reshape(-1, 784).astype("float32") / 255
y_train = y_train.astype("int64")
y_test = y_test.astype("int64")
x_val, y_val = x_train[-400:], y_train[-400:]
x_fit, y_fit = x_train[:-400], y_train[:-400]


def get_uncompiled_model():
    inputs = keras.Input(shape=(784,), name="digits")
    x = layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x = layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(10, activation="softmax", name="predictions")(x)
    return keras.Model(inputs=inputs, outputs=outputs)


def get_compiled_model():
    model = get_uncompiled_model()
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["sparse_categorical_accuracy"])
    return model


def end_to_end():
    keras.utils.set_random_seed(1)
    model = get_uncompiled_model()
    model.compile(
        optimizer=keras.optimizers.RMSprop(),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )
    history = model.fit(x_fit, y_fit, batch_size=64, epochs=3, validation_data=(x_val, y_val), verbose=0)
    check("fit_history_keys", sorted(history.history))
    check("fit_history_epochs", len(history.history["loss"]))
    results = model.evaluate(x_test, y_test, batch_size=128, verbose=0)
    check("evaluate_len", len(results))
    check("test_accuracy", round(float(results[1]), 4))
    predictions = model.predict(x_test[:3], verbose=0)
    check("predict_shape", predictions.shape)
    check("predict_rows_sum_to_one", bool(np.allclose(predictions.sum(axis=1), 1.0, atol=1e-5)))
    # the reported loss is the mean cross-entropy of what predict returns
    probs = model.predict(x_test, verbose=0)
    by_hand = -np.mean(np.log(probs[np.arange(len(y_test)), y_test]))
    check("evaluate_loss_matches_predict", bool(abs(results[0] - by_hand) < 1e-3))
    as_dict = model.evaluate(x_test, y_test, batch_size=128, verbose=0, return_dict=True)
    check("evaluate_dict_keys", sorted(as_dict))


def custom_mean_squared_error(y_true, y_pred):
    return ops.mean(ops.square(y_true - y_pred), axis=-1)


class CustomMSE(keras.losses.Loss):
    """Mean squared error plus a pull of the predictions towards 0.5."""

    def __init__(self, regularization_factor=0.1, name="custom_mse"):
        super().__init__(name=name)
        self.regularization_factor = regularization_factor

    def call(self, y_true, y_pred):
        mse = ops.mean(ops.square(y_true - y_pred), axis=-1)
        pull = ops.mean(ops.square(0.5 - y_pred), axis=-1)
        return mse + pull * self.regularization_factor


def custom_losses():
    y_onehot = keras.utils.to_categorical(y_fit, num_classes=10)
    model = get_uncompiled_model()
    model.compile(optimizer=keras.optimizers.Adam(), loss=custom_mean_squared_error)
    history = model.fit(x_fit, y_onehot, batch_size=64, epochs=1, verbose=0)
    check("custom_fn_loss_finite", bool(np.isfinite(history.history["loss"][-1])))

    model = get_uncompiled_model()
    model.compile(optimizer=keras.optimizers.Adam(), loss=CustomMSE())
    history = model.fit(x_fit, y_onehot, batch_size=64, epochs=1, verbose=0)
    check("custom_class_loss_finite", bool(np.isfinite(history.history["loss"][-1])))
    probs = model.predict(x_fit, verbose=0)
    expected = np.mean(np.mean((y_onehot - probs) ** 2, axis=-1) + 0.1 * np.mean((0.5 - probs) ** 2, axis=-1))
    got = model.evaluate(x_fit, y_onehot, batch_size=len(x_fit), verbose=0)
    check("custom_class_loss_matches_numpy", bool(abs(got - expected) < 1e-4))


class CategoricalTruePositives(keras.metrics.Metric):
    """How many samples were assigned their true class."""

    def __init__(self, name="categorical_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_variable(shape=(), name="ctp", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        predicted = ops.reshape(ops.argmax(y_pred, axis=1), (-1,))
        hits = ops.cast(ops.reshape(y_true, (-1,)), "int32") == ops.cast(predicted, "int32")
        hits = ops.cast(hits, "float32")
        if sample_weight is not None:
            hits = ops.multiply(hits, ops.cast(ops.reshape(sample_weight, (-1,)), "float32"))
        self.true_positives.assign_add(ops.sum(hits))

    def result(self):
        return self.true_positives

    def reset_state(self):
        self.true_positives.assign(0.0)


def custom_metric():
    model = get_uncompiled_model()
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[CategoricalTruePositives()],
    )
    history = model.fit(x_fit, y_fit, batch_size=64, epochs=2, verbose=0)
    check("custom_metric_history_keys", sorted(history.history))
    logs = model.evaluate(x_test, y_test, batch_size=100, verbose=0, return_dict=True)
    hits = int(np.sum(np.argmax(model.predict(x_test, verbose=0), axis=1) == y_test))
    check("custom_metric_counts_hits", int(round(float(logs["categorical_true_positives"]))) == hits)


class ActivityRegularizationLayer(layers.Layer):
    def call(self, inputs):
        self.add_loss(ops.sum(inputs) * 0.01)
        return inputs


def layer_add_loss():
    inputs = keras.Input(shape=(784,), name="digits")
    x = layers.Dense(32, activation="relu", name="dense_1")(inputs)
    x = ActivityRegularizationLayer()(x)
    x = layers.Dense(32, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(10, activation="softmax", name="predictions")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(optimizer=keras.optimizers.RMSprop(1e-3), loss=keras.losses.SparseCategoricalCrossentropy())
    model.fit(x_fit, y_fit, batch_size=64, epochs=1, verbose=0)
    # the reported loss is the cross-entropy plus the activity penalty of the whole batch
    hidden = keras.Model(inputs, model.get_layer("dense_1").output).predict(x_test, verbose=0)
    probs = model.predict(x_test, verbose=0)
    expected = -np.mean(np.log(probs[np.arange(len(y_test)), y_test])) + 0.01 * hidden.sum()
    got = model.evaluate(x_test, y_test, batch_size=len(x_test), verbose=0)
    check("add_loss_in_evaluate", bool(abs(got - expected) < 1e-3 * max(1.0, abs(expected))))


def multi_input_multi_output():
    rng = np.random.default_rng(2)
    image_input = keras.Input(shape=(16, 16, 3), name="img_input")
    series_input = keras.Input(shape=(20, 6), name="ts_input")
    x1 = layers.Conv2D(3, 3)(image_input)
    x1 = layers.GlobalMaxPooling2D()(x1)
    x2 = layers.Conv1D(3, 3)(series_input)
    x2 = layers.GlobalMaxPooling1D()(x2)
    x = layers.concatenate([x1, x2])
    score_output = layers.Dense(1, name="score_output")(x)
    class_output = layers.Dense(5, activation="softmax", name="class_output")(x)
    model = keras.Model(inputs=[image_input, series_input], outputs=[score_output, class_output])
    check("mimo_output_units", [t.shape[-1] for t in model.outputs])

    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss={"score_output": keras.losses.MeanSquaredError(), "class_output": keras.losses.CategoricalCrossentropy()},
        metrics={
            "score_output": [keras.metrics.MeanAbsolutePercentageError(), keras.metrics.MeanAbsoluteError()],
            "class_output": [keras.metrics.CategoricalAccuracy()],
        },
        loss_weights={"score_output": 2.0, "class_output": 1.0},
    )
    images = rng.random((64, 16, 16, 3)).astype("float32")
    series = rng.random((64, 20, 6)).astype("float32")
    scores = rng.random((64, 1)).astype("float32")
    classes = keras.utils.to_categorical(rng.integers(0, 5, size=64), num_classes=5)
    history = model.fit(
        {"img_input": images, "ts_input": series},
        {"score_output": scores, "class_output": classes},
        batch_size=32,
        epochs=2,
        verbose=0,
    )
    check("mimo_history_keys", sorted(history.history))
    # lists instead of dicts, in the order of model.inputs / model.outputs
    model.fit([images, series], [scores, classes], batch_size=32, epochs=1, verbose=0)
    logs = model.evaluate([images, series], [scores, classes], batch_size=64, verbose=0, return_dict=True)
    check("mimo_evaluate_keys", sorted(logs))
    weighted = 2.0 * logs["score_output_loss"] + logs["class_output_loss"]
    check("mimo_loss_is_weighted_sum", bool(abs(logs["loss"] - weighted) < 1e-4 * max(1.0, abs(weighted))))
    predicted = model.predict({"img_input": images, "ts_input": series}, verbose=0)
    check("mimo_predict_shapes", [p.shape for p in predicted])


def sample_and_class_weights():
    class_weight = {i: 1.0 for i in range(10)}
    class_weight[5] = 2.0  # twice the weight on the digit 5
    keras.utils.set_random_seed(3)
    by_class = get_compiled_model()
    initial = by_class.get_weights()
    by_class.fit(x_fit, y_fit, class_weight=class_weight, batch_size=64, epochs=1, shuffle=False, verbose=0)

    sample_weight = np.ones(len(y_fit), dtype="float32")
    sample_weight[y_fit == 5] = 2.0
    by_sample = get_compiled_model()
    by_sample.set_weights(initial)
    by_sample.fit(x_fit, y_fit, sample_weight=sample_weight, batch_size=64, epochs=1, shuffle=False, verbose=0)
    same = all(np.allclose(a, b, atol=1e-5) for a, b in zip(by_class.get_weights(), by_sample.get_weights()))
    check("class_weight_equals_sample_weight", same)

    # a weighted evaluation divides the weighted sum of per-sample losses by the batch size
    probs = by_sample.predict(x_test, verbose=0)
    per_sample = -np.log(probs[np.arange(len(y_test)), y_test])
    w = np.where(y_test == 5, 2.0, 1.0)
    got = by_sample.evaluate(x_test, y_test, sample_weight=w, batch_size=len(x_test), verbose=0)[0]
    check("weighted_evaluate_matches_numpy", bool(abs(got - np.sum(w * per_sample) / len(y_test)) < 1e-4))


class DigitBatches(keras.utils.PyDataset):
    def __init__(self, x, y, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size = x, y, batch_size

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, idx):
        low = idx * self.batch_size
        high = min(low + self.batch_size, len(self.x))
        return self.x[low:high], self.y[low:high]


def py_dataset():
    keras.utils.set_random_seed(4)
    model = get_compiled_model()
    train = DigitBatches(x_fit, y_fit, batch_size=64)
    history = model.fit(train, epochs=2, validation_data=DigitBatches(x_val, y_val, 100), verbose=0)
    check("py_dataset_len", len(train))
    check("py_dataset_history_keys", sorted(history.history))
    results = model.evaluate(DigitBatches(x_test, y_test, 100), verbose=0)
    check("py_dataset_accuracy", round(float(results[1]), 4))
    check("py_dataset_predict_shape", model.predict(DigitBatches(x_test, y_test, 100), verbose=0).shape)


def callbacks_early_stopping_and_checkpoint():
    keras.utils.set_random_seed(5)
    model = get_compiled_model()
    # no epoch after the first can improve the loss by 10, so training stops after the second
    stopper = keras.callbacks.EarlyStopping(monitor="loss", min_delta=10.0, patience=1, verbose=1)
    history = model.fit(x_fit, y_fit, epochs=20, batch_size=64, callbacks=[stopper], verbose=0)
    check("early_stopping_epochs", len(history.history["loss"]))

    with tempfile.TemporaryDirectory() as folder:
        model = get_compiled_model()
        checkpoint = keras.callbacks.ModelCheckpoint(
            filepath=os.path.join(folder, "mymodel_{epoch}.keras"), save_best_only=False, verbose=0
        )
        model.fit(x_fit, y_fit, epochs=2, batch_size=64, callbacks=[checkpoint], verbose=0)
        saved = sorted(os.listdir(folder))
        check("checkpoint_files", saved)
        restored = keras.models.load_model(os.path.join(folder, "mymodel_2.keras"))
        same = np.allclose(restored.predict(x_test[:20], verbose=0), model.predict(x_test[:20], verbose=0), atol=1e-6)
        check("checkpoint_restores_predictions", bool(same))


def batch_level_and_generators():
    keras.utils.set_random_seed(6)
    model = get_compiled_model()
    before = model.get_weights()
    logs = model.train_on_batch(x_fit[:64], y_fit[:64], return_dict=True)
    check("train_on_batch_keys", sorted(logs))
    check("train_on_batch_changed_weights", not np.array_equal(before[0], model.get_weights()[0]))
    loss, accuracy = model.test_on_batch(x_test[:100], y_test[:100])
    check("test_on_batch_matches_evaluate",
          bool(np.allclose([loss, accuracy], model.evaluate(x_test[:100], y_test[:100], batch_size=100, verbose=0),
                           atol=1e-5)))
    check("predict_on_batch_shape", model.predict_on_batch(x_test[:7]).shape)

    def batches(x, y, batch_size):
        while True:  # an endless generator: fit is told how many steps make an epoch
            for start in range(0, len(x), batch_size):
                yield x[start:start + batch_size], y[start:start + batch_size]

    history = model.fit(batches(x_fit, y_fit, 64), steps_per_epoch=25, epochs=2, verbose=0)
    check("generator_history_keys", sorted(history.history))
    results = model.evaluate(batches(x_test, y_test, 100), steps=5, verbose=0)
    check("generator_accuracy", round(float(results[1]), 4))


def learning_rate_schedule():
    schedule = keras.optimizers.schedules.ExponentialDecay(
        initial_learning_rate=0.1, decay_steps=10, decay_rate=0.5, staircase=True
    )
    check("schedule_values", [round(float(schedule(step)), 6) for step in (0, 9, 10, 25)])
    optimizer = keras.optimizers.SGD(learning_rate=schedule)
    model = get_uncompiled_model()
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    model.fit(x_fit[:1600], y_fit[:1600], batch_size=64, epochs=1, verbose=0)  # 25 steps
    check("optimizer_iterations", int(ops.convert_to_numpy(model.optimizer.iterations)))
    check("learning_rate_after_25_steps", round(float(ops.convert_to_numpy(model.optimizer.learning_rate)), 6))


SECTIONS = [
    end_to_end,
    custom_losses,
    custom_metric,
    layer_add_loss,
    multi_input_multi_output,
    sample_and_class_weights,
    py_dataset,
    callbacks_early_stopping_and_checkpoint,
    batch_level_and_generators,
    learning_rate_schedule,
]

if __name__ == "__main__":
    for section in SECTIONS:
        print(f"SECTION {section.__name__}", flush=True)
        section()
    print("DONE")
