"""A Transformer encoder (Vaswani et al. 2017) written with the functional API, on row-by-row MNIST.

Each image is a sequence of 28 rows of 28 pixels. A Dense layer projects every row to ``width`` features and a
learned position embedding is added (``PositionEmbedding`` below: attention itself ignores order); then
``blocks`` encoder blocks, each multi-head self-attention and a two-layer feed-forward network, both with a
residual connection and layer normalization (the post-norm layout of the paper); then the mean over the rows
and a softmax classifier.

    python examples/transformer_encoder.py [--blocks 2] [--epochs 10] [--data full|embedded]

With ``--data full`` (the full MNIST, ``NEURONA_DATA_DIR`` or ~/.keras/datasets) it reports the test accuracy and
the seconds per epoch; the embedded subset (the default) is for a quick try.
"""

import argparse
import time

import neurona as nr
from neurona import datasets, layers, models, ops


@layers.register
class PositionEmbedding(layers.Layer):
    """``x + P[:steps]``: a learned vector per position, added to the ``(batch, steps, width)`` input."""

    def __init__(self, steps, width, **kwargs):
        super().__init__(**kwargs)
        self.steps, self.width = int(steps), int(width)
        self.positions = layers.Embedding(self.steps, self.width, embeddings_initializer="glorot_uniform")

    def build(self, input_shape):  # the table exists before a first call (a reloaded model needs it)
        self.positions.build_for((self.steps,))

    def call(self, x):
        if x.shape[1] > self.steps:
            raise ValueError(f"PositionEmbedding has {self.steps} positions, got sequences of {x.shape[1]} steps")
        return x + self.positions(ops.arange(x.shape[1]))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "steps": self.steps, "width": self.width}


def encoder_block(x, heads, width, hidden, dropout):
    """Self-attention then a feed-forward network, each added back to its input and layer-normalized."""
    attended = layers.MultiHeadAttention(num_heads=heads, key_dim=width // heads, dropout=dropout)(x, x)
    x = layers.LayerNormalization(epsilon=1e-6)(x + layers.Dropout(dropout)(attended))
    expanded = layers.Dense(hidden, activation="relu")(x)
    return layers.LayerNormalization(epsilon=1e-6)(x + layers.Dropout(dropout)(layers.Dense(width)(expanded)))


def build_model(steps=28, features=28, width=64, heads=4, hidden=128, blocks=2, dropout=0.1, classes=10):
    inputs = nr.Input((steps, features))
    x = PositionEmbedding(steps, width)(layers.Dense(width)(inputs))
    for _ in range(blocks):
        x = encoder_block(x, heads, width, hidden, dropout)
    outputs = layers.Dense(classes, activation="softmax")(layers.GlobalAveragePooling1D()(x))
    return models.Model(inputs, outputs, name="transformer_encoder")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--blocks", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--data", choices=("full", "embedded"), default="embedded")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    (x_train, y_train), (x_test, y_test) = datasets.mnist.load_data(source=args.data)
    x_train, x_test = x_train.astype("float32") / 255.0, x_test.astype("float32") / 255.0
    nr.seed(args.seed)
    model = build_model(blocks=args.blocks)
    model.compile(optimizer=nr.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.summary()
    start = time.perf_counter()
    model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs, validation_split=0.1, verbose=2)
    seconds = (time.perf_counter() - start) / args.epochs
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test accuracy {accuracy:.4f} after {args.epochs} epochs ({seconds:.1f} s per epoch, {args.blocks} "
          f"blocks)")
    return accuracy


if __name__ == "__main__":
    main()
