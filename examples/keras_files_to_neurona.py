"""The deployment article's flow: a Keras MNIST CNN saved by Keras as model.json + model.h5, then loaded,
inspected and served by Neurona.

1. Keras trains the article's CNN (pixels scaled to [0, 1]) and saves it as the article does:
   ``model.to_json()`` -> model.json, and the weights -> model.h5 (``keras.saving.save_model(model, "model.h5")``,
   Keras's HDF5 file).
2. Neurona loads the folder (``neurona.models.load_model``), prints its summary with each layer's initializer,
   and checks that it predicts what Keras predicts.
3. Neurona serves it: ``create_app(folder, preprocessing=[rescale(255)])`` here, through Flask's test client (the
   article's Flask app divided the pixels by 255 itself; Keras saves no preprocessing), which is what
   ``neurona serve FOLDER --rescale 255`` runs on port 8000 under waitress.

Needs Keras with a backend that trains (this script picks jax when KERAS_BACKEND is not set: ``pip install keras
"jax[cpu]"``) and the serve extra (``pip install 'neurona[serve]'``).

    python examples/keras_files_to_neurona.py [--out keras_mnist] [--epochs 1] [--samples 6000]
"""

import argparse
import json
import os
import pathlib

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "jax")


def train_in_keras(x_train, y_train, epochs, seed):
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=128, epochs=epochs, verbose=2)
    return model


def save_like_the_article(model, folder):
    import keras

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.json").write_text(model.to_json())
    keras.saving.save_model(model, folder / "model.h5")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="keras_mnist", help="folder for model.json + model.h5")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--samples", type=int, default=6000, help="training images Keras trains on")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import neurona as nr
    from neurona.saving import preprocessing as prep
    from neurona.serving import create_app

    (x_train, y_train), (x_test, y_test) = nr.datasets.mnist.load_data()
    x_train = x_train[:args.samples, ..., None].astype("float32") / 255.0
    x_test_scaled = x_test[..., None].astype("float32") / 255.0

    # 1. Keras trains and saves model.json + model.h5
    folder = pathlib.Path(args.out)
    keras_model = train_in_keras(x_train, y_train[:args.samples], args.epochs, args.seed)
    save_like_the_article(keras_model, folder)
    keras_probabilities = keras_model.predict(x_test_scaled, verbose=0)
    print(f"Keras saved {sorted(p.name for p in folder.iterdir())} in {folder}/")

    # 2. Neurona loads, inspects and predicts the same
    model = nr.models.load_model(folder)
    model.summary()
    probabilities = model.predict(x_test_scaled, verbose=0)
    accuracy = float(np.mean(probabilities.argmax(axis=1) == y_test))
    keras_accuracy = float(np.mean(keras_probabilities.argmax(axis=1) == y_test))
    print(f"test accuracy: Keras {keras_accuracy:.4f}, Neurona {accuracy:.4f} on the same file; largest "
          f"probability difference {np.abs(probabilities - keras_probabilities).max():.2e}")

    # 3. Neurona serves it: raw 0-255 pixels in, divided by 255 as in training
    app = create_app(folder, preprocessing=[prep.rescale(255.0)])
    client = app.test_client()
    answer = client.post("/predict", json={"instances": [x_test[0].tolist()], "input_format": "raw"}).get_json()
    prediction = answer["predictions"][0]
    print(f"POST /predict with test image 0 (label {int(y_test[0])}): {json.dumps(prediction)[:160]}")
    print(f"serve it on port 8000:  neurona serve {folder} --rescale 255")
    return {"accuracy": accuracy, "keras_accuracy": keras_accuracy,
            "max_difference": float(np.abs(probabilities - keras_probabilities).max()), "prediction": prediction}


if __name__ == "__main__":
    main()
