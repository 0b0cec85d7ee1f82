"""He et al. 2015, Figs. 2 and 3: a deep plain ReLU network trains with "He" initialization and stalls with Xavier's.

Paper: K. He, X. Zhang, S. Ren and J. Sun, "Delving Deep into Rectifiers: Surpassing Human-Level Performance on
ImageNet Classification", ICCV 2015, section 2.2 and Figs. 2-3. Their initialization draws each weight from a
zero-mean Gaussian of std sqrt(2/n) (n = fan-in), so that the variance of the responses stays constant through
ReLU layers: their Eq. (9), ``Var[y_L] = Var[y_1] * prod_{l=2..L} (1/2 * n_l * Var[w_l])``, has every factor equal
to 1 (their Eq. (10)). Under "Xavier" (Glorot and Bengio 2010: a scaled uniform of variance 1/n for equal widths)
each factor is 1/2, so the signal shrinks by 2^(-1/2) per layer. The paper reports (ImageNet, top-1 error vs
epochs): a 22-layer model converges under both, theirs starting to reduce the error earlier (Fig. 2); a 30-layer
model converges under theirs and "completely stalls" under Xavier, whose gradients are all diminishing (Fig. 3).

What this script measures: a plain ReLU MLP (no batch norm, no residuals, biases zero-initialized) on MNIST, of
depth 22 and 30 (hidden Dense+ReLU layers, then a linear 10-way output; every kernel initialized by the same
scheme), trained from the same seed under ``he_normal`` and ``glorot_uniform`` (``--xavier normal`` for
``glorot_normal``) with SGD + momentum 0.9, learning rate 0.01, weight decay 5e-4 and batch size 128 (our reading
of the paper's ImageNet settings, not checked against its text here). It prints and writes, per run: the training
loss (window means every ``--log-every`` steps and per epoch), the test top-1 error per epoch, the step at which
the loss first falls below 90% of ln 10 (the loss of a uniform guess; "never" = stalled), and at initialization
(``neurona.diagnostics.inspect`` on one batch) the activation std and the kernel-gradient std of every layer, with
the decay Eq. (9) predicts beside the measured one. An ablation trains the 30-layer Xavier network once more
without biases (``--no-ablation`` skips it).

How it differs from the paper: an MLP of width 128 on MNIST (28x28 grey digits, 10 classes) instead of a conv
net on ImageNet (1000 classes), a few epochs on CPU instead of many on GPUs, no data augmentation, the error
measured on the 10,000 MNIST test images instead of 3,000 ImageNet validation crops, Keras's ``he_normal``
(a truncated normal rescaled to the same variance 2/n) instead of a plain Gaussian, and decoupled weight decay
(``w <- w - lr * wd * w``, applied to biases too) instead of Caffe's L2 term.

Commands:
    NEURONA_DATA_DIR=/work/shared/data python experiments/he2015.py          # default size, ~3 minutes
    python experiments/he2015.py --quick --data embedded                    # a few seconds (tests)
    python experiments/he2015.py --full                                     # width 256, 15 epochs
    neurona lab reproduce he2015 [same options]
"""

import argparse
import math
import os
import sys
import time

import numpy as np

import neurona as nr
from neurona import callbacks, datasets, diagnostics, layers, losses, models, optimizers
from neurona.lab.report import markdown_table

NAME = "he2015"
CHANCE_LOSS = math.log(10.0)  # cross-entropy of a uniform guess over the 10 digits
ESCAPE_FRACTION = 0.9  # a run has "started learning" once its window loss is below 90% of ln 10
INITS = {"he": "he_normal", "xavier": None}  # xavier's registry name comes from --xavier
SIZES = {  # --quick / default / --full
    "quick": dict(width=32, epochs=4, batch_size=64, log_every=4, train_size=1000, test_size=500),
    "default": dict(width=128, epochs=6, batch_size=128, log_every=50, train_size=None, test_size=None),
    "full": dict(width=256, epochs=15, batch_size=128, log_every=50, train_size=None, test_size=None),
}
PAPER = {  # what He et al. report for each (depth, init) of their Figs. 2-3 (ImageNet conv nets)
    (22, "he"): "converges; error falls earlier than Xavier's (Fig. 2)",
    (22, "xavier"): "converges, later than He (Fig. 2)",
    (30, "he"): "converges (Fig. 3)",
    (30, "xavier"): "stalls completely, gradients diminishing (Fig. 3)",
}


