"""The Sequential model, the way Keras's guide walks through it.

A list of layers or add() one at a time, pop(), an explicit Input, summary(), deferred building, features taken
from every layer of a Sequential, and the transfer-learning habit of freezing all layers but the last.
Prints ``CHECK name: value`` lines that the port test compares between Keras and Neurona.
"""

import keras
import numpy as np
from keras import layers


def check(name, value):
    print(f"CHECK {name}: {value}", flush=True)


def stack_from_a_list():
    model = keras.Sequential(
        [
            layers.Dense(6, activation="relu", name="first"),
            layers.Dense(5, activation="relu", name="second"),
            layers.Dense(3, name="third"),
        ]
    )
    y = model(np.ones((4, 7), dtype="float32"))
    check("list_output_shape", tuple(y.shape))
    check("list_weights", len(model.weights))
    check("list_layer_names", [layer.name for layer in model.layers])
    # the same computation written out layer by layer
    first, second, third = model.layers
    z = third(second(first(np.ones((4, 7), dtype="float32"))))
    check("list_equals_chain", bool(np.allclose(keras.ops.convert_to_numpy(y), keras.ops.convert_to_numpy(z))))


def add_and_pop():
    model = keras.Sequential()
    model.add(keras.Input(shape=(5,)))
    model.add(layers.Dense(8, activation="relu"))
    model.add(layers.Dense(4, activation="relu"))
    model.add(layers.Dense(2))
    check("layers_after_add", len(model.layers))
    model.pop()
    check("layers_after_pop", len(model.layers))
    model.summary()
    check("params_after_pop", model.count_params())  # 5*8+8 + 8*4+4


def deferred_build():
    model = keras.Sequential([layers.Dense(3, activation="relu"), layers.Dense(2)])
    check("weights_before_build", len(model.weights))
    model.build((None, 4))
    check("weights_after_build", len(model.weights))
    check("kernel_shapes", [tuple(w.shape) for w in model.weights if len(w.shape) == 2])


def conv_stack_with_summary():
    model = keras.Sequential()
    model.add(keras.Input(shape=(32, 32, 3)))
    model.add(layers.Conv2D(8, 5, strides=2, activation="relu"))
    model.add(layers.Conv2D(8, 3, activation="relu"))
    model.add(layers.MaxPooling2D(3))
    check("conv_output_shape", tuple(model.layers[-1].output.shape))
    model.add(layers.Conv2D(8, 3, activation="relu", padding="same"))
    model.add(layers.GlobalMaxPooling2D())
    model.add(layers.Dense(10))
    model.summary()
    check("conv_params", model.count_params())


def feature_extraction():
    initial_model = keras.Sequential(
        [
            keras.Input(shape=(24, 24, 3)),
            layers.Conv2D(4, 3, strides=2, activation="relu"),
            layers.Conv2D(6, 3, strides=2, activation="relu", name="middle"),
            layers.Conv2D(8, 3, activation="relu"),
        ]
    )
    extractor = keras.Model(
        inputs=initial_model.inputs,
        outputs=[layer.output for layer in initial_model.layers],
    )
    x = np.random.default_rng(0).normal(size=(2, 24, 24, 3)).astype("float32")
    features = extractor(x)
    check("feature_shapes", [tuple(f.shape) for f in features])
    last = keras.ops.convert_to_numpy(features[-1])
    check("features_match_model", bool(np.allclose(last, keras.ops.convert_to_numpy(initial_model(x)), atol=1e-5)))
    middle = keras.Model(inputs=initial_model.inputs, outputs=initial_model.get_layer(name="middle").output)
    check("middle_shape", tuple(middle(x).shape))


def freeze_all_but_last():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 16)).astype("float32")
    y = rng.integers(0, 4, size=(64,))
    model = keras.Sequential(
        [
            keras.Input(shape=(16,)),
            layers.Dense(12, activation="relu"),
            layers.Dense(12, activation="relu"),
            layers.Dense(4),
        ]
    )
    for layer in model.layers[:-1]:
        layer.trainable = False
    check("frozen_trainable_weights", len(model.trainable_weights))
    check("frozen_non_trainable_weights", len(model.non_trainable_weights))
    before = [w.copy() for w in model.get_weights()]
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    after = model.get_weights()
    unchanged = [bool(np.array_equal(b, a)) for b, a in zip(before, after)]
    check("weights_unchanged", unchanged)

    # a frozen base stacked under a new head
    base = keras.Sequential([keras.Input(shape=(16,)), layers.Dense(8, activation="relu")])
    base.trainable = False
    stacked = keras.Sequential([base, layers.Dense(3)])
    check("stacked_trainable_weights", len(stacked.trainable_weights))
    check("stacked_output_shape", tuple(stacked(x[:5]).shape))


SECTIONS = [
    stack_from_a_list,
    add_and_pop,
    deferred_build,
    conv_stack_with_summary,
    feature_extraction,
    freeze_all_but_last,
]

if __name__ == "__main__":
    for section in SECTIONS:
        print(f"SECTION {section.__name__}", flush=True)
        section()
    print("DONE")
