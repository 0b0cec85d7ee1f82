"""Mishkin & Matas 2016: LSUV lets a deep thin network without batch norm train, and matches batch norm.

D. Mishkin and J. Matas, "All you need is a good init", ICLR 2016. LSUV (their Algorithm 1): draw every kernel
as an orthonormal matrix, then, from the first layer to the last, rescale each kernel until the variance of its
layer's output on one mini-batch is 1. What the paper reports, beside which this script prints its own numbers:

- Table 3 (CIFAR-10, the thin deep conv net FitNet4, no batch norm): test accuracy per initialization and
  activation; with ReLU, LSUV 92.11 %, OrthoNorm 91.74 %, Xavier (glorot) 90.63 %, MSRA (he) 90.91 %; with
  maxout, LSUV 93.94 % and MSRA "n/c" (did not converge);
- Table 2 (MNIST, FitNet-MNIST, no batch norm): 0.38 % test error with LSUV (SVM head), at the state of the art;
- the comparison with batch normalization (FitNet4 on CIFAR-10): the LSUV network, without batch norm,
  trains as fast and ends as accurate as the batch-normalized one, while batch norm makes every iteration
  slower (its extra computation per layer), whereas LSUV runs once, before training.

The setup here: a deep thin MLP on MNIST, ``--depth`` hidden ReLU layers of ``--width`` units (default 30 x 128;
30 is the depth of He et al.'s plain net that Xavier could not train), softmax output, trained by SGD with
momentum 0.9, batch 128, the same learning rate for every variant. Four variants of that one network:
``glorot_uniform`` and ``he_normal`` kernels; ``lsuv`` (``nr.initializers.lsuv(model, x_batch)`` on
``--lsuv-batch`` training images, the paper's target variance 1, tolerance 0.1 and at most 10 iterations); and
``glorot+bn`` (each Dense followed by ``BatchNormalization`` before its ReLU, glorot kernels). Inputs are
standardized to zero mean and unit variance (one mean and std over all pixels), as the authors advise before
LSUV. Measured: test accuracy at initialization and after each epoch; the training wall time of every epoch
(median reported) and of the LSUV call; the time of one training step with and without batch norm (the
minimum over interleaved blocks of steps, robust to a shared CPU); at initialization, through
``nr.diagnostics.inspect`` on held-out training images, the variance of what enters every nonlinearity (Dense
pre-activation; for ``glorot+bn`` the batch-normalized value entering the ReLU, batch statistics used) and the
std of every kernel's gradient; and LSUV's own report (variance per layer before and after rescaling, on its batch).

How it differs from the paper: an MLP on MNIST instead of FitNets (conv, maxout) on CIFAR-10 and MNIST; a few
epochs instead of hundreds, no data augmentation, no learning-rate schedule, no weight decay, one seed; so the
absolute accuracies are not the paper's. What is tested is the paper's comparison: at a depth where glorot
struggles, does LSUV train, as well as he or better, and as well as batch norm at a lower cost per step?

Commands (docs/lab/lsuv2016.md and .png come from the second)::

    .venv/bin/python experiments/lsuv2016.py --quick             # seconds, for tests
    NEURONA_DATA_DIR=/work/shared/data .venv/bin/python experiments/lsuv2016.py
    NEURONA_DATA_DIR=/work/shared/data .venv/bin/python experiments/lsuv2016.py --full   # 60,000 images, 20 epochs

Options: ``--depth``, ``--width``, ``--epochs``, ``--train-examples``, ``--batch-size``, ``--learning-rate``,
``--lsuv-batch``, ``--data {full,embedded}``, ``--seed``, ``--out``.
"""

import argparse
import math
import os
import statistics
import sys
import time

import numpy as np

import neurona as nr
from neurona import callbacks, datasets, layers, optimizers

