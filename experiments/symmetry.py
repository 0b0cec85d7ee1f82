"""Symmetry breaking: zeros and constant initialization versus random, on MNIST.

Source: I. Goodfellow, Y. Bengio and A. Courville, 2016, *Deep Learning*, MIT Press, section 8.4 ("Parameter
Initialization Strategies"), and the source articles' first point. The book gives an argument, not a figure or a
table: two hidden units with the same activation, the same inputs and the same initial parameters receive the
same gradient at every step of a deterministic algorithm, so they stay identical for ever; initial parameters must
"break symmetry", which is why weights are drawn at random. What this script reproduces is that argument's
prediction, measured:

- zeros: with ReLU or tanh every hidden activation is act(0) = 0 and every output weight is 0, so no gradient
  reaches any kernel (the output kernel's gradient is h^T delta = 0, the hidden ones are multiplied by the zero
  weights above them): only the output biases move, and they learn the class priors. Expected test accuracy:
  the share of the most frequent training class in the test set (measured from the labels, not assumed);
- constant c: every hidden unit of a layer computes the same function for ever, so each hidden layer has one
  distinct unit; the output units get different gradients (each meets its own target) and learn, so the network
  learns what a one-unit-wide network can, and a large c can saturate tanh or kill ReLU at once;
- random (glorot_uniform, he_normal): the units are distinct from the start and the network learns.

What it reports, per activation and initializer: test accuracy at initialization and after every epoch, and
after training the number of distinct units of each hidden layer three ways: Neurona's identical-unit detection
(``neurona.diagnostics.symmetric_units`` with ``rtol=UNIT_RTOL``: weights equal to within 1e-4 of their scale,
a margin for the rounding differences BLAS builds introduce between identical columns), the exact number of
unique columns of [kernel; bias], and the numerical rank of the kernel (``numpy.linalg.matrix_rank``); the
largest absolute difference between any unit's weights and unit 0's (0 means bit-identical); and whether
``fit``'s start-of-training symmetry check warned. A reference row trains the same MLP one unit wide from a
random draw ("@1"), the network a constant initialization is supposed to behave like.

Setup: MLP 784-128-128-10 (Dense, ReLU or tanh, softmax output), the initializer applied to every kernel
(biases zeros, as Keras's default), SGD (learning rate 0.05, momentum 0.9), batch 128, inputs scaled to [0, 1],
sparse categorical cross-entropy; default: full MNIST (60,000 / 10,000), 5 epochs, ReLU and tanh, one seed.
``--full``: 20 epochs, ReLU, tanh and sigmoid, and ``ones`` added. ``--quick``: 1,000 / 500 images, 2 epochs,
ReLU only (for tests). Differences from the book: the book states the argument for any model and deterministic
algorithm; here it is one MLP, one optimizer, one seed, and the claim is checked on the trained weights.

Commands::

    NEURONA_DATA_DIR=/work/shared/data python experiments/symmetry.py          # default, writes docs/lab/
    python experiments/symmetry.py --full
    python experiments/symmetry.py --quick --data embedded --out /tmp/lab
    python experiments/symmetry.py --inits zeros,constant:0.01,he_normal,he_normal@1 --activations tanh
"""

import argparse
import os
import shlex
import sys
import time
import warnings

import numpy

import neurona as nr
from neurona import datasets, diagnostics, initializers, layers, models, optimizers

NAME = "symmetry"
WIDTH = 128
HIDDEN_LAYERS = 2
SIZES = {  # train / test images (None: all), epochs, activations, initializer specs
    "quick": dict(train=1000, test=500, epochs=2, activations="relu",
                  inits="zeros,constant:0.1,constant:0.001,he_normal,glorot_uniform@1"),
    "default": dict(train=None, test=None, epochs=5, activations="relu,tanh",
                    inits="zeros,constant:0.1,constant:0.001,glorot_uniform,he_normal,glorot_uniform@1"),
    "full": dict(train=None, test=None, epochs=20, activations="relu,tanh,sigmoid",
                 inits="zeros,ones,constant:0.1,constant:0.001,glorot_uniform,he_normal,glorot_uniform@1"),
}
# Units count as distinct when they differ by more than 1e-4 of the weights' scale. Rounding alone parts identical
# units by less: OpenBLAS's Haswell kernels (which it runs on an AMD Zen 5) round the columns of one product
# differently by their position (x @ W with 128 identical columns gave 2 to 4 distinct output columns), and after
# the --quick run's 2 epochs the units of a constant-initialized layer differed by up to 9e-7 of their scale (the
# default 1e-6 of symmetric_units, meant for the start of fit, is too tight for that), random units by 1.5-1.7
# times it.
UNIT_RTOL = 1e-4
BOOK = {  # what the symmetry argument (Goodfellow et al. 2016, 8.4) predicts, by initializer family
    "zeros": "no kernel moves; priors only",
    "constant": "1 distinct unit per layer",
    "random": "distinct units; learns",
    "narrow": "(reference) one unit wide",
}