def _parse(argv):
    p = argparse.ArgumentParser(prog=f"experiments/{NAME}.py", description=__doc__.split("\n")[0])
    size = p.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="tiny size for tests (a few seconds)")
    size.add_argument("--full", action="store_true", help="paper-like size: width 256, 15 epochs")
    p.add_argument("--out", default="docs/lab", help="output folder (default docs/lab)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", choices=("full", "embedded"), default=None,
                   help="MNIST: full (needs the files, see NEURONA_DATA_DIR) or the embedded subset; "
                        "default full when available")
    p.add_argument("--depths", default="22,30", help="comma-separated depths in weight layers (default 22,30)")
    p.add_argument("--xavier", choices=("uniform", "normal"), default="uniform",
                   help="glorot_uniform (the paper's scaled uniform, default) or glorot_normal")
    p.add_argument("--width", type=int, help="units per hidden layer")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--log-every", type=int, help="steps per point of the training-loss curve")
    p.add_argument("--train-size", type=int, help="train on the first N (shuffled) training images")
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--weight-decay", type=float, default=5e-4)
    p.add_argument("--no-ablation", action="store_true", help="skip the 30-layer Xavier run without biases")
    args = p.parse_args(argv)
    size = SIZES["quick" if args.quick else "full" if args.full else "default"]
    for key, value in size.items():
        if getattr(args, key, None) is None:
            setattr(args, key, value)
    try:
        args.depths = tuple(int(d) for d in args.depths.split(","))
    except ValueError:
        p.error(f"--depths must be comma-separated integers, got {args.depths!r}")
    for name in ("width", "epochs", "batch_size", "log_every"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    if min(args.depths) < 3:
        p.error(f"--depths must each be >= 3 (two hidden layers and the output), got {args.depths}")
    return args


def _mnist(choice):
    """``(arrays, kind)``: the full set when asked for or (``choice=None``) when present, else the embedded subset."""
    if choice is None:
        try:
            return datasets.mnist.load_data(source="full", download=False, verbose=False), "full"
        except FileNotFoundError:
            print(f"{NAME}: full MNIST not found (set NEURONA_DATA_DIR); using the embedded subset", file=sys.stderr)
            choice = "embedded"
    return datasets.mnist.load_data(source=choice, verbose=False), choice


def _load(choice, train_size, test_size, seed):
    """MNIST as standardized float32 vectors, a fixed random training subset when ``train_size`` is given."""
    data, choice = _mnist(choice)
    (x, y), (xt, yt) = data
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(x))[:train_size]  # a fixed random subset when --train-size is given
    x, y = x[order], y[order]
    xt, yt = xt[:test_size], yt[:test_size]
    x = x.reshape(len(x), -1).astype("float32") / 255.0
    xt = xt.reshape(len(xt), -1).astype("float32") / 255.0
    mean, std = x.mean(), x.std()  # ImageNet nets subtract a mean image; one scalar suffices for MNIST
    return (x - mean) / std, y.astype("int64"), (xt - mean) / std, yt.astype("int64"), choice


def _build(depth, width, init, use_bias, seed):
    """``depth - 1`` Dense+ReLU layers of ``width`` units and a linear 10-way output, all kernels from ``init``."""
    nr.seed(seed)
    stack = [layers.Input((784,))]
    stack += [layers.Dense(width, activation="relu", kernel_initializer=init, use_bias=use_bias)
              for _ in range(depth - 1)]
    stack.append(layers.Dense(10, kernel_initializer=init, use_bias=use_bias))
    return models.Sequential(stack)


