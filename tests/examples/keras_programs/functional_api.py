"""The functional API, after Keras's guide.

A first model from keras.Input and layers called on tensors; training, saving and reloading it; one graph of
layers defining two models (an encoder and an autoencoder); models called like layers and an ensemble averaged
with layers.average; a model with three inputs and two outputs (losses as lists and as dicts); a shared layer;
layer.input / layer.output and get_layer(...).output for feature extraction; a toy ResNet whose residual
connections are layers.add; a custom layer with get_config inside a functional model rebuilt from its config.
(The guide's text model uses Embedding and LSTM; here the title and body arrive as bag-of-words vectors.)

Digits come from keras.datasets.mnist, or (KERAS_PROGRAMS_SYNTHETIC=1) from MNIST-shaped arrays made with numpy.
Prints ``CHECK name: value`` lines that the port test compares between Keras and Neurona.
"""

import os
import tempfile

import keras
import numpy as np
from keras import layers, ops


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


def first_model():
    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(784,))
    check("input_shape", tuple(inputs.shape))
    check("input_dtype", inputs.dtype)
    dense = layers.Dense(64, activation="relu")
    x = dense(inputs)
    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(10)(x)
    model = keras.Model(inputs=inputs, outputs=outputs, name="mnist_model")
    model.summary()
    check("model_name", model.name)
    check("model_layer_count", len(model.layers))
    check("model_params", model.count_params())

    (x_train, y_train), (x_test, y_test) = load_digits(3000, 1000)
    x_train = x_train.reshape(-1, 784).astype("float32") / 255
    x_test = x_test.reshape(-1, 784).astype("float32") / 255
    model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer=keras.optimizers.RMSprop(),
        metrics=["accuracy"],
    )
    history = model.fit(x_train, y_train, batch_size=64, epochs=2, validation_split=0.2, verbose=0)
    check("first_history_keys", sorted(history.history))
    scores = model.evaluate(x_test, y_test, verbose=0)
    check("first_test_accuracy", round(float(scores[1]), 4))

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "my_model.keras")
        model.save(path)
        del model
        model = keras.models.load_model(path)
        reloaded = model.evaluate(x_test, y_test, verbose=0)
        check("reloaded_same_accuracy", bool(abs(reloaded[1] - scores[1]) < 1e-6))


def encoder_and_autoencoder():
    encoder_input = keras.Input(shape=(28, 28, 1), name="img")
    x = layers.Conv2D(8, 3, activation="relu")(encoder_input)
    x = layers.Conv2D(16, 3, activation="relu")(x)
    x = layers.MaxPooling2D(3)(x)
    x = layers.Conv2D(16, 3, activation="relu")(x)
    x = layers.Conv2D(8, 3, activation="relu")(x)
    encoder_output = layers.GlobalMaxPooling2D()(x)
    encoder = keras.Model(encoder_input, encoder_output, name="encoder")

    x = layers.Dense(784, activation="sigmoid")(encoder_output)
    decoder_output = layers.Reshape((28, 28, 1))(x)
    autoencoder = keras.Model(encoder_input, decoder_output, name="autoencoder")
    autoencoder.summary()
    check("encoder_output_shape", tuple(encoder.output.shape))
    check("autoencoder_output_shape", tuple(autoencoder.output.shape))
    check("encoder_shares_weights", all(any(w is v for v in autoencoder.weights) for w in encoder.weights))

    # models are callable like layers: a decoder model applied to the encoder's output
    decoder_input = keras.Input(shape=(8,), name="encoded_img")
    x = layers.Dense(784, activation="sigmoid")(decoder_input)
    decoder = keras.Model(decoder_input, layers.Reshape((28, 28, 1))(x), name="decoder")
    autoencoder_input = keras.Input(shape=(28, 28, 1), name="img")
    encoded = encoder(autoencoder_input)
    decoded = decoder(encoded)
    nested = keras.Model(autoencoder_input, decoded, name="autoencoder")
    check("nested_layer_names", [layer.name for layer in nested.layers])
    images = np.random.default_rng(0).random((2, 28, 28, 1)).astype("float32")
    by_parts = ops.convert_to_numpy(decoder(encoder(images)))
    check("nested_equals_parts", bool(np.allclose(ops.convert_to_numpy(nested(images)), by_parts, atol=1e-6)))


