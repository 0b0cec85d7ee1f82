"""Shared helpers of the callback tests: tiny data, a tiny model, and scripted logs."""

import numpy as np
import pytest

import neurona as nr
from neurona import callbacks, layers, models


def blobs(n=40, seed=0):
    """Two well-separated Gaussian blobs in 2-D with one-hot targets (float32)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    x = (np.array([[2.0, 0.0], [-2.0, 0.0]])[labels] + 0.5 * rng.standard_normal((n, 2))).astype(np.float32)
    return x, np.eye(2, dtype=np.float32)[labels]


def tiny_model(optimizer=None, metrics=("accuracy",)):
    model = models.Sequential([layers.Input((2,)), layers.Dense(4, activation="relu"),
                               layers.Dense(2, activation="softmax")])
    model.compile(optimizer=optimizer or nr.optimizers.SGD(0.1), loss="categorical_crossentropy",
                  metrics=list(metrics))
    return model


def scripted(key, values):
    """A callback that writes ``values[epoch]`` into the epoch's logs under ``key`` (it must come first)."""
    def set_value(epoch, logs):
        logs[key] = values[epoch]
    return callbacks.LambdaCallback(on_epoch_end=set_value)


@pytest.fixture
def data():
    return blobs()
