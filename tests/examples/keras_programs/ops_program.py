"""A program written against keras.ops: custom layers whose call is made of ops functions.

A self-attention layer (matmul, reshape, einsum, where, softmax, tril), a layer normalization written with mean
and std, a pooling head with expand_dims/concatenate/max/mean, each checked against the same math in numpy; a
tour of other ops functions; ops applied to keras.Input tensors; everything trained with fit on a toy sequence
task. Also keras.utils.set_random_seed, keras.config.floatx() and keras.random.
Prints ``CHECK name: value`` lines that the port test compares between Keras and Neurona.
"""

import keras
import numpy as np
from keras import layers, ops


def check(name, value):
    print(f"CHECK {name}: {value}", flush=True)


class CausalSelfAttention(layers.Layer):
    """softmax(q k^T / sqrt(d) masked to the past) v, with num_heads heads of size key_dim."""

    def __init__(self, num_heads=2, key_dim=4, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = num_heads
        self.key_dim = key_dim

    def build(self, input_shape):
        width = input_shape[-1]
        inner = self.num_heads * self.key_dim
        self.wq = self.add_weight(shape=(width, inner), initializer="glorot_uniform", name="wq")
        self.wk = self.add_weight(shape=(width, inner), initializer="glorot_uniform", name="wk")
        self.wv = self.add_weight(shape=(width, inner), initializer="glorot_uniform", name="wv")
        self.wo = self.add_weight(shape=(inner, width), initializer="glorot_uniform", name="wo")

    def _heads(self, x):
        batch, steps = ops.shape(x)[0], ops.shape(x)[1]
        return ops.reshape(x, (batch, steps, self.num_heads, self.key_dim))

    def call(self, x):
        q = self._heads(ops.matmul(x, self.wq))
        k = self._heads(ops.matmul(x, self.wk))
        v = self._heads(ops.matmul(x, self.wv))
        scores = ops.einsum("bqhd,bkhd->bhqk", q, k) / ops.sqrt(ops.cast(self.key_dim, keras.config.floatx()))
        steps = ops.shape(x)[1]
        causal = ops.cast(ops.tril(ops.ones((steps, steps))), "bool")
        scores = ops.where(causal, scores, ops.full_like(scores, -1e9))
        weights = ops.softmax(scores, axis=-1)
        mixed = ops.einsum("bhqk,bkhd->bqhd", weights, v)
        batch = ops.shape(x)[0]
        mixed = ops.reshape(mixed, (batch, steps, self.num_heads * self.key_dim))
        return ops.matmul(mixed, self.wo)


class SimpleLayerNorm(layers.Layer):
    """(x - mean) / (std + eps) * gamma + beta over the last axis."""

    def __init__(self, epsilon=1e-3, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = epsilon

    def build(self, input_shape):
        self.gamma = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="gamma")
        self.beta = self.add_weight(shape=(input_shape[-1],), initializer="zeros", name="beta")

    def call(self, x):
        mean = ops.mean(x, axis=-1, keepdims=True)
        std = ops.std(x, axis=-1, keepdims=True)
        return (x - mean) / (std + self.epsilon) * self.gamma + self.beta


class MeanMaxPool(layers.Layer):
    """Concatenates the mean and the max over time, plus the last step's features."""

    def call(self, x):
        last = ops.expand_dims(x[:, -1, :], axis=1)
        pooled = ops.concatenate(
            [ops.expand_dims(ops.mean(x, axis=1), 1), ops.expand_dims(ops.max(x, axis=1), 1), last], axis=1
        )
        return ops.reshape(pooled, (ops.shape(x)[0], -1))


def numpy_attention(x, wq, wk, wv, wo, heads, key_dim):
    b, t, _ = x.shape
    q = (x @ wq).reshape(b, t, heads, key_dim)
    k = (x @ wk).reshape(b, t, heads, key_dim)
    v = (x @ wv).reshape(b, t, heads, key_dim)
    scores = np.einsum("bqhd,bkhd->bhqk", q, k) / np.sqrt(key_dim)
    scores = np.where(np.tril(np.ones((t, t), dtype=bool)), scores, -1e9)
    scores = scores - scores.max(axis=-1, keepdims=True)
    weights = np.exp(scores) / np.exp(scores).sum(axis=-1, keepdims=True)
    mixed = np.einsum("bhqk,bkhd->bqhd", weights, v).reshape(b, t, heads * key_dim)
    return mixed @ wo


def config_and_seeds():
    check("floatx", keras.config.floatx())
    keras.utils.set_random_seed(42)
    first = keras.Sequential([keras.Input((5,)), layers.Dense(3)]).get_weights()[0]
    keras.utils.set_random_seed(42)
    second = keras.Sequential([keras.Input((5,)), layers.Dense(3)]).get_weights()[0]
    check("set_random_seed_repeats_init", bool(np.array_equal(first, second)))
    generator = keras.random.SeedGenerator(7)
    a = ops.convert_to_numpy(keras.random.normal((1000,), seed=generator))
    b = ops.convert_to_numpy(keras.random.normal((1000,), seed=generator))
    check("seed_generator_draws_differ", not np.array_equal(a, b))
    check("normal_moments", bool(abs(a.mean()) < 0.15 and abs(a.std() - 1) < 0.1))
    u = ops.convert_to_numpy(keras.random.uniform((1000,), minval=2.0, maxval=3.0, seed=3))
    check("uniform_range", bool(u.min() >= 2.0 and u.max() < 3.0))
    check("uniform_dtype", str(u.dtype))


def layers_match_numpy():
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(2, 5, 6)).astype("float32")
    attention = CausalSelfAttention(num_heads=2, key_dim=3)
    got = ops.convert_to_numpy(attention(x))
    check("attention_shape", got.shape)
    wq, wk, wv, wo = attention.get_weights()
    expected = numpy_attention(x.astype("float64"), wq, wk, wv, wo, 2, 3)
    check("attention_matches_numpy", bool(np.allclose(got, expected, atol=1e-5)))
    # causality: changing the last step leaves the earlier outputs alone
    changed = x.copy()
    changed[:, -1] += 10.0
    again = ops.convert_to_numpy(attention(changed))
    check("attention_is_causal", bool(np.allclose(again[:, :-1], got[:, :-1], atol=1e-5)))

    norm = SimpleLayerNorm()
    normed = ops.convert_to_numpy(norm(x))
    by_hand = (x - x.mean(-1, keepdims=True)) / (x.std(-1, keepdims=True) + 1e-3)
    check("layernorm_matches_numpy", bool(np.allclose(normed, by_hand, atol=1e-5)))

    pooled = ops.convert_to_numpy(MeanMaxPool()(x))
    by_hand = np.concatenate([x.mean(1), x.max(1), x[:, -1]], axis=-1)
    check("pool_matches_numpy", bool(np.allclose(pooled, by_hand, atol=1e-6)))