# ---- options and data ------------------------------------------------------------------------------------
def parse_args(argv):
    """The command line (argv without the program name) as an ``argparse.Namespace`` with the size resolved."""
    p = argparse.ArgumentParser(prog="experiments/symmetry.py", description=__doc__.split("\n\n")[0])
    size = p.add_mutually_exclusive_group()
    size.add_argument("--full", action="store_true", help="20 epochs, relu/tanh/sigmoid, ones added")
    size.add_argument("--quick", action="store_true", help="a tiny run for tests (a few seconds)")
    p.add_argument("--out", default=os.path.join("docs", "lab"), help="folder for symmetry.png and symmetry.md")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", choices=("full", "embedded"), default=None,
                   help="MNIST: the full set (an error if missing) or the embedded subset; default: full when "
                        "neurona.datasets.mnist.load_data() finds it, else embedded")
    p.add_argument("--epochs", type=int, help="override the size's epochs")
    p.add_argument("--train-samples", type=int, help="use the first N training images")
    p.add_argument("--test-samples", type=int, help="use the first N test images")
    p.add_argument("--activations", help="comma-separated hidden activations (relu, tanh, sigmoid, ...)")
    p.add_argument("--inits", help="comma-separated NAME[:VALUE][@WIDTH]: a registry name (zeros, ones, "
                                   "he_normal, ...), constant:VALUE, and @WIDTH for another hidden width")
    p.add_argument("--learning-rate", type=float, default=0.05)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--batch-size", type=int, default=128)
    args = p.parse_args(argv)
    size = SIZES["full" if args.full else "quick" if args.quick else "default"]
    args.epochs = size["epochs"] if args.epochs is None else args.epochs
    args.train_samples = size["train"] if args.train_samples is None else args.train_samples
    args.test_samples = size["test"] if args.test_samples is None else args.test_samples
    args.activations = [a.strip() for a in (args.activations or size["activations"]).split(",") if a.strip()]
    try:
        args.inits = [parse_init(s) for s in (args.inits or size["inits"]).split(",") if s.strip()]
    except ValueError as error:
        p.error(str(error))
    for what, value in (("--epochs", args.epochs), ("--batch-size", args.batch_size),
                        ("--train-samples", args.train_samples), ("--test-samples", args.test_samples)):
        if value is not None and value < 1:
            p.error(f"{what} must be a positive integer, got {value}")
    if not args.activations or not args.inits:
        p.error("--activations and --inits need at least one name each")
    return args


def parse_init(spec):
    """``"constant:0.1@1"`` -> ``{"label", "name", "value", "width", "family"}``; ValueError on a bad spec."""
    text = spec.strip()
    body, _, width = text.partition("@")
    name, _, value = body.partition(":")
    try:
        width = int(width) if width else WIDTH
        value = float(value) if value else None
    except ValueError:
        raise ValueError(f"--inits: {spec!r} is not NAME[:VALUE][@WIDTH] with a number VALUE and an integer "
                         "WIDTH") from None
    if width < 1 or (value is not None and name != "constant"):
        raise ValueError(f"--inits: {spec!r}: WIDTH must be >= 1 and only constant takes a VALUE")
    if name == "constant" and value is None:
        raise ValueError("--inits: constant needs its value, e.g. constant:0.1")
    initializers.get(name if value is None else initializers.Constant(value))  # unknown names fail here
    family = "zeros" if name == "zeros" else "constant" if name in ("ones", "constant") else "random"
    family = "narrow" if family == "random" and width == 1 else family
    return {"label": text, "name": name, "value": value, "width": width, "family": family}


