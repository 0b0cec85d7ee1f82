"""Making new layers and models via subclassing, after Keras's guide.

A Linear layer with add_weight (weights made in __init__, then deferred to build), a layer with a non-trainable
weight it updates with assign_add, layers of layers, add_loss (reset at each call; kernel regularizers counted
too), get_config/from_config, a privileged training argument (dropout through keras.random with a SeedGenerator),
a Model subclass trained with fit, and a variational autoencoder whose Sampling layer draws with
keras.random.normal and whose KL term goes through add_loss.
Prints ``CHECK name: value`` lines that the port test compares between Keras and Neurona.
"""

import keras
import numpy as np
from keras import layers, ops


def check(name, value):
    print(f"CHECK {name}: {value}", flush=True)


def to_numpy(x):
    return ops.convert_to_numpy(x)


class Linear(layers.Layer):
    """y = x w + b, with both weights created up front."""

    def __init__(self, units=32, input_dim=32):
        super().__init__()
        self.w = self.add_weight(shape=(input_dim, units), initializer="random_normal", trainable=True)
        self.b = self.add_weight(shape=(units,), initializer="zeros", trainable=True)

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b


def linear_layer():
    x = np.ones((2, 2), dtype="float32")
    linear = Linear(4, 2)
    y = to_numpy(linear(x))
    check("linear_output_shape", y.shape)
    check("linear_weights_are_w_b", len(linear.weights) == 2 and linear.weights[0] is linear.w)
    w, b = linear.get_weights()
    check("linear_matches_numpy", bool(np.allclose(y, x @ w + b, atol=1e-6)))


class ComputeSum(layers.Layer):
    """Keeps a running column sum of everything it has seen in a non-trainable weight."""

    def __init__(self, input_dim):
        super().__init__()
        self.total = self.add_weight(initializer="zeros", shape=(input_dim,), trainable=False)

    def call(self, inputs):
        self.total.assign_add(ops.sum(inputs, axis=0))
        return self.total


def non_trainable_weight():
    x = np.ones((2, 2), dtype="float32")
    my_sum = ComputeSum(2)
    check("sum_after_one_call", to_numpy(my_sum(x)).tolist())
    check("sum_after_two_calls", to_numpy(my_sum(x)).tolist())
    check("sum_weight_counts", (len(my_sum.weights), len(my_sum.non_trainable_weights), len(my_sum.trainable_weights)))


class LazyLinear(layers.Layer):
    """The same Linear, with weights created once the input size is known."""

    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal", trainable=True)
        self.b = self.add_weight(shape=(self.units,), initializer="random_normal", trainable=True)

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b

    def get_config(self):
        return {"units": self.units}


def deferred_build_and_config():
    linear = LazyLinear(32)
    check("lazy_weights_before_call", len(linear.weights))
    y = linear(np.ones((2, 7), dtype="float32"))
    check("lazy_kernel_shape", tuple(linear.w.shape))
    check("lazy_output_shape", tuple(y.shape))
    config = linear.get_config()
    clone = LazyLinear.from_config(config)
    check("lazy_config", config)
    check("lazy_clone_units", clone.units)


class MLPBlock(layers.Layer):
    def __init__(self):
        super().__init__()
        self.linear_1 = LazyLinear(32)
        self.linear_2 = LazyLinear(32)
        self.linear_3 = LazyLinear(1)

    def call(self, inputs):
        x = self.linear_1(inputs)
        x = ops.relu(x)
        x = self.linear_2(x)
        x = ops.relu(x)
        return self.linear_3(x)


def layers_of_layers():
    mlp = MLPBlock()
    y = mlp(ops.ones(shape=(3, 64)))
    check("mlp_output_shape", tuple(y.shape))
    check("mlp_weights", len(mlp.weights))
    check("mlp_trainable_weights", len(mlp.trainable_weights))


class ActivityRegularizationLayer(layers.Layer):
    def __init__(self, rate=1e-2):
        super().__init__()
        self.rate = rate

    def call(self, inputs):
        self.add_loss(self.rate * ops.mean(inputs))
        return inputs


class OuterLayer(layers.Layer):
    def __init__(self):
        super().__init__()
        self.activity_reg = ActivityRegularizationLayer(1e-2)

    def call(self, inputs):
        return self.activity_reg(inputs)


class OuterLayerWithKernelRegularizer(layers.Layer):
    def __init__(self):
        super().__init__()
        self.dense = layers.Dense(32, kernel_regularizer=keras.regularizers.l2(1e-3))

    def call(self, inputs):
        return self.dense(inputs)


def layer_losses():
    layer = OuterLayer()
    check("losses_before_call", len(layer.losses))
    _ = layer(ops.zeros((1, 1)))
    check("losses_after_call", len(layer.losses))
    _ = layer(ops.zeros((1, 1)))
    check("losses_reset_each_call", len(layer.losses))
    x = np.full((2, 3), 4.0, dtype="float32")
    _ = layer(x)
    check("activity_loss_value", round(float(to_numpy(layer.losses[0])), 6))

    layer = OuterLayerWithKernelRegularizer()
    _ = layer(ops.zeros((1, 1)))
    kernel = layer.dense.get_weights()[0]
    check("kernel_penalty_count", len(layer.losses))
    check("kernel_penalty_matches", bool(np.isclose(float(to_numpy(layer.losses[0])), 1e-3 * np.sum(kernel**2))))

    # a functional model trained with the layer's loss added to the compiled one
    inputs = keras.Input(shape=(3,))
    outputs = ActivityRegularizationLayer()(layers.Dense(1)(inputs))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(0)
    history = model.fit(rng.random((16, 3)), rng.random((16, 1)), verbose=0)
    check("add_loss_fit_finite", bool(np.isfinite(history.history["loss"][0])))