NAME = "lsuv2016"
VARIANTS = ("glorot_uniform", "he_normal", "lsuv", "glorot+bn")
SIZES = {
    "quick": {"depth": 30, "width": 32, "epochs": 2, "train_examples": 2000, "test_examples": 1000,
              "lsuv_batch": 256, "diag_examples": 256, "timing": (2, 3)},
    "default": {"depth": 30, "width": 128, "epochs": 8, "train_examples": 20000, "test_examples": None,
                "lsuv_batch": 512, "diag_examples": 1000, "timing": (5, 10)},
    "full": {"depth": 30, "width": 128, "epochs": 20, "train_examples": 60000, "test_examples": None,
             "lsuv_batch": 512, "diag_examples": 1000, "timing": (5, 10)},
}
# What the paper reports (Table 3: CIFAR-10 FitNet4 test accuracy %, ReLU and maxout; Table 2: MNIST error %).
PAPER = {
    "glorot_uniform": "Xavier: 90.63 % (ReLU), 91.75 % (maxout)",
    "he_normal": "MSRA: 90.91 % (ReLU), n/c (maxout)",
    "lsuv": "LSUV: 92.11 % (ReLU), 93.94 % (maxout); MNIST 0.38 % error",
    "glorot+bn": "BN: as accurate as LSUV, slower per iteration",
}
CHANCE = 0.1


# ---- setup ---------------------------------------------------------------------------------------------
def parse_args(argv):
    p = argparse.ArgumentParser(prog=NAME, description=__doc__.split("\n")[0])
    size = p.add_mutually_exclusive_group()
    size.add_argument("--full", action="store_true", help="all 60,000 training images, 20 epochs")
    size.add_argument("--quick", action="store_true", help="a narrow network on 2,000 images (tests)")
    p.add_argument("--out", default=os.path.join("docs", "lab"), help="folder of the .png and .md")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", choices=("full", "embedded"), default=None,
                   help="MNIST source (default: full when load_data finds it, else the embedded subset)")
    p.add_argument("--depth", type=int, help="hidden ReLU layers (default 30)")
    p.add_argument("--width", type=int, help="units per hidden layer")
    p.add_argument("--epochs", type=int, help="training epochs per variant")
    p.add_argument("--train-examples", type=int, help="training images used by fit")
    p.add_argument("--test-examples", type=int, help="test images evaluated (default: all)")
    p.add_argument("--lsuv-batch", type=int, help="training images LSUV measures its variances on")
    p.add_argument("--diag-examples", type=int, help="held-out training images measured at initialization")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--learning-rate", type=float, default=0.01, help="SGD, momentum 0.9, for every variant")
    args = p.parse_args(argv)
    preset = SIZES["full" if args.full else "quick" if args.quick else "default"]
    for key, value in preset.items():
        if getattr(args, key, None) is None:
            setattr(args, key, value)
    for key in ("depth", "width", "epochs", "train_examples", "lsuv_batch", "diag_examples", "batch_size"):
        if getattr(args, key) <= 0:
            p.error(f"--{key.replace('_', '-')} must be a positive integer, got {getattr(args, key)}")
    if args.test_examples is not None and args.test_examples <= 0:
        p.error(f"--test-examples must be a positive integer, got {args.test_examples}")
    if args.seed < 0 or not args.learning_rate > 0:
        p.error(f"--seed must be >= 0 and --learning-rate > 0, got {args.seed} and {args.learning_rate}")
    return args