def assorted_ops():
    x = ops.convert_to_tensor(np.array([[1.0, -2.0, 3.0], [-4.0, 5.0, -6.0]], dtype="float32"))
    check("argmax", ops.convert_to_numpy(ops.argmax(x, axis=-1)).tolist())
    check("clip", ops.convert_to_numpy(ops.clip(x, -1.0, 1.0)).tolist())
    check("one_hot", ops.convert_to_numpy(ops.one_hot(ops.convert_to_tensor([0, 2]), 3)).tolist())
    check("stack_shape", tuple(ops.stack([x, x], axis=0).shape))
    check("transpose_shape", tuple(ops.transpose(x).shape))
    check("sum_keepdims", ops.convert_to_numpy(ops.sum(x, axis=1, keepdims=True)).tolist())
    check("where_relu", bool(np.array_equal(ops.convert_to_numpy(ops.where(x > 0, x, 0.0)),
                                            ops.convert_to_numpy(ops.relu(x)))))
    check("logsumexp", round(float(ops.convert_to_numpy(ops.logsumexp(x))), 5))
    check("arange", ops.convert_to_numpy(ops.arange(0, 6, 2)).tolist())
    check("dtype_of_cast", str(ops.convert_to_numpy(ops.cast(x, "int32")).dtype))
    check("split", [tuple(part.shape) for part in ops.split(x, 3, axis=1)])
    check("take", ops.convert_to_numpy(ops.take(x, ops.convert_to_tensor([2, 0]), axis=1)).tolist())
    values, indices = ops.top_k(x, k=2)
    check("top_k", (ops.convert_to_numpy(values).tolist(), ops.convert_to_numpy(indices).tolist()))
    check("pad_shape", tuple(ops.pad(x, [[1, 1], [0, 2]]).shape))
    check("tile_repeat_shapes", (tuple(ops.tile(x, (2, 1)).shape), tuple(ops.repeat(x, 2, axis=1).shape)))
    check("sort", ops.convert_to_numpy(ops.sort(x, axis=-1)).tolist())
    check("cumsum", ops.convert_to_numpy(ops.cumsum(x, axis=1)).tolist())
    check("squeeze_shape", tuple(ops.squeeze(ops.expand_dims(x, 0), axis=0).shape))
    log_probs = ops.convert_to_numpy(ops.log_softmax(x, axis=-1))
    check("log_softmax_normalized", bool(np.allclose(np.exp(log_probs).sum(-1), 1.0, atol=1e-6)))
    check("var", [round(float(v), 4) for v in ops.convert_to_numpy(ops.var(x, axis=1))])
    check("maximum_minimum", (ops.convert_to_numpy(ops.maximum(x, 0.0)).sum().item(),
                              ops.convert_to_numpy(ops.minimum(x, 0.0)).sum().item()))
    gelu = ops.convert_to_numpy(ops.gelu(x, approximate=False))
    erf_form = 0.5 * ops.convert_to_numpy(x) * (1 + ops.convert_to_numpy(ops.erf(x / np.sqrt(2.0))))
    check("gelu_is_erf_form", bool(np.allclose(gelu, erf_form, atol=1e-5)))
    check("sigmoid_at_zero", float(ops.convert_to_numpy(ops.sigmoid(ops.zeros(())))))


