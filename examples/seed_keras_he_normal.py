"""Seed 000's Keras program, ported to Neurona by changing its import lines only.

The block below is the article's program as written, Spanish names and
comments included (``../shared/seeds/000_*.txt``, "Ejemplo Práctico de
Inicialización Aleatoria en TensorFlow"). Its two import lines,
``import tensorflow as tf`` and ``from tensorflow.keras import layers, models``,
became the one import below (the article never uses ``tf``), and
``input_dim``/``num_classes``, which it leaves to the reader, are defined for
MNIST. The part under ``main`` loads the data and trains the model.

    python examples/seed_keras_he_normal.py
"""

from neurona import layers, models  # the changed line (was: from tensorflow.keras import layers, models)

input_dim = 784  # defined here: 28 x 28 MNIST pixels
num_classes = 10  # defined here: the ten digits

# ---- the article's program ---------------------------------------------------------------------
# Construir el modelo
modelo = models.Sequential()
# Añadir una capa densa con inicialización de He
modelo.add(layers.Dense(128, activation='relu', kernel_initializer='he_normal', input_shape=(input_dim,)))
# Añadir una capa de salida
modelo.add(layers.Dense(num_classes, activation='softmax'))
# Compilar el modelo
modelo.compile(optimizer='adam', loss='categorical_crossentropy', metrics=['accuracy'])
# Resumen del modelo
modelo.summary()
# ---- end of the article's program --------------------------------------------------------------


def main(epochs=5, verbose=1):
    """Train the seed's model on MNIST (full if present, else the embedded subset); returns test accuracy."""
    from neurona import datasets, utils

    (x_train, y_train), (x_test, y_test) = datasets.mnist.load_data()
    x_train = x_train.reshape(-1, input_dim).astype("float32") / 255.0
    x_test = x_test.reshape(-1, input_dim).astype("float32") / 255.0
    y_train = utils.to_categorical(y_train, num_classes)
    y_test = utils.to_categorical(y_test, num_classes)
    modelo.fit(x_train, y_train, batch_size=32, epochs=epochs, validation_split=0.1, verbose=verbose)
    loss, accuracy = modelo.evaluate(x_test, y_test, verbose=0)
    print(f"test accuracy: {accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    main()