def load_mnist(args):
    """Flattened, standardized float32 images: ``(train, test, diag, source)``, each ``(x, y)``.

    ``diag`` (for the measurements at initialization) is taken from the end of the training set, after the
    ``--train-examples`` used by fit where the set is large enough, so it is held out from training.
    """
    if args.data is None:
        (x, y), (xt, yt) = datasets.mnist.load_data(download=False, verbose=False)
        if not datasets.mnist.last_source().is_full:
            print(f"note: {datasets.mnist.last_source().describe()} (set NEURONA_DATA_DIR for the full set)")
    else:
        (x, y), (xt, yt) = datasets.mnist.load_data(source=args.data, verbose=False)
    x = x.reshape(len(x), -1).astype(np.float32)
    xt = xt.reshape(len(xt), -1).astype(np.float32)
    mean, std = float(x.mean()), float(x.std())  # one mean and std over all pixels: unit-variance input
    x, xt = (x - mean) / std, (xt - mean) / std
    n_train = min(args.train_examples, len(x))
    n_diag = min(args.diag_examples, len(x))
    n_test = len(xt) if args.test_examples is None else min(args.test_examples, len(xt))
    train = (x[:n_train], y[:n_train].astype(np.int64))
    diag = (x[-n_diag:], y[-n_diag:].astype(np.int64))
    return train, (xt[:n_test], yt[:n_test].astype(np.int64)), diag, datasets.mnist.last_source()


def build_model(variant, depth, width, seed):
    """784 -> ``depth`` ReLU layers of ``width`` -> 10 softmax; BN between each Dense and its ReLU for glorot+bn."""
    nr.seed(seed)
    init = {"glorot_uniform": "glorot_uniform", "he_normal": "he_normal", "lsuv": "orthogonal",
            "glorot+bn": "glorot_uniform"}[variant]
    model = nr.Sequential([layers.Input((784,))])
    for _ in range(depth):
        if variant == "glorot+bn":
            model.add(layers.Dense(width, kernel_initializer=init))
            model.add(layers.BatchNormalization())
            model.add(layers.Activation("relu"))
        else:
            model.add(layers.Dense(width, activation="relu", kernel_initializer=init))
    model.add(layers.Dense(10, activation="softmax", kernel_initializer=init))
    return model


# ---- measurement ---------------------------------------------------------------------------------------
def measure_init(model, variant, diag):
    """Per nonlinearity (ReLU, then the softmax): the variance of its input; per kernel: its gradient's std."""
    report = nr.diagnostics.inspect(model, diag[0], diag[1], loss="sparse_categorical_crossentropy",
                                    training=variant == "glorot+bn", jacobian=False)
    variance = [r["preactivation_std"] ** 2 for r in report.layers
                if r.get("activation") in ("relu", "softmax") and r.get("preactivation_std") is not None]
    grad = [r["kernel"]["grad_std"] for r in report.layers if r["type"] == "Dense" and r.get("kernel")]
    return variance, grad


