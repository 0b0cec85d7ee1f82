"""A zoo of small models that together use every registered layer, and data to train them on."""

import numpy as np
import pytest

from neurona import initializers, layers, models, regularizers


def _dense():
    return [layers.Input((5,)),
            layers.Dense(8, activation="relu", kernel_initializer="he_normal",
                         bias_initializer=initializers.Constant(0.1), kernel_regularizer=regularizers.L2(1e-3)),
            layers.Activation("tanh"),
            layers.Dense(6, activation="selu", kernel_initializer=initializers.GlorotUniform(seed=3)),
            layers.Dense(3, activation="softmax")]


def _conv2d():
    return [layers.Input((8, 8, 2)),
            layers.Conv2D(4, 3, padding="same", activation="relu", kernel_initializer="he_uniform"),
            layers.BatchNormalization(),
            layers.MaxPooling2D(2),
            layers.Conv2D(5, (2, 3), strides=1, dilation_rate=(1, 2), padding="same", activation="gelu"),
            layers.AveragePooling2D(2, strides=1, padding="same"),
            layers.Dropout(0.25),
            layers.Flatten(),
            layers.Dense(3, activation="softmax")]


def _conv1d():
    return [layers.Input((12, 3)),
            layers.Conv1D(4, 3, activation="elu"),
            layers.MaxPooling1D(2, padding="same"),
            layers.AveragePooling1D(2),
            layers.LayerNormalization(),
            layers.GlobalMaxPooling1D(),
            layers.Dense(3, activation="softmax")]


def _norms():
    return [layers.Input((4, 4, 4)),
            layers.Normalization(mean=[0.5, 0.0, -0.5, 1.0], variance=[1.0, 4.0, 0.25, 2.0]),
            layers.GroupNormalization(groups=2),
            layers.InstanceNormalization(),
            layers.GlobalAveragePooling2D(),
            layers.Dense(3, activation="softmax")]


def _reshape():
    return [layers.Input((12,)),
            layers.Reshape((4, 3)),
            layers.GlobalAveragePooling1D(),
            layers.Dense(5, activation="leaky_relu"),
            layers.Reshape((5, 1, 1)),
            layers.GlobalMaxPooling2D(),
            layers.Dense(3, activation="softmax")]


ZOO = {"dense": _dense, "conv2d": _conv2d, "conv1d": _conv1d, "norms": _norms, "reshape": _reshape}


def build(kind, optimizer="adam"):
    """A compiled model of the zoo."""
    model = models.Sequential(ZOO[kind](), name=f"zoo_{kind}")
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def data(model, n=48, seed=0):
    """Inputs shaped for ``model`` and one-hot targets for 3 classes."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, *model.input_shape[1:])).astype(np.float32)
    return x, np.eye(3, dtype=np.float32)[rng.integers(0, 3, n)]


@pytest.fixture
def zoo():
    """``zoo.build(kind)``, ``zoo.data(model)`` and ``zoo.KINDS``."""

    class Zoo:
        KINDS = sorted(ZOO)

    Zoo.build, Zoo.data, Zoo.ZOO = staticmethod(build), staticmethod(data), ZOO
    return Zoo


def pytest_generate_tests(metafunc):
    """A test taking ``kind`` runs once per zoo model."""
    if "kind" in metafunc.fixturenames:
        metafunc.parametrize("kind", sorted(ZOO))
