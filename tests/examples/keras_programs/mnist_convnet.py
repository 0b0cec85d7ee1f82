"""A simple convnet on MNIST, as in the keras-io example "Simple MNIST convnet".

The same architecture (two Conv2D + MaxPooling2D stages, Flatten, Dropout, a softmax Dense: 34,826 weights) and
the same steps (scale to [0, 1], add the channel axis, one-hot labels, fit with validation_split, evaluate),
trained on a subset so that it runs in seconds.

Digits come from keras.datasets.mnist, or (KERAS_PROGRAMS_SYNTHETIC=1) from MNIST-shaped arrays made with numpy.
Prints ``CHECK name: value`` lines that the port test compares between Keras and Neurona.
"""

import os

import keras
import numpy as np
from keras import layers


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


keras.utils.set_random_seed(0)
num_classes = 10
input_shape = (28, 28, 1)

(x_train, y_train), (x_test, y_test) = load_digits(2000, 1000)
x_train = x_train.astype("float32") / 255
x_test = x_test.astype("float32") / 255
x_train = np.expand_dims(x_train, -1)
x_test = np.expand_dims(x_test, -1)
print("x_train shape:", x_train.shape)
print(x_train.shape[0], "train samples")
print(x_test.shape[0], "test samples")
check("x_train_shape", x_train.shape)

y_train = keras.utils.to_categorical(y_train, num_classes)
y_test = keras.utils.to_categorical(y_test, num_classes)
check("y_train_shape", y_train.shape)

model = keras.Sequential(
    [
        keras.Input(shape=input_shape),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(num_classes, activation="softmax"),
    ]
)
model.summary()
check("params", model.count_params())
check("layer_output_shapes", [tuple(layer.output.shape) for layer in model.layers])

batch_size = 128
epochs = 3
model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
history = model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, validation_split=0.1, verbose=2)
check("history_keys", sorted(history.history))
check("epochs_run", len(history.history["loss"]))

score = model.evaluate(x_test, y_test, verbose=0)
print("Test loss:", score[0])
print("Test accuracy:", score[1])
check("test_accuracy", round(float(score[1]), 4))
