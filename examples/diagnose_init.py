"""What initialization does to a deep network, measured: 20 tanh and 20 ReLU layers under five initializers.

For each activation (tanh, ReLU) and each initializer (zeros, RandomNormal(stddev=0.01), Glorot, He, and
LSUV, the data-dependent one of Mishkin & Matas 2016), a 784-256x20-10 network sees one batch of MNIST
images and ``nr.diagnostics.inspect`` measures it layer by layer: the initializer's theoretical weight std
beside the measured one, pre-activation and activation statistics, saturated and dead units, gradient
scales, and, because these are plain Dense stacks, the pre-activation variance the mean-field recursion
predicts (Poole et al. 2016) beside the measured one. Each report ends with its verdict in plain words.

    NEURONA_DATA_DIR=../shared/data python examples/diagnose_init.py --plot docs/diagnose_init.png \\
        --output docs/diagnose_init.txt

(without the data directory it uses the MNIST subset embedded in the package). ``--summary`` prints only the
one-line-per-network table. The output of that command is in docs/diagnose_init.md.
"""

import argparse
import sys

import neurona as nr
from neurona import datasets, initializers, layers

DEPTH, WIDTH = 20, 256

# name -> the kernel initializer of layer i (a seed per layer: one seeded object shared by every layer would
# draw the same matrix twenty times, which is not a random network)
INITIALIZERS = {
    "zeros": lambda i: initializers.Zeros(),
    "random_normal(0.01)": lambda i: initializers.RandomNormal(stddev=0.01, seed=i),
    "glorot_uniform": lambda i: initializers.GlorotUniform(seed=i),
    "he_normal": lambda i: initializers.HeNormal(seed=i),
    "lsuv": lambda i: "lsuv",
}


def build(activation, init_name, depth=DEPTH, width=WIDTH):
    """``depth`` Dense layers of ``width`` units with ``activation``, then a 10-way linear output."""
    model = nr.Sequential([layers.Input((784,))])
    for i in range(depth):
        init = INITIALIZERS[init_name](i)
        model.add(layers.Dense(width, activation=activation,
                               kernel_initializer="orthogonal" if init == "lsuv" else init))
    model.add(layers.Dense(10, kernel_initializer=initializers.GlorotUniform(seed=depth)))
    return model


def batch(n=256):
    """``n`` training images, pixels scaled to 0-1 as in training, and their labels."""
    (x, y), _ = datasets.mnist.load_data(verbose=False)
    x = x[:n].reshape(n, 784).astype("float32") / 255.0
    return x, y[:n]


def diagnose(activation, init_name, x, y, depth=DEPTH, width=WIDTH):
    model = build(activation, init_name, depth, width)
    if init_name == "lsuv":  # data-dependent: orthonormal draws rescaled until each layer's variance is 1
        nr.initializers.lsuv(model, x, seed=1)
    loss = nr.losses.SparseCategoricalCrossentropy(from_logits=True)
    return nr.diagnostics.inspect(model, x, y, loss=loss, jacobian=False)


def summary_line(activation, init_name, report):
    hidden = [r for r in report.layers if r["layer"] != report.layers[-1]["layer"]]
    last = hidden[-1]
    predicted = last.get("predicted_preactivation_variance")
    ratio = report.network["gradient_ratio"]
    return (f"| {activation} | {init_name} | {_fmt(last.get('preactivation_std'))} | {_fmt(predicted)} | "
            f"{_fmt(last.get('preactivation_second_moment'))} | {_fmt(ratio)} | {report.verdict} |")


def _fmt(value):
    if value is None:
        return "-"
    return f"{value:.3g}" if value == 0 or 1e-3 <= abs(value) < 1e4 else f"{value:.2e}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--depth", type=int, default=DEPTH)
    parser.add_argument("--width", type=int, default=WIDTH)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--summary", action="store_true", help="print only the summary table")
    parser.add_argument("--plot", help="save activation/gradient std versus depth for every network here")
    parser.add_argument("--output", help="also write everything printed to this file")
    args = parser.parse_args(argv)
    x, y = batch(args.batch)
    lines, reports = [], {}
    for activation in ("tanh", "relu"):
        for init_name in INITIALIZERS:
            report = diagnose(activation, init_name, x, y, args.depth, args.width)
            reports[(activation, init_name)] = report
            if not args.summary:
                lines += [f"## {args.depth} x {activation}, {init_name}", "", str(report), ""]
    lines += [f"Last hidden layer of each {args.depth}-layer network ({args.batch} MNIST images):", "",
              "| activation | initializer | pre-activation std | q mean-field | q measured | gradient ratio "
              "first/last | verdict |", "|---|---|---|---|---|---|---|"]
    lines += [summary_line(act, name, report) for (act, name), report in reports.items()]
    text = "\n".join(lines)
    print(text)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
    if args.plot:
        from neurona.diagnostics.plots import plot_comparison  # needs matplotlib: pip install neurona[plot]

        chosen = [(key, rep) for key, rep in reports.items() if key[1] != "zeros"]  # zeros: all std are 0
        plot_comparison([rep for _, rep in chosen], [f"{a}, {n}" for (a, n), _ in chosen], args.plot)
    return reports


if __name__ == "__main__":
    main(sys.argv[1:])