def load_mnist(choice, n_train, n_test):
    """Flattened float32 images in [0, 1] and int labels, and the one-line description of the data used."""
    source = {"full": "full", "embedded": "embedded", None: "auto"}[choice]
    (x_train, y_train), (x_test, y_test) = datasets.mnist.load_data(source=source, verbose=False)
    info = datasets.mnist.last_source()
    if choice is None and not info.is_full:
        print(f"note: full MNIST not available ({info.reason}); using the embedded subset. Set NEURONA_DATA_DIR "
              "to a folder holding mnist/ to run on the full set.")
    x_train, y_train = x_train[:n_train], y_train[:n_train]
    x_test, y_test = x_test[:n_test], y_test[:n_test]

    def flat(x):
        return x.reshape(len(x), -1).astype("float32") / 255.0

    return (flat(x_train), y_train.astype("int64"), flat(x_test), y_test.astype("int64"),
            f"{info.kind} MNIST, {len(x_train):,} train / {len(x_test):,} test images")


# ---- one run ---------------------------------------------------------------------------------------------
def build_model(init, activation, seed):
    """The MLP with ``init`` on every kernel (a fresh initializer object per layer, seeded through nr.seed)."""
    nr.seed(seed)

    def kernel_init():
        return initializers.Constant(init["value"]) if init["value"] is not None else init["name"]

    stack = [layers.Input((784,))]
    stack += [layers.Dense(init["width"], activation=activation, kernel_initializer=kernel_init())
              for _ in range(HIDDEN_LAYERS)]
    stack.append(layers.Dense(10, activation="softmax", kernel_initializer=kernel_init()))
    return models.Sequential(stack)


def distinct_counts(model):
    """Distinct units of each hidden Dense layer by Neurona's identical-unit detection (cheap: every epoch)."""
    flagged = {entry["layer"]: entry for entry in diagnostics.symmetric_units(model, rtol=UNIT_RTOL)}
    counts = []
    for layer in model.layers[:-1]:
        entry = flagged.get(layer.name)
        counts.append(layer.kernel.shape[1] - (sum(len(g) - 1 for g in entry["groups"]) if entry else 0))
    return counts


def kernel_rank(kernel):
    """``numpy.linalg.matrix_rank`` of ``kernel`` scaled to max |w| = 1 (the rank does not change; the SVD of a
    kernel with entries of 1e10 after a diverged step took seconds instead of milliseconds)."""
    scale = float(numpy.abs(kernel).max())
    return 0 if scale == 0 else int(numpy.linalg.matrix_rank(kernel / scale))


def distinct_units(model):
    """Per hidden Dense layer: units, distinct units (Neurona's check, exact unique columns), rank, spread."""
    out = []
    for layer, neurona_count in zip(model.layers[:-1], distinct_counts(model)):
        kernel = layer.kernel.numpy().astype(numpy.float64)
        columns = numpy.concatenate([kernel, layer.bias.numpy().astype(numpy.float64)[None, :]], axis=0)
        finite = bool(numpy.isfinite(columns).all())
        out.append({
            "layer": layer.name, "units": kernel.shape[1], "neurona": neurona_count,
            "unique": int(numpy.unique(columns, axis=1).shape[1]) if finite else None,
            "rank": kernel_rank(kernel) if finite else None,
            "spread": float(numpy.abs(columns - columns[:, :1]).max()) if finite else float("nan"),
        })
    return out


# where each activation still passes a gradient (relu: h > 0; tanh, sigmoid: away from their flat tails)
LIVE = {"relu": lambda h: h > 0, "tanh": lambda h: numpy.abs(h) < 0.99, "sigmoid": lambda h: (h > 0.01) & (h < 0.99)}


def live_share(model, x):
    """Per hidden layer, the share of (example, unit) pairs where the activation passes a gradient (None when the
    activation is not in ``LIVE``): measures the dead ReLUs and saturated tanh units a large constant causes."""
    shares, h = [], x
    with nr.no_grad():
        for layer in model.layers[:-1]:
            h = layer(h)
            test = LIVE.get(layer.get_config()["activation"])
            shares.append(None if test is None else float(test(h.numpy()).mean()))
    return shares


def _family(init, model):
    """The prediction that applies: zeros under an activation with act(0) != 0 (sigmoid) is a constant init."""
    if init["family"] != "zeros":
        return init["family"]
    at_zero = model.layers[0].activation(nr.Tensor(numpy.zeros(1, dtype="float32"))).numpy()
    return "zeros" if float(numpy.abs(at_zero).max()) == 0.0 else "constant"


