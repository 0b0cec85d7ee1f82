"""Compression of the Keras MNIST CNN: test accuracy, file sizes and onnxruntime latency of each variant.

The table of the compression issue, on benchmarks/mnist_cnn.py's network (Conv2D 32 - Conv2D 64 - MaxPooling -
Dropout - Dense 128 - Dropout - Dense 10, built by examples/mnist_cnn.py) trained with Adam. Rows: float32;
int8 post-training quantization (per-channel weights, calibrated activations); int8 and 4-bit quantization-
aware training; gradual magnitude pruning to 50, 75 and 90% of the kernel weights (Zhu & Gupta's polynomial
schedule; one threshold for all kernels unless ``--prune-scope layer``); 50% of the filters removed (Li et al.,
structured); mixed_float16 and mixed_bfloat16 training; binary weights. For each: the test accuracy (in
Neurona, and in onnxruntime on the exported file), the size of model.h5 and of the ONNX file, onnxruntime's
latency at batch 1 and 128, and the issue's targets checked (PASS/MISS, computed). It writes
docs/compression.md and the accuracy-versus-sparsity plot docs/compression_sparsity.png.

Everything is cached in one folder per setting under ``--cache`` (default runs/compression): the float32
model (trained once: reruns and ``--rows`` subsets start from it), each row's model.h5 and ONNX file and its
figures (results.json). A run trains only the rows it names, then re-times the ONNX files of every cached row
together (in alternation, benchmarks/timing.py) and writes the whole table, so rows run on different days
share one latency measurement.

    NEURONA_DATA_DIR=../shared/data python benchmarks/compression.py [--rows int8_ptq prune90 ...]
        [--epochs 3] [--fine-tune-epochs 2] [--fine-tune-lr 3e-4] [--prune-scope global] [--seed 0]
    NEURONA_DATA_DIR=../shared/data python benchmarks/compression.py --latency-only   # re-time, rewrite the doc
    NEURONA_DATA_DIR=../shared/data python benchmarks/compression.py --quick   # smoke run (~1 min; cache only)
"""

import argparse
import datetime
import functools
import json
import os
import pathlib
import platform
import shlex
import shutil
import statistics
import sys
import time
import traceback

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))

import mnist_cnn  # noqa: E402  (examples/mnist_cnn.py: the model as a Keras user writes it)
import timing  # noqa: E402  (benchmarks/timing.py)

import neurona as nr  # noqa: E402
from neurona import compression, mixed_precision, models, optimizers  # noqa: E402
from neurona.saving import export_onnx  # noqa: E402

BATCH = 128
BASE_LR = 1e-3
PRUNE_END = 2 / 3  # the pruning schedule reaches its final sparsity after 2/3 of the fine-tuning steps
ONESHOT_SPARSITIES = (0.25, 0.5, 0.75, 0.8, 0.9, 0.95, 0.98)
# (row, the largest drop in test accuracy from float32 allowed, in points): a row above float32 meets "within"
ACCURACY_TARGETS = (("int8_ptq", 0.3), ("prune90", 0.5), ("mixed_float16", 0.2), ("mixed_bfloat16", 0.2))
INT8_SIZE_RATIO = 3.5
SCOPE_WORDS = {"global": "one threshold for all kernels", "layer": "each kernel to that fraction"}


