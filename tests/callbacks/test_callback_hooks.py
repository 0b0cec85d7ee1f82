"""The Callback API users extend: every hook, in order, with Keras's arguments, in fit, evaluate and predict."""

import numpy as np
import pytest

from neurona import callbacks

from .conftest import blobs, tiny_model

METRIC_KEYS = ["accuracy", "loss"]
EPOCH_KEYS = ["accuracy", "loss", "val_accuracy", "val_loss"]


class Recorder(callbacks.Callback):
    """Overrides every hook with Keras's positional signature and no defaults (as user code often does)."""

    def __init__(self):
        super().__init__()
        self.events = []

    def _log(self, name, *args):
        *index, logs = args
        assert isinstance(logs, dict), (name, logs)  # Keras 3: a dict at every hook, never None
        self.events.append((name, *index, sorted(logs)))
        self.last_logs = logs

    def on_train_begin(self, logs): self._log("train_begin", logs)
    def on_train_end(self, logs): self._log("train_end", logs)
    def on_epoch_begin(self, epoch, logs): self._log("epoch_begin", epoch, logs)
    def on_epoch_end(self, epoch, logs): self._log("epoch_end", epoch, logs)
    def on_train_batch_begin(self, batch, logs): self._log("train_batch_begin", batch, logs)
    def on_train_batch_end(self, batch, logs): self._log("train_batch_end", batch, logs)
    def on_test_begin(self, logs): self._log("test_begin", logs)
    def on_test_end(self, logs): self._log("test_end", logs)
    def on_test_batch_begin(self, batch, logs): self._log("test_batch_begin", batch, logs)
    def on_test_batch_end(self, batch, logs): self._log("test_batch_end", batch, logs)
    def on_predict_begin(self, logs): self._log("predict_begin", logs)
    def on_predict_end(self, logs): self._log("predict_end", logs)
    def on_predict_batch_begin(self, batch, logs): self._log("predict_batch_begin", batch, logs)
    def on_predict_batch_end(self, batch, logs): self._log("predict_batch_end", batch, logs)


def test_fit_calls_every_training_and_validation_hook():
    x, y = blobs(n=12)
    rec = Recorder()
    model = tiny_model()
    history = model.fit(x[:8], y[:8], epochs=2, batch_size=4, verbose=0, validation_data=(x[8:], y[8:]),
                        callbacks=[rec])
    epoch = [("train_batch_begin", 0, []), ("train_batch_end", 0, METRIC_KEYS),
             ("train_batch_begin", 1, []), ("train_batch_end", 1, METRIC_KEYS),
             ("test_begin", []), ("test_batch_begin", 0, []), ("test_batch_end", 0, METRIC_KEYS),
             ("test_end", METRIC_KEYS)]
    assert rec.events == [("train_begin", []),
                          ("epoch_begin", 0, []), *epoch, ("epoch_end", 0, EPOCH_KEYS),
                          ("epoch_begin", 1, []), *epoch, ("epoch_end", 1, EPOCH_KEYS),
                          ("train_end", EPOCH_KEYS)]
    assert rec.model is model and rec.params == {"epochs": 2, "steps": 2, "verbose": 0}  # Keras 3's keys
    assert rec.last_logs == {key: values[-1] for key, values in history.history.items()}


def test_evaluate_passes_running_and_final_logs():
    x, y = blobs(n=10)
    rec = Recorder()
    batch_logs = []
    rec.on_test_batch_end = lambda batch, logs: batch_logs.append(dict(logs))  # an instance hook wins
    model = tiny_model()
    result = model.evaluate(x, y, batch_size=4, verbose=0, callbacks=[rec], return_dict=True)
    assert rec.events == [("test_begin", []), ("test_batch_begin", 0, []), ("test_batch_begin", 1, []),
                          ("test_batch_begin", 2, []), ("test_end", METRIC_KEYS)]
    assert rec.last_logs == result and batch_logs[-1] == result
    # the running loss after the first batch is that batch's loss
    assert batch_logs[0]["loss"] == pytest.approx(model.evaluate(x[:4], y[:4], verbose=0)[0], rel=1e-6)


def test_predict_passes_each_batch_output():
    x, _ = blobs(n=10)
    rec = Recorder()
    outputs = []
    rec.on_predict_batch_end = lambda batch, logs: outputs.append(logs["outputs"])
    probs = tiny_model().predict(x, batch_size=4, callbacks=[rec])
    assert rec.events == [("predict_begin", []), ("predict_batch_begin", 0, []), ("predict_batch_begin", 1, []),
                          ("predict_batch_begin", 2, []), ("predict_end", [])]
    assert [len(o) for o in outputs] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate(outputs), probs)


def test_keras2_batch_hook_names_still_run():
    seen = []

    class Old(callbacks.Callback):
        def on_batch_begin(self, batch, logs=None):
            seen.append(("begin", batch))

        def on_batch_end(self, batch, logs=None):
            seen.append(("end", batch, sorted(logs)))

    x, y = blobs(n=8)
    tiny_model().fit(x, y, epochs=1, batch_size=4, verbose=0, callbacks=[Old()])
    assert seen == [("begin", 0), ("end", 0, METRIC_KEYS), ("begin", 1), ("end", 1, METRIC_KEYS)]


def test_history_records_what_earlier_callbacks_add():
    x, y = blobs(n=8)

    class AddKey(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["custom"] = 10.0 * epoch

    history = tiny_model().fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[AddKey()])
    assert history.history["custom"] == [0.0, 10.0]


def test_non_callbacks_are_refused():
    x, y = blobs(n=8)
    with pytest.raises(TypeError, match="must be neurona.callbacks.Callback instances"):
        tiny_model().fit(x, y, verbose=0, callbacks=[print])
