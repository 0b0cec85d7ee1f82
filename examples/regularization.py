"""Does regularization reduce overfitting? An over-parameterized network on a small MNIST training set.

A 784-1024-1024-10 ReLU network (1.9 million weights) is trained on only ``--train`` images (2,000 by default)
for ``--epochs`` epochs with Adam, once per variant and seed:

- baseline; + Dropout(0.5) after each hidden layer; + L2(1e-4) on every kernel; + BatchNormalization before
  each ReLU; + EarlyStopping(patience 5, best weights restored); all four together;
- the two claims made for batch normalization: a 10x higher learning rate (Adam 1e-2) without and with it,
  and a poor initialization (RandomNormal with stddev 1.0) without and with it.

For each it reports the final training accuracy, the validation accuracy (10,000 held-out training images),
the gap between them, and the test accuracy of the final (or restored) weights, as mean +- std over seeds.

    NEURONA_DATA_DIR=../shared/data python examples/regularization.py [--seeds 0 1 2] [--output docs/regularization.md]
"""

import argparse
import statistics
import sys
import time

import numpy as np

import neurona as nr
from neurona import callbacks, datasets, initializers, layers, models, optimizers, regularizers, utils

HIDDEN = (1024, 1024)  # over-parameterized for 2,000 training images


def build(dropout=False, l2=False, batchnorm=False, lr=1e-3, init="he_normal"):
    """The over-parameterized MLP with the chosen regularizers."""
    model = models.Sequential([layers.Input((784,))])
    for units in HIDDEN:
        model.add(layers.Dense(units, kernel_initializer=initializers.get(init),
                               kernel_regularizer=regularizers.L2(1e-4) if l2 else None))
        if batchnorm:
            model.add(layers.BatchNormalization())
        model.add(layers.Activation("relu"))
        if dropout:
            model.add(layers.Dropout(0.5))
    model.add(layers.Dense(10, activation="softmax",
                           kernel_regularizer=regularizers.L2(1e-4) if l2 else None))
    model.compile(optimizer=optimizers.Adam(lr), loss="categorical_crossentropy", metrics=["accuracy"])
    return model


VARIANTS = [
    ("baseline", {}, False),
    ("dropout 0.5", {"dropout": True}, False),
    ("L2 1e-4", {"l2": True}, False),
    ("batch norm", {"batchnorm": True}, False),
    ("early stopping", {}, True),
    ("all four", {"dropout": True, "l2": True, "batchnorm": True}, True),
    ("lr 1e-2, no batch norm", {"lr": 1e-2}, False),
    ("lr 1e-2, batch norm", {"lr": 1e-2, "batchnorm": True}, False),
    ("init N(0, 1), no batch norm", {"init": {"class_name": "RandomNormal", "config": {"stddev": 1.0}}}, False),
    ("init N(0, 1), batch norm", {"init": {"class_name": "RandomNormal", "config": {"stddev": 1.0}},
                                  "batchnorm": True}, False),
]


def load(n_train, n_val):
    (x, y), (x_test, y_test) = datasets.mnist.load_data()
    x = datasets.preprocessing.flatten_images(datasets.preprocessing.scale_pixels(x))
    x_test = datasets.preprocessing.flatten_images(datasets.preprocessing.scale_pixels(x_test))
    if n_train + n_val > len(x):
        raise SystemExit(f"need {n_train + n_val} training images, the data set has {len(x)}")
    y1 = utils.to_categorical(y, 10)
    return (x[:n_train], y1[:n_train]), (x[-n_val:], y1[-n_val:]), (x_test, utils.to_categorical(y_test, 10))


def run(variant, seed, data, epochs, batch_size):
    name, kwargs, early = variant
    (x, y), (xv, yv), (xt, yt) = data
    nr.seed(seed)
    model = build(**kwargs)
    cbs = [callbacks.EarlyStopping(monitor="val_accuracy", patience=5, restore_best_weights=True)] if early else []
    history = model.fit(x, y, batch_size=batch_size, epochs=epochs, validation_data=(xv, yv), callbacks=cbs,
                        verbose=0).history
    train_acc = model.evaluate(x, y, batch_size=1000, verbose=0, return_dict=True)["accuracy"]
    val_acc = model.evaluate(xv, yv, batch_size=1000, verbose=0, return_dict=True)["accuracy"]
    test_acc = model.evaluate(xt, yt, batch_size=1000, verbose=0, return_dict=True)["accuracy"]
    return {"train": train_acc, "val": val_acc, "gap": train_acc - val_acc, "test": test_acc,
            "best val": max(history["val_accuracy"]), "epochs": len(history["loss"])}


def _cell(values, percent=True):
    scale = 100 if percent else 1
    mean = statistics.mean(values) * scale
    std = statistics.pstdev(values) * scale if len(values) > 1 else 0.0
    return f"{mean:.1f} ± {std:.1f}" if percent else f"{mean:.0f}"


def table(results):
    keys = ["train", "val", "gap", "best val", "test", "epochs"]
    lines = ["| variant | train acc % | val acc % | gap (train - val) | best val acc % | test acc % | epochs |",
             "|---|---|---|---|---|---|---|"]
    for name, runs in results.items():
        cells = [_cell([r[k] for r in runs], percent=k != "epochs") for k in keys]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--train", type=int, default=2000)
    parser.add_argument("--val", type=int, default=10000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--variants", nargs="*", default=None, help="run only these variant names")
    parser.add_argument("--output", default=None, help="also write the table (markdown) to this file")
    args = parser.parse_args(argv)
    data = load(args.train, args.val)
    chosen = [v for v in VARIANTS if args.variants is None or v[0] in args.variants]
    results, start = {}, time.perf_counter()
    for variant in chosen:
        results[variant[0]] = [run(variant, seed, data, args.epochs, args.batch_size) for seed in args.seeds]
        last = results[variant[0]]
        print(f"{variant[0]:30s} train {np.mean([r['train'] for r in last]):.3f}  "
              f"val {np.mean([r['val'] for r in last]):.3f}  test {np.mean([r['test'] for r in last]):.3f}",
              flush=True)
    text = table(results)
    print("\n" + text)
    if args.output:
        command = "NEURONA_DATA_DIR=../shared/data python examples/regularization.py " + " ".join(argv or sys.argv[1:])
        header = (f"Training set {args.train} images, validation {args.val}, {args.epochs} epochs at most, batch "
                  f"{args.batch_size}, seeds {args.seeds}; mean ± std over seeds ({time.perf_counter() - start:.0f} s)")
        with open(args.output, "w") as f:
            f.write(f"# Regularization on a small MNIST training set\n\nCommand: `{command}`\n\n{header}\n\n{text}\n")
    return results


if __name__ == "__main__":
    main()