def symbolic_ops():
    """keras.ops applied straight to keras.Input tensors build a functional model."""
    inputs = keras.Input(shape=(4, 3))
    channel_mean = ops.expand_dims(ops.mean(inputs, axis=-1), -1)
    h = ops.concatenate([inputs, channel_mean], axis=-1)
    h = ops.reshape(h, (-1, 16))
    outputs = ops.softmax(layers.Dense(2)(h), axis=-1)
    model = keras.Model(inputs, outputs)
    check("symbolic_shapes", (tuple(channel_mean.shape), tuple(h.shape), tuple(outputs.shape)))
    data = np.random.default_rng(2).normal(size=(3, 4, 3)).astype("float32")
    kernel, bias = model.get_weights()
    flat = np.concatenate([data, data.mean(-1, keepdims=True)], axis=-1).reshape(3, 16)
    logits = flat @ kernel + bias
    expected = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    check("symbolic_matches_numpy", bool(np.allclose(ops.convert_to_numpy(model(data)), expected, atol=1e-5)))


def train_on_sequences():
    keras.utils.set_random_seed(1)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(400, 8, 6)).astype("float32")
    y = (x[:, :, 0].mean(axis=1) > 0).astype("int32")  # is the first channel positive on average?
    inputs = keras.Input(shape=(8, 6))
    h = layers.Dense(16)(inputs)
    h = h + CausalSelfAttention(num_heads=2, key_dim=4)(h)
    h = SimpleLayerNorm()(h)
    h = MeanMaxPool()(h)
    outputs = layers.Dense(2, activation="softmax")(h)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x[:300], y[:300], batch_size=32, epochs=8, verbose=0)
    check("ops_history_keys", sorted(history.history))
    check("ops_test_accuracy", round(float(model.evaluate(x[300:], y[300:], verbose=0)[1]), 4))
    check("ops_weights", len(model.trainable_weights))


SECTIONS = [config_and_seeds, layers_match_numpy, assorted_ops, symbolic_ops, train_on_sequences]

if __name__ == "__main__":
    for section in SECTIONS:
        print(f"SECTION {section.__name__}", flush=True)
        section()
    print("DONE")