def train(model, args, train_data, test_data):
    """Fit epoch by epoch; test accuracy at init and after each epoch, training seconds per epoch."""
    model.compile(optimizer=optimizers.SGD(learning_rate=args.learning_rate, momentum=0.9),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    accuracy = [model.evaluate(*test_data, batch_size=1000, verbose=0)[1]]
    losses, seconds, diverged = [], [], False
    for _ in range(args.epochs):
        start = time.perf_counter()
        history = model.fit(*train_data, batch_size=args.batch_size, epochs=1, verbose=0,
                            callbacks=[callbacks.TerminateOnNaN()], reference_statistics=False)
        seconds.append(time.perf_counter() - start)
        losses.append(history.history["loss"][-1])
        if not math.isfinite(losses[-1]):
            diverged = True
            break
        accuracy.append(model.evaluate(*test_data, batch_size=1000, verbose=0)[1])
    return {"accuracy": accuracy, "loss": losses, "seconds": seconds, "diverged": diverged}


def run_variant(variant, args, train_data, test_data, diag):
    """Build one variant (LSUV applied and timed for ``lsuv``), measure it at initialization, train it."""
    model = build_model(variant, args.depth, args.width, args.seed)
    result = {"variant": variant, "lsuv": None, "lsuv_seconds": None}
    if variant == "lsuv":
        start = time.perf_counter()
        result["lsuv"] = nr.initializers.lsuv(model, train_data[0][:args.lsuv_batch], seed=args.seed)
        result["lsuv_seconds"] = time.perf_counter() - start
    result["variance"], result["grad_std"] = measure_init(model, variant, diag)
    result.update(train(model, args, train_data, test_data))
    result["median_seconds"] = statistics.median(result["seconds"])
    return result


def time_steps(args, train_data):
    """Seconds per training step of the plain and the batch-normalized network (min over interleaved repeats).

    The per-epoch wall times of the runs share the CPU with whatever else runs; the minimum of short timed
    blocks, the two networks taking turns, is the cost of the computation itself. glorot, he and lsuv do the
    same computation, so the plain network stands for all three.
    """
    repeats, steps = args.timing
    models = {v: build_model(v, args.depth, args.width, args.seed) for v in ("glorot_uniform", "glorot+bn")}
    x, y = train_data[0][:args.batch_size], train_data[1][:args.batch_size]
    for model in models.values():
        model.compile(optimizer=optimizers.SGD(learning_rate=args.learning_rate, momentum=0.9),
                      loss="sparse_categorical_crossentropy")
        model.train_on_batch(x, y)  # warm-up: builds the optimizer slots
    best = dict.fromkeys(models, math.inf)
    for _ in range(repeats):
        for variant, model in models.items():
            start = time.perf_counter()
            for _ in range(steps):
                model.train_on_batch(x, y)
            best[variant] = min(best[variant], (time.perf_counter() - start) / steps)
    return {"plain": best["glorot_uniform"], "bn": best["glorot+bn"], "repeats": repeats, "steps": steps}


def timing_line(timing, batch_size):
    return (f"Step time (batch {batch_size}, min of {timing['repeats']} interleaved blocks of {timing['steps']} "
            f"steps): plain {1000 * timing['plain']:.1f} ms, with batch norm {1000 * timing['bn']:.1f} ms "
            f"({timing['bn'] / timing['plain'] - 1:+.0%}).")


# ---- tables ----------------------------------------------------------------------------------------------
def epochs_to(accuracy, level):
    """The first epoch after which the test accuracy is at least ``level`` (None if never)."""
    return next((e for e, a in enumerate(accuracy) if a >= level), None)


def _epochs(value):
    return "-" if value is None else str(value)


def summary_table(results):
    """The main table: what the paper reports beside what was measured, one row per variant."""
    base = next(r["median_seconds"] for r in results if r["variant"] == "glorot_uniform")
    rows = ["| variant | paper reports (CIFAR-10 FitNet4, Table 3) | acc after epoch 1 | final test acc | best "
            "| epochs to 50 % | epochs to 90 % | s/epoch (median) | vs glorot |",
            "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        acc = r["accuracy"]
        final = f"{acc[-1]:.4f}" + (" (diverged)" if r["diverged"] else "")
        first = f"{acc[1]:.4f}" if len(acc) > 1 else "-"
        rows.append(f"| {r['variant']} | {PAPER[r['variant']]} | {first} | {final} | {max(acc):.4f} "
                    f"| {_epochs(epochs_to(acc, 0.5))} | {_epochs(epochs_to(acc, 0.9))} "
                    f"| {r['median_seconds']:.2f} | {r['median_seconds'] / base - 1:+.0%} |")
    return "\n".join(rows)


def epoch_table(results):
    rows = ["| epoch | " + " | ".join(r["variant"] for r in results) + " |",
            "|---" * (len(results) + 1) + "|"]
    for e in range(max(len(r["accuracy"]) for r in results)):
        cells = [f"{r['accuracy'][e]:.4f}" if e < len(r["accuracy"]) else "-" for r in results]
        times = [f" ({r['seconds'][e - 1]:.1f} s)" if 0 < e <= len(r["seconds"]) else "" for r in results]
        rows.append(f"| {e} | " + " | ".join(c + t for c, t in zip(cells, times)) + " |")
    return "\n".join(rows)


def variance_table(results):
    """Per nonlinearity: LSUV's variance on its batch (before = orthonormal, after) and each variant's at init."""
    by = {r["variant"]: r for r in results}
    records = by["lsuv"]["lsuv"]
    rows = ["| layer | LSUV before (orthonormal) | LSUV after (its batch) | LSUV iters | "
            + " | ".join(f"{v} (held-out)" for v in by) + " |", "|---" * (4 + len(by)) + "|"]
    for k, rec in enumerate(records):
        cells = [f"{by[v]['variance'][k]:.3g}" if k < len(by[v]["variance"]) else "-" for v in by]
        rows.append(f"| {k + 1} {rec.layer} | {rec.initial_variance:.3g} | {rec.final_variance:.3g} "
                    f"| {rec.iterations} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _glorot_finding(by, args):
    g = by["glorot_uniform"]
    acc, lsuv_50 = g["accuracy"], epochs_to(by["lsuv"]["accuracy"], 0.5)
    escape = epochs_to(acc, CHANCE + 0.1)
    if escape is None:
        verdict = (f"stays at chance (best {max(acc):.1%}, chance 10 %) for all {len(acc) - 1} epochs: it stalls, as "
                   "Xavier does in He et al.'s 30-layer plain ReLU net (2015, Fig. 3).")
    else:
        verdict = (f"stays near chance for {max(escape - 1, 0)} epoch(s), then learns: {acc[-1]:.1%} after "
                   f"{len(acc) - 1} epochs (passes 50 % after {_epochs(epochs_to(acc, 0.5))}; LSUV after "
                   f"{_epochs(lsuv_50)}). The paper's Xavier trains FitNet4 too, to 90.63 % against LSUV's 92.11 %.")
    he = by["he_normal"]["grad_std"]
    return (f"- glorot_uniform {verdict} At initialization the variance entering the ReLUs falls from "
            f"{g['variance'][0]:.3g} (layer 1) to {g['variance'][-2]:.3g} (layer {args.depth}): glorot's "
            "Var(W) = 1/n keeps the variance through a linear layer and each ReLU halves it. Its kernel gradients "
            f"are {min(g['grad_std']):.2g} to {max(g['grad_std']):.2g} (std) in every layer, against "
            f"{min(he):.2g} to {max(he):.2g} with he_normal: the loss barely depends on the weights.")


def findings(results, args, timing):
    """Plain-words comparison with the paper, every statement chosen from the measured numbers."""
    by = {r["variant"]: r for r in results}
    final = {v: r["accuracy"][-1] for v, r in by.items()}
    lines = [_glorot_finding(by, args)]
    lsuv_after = [rec.final_variance for rec in by["lsuv"]["lsuv"]]
    held, cost = by["lsuv"]["variance"], by["lsuv"]["lsuv_seconds"]
    lines.append(f"- LSUV reaches variance {min(lsuv_after):.3f} to {max(lsuv_after):.3f} on its batch in all "
                 f"{len(lsuv_after)} layers ({'all' if by['lsuv']['lsuv'].converged else 'NOT all'} within 0.1 of 1),"
                 f" and {min(held):.3f} to {max(held):.3f} on held-out images. The call took {cost:.2f} s "
                 f"({cost / by['lsuv']['median_seconds']:.1f} epochs' time): each layer's variance is measured by a "
                 "forward pass of the whole network, so its cost grows with depth squared.")
    order = sorted(("he_normal", "lsuv", "glorot+bn"), key=lambda v: -final[v])
    lines.append(f"- Final test accuracy ranks {', '.join(f'{v} {final[v]:.2%}' for v in order)}. "
                 + ("LSUV is at least as accurate as he, as in the paper's Table 3 (92.11 vs 90.91 % with ReLU). "
                    if final["lsuv"] >= final["he_normal"] else "LSUV ends below he here, unlike the paper's "
                    "Table 3 (92.11 vs 90.91 % with ReLU). ")
                 + ("LSUV without BN matches or beats the batch-normalized network, as the paper reports."
                    if final["lsuv"] >= final["glorot+bn"] - 0.005 else
                    "The batch-normalized network ends ahead of LSUV here; the paper reports them about equal."))
    he = by["he_normal"]["accuracy"]
    if max(he) - he[-1] > 0.05:
        lines.append(f"- he_normal is unstable at this learning rate: it peaks at {max(he):.1%} (epoch "
                     f"{he.index(max(he))}) and ends at {he[-1]:.1%}; its variance at init wanders from "
                     f"{min(by['he_normal']['variance'][:-1]):.3g} to {max(by['he_normal']['variance'][:-1]):.3g} "
                     "across layers (He's 2/n keeps it only on average), where LSUV pins every layer at 1. One seed.")
    bn_grad = by["glorot+bn"]["grad_std"]
    if bn_grad[0] > 10 * bn_grad[-2]:
        lines.append(f"- With batch norm the kernel gradients at init grow toward the input, from {bn_grad[-2]:.2g} "
                     f"(layer {args.depth}) to {bn_grad[0]:.2g} (layer 1): the gradient explosion of deep "
                     "batch-normalized nets (Yang et al. 2019); LSUV's stay within "
                     f"{min(by['lsuv']['grad_std']):.2g} to {max(by['lsuv']['grad_std']):.2g}.")
    overhead = by["glorot+bn"]["median_seconds"] / by["lsuv"]["median_seconds"] - 1
    t = [by[v]["median_seconds"] for v in ("glorot_uniform", "he_normal", "lsuv")]
    lines.append(f"- Batch norm costs {timing['bn'] / timing['plain'] - 1:+.0%} time per training step (the same "
                 "Dense layers, plus a BatchNormalization per layer), the per-iteration cost the paper holds "
                 f"against it; over whole epochs, {overhead:+.0%} against the LSUV network. glorot, he and lsuv do "
                 f"the same computation; the spread of their epoch times ({min(t):.2f} to {max(t):.2f} s) is the "
                 "noise of a shared CPU, which the interleaved step timing avoids.")
    return lines


# ---- outputs ------------------------------------------------------------------------------------------------
def plot(results, args, timing, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(12, 8.5))
    for r in results:
        axes[0, 0].plot(range(len(r["accuracy"])), r["accuracy"], marker="o", label=r["variant"])
        axes[0, 1].semilogy(range(1, len(r["variance"]) + 1), r["variance"], marker=".", label=r["variant"])
        axes[1, 0].semilogy(range(1, len(r["grad_std"]) + 1), r["grad_std"], marker=".", label=r["variant"])
    axes[0, 0].axhline(CHANCE, color="grey", ls=":", lw=1)
    axes[0, 0].set(xlabel="epoch", ylabel="test accuracy", title="Test accuracy per epoch")
    axes[0, 1].axhline(1.0, color="grey", ls=":", lw=1)
    axes[0, 1].set(xlabel="nonlinearity (layer)", ylabel="Var of its input at init",
                   title="Variance entering each ReLU / softmax (held-out batch)")
    axes[1, 0].set(xlabel="Dense layer", ylabel="std of dLoss/dW at init", title="Kernel gradient std at init")
    names = [r["variant"] for r in results]
    axes[1, 1].bar(names, [r["median_seconds"] for r in results], color=[f"C{i}" for i in range(len(names))])
    axes[1, 1].set(ylabel="seconds", title=f"Training time per epoch (median); per step, BN "
                   f"{timing['bn'] / timing['plain'] - 1:+.0%}")
    for ax in (axes[0, 0], axes[0, 1], axes[1, 0]):
        ax.legend(fontsize=8)
    fig.suptitle(f"LSUV vs glorot / he / glorot+BN: {args.depth} x {args.width} ReLU MLP on MNIST "
                 f"(Mishkin & Matas 2016)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_markdown(results, args, source, command, tables, lines, path):
    lsuv_report = next(r for r in results if r["variant"] == "lsuv")["lsuv"]
    text = [f"# {NAME}: LSUV versus glorot, he and batch norm (Mishkin & Matas 2016)", "",
            f"Command: `{command}`", "",
            f"Setup: {args.depth} hidden ReLU layers of {args.width} units, softmax output; SGD lr "
            f"{args.learning_rate}, momentum 0.9, batch {args.batch_size}; {args.epochs} epochs on "
            f"{args.train_examples} training images; data: {source.describe()}; "
            f"test on {args.test_examples} test images; LSUV on {args.lsuv_batch} training images "
            f"(target variance 1, tol 0.1, max 10 iterations); measurements at init on {args.diag_examples} "
            f"held-out training images; seed {args.seed}. Paper: Table 3 (CIFAR-10, FitNet4), Table 2 (MNIST), "
            "its comparison with batch norm; see the docstring of experiments/lsuv2016.py for how this setup "
            "differs.", "",
            f"![curves]({NAME}.png)", "", "## Summary", "", tables[0], "", "## Test accuracy per epoch "
            "(training seconds of the epoch)", "", tables[1], "", "## Variance entering each nonlinearity at "
            "initialization", "", tables[2], "", f"LSUV's report: {'all' if lsuv_report.converged else 'NOT all'} "
            "layers converged.", "", "## Discussion", "", *lines, "",
            "- Why it differs from the paper in absolute terms: an MLP on MNIST for a few epochs, one seed, no "
            "augmentation or schedule, against FitNets trained for hundreds of epochs; the paper's numbers are "
            "CIFAR-10 accuracies. Per-epoch times on a shared CPU are noisy: the median is reported, and the "
            "batch-norm overhead is taken from the interleaved step timing.",
            "- Why batch norm's relative cost depends on the setup: in a thin MLP the matrix products are small, "
            "so batch norm's per-layer work (reductions over the batch, forward and backward in NumPy on a CPU) "
            "weighs more beside them than beside the large convolutions of FitNets on a GPU (our reading).", ""]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(text))


def main(argv=None):
    """Run the four variants; print and write the tables, write the figure; return the measured numbers."""
    data_dir = os.environ.get("NEURONA_DATA_DIR")
    command = (f"NEURONA_DATA_DIR={data_dir} " if data_dir else "") + "python experiments/lsuv2016.py " + " ".join(
        sys.argv[1:] if argv is None else map(str, argv))
    args = parse_args(argv)
    train_data, test_data, diag, source = load_mnist(args)
    args.train_examples = len(train_data[0])  # the counts used (a subset may hold fewer than asked)
    args.test_examples = len(test_data[0])
    print(f"{NAME}: {source.describe()}")
    print(f"{NAME}: {args.depth} x {args.width} ReLU MLP, {args.epochs} epochs on {len(train_data[0])} images")
    results = []
    for variant in VARIANTS:
        result = run_variant(variant, args, train_data, test_data, diag)
        print(f"  {variant:15s} test acc per epoch {' '.join(f'{a:.3f}' for a in result['accuracy'])}"
              f"  ({result['median_seconds']:.2f} s/epoch)")
        results.append(result)
    timing = time_steps(args, train_data)
    tables = (summary_table(results) + "\n\n" + timing_line(timing, args.batch_size), epoch_table(results),
              variance_table(results))
    lines = findings(results, args, timing)
    print(f"\nLSUV report:\n{next(r['lsuv'] for r in results if r['variant'] == 'lsuv')}\n")
    for table in tables:
        print(table, end="\n\n")
    print("\n".join(lines))
    os.makedirs(args.out, exist_ok=True)
    png, md = os.path.join(args.out, f"{NAME}.png"), os.path.join(args.out, f"{NAME}.md")
    plot(results, args, timing, png)
    write_markdown(results, args, source, command.strip(), tables, lines, md)
    print(f"\nwrote {png} and {md}")
    return {"args": vars(args), "data": source.kind, "png": png, "md": md, "step_seconds": timing,
            "results": [{**{k: v for k, v in r.items() if k != "lsuv"},
                         "lsuv": r["lsuv"].to_dict() if r["lsuv"] is not None else None} for r in results]}


if __name__ == "__main__":
    main()
