"""A small CNN trained for a moment on the embedded MNIST subset: the float model the transforms start from."""

import pytest
from _harness.compression_models import small_cnn

import neurona as nr
from neurona import datasets


@pytest.fixture(scope="session")
def mnist_small():
    (x_train, y_train), (x_test, y_test) = datasets.mnist.load_data(source="embedded", verbose=False)
    x_train = (x_train[:3000, :, :, None] / 255.0).astype("float32")
    x_test = (x_test[:1000, :, :, None] / 255.0).astype("float32")
    return x_train, y_train[:3000].astype("int64"), x_test, y_test[:1000].astype("int64")


@pytest.fixture(scope="session")
def trained_cnn(mnist_small):
    x_train, y_train, _, _ = mnist_small
    nr.seed(0)
    # the tests name its layers "conv2d", ..., "dense_1": whatever layers earlier tests of the session made
    nr.backend.clear_session(free_memory=False)
    model = small_cnn()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=64, epochs=3, verbose=0)
    return model