def _diagnose(model, xb, yb):
    """Per-layer statistics at initialization from ``diagnostics.inspect``, and Eq. (9)'s predicted decay.

    The prediction starts from the measured std of the first hidden layer and multiplies the variance, layer by
    layer, by ``1/2 * n_l * Var[w_l]``: ``n_l`` is the fan-in (a Dense kernel is ``(fan_in, units)``) and
    ``Var[w_l]`` the variance the initializer aims at (the report's ``expected_std``).
    """
    report = diagnostics.inspect(model, xb, yb, loss=losses.SparseCategoricalCrossentropy(from_logits=True),
                                 jacobian=False)
    hidden = [r for r in report.layers if r.get("activation") == "relu"]
    act = [r["activation_std"] for r in hidden]
    grad = [r["kernel"]["grad_std"] for r in report.layers if r.get("kernel")]
    factors = [0.5 * r["kernel"]["shape"][0] * r["kernel"]["expected_std"] ** 2 for r in hidden[1:]]
    predicted = act[0] * np.sqrt(np.cumprod([1.0] + factors))
    return {"activation_std": act, "predicted_activation_std": predicted.tolist(), "kernel_grad_std": grad,
            "dead_fraction": [r.get("dead_fraction") for r in hidden], "loss": report.network["loss"],
            "verdict": report.verdict}


class _WindowLoss:
    """Training loss averaged over windows of ``every`` steps, from the running epoch means ``fit`` logs.

    ``fit`` hands each batch end the mean loss of the epoch so far, weighted by batch size (Keras 3 does the
    same), so the sum of the losses seen is ``mean * samples``; a window's mean is the difference of two sums.
    """

    def __init__(self, every, batch_size, n_train):
        self.every, self.batch_size, self.n_train = every, batch_size, n_train
        self.steps, self.losses = [], []
        self.epoch_loss, self.val_error = [], []  # kept here too, so that a run that diverges keeps its epochs
        self._global_step = 0
        self._last = (0, 0.0)  # (samples, summed loss) at the previous window's end, within this epoch

    def callback(self):
        return callbacks.LambdaCallback(on_epoch_begin=self._epoch_begin, on_train_batch_end=self._batch_end,
                                        on_epoch_end=self._epoch_end)

    def _epoch_end(self, epoch, logs):
        self.epoch_loss.append(logs["loss"])
        self.val_error.append(1.0 - logs["val_accuracy"])

    def _epoch_begin(self, epoch, logs):
        self._last = (0, 0.0)

    def _batch_end(self, step, logs):
        self._global_step += 1
        samples = min((step + 1) * self.batch_size, self.n_train)
        last_of_epoch = samples == self.n_train
        if self._global_step % self.every and not last_of_epoch:
            return
        total = logs["loss"] * samples
        seen, summed = self._last
        if samples > seen:
            self.steps.append(self._global_step)
            self.losses.append((total - summed) / (samples - seen))
        self._last = (samples, total)


def _first_step_below(steps, values, threshold):
    return next((s for s, v in zip(steps, values) if v < threshold), None)


