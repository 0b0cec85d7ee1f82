"""Seed 000's Keras program, ported to Neurona by changing its import line only.

The model-building block below is the seed's Keras code as written; only the
import changed (from ``from tensorflow.keras import layers, models``), and
``input_dim``/``num_classes``, which the seed leaves to the reader, are
defined for MNIST. The part under ``main`` loads the data and trains it.

    python examples/seed_keras_he_normal.py
"""

from neurona import layers, models  # the only changed line (was: from tensorflow.keras import layers, models)

input_dim = 784  # defined here: 28 x 28 MNIST pixels
num_classes = 10  # defined here: the ten digits

# ---- the seed's program ------------------------------------------------------------------------
model = models.Sequential()
model.add(layers.Dense(64, activation='relu', kernel_initializer='he_normal', input_shape=(input_dim,)))
model.add(layers.Dense(num_classes, activation='softmax'))
model.compile(optimizer='adam', loss='categorical_crossentropy', metrics=['accuracy'])
# ---- end of the seed's program -----------------------------------------------------------------


def main(epochs=5, verbose=1):
    """Train the seed's model on MNIST (full if present, else the embedded subset); returns test accuracy."""
    from neurona import datasets, utils

    (x_train, y_train), (x_test, y_test) = datasets.mnist.load_data()
    x_train = x_train.reshape(-1, input_dim).astype("float32") / 255.0
    x_test = x_test.reshape(-1, input_dim).astype("float32") / 255.0
    y_train = utils.to_categorical(y_train, num_classes)
    y_test = utils.to_categorical(y_test, num_classes)
    model.summary()
    model.fit(x_train, y_train, batch_size=32, epochs=epochs, validation_split=0.1, verbose=verbose)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test accuracy: {accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    main()