# ---- the rows --------------------------------------------------------------------------------------------
def fit(bench, model, epochs, lr, callbacks=()):
    model.compile(optimizer=optimizers.Adam(learning_rate=lr), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(bench.x_train, bench.y_train, batch_size=BATCH, epochs=epochs, verbose=bench.args.verbose,
              callbacks=list(callbacks))
    return time.perf_counter() - start


def row_float32(bench):
    model = bench.baseline()
    return model, None, bench.baseline_seconds, f"Adam {BASE_LR:g}, batch {BATCH}, {bench.args.epochs} epochs " \
        f"(seed {bench.args.seed}): the reference of every ratio"


def row_int8_ptq(bench):
    a = bench.args
    model = compression.quantize(bench.baseline(), bench.x_calibration, weight_bits=8, activation_bits=8,
                                 calibration=a.calibration)
    return model, None, 0.0, f"`quantize` of float32: int8 symmetric per-channel kernels, uint8 activations on " \
        f"{a.calibration} ranges of {len(bench.x_calibration)} training images; no training"


def row_qat(bench, bits):
    a = bench.args
    model = compression.quantize_aware(bench.baseline(), weight_bits=bits, activation_bits=bits,
                                       calibration_x=bench.x_calibration)
    seconds = fit(bench, model, a.fine_tune_epochs, a.fine_tune_lr)
    return model, None, seconds, f"`quantize_aware` of float32 ({bits}-bit weights per channel and {bits}-bit " \
        f"activations, ranges started on {len(bench.x_calibration)} images), {a.fine_tune_epochs} epochs of " \
        f"Adam {a.fine_tune_lr:g}"


def pruning_schedule(steps, sparsity):
    """Zhu & Gupta's cubic schedule from 0 to ``sparsity`` over the first ``PRUNE_END`` of ``steps`` training
    steps (masks recomputed about 10 times, at most every 100 steps); the rest fine-tunes the final masks."""
    end = max(1, int(steps * PRUNE_END))
    return compression.PolynomialDecay(0.0, sparsity, begin_step=0, end_step=end,
                                       frequency=max(1, min(100, end // 10)))


def row_pruned(bench, sparsity):
    a = bench.args
    schedule = pruning_schedule(bench.steps_per_epoch * a.fine_tune_epochs, sparsity)
    model = compression.prune_low_magnitude(bench.baseline(), schedule=schedule, scope=a.prune_scope)
    seconds = fit(bench, model, a.fine_tune_epochs, a.fine_tune_lr, [compression.UpdatePruningStep()])
    stripped = compression.strip_pruning(model)
    layers = ", ".join(f"{name} {zeros:.0%}" for name, zeros in compression.sparsity_report(stripped).items())
    return stripped, None, seconds, \
        f"`prune_low_magnitude(scope={a.prune_scope!r})` of float32 to {sparsity:.0%} of the kernel weights " \
        f"({SCOPE_WORDS[a.prune_scope]}; here {layers}) by `PolynomialDecay` (0 to {sparsity:g} over steps " \
        f"0-{schedule.end_step}, every {schedule.frequency}) during {a.fine_tune_epochs} epochs of Adam " \
        f"{a.fine_tune_lr:g}, then `strip_pruning`"


def row_filters50(bench):
    a = bench.args
    model = compression.prune_filters(bench.baseline(), 0.5)
    seconds = fit(bench, model, a.fine_tune_epochs, a.fine_tune_lr)
    return model, None, seconds, f"`prune_filters(float32, 0.5)`: half of the filters of both convolutions and " \
        f"of the units of Dense 128 removed (smallest L1 norms), then {a.fine_tune_epochs} epochs of Adam " \
        f"{a.fine_tune_lr:g}"


def row_mixed(bench, policy):
    a = bench.args
    mixed_precision.set_policy(policy)
    try:
        nr.seed(a.seed)
        model = mnist_cnn.build_model()
        seconds = fit(bench, model, a.epochs, BASE_LR)
    finally:
        mixed_precision.set_policy(None)
    # the files hold a float32 copy (the variables are float32 already): what one deploys
    export = mnist_cnn.build_model()
    export.set_weights(model.get_weights())
    return model, export, seconds, f"`set_policy({policy!r})` before building, trained from scratch like " \
        f"float32 (same seed, Adam {BASE_LR:g}, {a.epochs} epochs; " \
        f"{'compile adds the loss scaling' if policy == 'mixed_float16' else 'no loss scaling: float32 range'}); " \
        "the files hold a float32 copy of the trained weights"


def row_binary(bench):
    a = bench.args
    nr.seed(a.seed)
    model = compression.binary_connect(mnist_cnn.build_model(), scale="glorot")
    seconds = fit(bench, model, a.epochs, BASE_LR)
    return model, compression.strip_binary(model), seconds, f"`binary_connect(scale='glorot')` of a fresh model, " \
        f"trained from scratch (seed {a.seed}, Adam {BASE_LR:g}, {a.epochs} epochs); `strip_binary` for the files"


# name -> function(bench) returning (model to evaluate, model for the files or None: the same, training seconds,
# the recipe in words), in the table's order
ROWS = {"float32": row_float32, "int8_ptq": row_int8_ptq, "int8_qat": functools.partial(row_qat, bits=8),
        "int4_qat": functools.partial(row_qat, bits=4), "prune50": functools.partial(row_pruned, sparsity=0.5),
        "prune75": functools.partial(row_pruned, sparsity=0.75), "prune90": functools.partial(row_pruned, sparsity=0.9),
        "filters50": row_filters50, "mixed_float16": functools.partial(row_mixed, policy="mixed_float16"),
        "mixed_bfloat16": functools.partial(row_mixed, policy="mixed_bfloat16"), "binary": row_binary}


# ---- measuring ---------------------------------------------------------------------------------------------
def ort_session(path, threads):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def accuracy(probabilities, y):
    return float((np.asarray(probabilities).argmax(1) == y.argmax(1)).mean())


def kernel_sparsity(model):
    """The fraction of exact zeros over all kernels of ``model``, weighted by their sizes."""
    kernels = [layer.layer.kernel if hasattr(layer, "layer") else layer.kernel for layer in model.layers
               if getattr(getattr(layer, "layer", layer), "kernel", None) is not None]
    arrays = [np.asarray(k.numpy()) for k in kernels]
    return float(sum((k == 0).sum() for k in arrays) / sum(k.size for k in arrays))


def measure_row(bench, name, model, export, seconds, recipe):
    folder = bench.folder / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    export = model if export is None else export
    # weights only: without the drift-reference statistics that fit attaches (about 140 KB) to trained models
    statistics_kept, export.reference_statistics = getattr(export, "reference_statistics", None), None
    try:
        export.save(str(folder / "model"), include_optimizer=False)
    finally:
        export.reference_statistics = statistics_kept
    export_onnx(export, str(folder / "model.onnx"), dtype="float32")  # mixed-precision models too
    x, y = bench.x_test, bench.y_test
    session = ort_session(folder / "model.onnx", bench.args.ort_threads)
    feed = session.get_inputs()[0].name
    ort_probs = np.concatenate([session.run(None, {feed: x[i:i + 1000]})[0] for i in range(0, len(x), 1000)])
    return {"accuracy": accuracy(model.predict(x, batch_size=500, verbose=0), y), "accuracy_ort":
            accuracy(ort_probs, y), "h5_bytes": (folder / "model" / "model.h5").stat().st_size,
            "onnx_bytes": (folder / "model.onnx").stat().st_size, "params": int(export.count_params()),
            "sparsity": kernel_sparsity(export), "train_seconds": seconds, "recipe": recipe,
            "command": bench.command, "date": bench.date}


def measure_latency(files, x, threads, rounds, repeats):
    """``{row: {"1": ms, "128": ms}}``: the median of ``repeats`` timed runs per batch size and round (after a
    warm-up), each row's runs of a round taken in turn, in an order rotated every round (timing.interleaved)."""
    sessions = {name: ort_session(path, threads) for name, path in files.items()}
    samples = {name: {1: [], 128: []} for name in files}

    def runner(name):
        session = sessions[name]
        feed = session.get_inputs()[0].name

        def run():
            for batch, count in ((1, repeats[0]), (128, repeats[1])):
                inputs = {feed: x[:batch]}
                for _ in range(max(3, count // 10)):
                    session.run(None, inputs)
                for _ in range(count):
                    start = time.perf_counter()
                    session.run(None, inputs)
                    samples[name][batch].append(time.perf_counter() - start)
        return run

    timing.interleaved({name: runner(name) for name in files}, rounds)
    return {name: {str(b): statistics.median(t) * 1e3 for b, t in s.items()} for name, s in samples.items()}


def oneshot_curve(bench):
    """Test accuracy of float32 pruned one-shot (no fine-tuning) to each of ``ONESHOT_SPARSITIES``."""
    curve = {}
    for sparsity in ONESHOT_SPARSITIES:
        pruned = compression.strip_pruning(compression.prune_low_magnitude(bench.baseline(), sparsity=sparsity,
                                                                          scope=bench.args.prune_scope))
        curve[f"{sparsity:g}"] = accuracy(pruned.predict(bench.x_test, batch_size=500, verbose=0), bench.y_test)
    return curve


# ---- the report (pure functions of the cached results) ----------------------------------------------------
def target_checks(rows, latency):
    """``[(target, "PASS" | "MISS" | "not run", figures)]`` of the issue's targets, from the rows' results."""
    base = rows.get("float32", {})
    checks = []

    def ok(row):
        return "accuracy" in base and "accuracy" in rows.get(row, {})

    for row, drop in ACCURACY_TARGETS:
        target = f"{row}: accuracy within {drop} points of float32"
        if not ok(row):
            checks.append((target, "not run", rows.get(row, {}).get("error", "")))
            continue
        # rounded: accuracies on 10,000 images are whole hundredths of a point, a drop of exactly the bound passes
        deltas = [round(100 * (rows[row][k] - base[k]), 6) for k in ("accuracy", "accuracy_ort")]
        checks.append((target, "PASS" if min(deltas) >= -drop else "MISS",
                       f"{deltas[0]:+.2f} points in Neurona, {deltas[1]:+.2f} in onnxruntime"))
    if ok("int8_ptq"):
        ratio = base["onnx_bytes"] / rows["int8_ptq"]["onnx_bytes"]
        checks.append((f"int8_ptq: ONNX file at least {INT8_SIZE_RATIO}x smaller", "PASS" if ratio >= INT8_SIZE_RATIO
                       else "MISS", f"{base['onnx_bytes']:,} / {rows['int8_ptq']['onnx_bytes']:,} bytes = "
                                    f"{ratio:.2f}x"))
        if "float32" in latency and "int8_ptq" in latency:
            speedups = {b: latency["float32"][b] / latency["int8_ptq"][b] for b in ("1", "128")}
            checks.append(("int8_ptq: faster in onnxruntime (batch 1 and 128)",
                           "PASS" if min(speedups.values()) > 1 else "MISS",
                           ", ".join(f"batch {b}: {latency['float32'][b]:.3f} / {latency['int8_ptq'][b]:.3f} ms = "
                                     f"{s:.2f}x" for b, s in speedups.items())))
    else:
        checks.append((f"int8_ptq: ONNX file at least {INT8_SIZE_RATIO}x smaller and faster", "not run", ""))
    return checks


def _ratio(numerator, denominator):
    return f"{numerator / denominator:.2f}x" if numerator and denominator else ""


def markdown_table(rows, latency, order):
    """The results table: one line per row of ``order`` (a row not run says why)."""
    head = ["row", "test acc %", "Δ vs float32 (points)", "acc in onnxruntime %", "kernel zeros", "params",
            "model.h5 KiB", "ONNX KiB", "ONNX x smaller", "ORT batch 1 ms", "ORT batch 128 ms", "x faster b1",
            "x faster b128"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    base, base_latency = rows.get("float32", {}), latency.get("float32", {})
    for name in order:
        r = rows.get(name)
        if r is None or "error" in r:
            why = "not run" if r is None else f"not run: {r['error']}"
            lines.append(f"| {name} | {why} |" + " |" * (len(head) - 2))
            continue
        lat = latency.get(name, {})
        delta = f"{100 * (r['accuracy'] - base['accuracy']):+.2f}" if "accuracy" in base else ""
        cells = [name, f"{100 * r['accuracy']:.2f}", delta, f"{100 * r['accuracy_ort']:.2f}", f"{r['sparsity']:.0%}",
                 f"{r['params']:,}", f"{r['h5_bytes'] / 1024:,.0f}", f"{r['onnx_bytes'] / 1024:,.0f}",
                 _ratio(base.get("onnx_bytes"), r["onnx_bytes"]),
                 *[f"{lat[b]:.3f}" if b in lat else "" for b in ("1", "128")],
                 *[_ratio(base_latency.get(b), lat.get(b)) for b in ("1", "128")]]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot_sparsity(rows, oneshot, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    base = rows["float32"]["accuracy"] * 100
    gradual = [(0.0, base)] + sorted((rows[r]["sparsity"], rows[r]["accuracy"] * 100) for r in
                                     ("prune50", "prune75", "prune90") if "accuracy" in rows.get(r, {}))
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    for ax, zoom in zip(axes, (False, True)):
        ax.plot(*zip(*gradual), "o-", label="gradual (polynomial schedule, fine-tuned)")
        if oneshot:
            ax.plot([0.0] + [float(s) for s in oneshot], [base] + [100 * a for a in oneshot.values()], "s--",
                    label="one-shot magnitude pruning, no fine-tuning")
        ax.axhline(base - 0.5, color="grey", lw=0.8, ls=":", label="float32 - 0.5 points")
        ax.set_xlabel("fraction of kernel weights that are zero")
        ax.set_ylabel("test accuracy %")
        ax.grid(alpha=0.3)
        if zoom:  # the gradual curve near float32: the 0.5-point target readable
            low = min(y for _, y in gradual)
            ax.set_ylim(min(low, base - 0.5) - 0.5, max(y for _, y in gradual) + 0.5)
            ax.set_title("zoomed on the fine-tuned models")
        else:
            low = min([y for _, y in gradual] + [100 * a for a in (oneshot or {}).values()])
            ax.set_ylim(max(0, np.floor(low) - 1), 100)
            ax.set_title("MNIST CNN: accuracy versus unstructured sparsity")
            ax.legend(loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def slow_int4_note(latency):
    """A paragraph when int4_qat's file runs slower than float32's (the lines of the doc, or none)."""
    int4, base = latency.get("int4_qat"), latency.get("float32")
    if not int4 or not base or min(base[b] / int4[b] for b in ("1", "128")) >= 1:
        return []
    return ["int4_qat runs slower than float32 in onnxruntime: its graph clips each activation to the 4-bit range "
            "before QuantizeLinear, and onnxruntime's QDQ fusion does not match a Clip there, so it runs the "
            "dequantized float ops with the quantize/dequantize pairs around them instead of its int8 kernels.", ""]


def write_doc(bench, results, path, plot_path):
    rows, latency, meta = results["rows"], results.get("latency", {}), results.get("latency_meta", {})
    order = [name for name in ROWS]
    commands = sorted({r["command"] for r in rows.values() if "command" in r})
    checks = target_checks(rows, latency)
    a = bench.args
    lines = ["# Compression of the MNIST CNN", "",
             "Commands (the rows were produced by):", "", *[f"    {c}" for c in commands], "",
             f"The Keras MNIST CNN (examples/mnist_cnn.py's layers, {bench.params_float32:,} parameters) trained "
             f"on {len(bench.x_train):,} MNIST training images with Adam {BASE_LR:g}, batch {BATCH}; test accuracy "
             f"on {len(bench.x_test):,} test images, in Neurona and in onnxruntime on the exported ONNX file. "
             "Latency: onnxruntime's CPU provider on the same ONNX files, "
             f"{meta.get('threads', '?')} intra-op threads, sequential execution; the median of "
             f"{meta.get('rounds', '?')} rounds x {meta.get('repeats', ['?', '?'])[0]} runs (batch 1) and "
             f"{meta.get('repeats', ['?', '?'])[1]} runs (batch 128) after a warm-up, the rows timed in "
             f"alternation (benchmarks/timing.py), measured {meta.get('date', '?')} by "
             f"`{meta.get('command', '?')}`.", "",
             f"Machine: {bench.machine}. {bench.versions}. {timing.blas_line()}.", "",
             markdown_table(rows, latency, order), "",
             "Ratios are float32's figure over the row's (x smaller: ONNX bytes; x faster: latency). KiB = 1024 "
             "bytes. model.h5 is `model.save(dir, include_optimizer=False)`'s weights file, saved without the "
             "drift-reference statistics that `fit` attaches for serving (about 140 KB): the weights only.", "",
             "## Targets of the issue (computed from the table)", "",
             *[f"- **{status}** {target}" + (f": {figures}" if figures else "") for target, status, figures
               in checks], "",
             "A row above float32 meets \"within\": the accuracy targets bound the drop. The accuracy targets need "
             "both the Neurona and the onnxruntime accuracy to be within the bound.", "",
             "## What each row is", "",
             *[f"- **{name}**: {rows[name]['recipe']} ({rows[name]['train_seconds']:.0f} s of training)"
               for name in order if "recipe" in rows.get(name, {})], "",
             "How the files store the rows: a quantized model's model.h5 keeps its float32 kernels and the "
             "calibrated ranges (the integer codes are computed by the export), so only its ONNX file shrinks; "
             "the ONNX file of int4_qat stores its 4-bit codes one per byte (opset 17 has no 4-bit type), so it "
             "is no smaller than int8's. Pruned kernels are written as dense arrays with zeros: model.h5 stores "
             "mostly-zero datasets gzip-compressed, the ONNX file does not, and onnxruntime's dense kernels run "
             "them at the float32 speed. Structured pruning makes the layers themselves smaller, in every format "
             "and in speed.", "",
             *slow_int4_note(latency),
             "## Accuracy versus sparsity", "",
             f"![Test accuracy versus the fraction of zero kernel weights]({os.path.basename(plot_path)})", ""]
    oneshot = results.get(f"oneshot_{a.prune_scope}", {})
    if oneshot:
        lines += [f"One-shot magnitude pruning of float32 without fine-tuning ({SCOPE_WORDS[a.prune_scope]}), "
                  "for contrast: " +
                  ", ".join(f"{float(s):.0%}: {100 * v:.2f}%" for s, v in oneshot.items()) + ".", ""]
    lines += ["Latencies measured while other processes used the machine are noisy; the ratios are more "
              "stable than the absolute figures, since the rows are timed in alternation.", ""]
    if a.quick:
        lines.insert(1, "\n**Smoke run (`--quick`): a few hundred training images, 1 epoch; not the table of the "
                        "issue.**")
    pathlib.Path(path).write_text("\n".join(lines))


# ---- the run -------------------------------------------------------------------------------------------------
def machine_line():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.release()}"


def versions_line():
    import onnx
    import onnxruntime

    return (f"Python {platform.python_version()}, NumPy {np.__version__}, Neurona {nr.__version__}, "
            f"onnx {onnx.__version__}, onnxruntime {onnxruntime.__version__}")


class Bench:
    def __init__(self, args):
        self.args = args
        self.command = "NEURONA_DATA_DIR=../shared/data python benchmarks/compression.py " + \
            " ".join(shlex.quote(a) for a in sys.argv[1:])
        self.date = datetime.date.today().isoformat()
        self.machine, self.versions = machine_line(), versions_line()
        tag = f"seed{args.seed}-epochs{args.epochs}-ft{args.fine_tune_epochs}-lr{args.fine_tune_lr:g}"
        self.folder = pathlib.Path(args.cache) / (tag + ("-quick" if args.quick else ""))
        self.folder.mkdir(parents=True, exist_ok=True)
        (x_train, y_train), (x_test, y_test) = mnist_cnn.load()
        if args.quick:
            x_train, y_train, x_test, y_test = x_train[:512], y_train[:512], x_test[:1000], y_test[:1000]
        self.x_train, self.y_train, self.x_test, self.y_test = x_train, y_train, x_test, y_test
        size = min(256 if args.quick else args.calibration_size, len(x_train))
        pick = np.random.default_rng(args.seed).choice(len(x_train), size, replace=False)
        self.x_calibration = x_train[np.sort(pick)]
        self.steps_per_epoch = -(-len(x_train) // BATCH)
        self._baseline, self.baseline_seconds = None, None

    def baseline(self):
        """The float32 model: trained once per setting, then loaded from the cache."""
        path = self.folder / "baseline"
        if self._baseline is None and (path / "model.h5").exists():
            self._baseline = models.load_model(str(path))
            self.baseline_seconds = json.loads((path / "train.json").read_text())["seconds"]
            print(f"float32 model loaded from {path}")
        elif self._baseline is None:
            print(f"training the float32 model ({self.args.epochs} epochs)", flush=True)
            nr.seed(self.args.seed)
            model = mnist_cnn.build_model()
            self.baseline_seconds = fit(self, model, self.args.epochs, BASE_LR)
            model.save(str(path), include_optimizer=False)
            (path / "train.json").write_text(json.dumps({"seconds": self.baseline_seconds}))
            self._baseline = model
        return self._baseline

    @property
    def params_float32(self):
        return self.baseline().count_params()

    def load_results(self):
        path = self.folder / "results.json"
        return json.loads(path.read_text()) if path.exists() else {"rows": {}}

    def save_results(self, results):
        tmp = self.folder / "results.json.tmp"
        tmp.write_text(json.dumps(results, indent=1))
        tmp.replace(self.folder / "results.json")


def run_rows(bench, results, names):
    failed = []
    for name in names:
        print(f"\n== {name}", flush=True)
        start = time.perf_counter()
        nr.seed(bench.args.seed)
        try:
            model, export, seconds, recipe = ROWS[name](bench)
            results["rows"][name] = measure_row(bench, name, model, export, seconds, recipe)
            r = results["rows"][name]
            print(f"{name}: test accuracy {100 * r['accuracy']:.2f}% (onnxruntime {100 * r['accuracy_ort']:.2f}%), "
                  f"model.h5 {r['h5_bytes']:,} bytes, ONNX {r['onnx_bytes']:,} bytes, {seconds:.0f} s of training, "
                  f"{time.perf_counter() - start:.0f} s in all")
        except Exception as error:  # noqa: BLE001 - one failing row must not lose the others' figures
            failed.append(name)
            traceback.print_exc()
            first_line = (str(error).strip().splitlines() or [""])[0].replace("|", "/")[:160]
            results["rows"][name] = {"error": f"failed: {type(error).__name__}: {first_line}"}
            print(f"{name}: FAILED ({type(error).__name__}: {first_line})")
        bench.save_results(results)
    return failed


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", nargs="+", choices=[*ROWS, "all"], default=["all"],
                        help="rows to (re)compute; float32 is computed whenever its figures are missing")
    parser.add_argument("--epochs", type=int, default=3, help="training epochs of float32, mixed and binary")
    parser.add_argument("--fine-tune-epochs", type=int, default=2, help="epochs of QAT, pruning and filters50")
    parser.add_argument("--fine-tune-lr", type=float, default=3e-4, help="Adam's learning rate when fine-tuning")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--prune-scope", choices=list(SCOPE_WORDS), default="global",
                        help="prune50/75/90 and the one-shot curve: one threshold for all kernels, or per kernel")
    parser.add_argument("--calibration", choices=["minmax", "percentile"], default="minmax")
    parser.add_argument("--calibration-size", type=int, default=1000, help="training images for calibration")
    parser.add_argument("--ort-threads", type=int, default=os.cpu_count(), help="onnxruntime intra-op threads")
    parser.add_argument("--rounds", type=int, default=5, help="latency rounds (each row timed once per round)")
    parser.add_argument("--latency-only", action="store_true", help="train nothing: re-time the cached files")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 512 training and 1,000 test images, 1 epoch; writes into the cache only")
    parser.add_argument("--cache", default=str(ROOT / "runs" / "compression"))
    parser.add_argument("--doc", default=None, help="Markdown output (default docs/compression.md)")
    parser.add_argument("--plot", default=None, help="plot output (default docs/compression_sparsity.png)")
    parser.add_argument("--verbose", type=int, default=2)
    args = parser.parse_args()
    if args.quick:
        args.epochs, args.fine_tune_epochs, args.rounds = 1, 1, 2
    bench = Bench(args)
    doc = args.doc or str(bench.folder / "compression.md" if args.quick else ROOT / "docs" / "compression.md")
    plot = args.plot or str(pathlib.Path(doc).with_name("compression_sparsity.png"))
    print(f"# {bench.machine}\n# {bench.versions}\n# {timing.blas_line()}\n# cache: {bench.folder}")
    results = bench.load_results()
    names = [] if args.latency_only else list(ROWS) if "all" in args.rows else \
        [name for name in ROWS if name in args.rows or name == "float32" and "accuracy" not in
         results["rows"].get("float32", {})]
    failed = run_rows(bench, results, names)
    oneshot = f"oneshot_{args.prune_scope}"
    if set(results.get(oneshot, {})) != {f"{s:g}" for s in ONESHOT_SPARSITIES} and \
            "accuracy" in results["rows"].get("float32", {}):
        results[oneshot] = oneshot_curve(bench)
    files = {name: bench.folder / name / "model.onnx" for name in ROWS
             if "accuracy" in results["rows"].get(name, {}) and (bench.folder / name / "model.onnx").exists()}
    repeats = (50, 5) if args.quick else (200, 20)
    print(f"\ntiming {len(files)} ONNX files in onnxruntime ({args.ort_threads} threads, {args.rounds} rounds)",
          flush=True)
    results["latency"] = measure_latency(files, bench.x_test, args.ort_threads, args.rounds, repeats)
    results["latency_meta"] = {"threads": args.ort_threads, "rounds": args.rounds, "repeats": list(repeats),
                               "command": bench.command, "date": bench.date}
    bench.save_results(results)
    print("\n" + markdown_table(results["rows"], results["latency"], list(ROWS)) + "\n")
    for target, status, figures in target_checks(results["rows"], results["latency"]):
        print(f"{status:7s} {target}" + (f": {figures}" if figures else ""))
    if "accuracy" in results["rows"].get("float32", {}):
        plot_sparsity(results["rows"], results.get(oneshot), plot)
    write_doc(bench, results, doc, plot)
    print(f"\nwritten {doc} and {plot}")
    if failed:
        print(f"rows not run or failed: {', '.join(failed)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
