"""Writing one's own callbacks, after Keras's guide.

A Callback subclass that overrides every hook and records which keys each hook's logs carry; early stopping at
the minimum loss through self.model.stop_training (restoring the best weights); a learning-rate scheduler that
reads and sets self.model.optimizer.learning_rate at the start of each epoch; the built-in LearningRateScheduler
and LambdaCallback.
Prints ``CHECK name: value`` lines that the port test compares between Keras and Neurona.
"""

import keras
import numpy as np
from keras import layers


def check(name, value):
    print(f"CHECK {name}: {value}", flush=True)


rng = np.random.default_rng(0)
x_all = rng.normal(size=(160, 8)).astype("float32")
true_w = rng.normal(size=(8, 1)).astype("float32")
y_all = (x_all @ true_w + 0.1 * rng.normal(size=(160, 1))).astype("float32")


def get_model(learning_rate=0.05):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape=(8,)), layers.Dense(1)])
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=learning_rate),
        loss="mean_squared_error",
        metrics=["mean_absolute_error"],
    )
    return model


HOOKS = [
    "on_train_begin",
    "on_train_end",
    "on_epoch_begin",
    "on_epoch_end",
    "on_test_begin",
    "on_test_end",
    "on_predict_begin",
    "on_predict_end",
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_test_batch_begin",
    "on_test_batch_end",
    "on_predict_batch_begin",
    "on_predict_batch_end",
]


class RecordEverything(keras.callbacks.Callback):
    """Counts each hook's calls and keeps the keys of the logs it received."""

    def __init__(self):
        super().__init__()
        self.calls = {}
        self.keys = {}

    def _record(self, hook, logs):
        self.calls[hook] = self.calls.get(hook, 0) + 1
        self.keys.setdefault(hook, sorted(logs or {}))

    def on_train_begin(self, logs=None):
        self._record("on_train_begin", logs)
        self.params_seen = sorted(self.params)
        self.model_seen = self.model is not None

    def on_train_end(self, logs=None):
        self._record("on_train_end", logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._record("on_epoch_begin", logs)

    def on_epoch_end(self, epoch, logs=None):
        self._record("on_epoch_end", logs)

    def on_test_begin(self, logs=None):
        self._record("on_test_begin", logs)

    def on_test_end(self, logs=None):
        self._record("on_test_end", logs)

    def on_predict_begin(self, logs=None):
        self._record("on_predict_begin", logs)

    def on_predict_end(self, logs=None):
        self._record("on_predict_end", logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._record("on_train_batch_begin", logs)

    def on_train_batch_end(self, batch, logs=None):
        self._record("on_train_batch_end", logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._record("on_test_batch_begin", logs)

    def on_test_batch_end(self, batch, logs=None):
        self._record("on_test_batch_end", logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._record("on_predict_batch_begin", logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._record("on_predict_batch_end", logs)


def every_hook():
    model = get_model()
    recorder = RecordEverything()
    # 160 samples, a quarter held out: 120 to train (4 batches of 32 with a short last one), 40 to validate (2)
    model.fit(x_all, y_all, batch_size=32, epochs=2, validation_split=0.25, callbacks=[recorder], verbose=0)
    model.evaluate(x_all, y_all, batch_size=64, callbacks=[recorder], verbose=0)  # 3 batches
    model.predict(x_all, batch_size=80, callbacks=[recorder], verbose=0)  # 2 batches
    for hook in HOOKS:
        check(f"calls_{hook}", recorder.calls.get(hook, 0))
    for hook in HOOKS:
        check(f"keys_{hook}", recorder.keys.get(hook))
    check("params_keys", recorder.params_seen)
    check("callback_has_model", recorder.model_seen)


class EarlyStoppingAtMinLoss(keras.callbacks.Callback):
    """Stops once the loss has not improved for `patience` epochs and puts back the best weights."""

    def __init__(self, patience=0):
        super().__init__()
        self.patience = patience
        self.best_weights = None

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = np.inf

    def on_epoch_end(self, epoch, logs=None):
        current = logs.get("loss")
        if np.less(current, self.best):
            self.best = current
            self.wait = 0
            self.best_weights = self.model.get_weights()
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.stopped_epoch = epoch
                self.model.stop_training = True
                self.model.set_weights(self.best_weights)

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")


class CustomLearningRateScheduler(keras.callbacks.Callback):
    """Sets the optimizer's learning rate from schedule(epoch, current_rate) before each epoch."""

    def __init__(self, schedule):
        super().__init__()
        self.schedule = schedule
        self.seen = []

    def on_epoch_begin(self, epoch, logs=None):
        if not hasattr(self.model.optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" attribute.')
        current = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        scheduled = self.schedule(epoch, current)
        self.model.optimizer.learning_rate = scheduled
        self.seen.append(round(float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)), 6))


def warm_then_explode(epoch, lr):
    """Three calm epochs, then a rate far past the stable range of this least-squares problem."""
    return 2.0 if epoch >= 3 else lr


def stop_at_minimum_with_scheduler():
    model = get_model()
    stopper = EarlyStoppingAtMinLoss(patience=0)
    scheduler = CustomLearningRateScheduler(warm_then_explode)
    history = model.fit(x_all, y_all, batch_size=40, epochs=30, callbacks=[stopper, scheduler], verbose=0)
    losses = history.history["loss"]
    check("epochs_run", len(losses))
    check("stopped_epoch", stopper.stopped_epoch)
    check("learning_rates_seen", scheduler.seen)
    check("loss_rose_at_the_end", bool(losses[-1] > losses[-2]))
    restored = model.evaluate(x_all, y_all, batch_size=160, verbose=0)[0]
    check("best_weights_restored", bool(restored < losses[-1]))
    restored_best = all(np.array_equal(a, b) for a, b in zip(model.get_weights(), stopper.best_weights))
    check("restored_weights_equal_best", restored_best)


def builtin_scheduler_and_lambda():
    model = get_model()
    rates = []
    halve = keras.callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5 if epoch > 0 else lr)
    note = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: rates.append(round(float(logs["learning_rate"]), 6))
    )
    history = model.fit(x_all, y_all, batch_size=40, epochs=3, callbacks=[halve, note], verbose=0)
    check("builtin_learning_rates", rates)
    check("builtin_history_keys", sorted(history.history))


SECTIONS = [every_hook, stop_at_minimum_with_scheduler, builtin_scheduler_and_lambda]

if __name__ == "__main__":
    for section in SECTIONS:
        print(f"SECTION {section.__name__}", flush=True)
        section()
    print("DONE")