def ensemble():
    def get_model():
        inputs = keras.Input(shape=(16,))
        outputs = layers.Dense(1)(inputs)
        return keras.Model(inputs, outputs)

    model1, model2, model3 = get_model(), get_model(), get_model()
    inputs = keras.Input(shape=(16,))
    y1, y2, y3 = model1(inputs), model2(inputs), model3(inputs)
    outputs = layers.average([y1, y2, y3])
    ensemble_model = keras.Model(inputs=inputs, outputs=outputs)
    x = np.random.default_rng(1).random((4, 16)).astype("float32")
    mean = np.mean([ops.convert_to_numpy(m(x)) for m in (model1, model2, model3)], axis=0)
    check("ensemble_is_average", bool(np.allclose(ops.convert_to_numpy(ensemble_model(x)), mean, atol=1e-6)))
    check("ensemble_params", ensemble_model.count_params())


def ticket_model():
    num_tags, num_words, num_departments = 12, 200, 4
    title_input = keras.Input(shape=(num_words,), name="title")
    body_input = keras.Input(shape=(num_words,), name="body")
    tags_input = keras.Input(shape=(num_tags,), name="tags")
    title_features = layers.Dense(16, activation="relu")(title_input)
    body_features = layers.Dense(8, activation="relu")(body_input)
    x = layers.concatenate([title_features, body_features, tags_input])
    priority_pred = layers.Dense(1, name="priority")(x)
    department_pred = layers.Dense(num_departments, name="department")(x)
    model = keras.Model(
        inputs=[title_input, body_input, tags_input],
        outputs={"priority": priority_pred, "department": department_pred},
    )
    check("ticket_input_names", [t.name for t in model.inputs])

    rng = np.random.default_rng(2)
    title_data = rng.integers(0, 2, size=(64, num_words)).astype("float32")
    body_data = rng.integers(0, 2, size=(64, num_words)).astype("float32")
    tags_data = rng.integers(0, 2, size=(64, num_tags)).astype("float32")
    priority_targets = rng.random((64, 1)).astype("float32")
    dept_targets = rng.integers(0, 2, size=(64, num_departments)).astype("float32")

    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss={
            "priority": keras.losses.BinaryCrossentropy(from_logits=True),
            "department": keras.losses.CategoricalCrossentropy(from_logits=True),
        },
        loss_weights={"priority": 1.0, "department": 0.2},
    )
    history = model.fit(
        {"title": title_data, "body": body_data, "tags": tags_data},
        {"priority": priority_targets, "department": dept_targets},
        epochs=2,
        batch_size=32,
        verbose=0,
    )
    check("ticket_history_keys", sorted(history.history))
    predicted = model.predict({"title": title_data, "body": body_data, "tags": tags_data}, verbose=0)
    check("ticket_predict", sorted((k, v.shape) for k, v in predicted.items()))


def shared_layer():
    shared = layers.Dense(8, name="shared")
    input_a = keras.Input(shape=(5,))
    input_b = keras.Input(shape=(5,))
    merged = layers.concatenate([shared(input_a), shared(input_b)])
    model = keras.Model([input_a, input_b], merged)
    check("shared_weights", len(model.weights))
    a = np.ones((2, 5), dtype="float32")
    out = ops.convert_to_numpy(model([a, a]))
    check("shared_halves_equal", bool(np.allclose(out[:, :8], out[:, 8:])))


