"""The small MNIST CNN the compression tests transform, and its accuracy."""

import numpy as np

import neurona as nr
from neurona import layers


def small_cnn():
    return nr.Sequential([
        layers.Input((28, 28, 1)),
        layers.Conv2D(8, 3, strides=2, activation="relu", kernel_initializer="he_normal"),
        layers.Conv2D(16, 3, activation="relu", padding="same", kernel_initializer="he_normal"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(32, activation="relu", kernel_initializer="he_normal"),
        layers.Dense(10, activation="softmax"),
    ])


def accuracy(model, x, y):
    return float((np.argmax(model.predict(x, verbose=0), axis=1) == y).mean())