def train_one(init, activation, data, args):
    """Train one configuration one epoch at a time; per-epoch test accuracy and distinct units, final details."""
    x_train, y_train, x_test, y_test = data
    model = build_model(init, activation, args.seed)
    model.compile(optimizer=optimizers.SGD(learning_rate=args.learning_rate, momentum=args.momentum),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    acc = [float(model.evaluate(x_test, y_test, batch_size=1000, verbose=0)[1])]
    distinct = [distinct_counts(model)]
    losses, warned = [], False
    for _ in range(args.epochs):
        with warnings.catch_warnings(record=True) as caught:  # fit's own symmetry check, recorded not shown
            warnings.simplefilter("always", diagnostics.InitWarning)
            history = model.fit(x_train, y_train, batch_size=args.batch_size, epochs=1, verbose=0,
                                reference_statistics=False)
        warned |= any(issubclass(w.category, diagnostics.InitWarning) for w in caught)
        losses.append(float(history.history["loss"][-1]))
        acc.append(float(model.evaluate(x_test, y_test, batch_size=1000, verbose=0)[1]))
        distinct.append(distinct_counts(model))
    return {"init": init["label"], "family": _family(init, model), "activation": activation, "width": init["width"],
            "test_accuracy": acc, "train_loss": losses, "distinct_per_epoch": distinct,
            "final_units": distinct_units(model), "live": live_share(model, x_test), "fit_warned": warned,
            "seconds": time.perf_counter() - start}


# ---- table, figure, report -------------------------------------------------------------------------------
def _pair(values):
    return "/".join("-" if v is None else str(v) for v in values)


def table_rows(runs):
    """One row of strings per run: the book's prediction beside the measured numbers."""
    rows = []
    for r in runs:
        u = r["final_units"]
        rows.append([r["activation"], r["init"], BOOK[r["family"]], f"{r['test_accuracy'][0]:.4f}",
                     f"{r['test_accuracy'][1]:.4f}", f"{r['test_accuracy'][-1]:.4f}",
                     _pair(d["neurona"] for d in u) + f" of {u[0]['units']}", _pair(d["unique"] for d in u),
                     _pair(d["rank"] for d in u), f"{max(d['spread'] for d in u):.3g}",
                     _pair("-" if v is None else f"{v:.2f}" for v in r["live"]),
                     "yes" if r["fit_warned"] else "no", f"{r['seconds']:.1f}"])
    return rows


HEADER = ["act", "init", "book (GBC 2016, 8.4) predicts", "acc@0", "acc@1", "acc@end",
          "distinct units L1/L2 (Neurona)", "unique cols", "rank", "max |w_i - w_0|", "live L1/L2",
          "fit warned", "s"]


def format_table(rows, markdown=False):
    """The table as aligned text, or as a Markdown table."""
    if markdown:
        def line(cells):
            return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"  # a bare | would split a cell

        return "\n".join([line(HEADER), "|" + "|".join("---" for _ in HEADER) + "|"] + [line(row) for row in rows])
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(HEADER)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(HEADER, widths))]
    lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines + ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in rows])