def layer_outputs_and_feature_extraction():
    inputs = keras.Input(shape=(20,), name="features_in")
    x = layers.Dense(12, activation="relu", name="block1")(inputs)
    x = layers.Dense(8, activation="relu", name="block2")(x)
    outputs = layers.Dense(3, name="head")(x)
    model = keras.Model(inputs, outputs)
    check("block2_input_shape", tuple(model.get_layer("block2").input.shape))
    check("block2_output_shape", tuple(model.get_layer("block2").output.shape))
    check("first_layer_input_is_model_input", model.get_layer("block1").input is model.inputs[0])

    features = keras.Model(inputs=model.inputs, outputs=[layer.output for layer in model.layers])
    data = np.random.default_rng(3).random((4, 20)).astype("float32")
    check("all_feature_shapes", [tuple(f.shape) for f in features(data)])
    block2 = keras.Model(inputs=model.input, outputs=model.get_layer("block2").output)
    direct = ops.convert_to_numpy(model.get_layer("block2")(model.get_layer("block1")(data)))
    check("block2_features_match", bool(np.allclose(ops.convert_to_numpy(block2(data)), direct, atol=1e-6)))


def toy_resnet():
    keras.utils.set_random_seed(4)
    inputs = keras.Input(shape=(16, 16, 3), name="img")
    x = layers.Conv2D(8, 3, activation="relu")(inputs)
    x = layers.Conv2D(16, 3, activation="relu")(x)
    block_1_output = layers.MaxPooling2D(2)(x)

    x = layers.Conv2D(16, 3, activation="relu", padding="same")(block_1_output)
    x = layers.Conv2D(16, 3, activation="relu", padding="same")(x)
    block_2_output = layers.add([x, block_1_output])

    x = layers.Conv2D(16, 3, activation="relu", padding="same")(block_2_output)
    x = layers.Conv2D(16, 3, activation="relu", padding="same")(x)
    block_3_output = layers.add([x, block_2_output])

    x = layers.Conv2D(16, 3, activation="relu")(block_3_output)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(32, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(10)(x)
    model = keras.Model(inputs, outputs, name="toy_resnet")
    model.summary()
    check("resnet_params", model.count_params())
    check("resnet_layer_types", sorted({type(layer).__name__ for layer in model.layers}))

    rng = np.random.default_rng(5)
    x_train = rng.random((64, 16, 16, 3)).astype("float32")
    y_train = keras.utils.to_categorical(rng.integers(0, 10, size=64), 10)
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-3),
        loss=keras.losses.CategoricalCrossentropy(from_logits=True),
        metrics=["acc"],
    )
    history = model.fit(x_train, y_train, batch_size=16, epochs=1, validation_split=0.25, verbose=0)
    check("resnet_history_keys", sorted(history.history))


class CustomDense(layers.Layer):  # not registered: from_config finds it through custom_objects
    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal", trainable=True)
        self.b = self.add_weight(shape=(self.units,), initializer="random_normal", trainable=True)

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b

    def get_config(self):
        return {"units": self.units}  # only its own argument, no name: the rebuilt layer keeps the saved one


def custom_layer_config_round_trip():
    inputs = keras.Input((4,))
    outputs = CustomDense(10)(inputs)
    model = keras.Model(inputs, outputs)
    config = model.get_config()
    new_model = keras.Model.from_config(config, custom_objects={"CustomDense": CustomDense})
    check("rebuilt_layer_types", [type(layer).__name__ for layer in new_model.layers])
    check("rebuilt_units", new_model.layers[-1].units)
    new_model.set_weights(model.get_weights())
    x = np.random.default_rng(6).random((3, 4)).astype("float32")
    same = np.allclose(ops.convert_to_numpy(model(x)), ops.convert_to_numpy(new_model(x)), atol=1e-6)
    check("rebuilt_same_outputs", bool(same))


SECTIONS = [
    first_model,
    encoder_and_autoencoder,
    ensemble,
    ticket_model,
    shared_layer,
    layer_outputs_and_feature_extraction,
    toy_resnet,
    custom_layer_config_round_trip,
]

if __name__ == "__main__":
    for section in SECTIONS:
        print(f"SECTION {section.__name__}", flush=True)
        section()
    print("DONE")
