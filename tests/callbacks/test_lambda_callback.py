"""LambdaCallback: plain functions as hooks, with the same arguments as the methods."""

import numpy as np
import pytest

from neurona import callbacks

from .conftest import tiny_model


def test_functions_receive_the_hook_arguments(data):
    events = []
    cb = callbacks.LambdaCallback(
        on_train_begin=lambda logs: events.append(("train_begin", logs)),
        on_epoch_begin=lambda epoch, logs: events.append(("epoch_begin", epoch, logs)),
        on_epoch_end=lambda epoch, logs: events.append(("epoch_end", epoch, sorted(logs))),
        on_train_batch_end=lambda batch, logs: events.append(("batch_end", batch, sorted(logs))),
        on_train_end=lambda logs: events.append(("train_end", sorted(logs))),
        on_predict_end=lambda logs: events.append(("predict_end", logs)),
    )
    model = tiny_model()
    model.fit(*data, epochs=1, batch_size=40, verbose=0, callbacks=[cb])
    model.predict(data[0], callbacks=[cb])
    # Keras 3: every hook gets a dict, {} where there is nothing to report
    assert events == [("train_begin", {}), ("epoch_begin", 0, {}), ("batch_end", 0, ["accuracy", "loss"]),
                      ("epoch_end", 0, ["accuracy", "loss"]), ("train_end", ["accuracy", "loss"]),
                      ("predict_end", {})]


def test_keras2_batch_names(data):
    seen = []
    cb = callbacks.LambdaCallback(on_batch_end=lambda batch, logs: seen.append(batch))
    tiny_model().fit(*data, epochs=1, batch_size=10, verbose=0, callbacks=[cb])
    assert seen == [0, 1, 2, 3]


def test_bad_hooks():
    with pytest.raises(TypeError, match="unknown hooks \\['on_epoch_finish'\\]"):
        callbacks.LambdaCallback(on_epoch_finish=print)
    with pytest.raises(TypeError, match="on_epoch_end must be a function"):
        callbacks.LambdaCallback(on_epoch_end=np.zeros(2))