class CustomDropout(layers.Layer):
    def __init__(self, rate, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs, training=None):
        if training:
            return keras.random.dropout(inputs, rate=self.rate, seed=self.seed_generator)
        return inputs


def training_argument():
    drop = CustomDropout(0.5)
    x = np.ones((100, 100), dtype="float32")
    check("dropout_inference_identity", bool(np.array_equal(to_numpy(drop(x)), x)))
    dropped = to_numpy(drop(x, training=True))
    kept = dropped != 0
    check("dropout_kept_fraction_near_half", bool(abs(kept.mean() - 0.5) < 0.05))
    check("dropout_kept_scaled", bool(np.allclose(dropped[kept], 2.0)))
    again = to_numpy(drop(x, training=True))
    check("dropout_seed_generator_advances", not np.array_equal(again, dropped))


class SmallClassifier(keras.Model):
    def __init__(self, num_classes=3, **kwargs):
        super().__init__(**kwargs)
        self.hidden = layers.Dense(16, activation="relu")
        self.dropout = layers.Dropout(0.1)
        self.out = layers.Dense(num_classes)

    def call(self, inputs, training=False):
        return self.out(self.dropout(self.hidden(inputs), training=training))


def model_subclass_fit():
    keras.utils.set_random_seed(1)
    rng = np.random.default_rng(1)
    centers = rng.normal(size=(3, 6)) * 3
    labels = rng.integers(0, 3, size=300)
    x = (centers[labels] + rng.normal(size=(300, 6))).astype("float32")
    model = SmallClassifier()
    model.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    history = model.fit(x, labels, batch_size=32, epochs=5, verbose=0)
    check("subclass_history_keys", sorted(history.history))
    check("subclass_accuracy", round(float(model.evaluate(x, labels, verbose=0)[1]), 4))
    check("subclass_weights", len(model.weights))
    check("subclass_sublayers", sorted(type(layer).__name__ for layer in model.layers))


class Sampling(layers.Layer):
    """z = mean + exp(log_var / 2) * eps, eps ~ N(0, I)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        batch = ops.shape(z_mean)[0]
        dim = ops.shape(z_mean)[1]
        epsilon = keras.random.normal(shape=(batch, dim), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon


class Encoder(layers.Layer):
    def __init__(self, latent_dim=4, intermediate_dim=32, name="encoder", **kwargs):
        super().__init__(name=name, **kwargs)
        self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
        self.dense_mean = layers.Dense(latent_dim)
        self.dense_log_var = layers.Dense(latent_dim)
        self.sampling = Sampling()

    def call(self, inputs):
        x = self.dense_proj(inputs)
        z_mean = self.dense_mean(x)
        z_log_var = self.dense_log_var(x)
        return z_mean, z_log_var, self.sampling((z_mean, z_log_var))


class Decoder(layers.Layer):
    def __init__(self, original_dim, intermediate_dim=32, name="decoder", **kwargs):
        super().__init__(name=name, **kwargs)
        self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
        self.dense_output = layers.Dense(original_dim, activation="sigmoid")

    def call(self, inputs):
        return self.dense_output(self.dense_proj(inputs))


class VariationalAutoEncoder(keras.Model):
    def __init__(self, original_dim, intermediate_dim=32, latent_dim=4, name="autoencoder", **kwargs):
        super().__init__(name=name, **kwargs)
        self.original_dim = original_dim
        self.encoder = Encoder(latent_dim=latent_dim, intermediate_dim=intermediate_dim)
        self.decoder = Decoder(original_dim, intermediate_dim=intermediate_dim)

    def call(self, inputs):
        z_mean, z_log_var, z = self.encoder(inputs)
        reconstructed = self.decoder(z)
        kl_loss = -0.5 * ops.mean(z_log_var - ops.square(z_mean) - ops.exp(z_log_var) + 1)
        self.add_loss(kl_loss)
        return reconstructed


def variational_autoencoder():
    keras.utils.set_random_seed(2)
    rng = np.random.default_rng(2)
    basis = rng.random((3, 64))
    x_train = np.clip(rng.random((512, 3)) @ basis / 1.5, 0, 1).astype("float32")
    vae = VariationalAutoEncoder(64, 32, 4)
    vae.compile(optimizer=keras.optimizers.Adam(learning_rate=3e-3), loss=keras.losses.MeanSquaredError())
    history = vae.fit(x_train, x_train, epochs=4, batch_size=64, verbose=0)
    losses = history.history["loss"]
    check("vae_loss_decreased", bool(losses[-1] < losses[0]))
    check("vae_output_shape", tuple(vae(x_train[:5]).shape))
    check("vae_losses_after_call", len(vae.losses))
    check("vae_weights", len(vae.weights))
    z_mean, z_log_var, z = vae.encoder(x_train[:5])
    check("vae_latent_shapes", [tuple(t.shape) for t in (z_mean, z_log_var, z)])


SECTIONS = [
    linear_layer,
    non_trainable_weight,
    deferred_build_and_config,
    layers_of_layers,
    layer_losses,
    training_argument,
    model_subclass_fit,
    variational_autoencoder,
]

if __name__ == "__main__":
    for section in SECTIONS:
        print(f"SECTION {section.__name__}", flush=True)
        section()
    print("DONE")
