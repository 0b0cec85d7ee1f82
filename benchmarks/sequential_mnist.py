"""Row-by-row sequential MNIST: each image as 28 steps of 28 pixels, classified by an LSTM(128), a GRU(128) or a
Transformer encoder (examples/transformer_encoder.py), on the full MNIST. Prints the test accuracy after each
epoch and the seconds per epoch (issue 17's results: LSTM and GRU >= 98.5%, a 2-block Transformer >= 97.5%).

    NEURONA_DATA_DIR=../shared/data python benchmarks/sequential_mnist.py --model lstm --epochs 10
    NEURONA_DATA_DIR=../shared/data python benchmarks/sequential_mnist.py --model transformer --blocks 2

Adam (learning rate 1e-3), batch 128, softmax cross-entropy, pixels scaled to [0, 1], one seed.
"""

import argparse
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "examples"))
import transformer_encoder  # noqa: E402  (examples/transformer_encoder.py)

import neurona as nr  # noqa: E402
from neurona import datasets, layers, models  # noqa: E402


def build(name, blocks):
    if name == "transformer":
        return transformer_encoder.build_model(blocks=blocks)
    recurrent = {"lstm": layers.LSTM, "gru": layers.GRU}[name]
    return models.Sequential([layers.Input((28, 28)), recurrent(128), layers.Dense(10, activation="softmax")])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=("lstm", "gru", "transformer"), default="lstm")
    parser.add_argument("--blocks", type=int, default=2, help="Transformer encoder blocks (default 2)")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    (x_train, y_train), (x_test, y_test) = datasets.mnist.load_data(source="full")
    x_train, x_test = x_train.astype("float32") / 255.0, x_test.astype("float32") / 255.0
    nr.seed(args.seed)
    model = build(args.model, args.blocks)
    model.compile(optimizer=nr.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    print(f"{args.model}{f' ({args.blocks} blocks)' if args.model == 'transformer' else ''}: "
          f"{model.count_params():,} weights, full MNIST as 28 steps of 28 pixels, Adam 1e-3, batch 128")
    seconds = []
    for epoch in range(args.epochs):
        start = time.perf_counter()
        model.fit(x_train, y_train, batch_size=128, epochs=1, verbose=0)
        seconds.append(time.perf_counter() - start)
        _, accuracy = model.evaluate(x_test, y_test, batch_size=500, verbose=0)
        print(f"epoch {epoch + 1}: test accuracy {accuracy:.4f}  ({seconds[-1]:.1f} s training)", flush=True)
    median = sorted(seconds)[len(seconds) // 2]
    print(f"final test accuracy {accuracy:.4f} after {args.epochs} epochs; median {median:.1f} s per epoch")


if __name__ == "__main__":
    main()