def _train(model, data, args):
    x, y, xt, yt = data
    opt = optimizers.SGD(learning_rate=args.lr, momentum=args.momentum, weight_decay=args.weight_decay or None)
    model.compile(optimizer=opt, loss=losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    window = _WindowLoss(args.log_every, args.batch_size, len(x))
    diverged = False
    try:
        model.fit(x, y, batch_size=args.batch_size, epochs=args.epochs, validation_data=(xt, yt), verbose=0,
                  callbacks=[window.callback()])
    except models.TrainingError:  # a NaN or inf loss: the curves so far are kept and the run marked
        diverged = True
    return {"steps": window.steps, "window_loss": window.losses, "epoch_loss": window.epoch_loss,
            "val_error": window.val_error, "diverged": diverged,
            "steps_per_epoch": math.ceil(len(x) / args.batch_size)}


def _run(depth, init_key, use_bias, data, args):
    init = INITS[init_key] or f"glorot_{args.xavier}"
    label = f"{init_key} ({init})" + ("" if use_bias else ", no biases")
    print(f"{NAME}: training {depth} layers, {label} ...", file=sys.stderr, flush=True)
    start = time.perf_counter()
    model = _build(depth, args.width, init, use_bias, args.seed)
    init_stats = _diagnose(model, data[0][:256], data[1][:256])
    curves = _train(model, data, args)
    escape = _first_step_below(curves["steps"], curves["window_loss"], ESCAPE_FRACTION * CHANCE_LOSS)
    return {"depth": depth, "init_key": init_key, "initializer": init, "use_bias": use_bias, "label": label,
            "init": init_stats, **curves, "escape_step": escape, "seconds": time.perf_counter() - start}


def _verdict(run):
    if run["diverged"]:
        return "diverged"
    if run["escape_step"] is None:
        return f"stalls: loss >= {ESCAPE_FRACTION:.0%} ln 10 for all {run['steps'][-1] if run['steps'] else 0} steps"
    return f"learns: below {ESCAPE_FRACTION:.0%} ln 10 from step {run['escape_step']}"


def _row(run):
    stats = run["init"]
    act, pred, grad = stats["activation_std"], stats["predicted_activation_std"], stats["kernel_grad_std"]
    last = lambda values: f"{values[-1]:.3f}" if values else "-"  # noqa: E731 - a one-line formatter
    return {
        "depth": run["depth"], "init": run["label"],
        "paper": PAPER.get((run["depth"], run["init_key"]), "-") if run["use_bias"] else "(not in the paper)",
        "measured": _verdict(run),
        "loss ep1": last(run["epoch_loss"][:1]), "loss end": last(run["epoch_loss"]),
        "test err end": last(run["val_error"]),
        "act std last/first": f"{act[-1] / act[0]:.2e}", "Eq.9 predicts": f"{pred[-1] / pred[0]:.2e}",
        "median grad std": f"{np.median(grad):.2e}", "s": f"{run['seconds']:.0f}",
    }


def _plot(runs, depths, path):
    """Loss and test error vs epochs per depth (the paper's Figs. 2-3), and the init statistics vs depth."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # Agg, without touching pyplot's global state
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5 * (len(depths) + 1), 8))
    FigureCanvasAgg(fig)
    axes = fig.subplots(2, len(depths) + 1, squeeze=False)
    style = {("he", True): ("tab:red", "-"), ("xavier", True): ("tab:blue", "-"), ("xavier", False): ("tab:blue", ":")}
    for col, depth in enumerate(depths):
        for run in (r for r in runs if r["depth"] == depth):
            color, ls = style[(run["init_key"], run["use_bias"])]
            spe = run["steps_per_epoch"]
            axes[0, col].plot(np.array(run["steps"]) / spe, run["window_loss"], color=color, ls=ls, label=run["label"])
            epochs = np.arange(1, len(run["val_error"]) + 1)
            axes[1, col].plot(epochs, run["val_error"], color=color, ls=ls, marker="o", label=run["label"])
        axes[0, col].axhline(CHANCE_LOSS, color="gray", lw=0.8, ls="--", label="ln 10 (chance)")
        axes[0, col].set(title=f"{depth}-layer plain ReLU MLP: training loss", xlabel="epoch", ylabel="loss")
        axes[1, col].set(title=f"{depth}-layer: test top-1 error", xlabel="epoch", ylabel="error", ylim=(0, 1))
        for ax in axes[:, col]:
            ax.legend(fontsize=8)
            ax.grid(alpha=0.3)
    diag_act, diag_grad = axes[0, -1], axes[1, -1]
    for run in runs:
        color, ls = style[(run["init_key"], run["use_bias"])]
        ls = "-" if run["depth"] == max(depths) else "--"
        if not run["use_bias"]:
            continue  # the same initial statistics as its biased twin (biases start at zero)
        act, grad = run["init"]["activation_std"], run["init"]["kernel_grad_std"]
        label = f"{run['depth']}L {run['label']}"
        diag_act.semilogy(range(1, len(act) + 1), act, color=color, ls=ls, marker=".", label=label)
        diag_act.semilogy(range(1, len(act) + 1), run["init"]["predicted_activation_std"], color="k", lw=0.6, ls=":")
        diag_grad.semilogy(range(1, len(grad) + 1), grad, color=color, ls=ls, marker=".", label=label)
    diag_act.set(title="at init: ReLU activation std per layer\n(dotted: Eq. 9 prediction)", xlabel="layer",
                 ylabel="std")
    diag_grad.set(title="at init: kernel gradient std per layer", xlabel="layer", ylabel="std")
    for ax in (diag_act, diag_grad):
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def _find(runs, depth, init_key, use_bias=True):
    return next((r for r in runs if (r["depth"], r["init_key"], r["use_bias"]) == (depth, init_key, use_bias)), None)


def _when(run):
    return "at no step" if run["escape_step"] is None else f"at step {run['escape_step']}"


def _init_sentence(depth, he, xa):
    r_he = he["init"]["activation_std"][-1] / he["init"]["activation_std"][0]
    r_xa = xa["init"]["activation_std"][-1] / xa["init"]["activation_std"][0]
    p_xa = xa["init"]["predicted_activation_std"][-1] / xa["init"]["predicted_activation_std"][0]
    g = np.median(xa["init"]["kernel_grad_std"]) / np.median(he["init"]["kernel_grad_std"])
    return (f"- **{depth} layers, at initialization.** From the first to the last hidden layer the ReLU activation "
            f"std changes by {r_he:.2f}x under He and by {r_xa:.2e}x under Xavier (Eq. 9 predicts 1 and "
            f"{p_xa:.2e}). The kernel gradients of all layers are uniformly small under Xavier (median {g:.1e} of "
            "He's): the paper's \"gradients are all diminishing\", and why gradient descent hardly moves such a "
            "net at first.")


def _training_sentence(depth, he, xa):
    if not (he["val_error"] and xa["val_error"]):
        return f"- **{depth} layers, training.** A run diverged in its first epoch (NaN or inf loss)."
    text = (f"- **{depth} layers, training.** The training loss first falls below {ESCAPE_FRACTION:.0%} of ln 10 "
            f"{_when(he)} under He and {_when(xa)} under Xavier; after {len(he['val_error'])} epochs the training "
            f"loss is {he['epoch_loss'][-1]:.3f} (He) vs {xa['epoch_loss'][-1]:.3f} (Xavier) and the test error "
            f"{he['val_error'][-1]:.3f} vs {xa['val_error'][-1]:.3f}. ")
    if he["diverged"] or xa["diverged"]:
        return text + "A run diverged (NaN or inf loss): its curve stops there."
    if he["escape_step"] is None:
        return text + "Even He has not started learning within this run: it is too short to compare them."
    if xa["escape_step"] is not None and xa["escape_step"] <= he["escape_step"]:
        return text + "Xavier starts learning no later than He here, unlike the paper."
    text += "He starts learning first, as in the paper. "
    paper_xavier_stalls = depth >= 30
    if xa["escape_step"] is None:
        return text + ("Xavier stalls for the whole run, as in the paper's Fig. 3." if paper_xavier_stalls else
                       "Xavier has not started learning by the end of the run, where the paper's 22-layer "
                       "Xavier net converges (later than He's, Fig. 2): a longer run would tell.")
    delay = xa["escape_step"] / he["escape_step"]
    best, last = min(xa["window_loss"]), xa["epoch_loss"][-1]
    text += (f"Xavier starts {delay:.1f}x later and then learns (lowest window loss {best:.3f}, last epoch "
             f"{last:.3f}; He: {min(he['window_loss']):.3f}, {he['epoch_loss'][-1]:.3f}). ")
    if last > 2 * best:
        text += "It has not settled: its loss climbs back up from its best, so it is unsteady at this learning rate. "
    return text + ("Unlike the paper's Fig. 3, it does not stall for good." if paper_xavier_stalls else
                   "The paper's Fig. 2 has both converging, Xavier later; here Xavier is also far behind at the end.")


def _ablation_sentence(ablation, biased):
    text = (f"- **Ablation: biases.** The same {ablation['depth']}-layer Xavier net without biases falls below "
            f"{ESCAPE_FRACTION:.0%} of ln 10 "
            f"{_when(ablation)} (with biases: {_when(biased)}). ")
    if ablation["escape_step"] is None and biased["escape_step"] is not None:
        return text + ("So here the way out of the stall goes through the biases. We think it works like this: "
                       "a bias gradient is not multiplied by the vanishing forward signal, so the top layers' "
                       "biases grow first; they switch their ReLUs on, and a layer whose units are all on passes "
                       "a signal with gain sqrt(n Var[w]) = 1 instead of Eq. 8's 1/sqrt(2), so the net becomes "
                       "trainable from the top down. Without biases nothing breaks the 2^(-1/2)-per-layer decay "
                       "and the net stays at chance, as in Fig. 3.")
    if ablation["escape_step"] is None and biased["escape_step"] is None:
        return text + "Both stay at chance in this run."
    return text + "Removing the biases does not keep the net at chance in this run."


def _discussion(runs, depths):
    """Sentences built from the measured numbers: where they agree with the paper and where not."""
    out = []
    for depth in depths:
        he, xa = _find(runs, depth, "he"), _find(runs, depth, "xavier")
        out += [_init_sentence(depth, he, xa), _training_sentence(depth, he, xa)]
    ablation, biased = _find(runs, max(depths), "xavier", use_bias=False), _find(runs, max(depths), "xavier")
    if ablation is not None:
        out.append(_ablation_sentence(ablation, biased))
    out.append("- **Other differences from the paper.** An MLP on MNIST (10 easy classes, where a little signal "
               "already lowers the loss) instead of a conv net on ImageNet (1,000 classes), and a few epochs on a "
               "CPU instead of many on GPUs; the paper adds that Xavier's 30-layer net \"does not converge even "
               "given more epochs\", which a short run cannot test beyond its last epoch.")
    return "\n".join(out)


def _command(argv):
    data_dir = os.environ.get("NEURONA_DATA_DIR")
    prefix = f"NEURONA_DATA_DIR={data_dir} " if data_dir else ""
    return f"{prefix}python experiments/{NAME}.py" + "".join(f" {a}" for a in argv)


def _write_md(path, command, args, data_kind, n_train, n_test, table, discussion, times):
    setup = (f"Plain ReLU MLP (Dense+ReLU x (depth - 1), linear 10-way output, biases zero-initialized, no batch "
             f"norm, no residuals), width {args.width}, depths {', '.join(map(str, args.depths))}; He = he_normal, "
             f"Xavier = glorot_{args.xavier}; SGD lr {args.lr}, momentum {args.momentum}, weight decay "
             f"{args.weight_decay}, batch {args.batch_size}, {args.epochs} epochs, seed {args.seed}; MNIST "
             f"{data_kind} ({n_train:,} train / {n_test:,} test images, standardized); statistics at init from "
             f"`neurona.diagnostics.inspect` on 256 training images.")
    text = (f"# He et al. 2015 (\"Delving deep into rectifiers\", Figs. 2-3): deep plain ReLU nets, He vs Xavier\n\n"
            f"Command (took {times[0]:.0f} s wall, {times[1]:.0f} s CPU, on this machine):\n\n```\n{command}\n```\n\n"
            f"![loss curves and init statistics]({NAME}.png)\n\n## Setup\n\n{setup}\n\n"
            f"## Paper vs Neurona\n\n{table}\n\n"
            f"Columns: the paper's qualitative result (ImageNet conv nets); this run's verdict (\"learns\" once the "
            f"training-loss window mean is below {ESCAPE_FRACTION:.0%} of ln 10 = {CHANCE_LOSS:.3f}, i.e. "
            f"{ESCAPE_FRACTION * CHANCE_LOSS:.3f}); mean training loss in the first and last epoch; test top-1 "
            f"error after the last epoch; at init, the ReLU activation "
            f"std of the last hidden layer over the first (measured, and as Eq. 9 predicts) and the median "
            f"kernel-gradient std over layers; wall seconds of the run.\n\n## Discussion\n\n{discussion}\n")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def main(argv=None):
    """Run the experiment; returns {"runs", "rows", "png", "md", "data", "seconds", "cpu_seconds"}, all measured."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parse(argv)
    start, cpu_start = time.perf_counter(), time.process_time()
    *arrays, data_kind = _load(args.data, args.train_size, args.test_size, args.seed)
    runs = [_run(depth, init_key, True, arrays, args) for depth in args.depths for init_key in ("he", "xavier")]
    if not args.no_ablation:
        runs.append(_run(max(args.depths), "xavier", False, arrays, args))
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    rows = [_row(r) for r in runs]
    table = markdown_table(rows)
    print(f"\n{NAME}: MNIST {data_kind}, width {args.width}, {args.epochs} epochs, {seconds:.0f} s wall, "
          f"{cpu:.0f} s CPU\n{table}\n")
    os.makedirs(args.out, exist_ok=True)
    png, md = os.path.join(args.out, f"{NAME}.png"), os.path.join(args.out, f"{NAME}.md")
    _plot(runs, args.depths, png)
    discussion = _discussion(runs, args.depths)
    print(discussion)
    _write_md(md, _command(argv), args, data_kind, len(arrays[0]), len(arrays[2]), table, discussion, (seconds, cpu))
    print(f"\n{NAME}: wrote {png} and {md}")
    return {"runs": runs, "rows": rows, "png": png, "md": md, "data": data_kind, "seconds": seconds,
            "cpu_seconds": cpu}


if __name__ == "__main__":
    main()
