"""What every callback hook receives: a dict (never None) with Keras 3's keys, running means, merged dict results.

The expected hook counts and keys were measured with real Keras 3.15.1 (torch backend) running the same
program: the model, data and PairMetric below, with `keras` in place of `neurona`.
"""

import io
import re

import numpy as np
import pytest

import neurona as nr
from neurona import callbacks, layers

HOOKS = ["on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_train_batch_begin",
         "on_train_batch_end", "on_test_begin", "on_test_end", "on_test_batch_begin", "on_test_batch_end",
         "on_predict_begin", "on_predict_end", "on_predict_batch_begin", "on_predict_batch_end"]

TRAIN = ["loss", "mean_absolute_error", "seen", "twice"]
EPOCH = TRAIN + ["val_loss", "val_mean_absolute_error", "val_seen", "val_twice"]
# measured with Keras 3.15.1: (number of calls, sorted keys of the last call's logs)
KERAS_HOOKS = {
    "on_train_begin": (1, []), "on_train_end": (1, EPOCH), "on_epoch_begin": (2, []), "on_epoch_end": (2, EPOCH),
    "on_train_batch_begin": (6, []), "on_train_batch_end": (6, TRAIN), "on_test_begin": (3, []),
    "on_test_end": (3, TRAIN), "on_test_batch_begin": (7, []), "on_test_batch_end": (7, TRAIN),
    "on_predict_begin": (1, []), "on_predict_end": (1, []), "on_predict_batch_begin": (3, []),
    "on_predict_batch_end": (3, ["outputs"]),
}


class Recorder(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seen = {}
        self.logs = {}

    def __getattribute__(self, name):
        if name in HOOKS:
            def hook(*args):
                logs = args[-1]
                assert isinstance(logs, dict), (name, logs)
                count, _ = self.seen.get(name, (0, None))
                self.seen[name] = (count + 1, sorted(logs))
                self.logs.setdefault(name, []).append(dict(logs))
            return hook
        return super().__getattribute__(name)


for _hook in HOOKS:  # overridden in the class, so the CallbackList calls them
    setattr(Recorder, _hook, lambda self, *args: None)


class PairMetric(nr.metrics.Metric):
    """A metric whose result is a dict of Variables: its keys become log entries of their own (as Keras)."""

    def __init__(self, name="pair", **kwargs):
        super().__init__(name=name, **kwargs)
        self.n = self.add_variable(shape=(), initializer="zeros", name="n")

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.n.assign_add(np.float32(len(y_true)))

    def result(self):
        return {"seen": self.n, "twice": 2 * self.n}


def _setup():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((10, 2)).astype("float32"), rng.standard_normal((10, 1)).astype("float32")
    model = nr.Sequential([nr.Input((2,)), layers.Dense(1, name="d")])
    model.compile(nr.optimizers.SGD(0.0), "mse", metrics=["mean_absolute_error", PairMetric()])
    return model, x, y


def test_every_hook_gets_a_dict_with_keras_keys():
    model, x, y = _setup()
    rec = Recorder()
    model.fit(x, y, batch_size=4, epochs=2, verbose=0, validation_data=(x[:6], y[:6]), callbacks=[rec])
    model.evaluate(x, y, batch_size=4, verbose=0, callbacks=[rec])
    model.predict(x, batch_size=4, verbose=0, callbacks=[rec])
    assert rec.seen == KERAS_HOOKS
    assert rec.params == {"verbose": 0, "epochs": 1, "steps": 3}  # the latest run's (predict), as Keras
    assert all(isinstance(v, float) for logs in rec.logs["on_epoch_end"] for v in logs.values())
    assert rec.logs["on_epoch_end"][-1]["seen"] == 10.0 and rec.logs["on_epoch_end"][-1]["val_twice"] == 12.0
    assert [len(logs["outputs"]) for logs in rec.logs["on_predict_batch_end"]] == [4, 4, 2]


def test_batch_logs_are_running_means_weighted_by_batch_size():
    model, x, y = _setup()  # learning rate 0: every batch sees the same weights
    per_batch = [model.test_on_batch(x[i:i + 4], y[i:i + 4])[0] for i in (0, 4, 8)]
    rec = Recorder()
    model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0, callbacks=[rec])
    losses = [logs["loss"] for logs in rec.logs["on_train_batch_end"]]
    first, second, third = per_batch
    expected = [first, (4 * first + 4 * second) / 8, (4 * first + 4 * second + 2 * third) / 10]
    np.testing.assert_allclose(losses, expected, rtol=1e-6)
    assert [logs["seen"] for logs in rec.logs["on_train_batch_end"]] == [4.0, 8.0, 10.0]
    assert rec.logs["on_epoch_end"][0] == rec.logs["on_train_batch_end"][-1]


def test_evaluate_and_on_batch_lists_follow_keras_order():
    model, x, y = _setup()
    loss, mae, seen, twice = model.evaluate(x, y, batch_size=4, verbose=0)  # Keras: loss, mae, then seen, twice
    assert (seen, twice) == (10.0, 20.0) and mae > 0 and loss > 0
    assert model.metrics_names == ["loss", "compile_metrics"]
    model.train_on_batch(x, y)
    assert model.train_on_batch(x, y, return_dict=True)["seen"] == 10.0  # reset before each call, as Keras


