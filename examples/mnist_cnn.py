"""The classic Keras MNIST CNN, written as a Keras user writes it, trained with Neurona.

Conv2D 32 3x3 ReLU -> Conv2D 64 3x3 ReLU -> MaxPooling2D 2x2 -> Dropout 0.25 -> Flatten -> Dense 128 ReLU
-> Dropout 0.5 -> Dense 10 softmax; Adadelta (learning rate 1.0, as in the Keras example), categorical
cross-entropy, batch 128, 12 epochs. Its authors report 99.25% test accuracy.

    NEURONA_DATA_DIR=../shared/data python examples/mnist_cnn.py [--epochs 12] [--history runs/mnist_cnn.json]

It trains on the full MNIST when the files are found (``$NEURONA_DATA_DIR/mnist``), otherwise on the embedded
subset, and writes the training history as JSON.
"""

import argparse
import json
import os

from neurona import datasets, layers, models, optimizers, utils

batch_size = 128
num_classes = 10
img_rows, img_cols = 28, 28
input_shape = (img_rows, img_cols, 1)


def build_model():
    model = models.Sequential()
    model.add(layers.Conv2D(32, kernel_size=(3, 3), activation="relu", input_shape=input_shape))
    model.add(layers.Conv2D(64, (3, 3), activation="relu"))
    model.add(layers.MaxPooling2D(pool_size=(2, 2)))
    model.add(layers.Dropout(0.25))
    model.add(layers.Flatten())
    model.add(layers.Dense(128, activation="relu"))
    model.add(layers.Dropout(0.5))
    model.add(layers.Dense(num_classes, activation="softmax"))
    model.compile(loss="categorical_crossentropy", optimizer=optimizers.Adadelta(learning_rate=1.0),
                  metrics=["accuracy"])
    return model


def load():
    (x_train, y_train), (x_test, y_test) = datasets.mnist.load_data()
    x_train = x_train.reshape(x_train.shape[0], img_rows, img_cols, 1).astype("float32") / 255
    x_test = x_test.reshape(x_test.shape[0], img_rows, img_cols, 1).astype("float32") / 255
    return (x_train, utils.to_categorical(y_train, num_classes)), (x_test, utils.to_categorical(y_test, num_classes))


def main(epochs=12, history_path="runs/mnist_cnn_history.json", verbose=1):
    (x_train, y_train), (x_test, y_test) = load()
    model = build_model()
    model.summary()
    history = model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, verbose=verbose,
                        validation_data=(x_test, y_test))
    score = model.evaluate(x_test, y_test, verbose=0)
    print("Test loss:", score[0])
    print("Test accuracy:", score[1])
    if history_path:
        os.makedirs(os.path.dirname(history_path) or ".", exist_ok=True)
        with open(history_path, "w") as f:
            json.dump({"history": history.history, "test_loss": score[0], "test_accuracy": score[1]}, f, indent=2)
        print("history written to", history_path)
    return score


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Train the Keras MNIST CNN with Neurona")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--history", default="runs/mnist_cnn_history.json")
    args = parser.parse_args()
    main(args.epochs, args.history)
