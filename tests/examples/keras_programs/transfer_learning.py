"""Transfer learning and fine-tuning, after Keras's guide.

Trainable and non-trainable weights (Dense, BatchNormalization), freezing a layer and a nested model, then the
full workflow: a small convolutional base trained first on the digits 0-4 plays the pretrained model; frozen
(base.trainable = False) and called with training=False under a new head, it is trained on telling 5-9 apart as
even/odd; then unfrozen and fine-tuned with a low learning rate (BatchNormalization stays in inference mode).

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


def weight_counts(layer):
    return len(layer.weights), len(layer.trainable_weights), len(layer.non_trainable_weights)


def trainable_attributes():
    dense = layers.Dense(3)
    dense.build((None, 4))
    check("dense_weights", weight_counts(dense))
    norm = layers.BatchNormalization()
    norm.build((None, 4))
    check("batchnorm_weights", weight_counts(norm))
    dense.trainable = False
    check("frozen_dense_weights", weight_counts(dense))


def frozen_layer_does_not_train():
    rng = np.random.default_rng(0)
    layer1 = layers.Dense(3, activation="relu")
    layer2 = layers.Dense(3, activation="sigmoid")
    model = keras.Sequential([keras.Input(shape=(3,)), layer1, layer2])
    layer1.trainable = False
    before = layer1.get_weights()
    model.compile(optimizer="adam", loss="mse")
    model.fit(rng.random((16, 3)), rng.random((16, 3)), verbose=0)
    after = layer1.get_weights()
    check("frozen_layer_unchanged", all(np.array_equal(a, b) for a, b in zip(before, after)))


def trainable_is_recursive():
    inner = keras.Sequential([keras.Input(shape=(3,)), layers.Dense(3), layers.Dense(3)])
    outer = keras.Sequential([keras.Input(shape=(3,)), inner, layers.Dense(3)])
    inner.trainable = False
    check("outer_trainable_weights", len(outer.trainable_weights))
    check("inner_layers_trainable", [layer.trainable for layer in inner.layers])


(x_train, y_train), (x_test, y_test) = load_digits(3000, 1000)
x_train = np.expand_dims(x_train.astype("float32") / 255, -1)
x_test = np.expand_dims(x_test.astype("float32") / 255, -1)


def make_base():
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(8, 3, strides=2, use_bias=False, name="conv_a"),
            layers.BatchNormalization(momentum=0.9, name="norm_a"),
            layers.Activation("relu"),
            layers.Conv2D(16, 3, strides=2, activation="relu", name="conv_b"),
        ],
        name="base",
    )


def transfer_and_fine_tune():
    keras.utils.set_random_seed(7)
    # "pretraining": the base learns to tell the digits 0-4 apart
    first = y_train < 5
    base_model = make_base()
    pretrain = keras.Sequential([base_model, layers.Flatten(), layers.Dense(5, activation="softmax")])
    pretrain.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy",
                     metrics=["accuracy"])
    pretrain.fit(x_train[first], y_train[first], batch_size=64, epochs=2, verbose=0)
    check("pretrain_accuracy", round(float(pretrain.evaluate(x_test[y_test < 5], y_test[y_test < 5], verbose=0)[1]), 4))

    # the new task: are the digits 5-9 odd?
    second, second_test = y_train >= 5, y_test >= 5
    xb, yb = x_train[second], (y_train[second] % 2).astype("float32")
    xb_test, yb_test = x_test[second_test], (y_test[second_test] % 2).astype("float32")

    base_model.trainable = False
    inputs = keras.Input(shape=(28, 28, 1))
    x = base_model(inputs, training=False)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.2)(x)
    outputs = layers.Dense(1)(x)
    model = keras.Model(inputs, outputs)
    model.summary(show_trainable=True)
    check("head_trainable_weights", len(model.trainable_weights))
    check("head_non_trainable_weights", len(model.non_trainable_weights))

    frozen = [w.copy() for w in base_model.get_weights()]
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[keras.metrics.BinaryAccuracy()],
    )
    history = model.fit(xb, yb, batch_size=64, epochs=3, validation_data=(xb_test, yb_test), verbose=0)
    check("transfer_history_keys", sorted(history.history))
    check("base_unchanged_while_frozen", all(np.array_equal(a, b) for a, b in zip(frozen, base_model.get_weights())))
    transfer_accuracy = model.evaluate(xb_test, yb_test, verbose=0)[1]
    check("transfer_accuracy", round(float(transfer_accuracy), 4))

    # fine-tuning: everything trains, slowly; the base still runs in inference mode
    base_model.trainable = True
    norm = base_model.get_layer("norm_a")
    moving = norm.get_weights()[2:]  # moving mean and variance
    kernel = base_model.get_layer("conv_b").get_weights()[0].copy()
    model.compile(
        optimizer=keras.optimizers.Adam(1e-4),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[keras.metrics.BinaryAccuracy()],
    )
    check("fine_tune_trainable_weights", len(model.trainable_weights))
    model.fit(xb, yb, batch_size=64, epochs=1, verbose=0)
    # Keras 3 lets fit's training=True override the training=False of the call above (keras-team/keras#20285)
    check("moving_stats_unchanged", all(np.array_equal(a, b) for a, b in zip(moving, norm.get_weights()[2:])))
    check("base_kernel_changed", not np.array_equal(kernel, base_model.get_layer("conv_b").get_weights()[0]))
    fine_accuracy = model.evaluate(xb_test, yb_test, verbose=0)[1]
    check("fine_tune_accuracy", round(float(fine_accuracy), 4))


SECTIONS = [trainable_attributes, frozen_layer_does_not_train, trainable_is_recursive, transfer_and_fine_tune]

if __name__ == "__main__":
    for section in SECTIONS:
        print(f"SECTION {section.__name__}", flush=True)
        section()
    print("DONE")