def test_history_keys_and_values_are_the_epoch_logs():
    model, x, y = _setup()
    rec = Recorder()
    history = model.fit(x, y, batch_size=4, epochs=2, verbose=0, validation_data=(x, y), callbacks=[rec])
    assert sorted(history.history) == EPOCH and history.epoch == [0, 1]
    for key in EPOCH:
        assert history.history[key] == [logs[key] for logs in rec.logs["on_epoch_end"]]
    assert rec.logs["on_train_end"] == [rec.logs["on_epoch_end"][-1]]


def test_a_given_history_is_used_and_keeps_appending():
    model, x, y = _setup()
    history = callbacks.History()
    assert model.fit(x, y, epochs=1, verbose=0, callbacks=[history]) is history
    model.fit(x, y, epochs=2, verbose=0, callbacks=[history])
    assert history.epoch == [0, 1] and len(history.history["loss"]) == 3 and model.history is history


def test_callback_list_hooks_never_pass_none():
    seen = []
    cb = callbacks.LambdaCallback(on_train_begin=seen.append, on_epoch_end=lambda epoch, logs: seen.append(logs))
    cbs = callbacks.CallbackList([cb], model=None, params={"epochs": 1})
    cbs.on_train_begin()
    cbs.on_epoch_end(0)
    cbs.on_epoch_end(1, {"loss": 1.0})
    assert seen == [{}, {}, {"loss": 1.0}]
    with_defaults = callbacks.CallbackList([], add_history=True, add_progbar=True, verbose=1, epochs=2, steps=3)
    assert isinstance(with_defaults.history, callbacks.History)
    assert with_defaults.progbar.params == {"verbose": 1, "epochs": 2, "steps": 3}


def test_a_custom_train_step_logs_what_it_returns():
    class Custom(nr.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(1)
            self.tracker = nr.metrics.Mean(name="custom_loss")

        def call(self, x):
            return self.dense(x)

        def train_step(self, data):
            x, y = data  # Keras packs (x, y) when there are no sample weights
            y_pred = self(x, training=True)
            loss = nr.ops.mean((y_pred - y) ** 2)
            self.zero_grad()
            loss.backward()
            self.optimizer.apply(self.trainable_weights)
            self.tracker.update_state(float(loss.data), sample_weight=len(x))
            return {"custom_loss": self.tracker.result(), "note": "text is passed on"}

    _, x, y = _setup()
    model = Custom()
    model.compile(nr.optimizers.SGD(0.1))
    rec = Recorder()
    history = model.fit(x, y, batch_size=5, epochs=3, verbose=0, callbacks=[rec])
    assert sorted(history.history) == ["custom_loss", "note"] and history.history["note"] == ["text is passed on"] * 3
    assert history.history["custom_loss"][-1] < history.history["custom_loss"][0]
    assert model.metrics == [model._loss_tracker, model.tracker]  # attribute metrics are tracked, as Keras


# the formats of Keras 3.15.1's output (its bar is drawn with other characters; the line of verbose=2 is the same)
@pytest.mark.parametrize("verbose, pattern", [
    (1, r"3/3 \[=+\] - \d+s \d+ms/step - loss: \d+\.\d{4} - mean_absolute_error: \d+\.\d{4} - seen: 10\.0000 - "
        r"twice: 20\.0000\n"),
    (2, r"3/3 - \d+s - \d+ms/step - loss: \d+\.\d{4} - mean_absolute_error: \d+\.\d{4} - seen: 10\.0000 - "
        r"twice: 20\.0000\n"),
])
def test_evaluate_shows_a_progress_bar_or_one_line(verbose, pattern, capsys):
    model, x, y = _setup()
    model.evaluate(x, y, batch_size=4, verbose=verbose)
    assert re.fullmatch(pattern, capsys.readouterr().out)


def test_predict_shows_progress_without_metrics(capsys):
    model, x, _ = _setup()
    model.predict(x, batch_size=4, verbose=1)
    assert re.fullmatch(r"3/3 \[=+\] - \d+s \d+ms/step\n", capsys.readouterr().out)
    model.predict(x, batch_size=4, verbose=2)
    assert re.fullmatch(r"3/3 - \d+s - \d+ms/step\n", capsys.readouterr().out)
    model.predict(x, batch_size=4)  # verbose="auto": the progress bar, as in Keras
    assert re.fullmatch(r"3/3 \[=+\] - \d+s \d+ms/step\n", capsys.readouterr().out)
    model.predict(x, batch_size=4, verbose=0)
    assert capsys.readouterr().out == ""


def test_fit_verbose_2_prints_one_line_per_epoch_with_validation(capsys):
    model, x, y = _setup()
    model.fit(x, y, batch_size=4, epochs=2, verbose=2, validation_data=(x, y))
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2" and len(lines) == 4
    assert re.fullmatch(r"3/3 - \d+s - \d+ms/step - loss: \S+ - mean_absolute_error: \S+ - seen: 10\.0000 - "
                        r"twice: 20\.0000 - val_loss: \S+ - val_mean_absolute_error: \S+ - val_seen: 10\.0000 - "
                        r"val_twice: 20\.0000", lines[3])
    model.fit(x, y, batch_size=4, epochs=1, verbose=2)
    assert "Epoch" not in capsys.readouterr().out  # Keras 3 names epochs only when there are several


def test_a_progbar_logger_given_with_verbose_0_stays_silent():
    model, x, y = _setup()
    stream = io.StringIO()
    model.fit(x, y, epochs=2, verbose=0, callbacks=[callbacks.ProgbarLogger(stream=stream)])
    assert stream.getvalue() == ""
    model.fit(x, y, epochs=2, verbose=1, callbacks=[callbacks.ProgbarLogger(stream=stream)])
    assert stream.getvalue().startswith("Epoch 1/2\n")