def plot(runs, activations, prior, path):
    """Test accuracy per epoch (top) and distinct hidden units after training (bottom), one column per activation."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, axes = plt.subplots(2, len(activations), figsize=(5.2 * len(activations), 7.5), squeeze=False)
    for col, act in enumerate(activations):
        mine = [r for r in runs if r["activation"] == act]
        top, bottom = axes[0][col], axes[1][col]
        for r in mine:
            top.plot(range(len(r["test_accuracy"])), r["test_accuracy"], marker="o", ms=3, label=r["init"])
        top.axhline(prior, color="grey", ls="--", lw=1, label=f"most frequent class ({prior:.3f})")
        top.set(title=f"{act}: test accuracy", xlabel="epoch", ylabel="accuracy", ylim=(0, 1))
        top.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        top.legend(fontsize=7, loc="center right")
        x = numpy.arange(len(mine))
        for i in range(HIDDEN_LAYERS):
            values = [r["final_units"][i]["neurona"] for r in mine]
            bars = bottom.bar(x + (i - 0.5) * 0.4, values, width=0.4, label=f"hidden layer {i + 1}")
            bottom.bar_label(bars, fontsize=7)
        bottom.set_yscale("log")
        bottom.set(title=f"{act}: distinct hidden units after training", ylabel="distinct units (log)",
                   ylim=(0.5, WIDTH * 2.5))
        bottom.set_xticks(x, [f"{r['init']} (of {r['width']})" for r in mine], rotation=30, ha="right", fontsize=8)
        bottom.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _live(r):
    return "/".join("n/a" if v is None else f"{v:.2f}" for v in r["live"])


def _verdict(r, prior):
    """One run's measurements against the book's prediction for its family, in words."""
    acc, u = r["test_accuracy"][-1], r["final_units"]
    distinct = [d["neurona"] for d in u]
    if r["family"] == "zeros":
        if all(d["rank"] == 0 for d in u) and abs(acc - prior) < 0.005:
            return ("as predicted: the hidden kernels are still exactly zero (rank 0) and the accuracy is the most "
                    f"frequent class's share {prior:.4f}, learned by the output biases alone")
        return "differs from the prediction (hidden kernels moved or the accuracy is not the class prior)"
    if r["family"] == "constant":
        spread = max(d["spread"] for d in u)
        text = (f"the hidden units stayed identical (one distinct unit per layer, max |w_i - w_0| = {spread:.3g})"
                if all(d == 1 for d in distinct) else
                "the hidden units did NOT all stay identical (rounding or an asymmetric path broke the tie)")
        if acc > prior + 0.02:
            return text + "; the output layer learned something beyond the priors"
        return text + f"; nothing learned beyond the priors (live share of the hidden units {_live(r)})"
    if r["family"] == "narrow":
        return "the one-unit-wide reference " + ("learns a little" if acc > prior + 0.02 else
                                                 f"does not learn beyond the priors (live share {_live(r)})")
    if acc > 0.5 and all(d == r["width"] for d in distinct):
        return "learns, with all units distinct"
    return "does not behave as predicted: it learned little or has identical units"


def _comparisons(runs):
    """Sentences across runs: whether constant units stayed bit-identical, and constant versus one unit wide."""
    constant = [r for r in runs if r["family"] == "constant"]
    lines = []
    if constant:
        exact = all(d["spread"] == 0.0 for r in constant for d in r["final_units"])
        lines.append("- Across every constant run the hidden units are " + (
            "bit-identical after training (max |w_i - w_0| = 0): the same floating-point operations ran on "
            "identical columns, so not even rounding broke the symmetry." if exact else
            "not all bit-identical after training: see max |w_i - w_0| in the table."))
    for act in dict.fromkeys(r["activation"] for r in runs):
        best = max((r for r in constant if r["activation"] == act), key=lambda r: r["test_accuracy"][-1],
                   default=None)
        narrow = [r for r in runs if r["activation"] == act and r["family"] == "narrow"]
        if best and narrow:
            lines.append(f"- {act}: the best constant run ({best['init']}) reached {best['test_accuracy'][-1]:.4f}, "
                         f"the one-unit-wide random reference {narrow[0]['test_accuracy'][-1]:.4f}.")
    return lines


def discussion(runs, prior):
    """Bullet points that compare each run's measurements with the book's prediction (all numbers measured)."""
    notes = [f"- {r['activation']}, {r['init']}: test accuracy {r['test_accuracy'][-1]:.4f}, distinct units "
             f"{_pair(d['neurona'] for d in r['final_units'])}: {_verdict(r, prior)}." for r in runs]
    return "\n".join(notes + _comparisons(runs))


def write_report(path, argv, source, args, runs, prior, table, seconds):
    """``symmetry.md``: the command, the setup, the table and the measured discussion."""
    data_dir = os.environ.get("NEURONA_DATA_DIR")
    command = ((f"NEURONA_DATA_DIR={shlex.quote(data_dir)} " if data_dir else "") + "python experiments/symmetry.py"
               + ("" if not argv else " " + shlex.join(argv)))
    text = f"""# Symmetry breaking: zeros and constant versus random initialization

Command (from the repository root): `{command}` ({seconds:.0f} s wall time; figure: `{NAME}.png`)

Source: Goodfellow, Bengio and Courville, 2016, *Deep Learning*, section 8.4: units with the same initial
parameters, inputs and activation get the same gradient at every step of a deterministic algorithm and stay
identical; random initial weights break that symmetry. The book gives the argument, not numbers; the column
"book predicts" states its consequence for each initializer.

Setup: {source}; MLP 784-{WIDTH}-{WIDTH}-10 (hidden {", ".join(args.activations)}, softmax output), the initializer
on every kernel, biases zeros; SGD learning rate {args.learning_rate}, momentum {args.momentum}, batch
{args.batch_size}, {args.epochs} epochs, seed {args.seed}. "@1" rows: the same MLP one unit wide, randomly
initialized (what a constant initialization should behave like). Accuracy of always answering the most frequent
training class on this test set: {prior:.4f}.

Columns: acc@0 / acc@1 / acc@end: test accuracy at initialization, after epoch 1, after the last epoch; distinct
units: per hidden layer, Neurona's identical-unit detection (`neurona.diagnostics.symmetric_units`, weights equal to
{UNIT_RTOL:g} of their scale); unique cols: exactly unique columns of [kernel; bias]; rank:
`numpy.linalg.matrix_rank` of the kernel; max |w_i - w_0|: largest difference between any hidden unit's weights and
unit 0's (0: bit-identical); live L1/L2: share of (test example, unit) pairs where the hidden activation passes a
gradient (ReLU: h > 0; tanh: |h| < 0.99; sigmoid: 0.01 < h < 0.99); fit warned: `fit`'s start-of-training check
raised an `InitWarning`.

{table}

## Discussion (generated from the measurements above)

{discussion(runs, prior)}

Why: with zeros and ReLU or tanh, every hidden activation is act(0) = 0, so the output kernel's gradient h^T
delta is 0, and every hidden kernel's gradient passes through the zero weights above it: only the output biases
learn, and the best they can do is the class priors (with sigmoid, act(0) = 0.5, and zeros behaves like a
constant initialization instead). With a constant, every hidden unit of a layer computes the same function and
gets the same gradient, so the units stay equal; the output units differ because each meets its own target, so
the network learns what one hidden unit per layer allows. That is the function class of the one-unit-wide
reference, not the same training run: {WIDTH} identical copies act as one unit whose outgoing weight is the sum of
{WIDTH} copies (so its effective step is larger), started from another point, so their accuracies need not match;
the table shows how far both stay below the random initializations. A large constant (0.1 on 784 inputs gives
pre-activations of order 10) saturates tanh, or, with ReLU, a large first step can push every unit (all
together, since they are one unit) to negative pre-activations where ReLU passes no gradient (see the live
column): then the network is back to the priors. Random draws give distinct units from the first step, and the
network learns.
"""
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def main(argv=None):
    """Run the experiment; print the table; write ``<out>/symmetry.png`` and ``<out>/symmetry.md``; return results."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args([str(a) for a in argv])
    start = time.perf_counter()
    x_train, y_train, x_test, y_test, source = load_mnist(args.data, args.train_samples, args.test_samples)
    prior = float(numpy.mean(y_test == numpy.bincount(y_train).argmax()))
    print(f"{NAME}: {source}; {len(args.inits)} initializers x {len(args.activations)} activations, "
          f"{args.epochs} epochs")
    runs = []
    for activation in args.activations:
        for init in args.inits:
            runs.append(train_one(init, activation, (x_train, y_train, x_test, y_test), args))
            r = runs[-1]
            print(f"  {activation:8s} {init['label']:20s} test accuracy {r['test_accuracy'][-1]:.4f} "
                  f"({r['seconds']:.1f} s)", flush=True)
    rows = table_rows(runs)
    print(f"\nmost frequent training class answered on every test image: accuracy {prior:.4f}\n")
    print(format_table(rows))
    os.makedirs(args.out, exist_ok=True)
    figure = os.path.join(args.out, f"{NAME}.png")
    report = os.path.join(args.out, f"{NAME}.md")
    plot(runs, args.activations, prior, figure)
    seconds = time.perf_counter() - start
    write_report(report, argv, source, args, runs, prior, format_table(rows, markdown=True), seconds)
    print(f"\nwrote {figure} and {report} ({seconds:.1f} s)")
    return {"name": NAME, "source": source, "prior_accuracy": prior, "runs": runs, "figure": figure,
            "report": report, "seconds": seconds}


if __name__ == "__main__":
    main()
