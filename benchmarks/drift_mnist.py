"""Drift detection on MNIST (issue 13): false alarms on clean test data and detection under shifts.

Trains the Keras MNIST convnet (Input 28x28x1 - Conv2D 32 3x3 ReLU - MaxPooling 2 - Conv2D 64 3x3 ReLU -
MaxPooling 2 - Flatten - Dropout 0.5 - Dense 10 softmax; Adam, categorical cross-entropy, batch 128) on the
training set with ``validation_split=0.1``, builds :class:`neurona.serving.drift.ReferenceStatistics` from the
held-out validation rows, then gives many fresh :class:`~neurona.serving.drift.DriftDetector` objects a window of
requests each, drawn from the 10,000 test images, clean or shifted (rotation, Gaussian pixel noise, inversion, a
stream of two digits only, and windows only partly shifted), and reports the fraction of windows flagged and which
test fired. The model's predictions are computed once per condition on all transformed test images; each window
draws its requests from those arrays, so the many windows are cheap.

For the false alarms it compares references: the validation rows, as many training rows, a control (a random half
of the test images, windows from the other half: one population), and the same recipe fitted on shuffled rows (so
that ``validation_split`` holds out a random 10 %) for ``--epochs`` and for ``--long-epochs``; and it redraws the
training-row and control references a few times to show how much one reference's rate is luck.

    NEURONA_DATA_DIR=../shared/data python benchmarks/drift_mnist.py --output docs/drift.md
    NEURONA_DATA_DIR=../shared/data python benchmarks/drift_mnist.py --save runs/drift_cnn   # keep the model
    NEURONA_DATA_DIR=../shared/data python benchmarks/drift_mnist.py --model runs/drift_cnn  # reuse it
    python benchmarks/drift_mnist.py --quick --source embedded                               # smoke run, seconds

Everything is seeded (``--seed``): the training (``nr.seed``), the noise and every window's draw (NumPy
generators keyed by the seed and the window's place in the tables, so one table does not depend on another).
"""

import argparse
import contextlib
import inspect
import logging
import os
import platform
import shlex
import sys
import time

import numpy as np

import neurona as nr
from neurona import layers, models, utils
from neurona.serving.drift import DriftDetector, ReferenceStatistics, entropy

WINDOWS = (100, 200, 500)
VALIDATION_SPLIT = 0.1
BATCH = 128
TWO_DIGITS = (0, 1)
# (name, kind, parameter); "digits" draws its requests from the test images of TWO_DIGITS only, unchanged
SHIFTS = (("rotation 15°", "rotate", 15.0), ("rotation 30°", "rotate", 30.0), ("rotation 45°", "rotate", 45.0),
          ("noise σ = 0.1", "noise", 0.1), ("noise σ = 0.3", "noise", 0.3), ("inverted (1 - x)", "invert", None),
          (f"digits {TWO_DIGITS[0]} and {TWO_DIGITS[1]} only", "digits", TWO_DIGITS))
ALPHAS = (0.05, 0.02, 0.01, 0.005, 0.001)  # the false-alarm rate at each, read off the same windows' p-values


# ------------------------------------------------------------------------------------------------ transformations
def rotate(images, degrees):
    """Rotate each image counterclockwise by ``degrees`` about its centre, with bilinear interpolation.

    ``images`` is (n, H, W) or (n, H, W, C). Output pixel (i, j) (row, column) takes the value at the source
    point (src_i, src_j), the pixel turned back by theta about the centre c = ((H - 1) / 2, (W - 1) / 2):

        src_i = c_i + cos(theta) (i - c_i) + sin(theta) (j - c_j)
        src_j = c_j - sin(theta) (i - c_i) + cos(theta) (j - c_j)

    interpolated bilinearly between its four neighbours; points outside the image read 0 (MNIST's background).
    "Counterclockwise" is as the image is shown with row 0 on top, the direction of ``numpy.rot90``, which
    ``rotate(x, 90)`` reproduces exactly on square images.
    """
    images = np.asarray(images)
    if images.ndim not in (3, 4):
        raise ValueError(f"rotate: images must have shape (n, H, W) or (n, H, W, C), got {images.shape}")
    if isinstance(degrees, bool) or not isinstance(degrees, (int, float, np.integer, np.floating)) \
            or not np.isfinite(degrees):
        raise ValueError(f"rotate: degrees must be a finite number, got {degrees!r}")
    h, w = images.shape[1:3]
    theta = np.deg2rad(float(degrees))
    cos, sin = np.cos(theta), np.sin(theta)
    ci, cj = (h - 1) / 2.0, (w - 1) / 2.0
    i, j = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64), indexing="ij")
    src_i = ci + cos * (i - ci) + sin * (j - cj)
    src_j = cj - sin * (i - ci) + cos * (j - cj)
    # cos(90°) is 6e-17, not 0: snap coordinates within 1e-9 of a pixel onto it, so that a right angle moves
    # pixels exactly instead of blending in a neighbour with weight 1e-16
    src_i, src_j = (np.where(np.abs(s - np.round(s)) < 1e-9, np.round(s), s) for s in (src_i, src_j))
    i0, j0 = np.floor(src_i), np.floor(src_j)
    fi, fj = src_i - i0, src_j - j0
    # a one-pixel border of zeros; indices beyond it are clipped onto it, so far-away points read 0 too
    pad = [(0, 0), (1, 1), (1, 1)] + [(0, 0)] * (images.ndim - 3)
    padded = np.pad(images.astype(np.float64), pad)
    rows = [np.clip(i0 + d, -1, h).astype(np.intp) + 1 for d in (0, 1)]
    cols = [np.clip(j0 + d, -1, w).astype(np.intp) + 1 for d in (0, 1)]
    weights = {(0, 0): (1 - fi) * (1 - fj), (0, 1): (1 - fi) * fj, (1, 0): fi * (1 - fj), (1, 1): fi * fj}
    out = np.zeros(images.shape, dtype=np.float64)
    for (a, b), weight in weights.items():
        if images.ndim == 4:
            weight = weight[:, :, None]
        out += weight * padded[:, rows[a], cols[b]]
    return out.astype(images.dtype if images.dtype.kind == "f" else np.float64)


def add_noise(images, sigma, rng):
    """``clip(x + sigma * N(0, 1), 0, 1)`` element by element (pixels in [0, 1])."""
    noisy = images + sigma * rng.standard_normal(images.shape)
    return np.clip(noisy, 0.0, 1.0).astype(images.dtype)


def invert(images):
    """``1 - x``: white digits on black become black on white."""
    return (1.0 - images).astype(images.dtype)


# ---------------------------------------------------------------------------------------------------------- model
def build_model():
    """The Keras example "Simple MNIST convnet", as a Keras user writes it."""
    model = models.Sequential([
        layers.Input((28, 28, 1)),
        layers.Conv2D(32, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def preprocess(model, raw):
    """Raw uint8 images (n, 28, 28) -> the model's inputs (n, 28, 28, 1), by its recorded preprocessing steps."""
    raw = np.asarray(raw).reshape(-1, 28, 28, 1)
    steps = getattr(model, "preprocessing", None) or [nr.saving.preprocessing.rescale(255.0)]
    x = np.asarray(nr.saving.preprocessing.apply(steps, raw), dtype=np.float32)
    if x.min() < 0 or x.max() > 1:
        raise ValueError(f"the model's preprocessing {steps} does not map pixels into [0, 1] (range "
                         f"[{x.min():.3g}, {x.max():.3g}]); the shifts here are defined in [0, 1] pixel units")
    return x


def split_validation(n):
    """``(train rows, validation rows)`` as ``fit(validation_split=0.1)`` holds them out: the last 10%."""
    n_val = int(n * VALIDATION_SPLIT)
    return np.arange(n - n_val), np.arange(n - n_val, n)


def predict(model, x):
    # batches of 256 keep the convolutions' buffers in cache: 2x faster than 1,000 on 2 cores
    return np.asarray(model.predict(x, batch_size=256, verbose=0), dtype=np.float64)


# ------------------------------------------------------------------------------------------------------- windows
def window_p_values(reference, shifted, clean, window, n_windows, rng, fraction=1.0):
    """p-values of ``n_windows`` fresh DriftDetectors, each fed ``window`` requests and then checked.

    ``shifted`` and ``clean`` are ``(inputs, probabilities, pool)``: arrays over the test images and the indices
    a window may draw from. ``round(fraction * window)`` requests come from ``shifted``'s pool, the rest from
    ``clean``'s pool without the images already drawn (so no digit appears twice, shifted and not), all without
    replacement.

    Returns:
        (n_windows, 3) array: the combined p-value, the inputs' (Bonferroni over the components) and the
        entropies' p-value, as :class:`~neurona.serving.drift.DriftResult` reports them.
    """
    xs, ps, pool_s = shifted
    n_shift = int(round(fraction * window))
    if n_shift < window and clean is None:
        raise ValueError(f"fraction {fraction} < 1 needs clean data for the rest of the window")
    if n_shift > len(pool_s) or (n_shift < window and window > len(clean[2])):
        raise ValueError(f"a window of {window} requests ({n_shift} shifted) cannot be drawn without replacement "
                         f"from {len(pool_s)} shifted" + ("" if clean is None else f" and {len(clean[2])} clean")
                         + " images")
    out = np.empty((n_windows, 3))
    for k in range(n_windows):
        ids = rng.choice(pool_s, n_shift, replace=False)
        x, p = xs[ids], ps[ids]
        if n_shift < window:
            xc, pc, pool_c = clean
            rest = rng.choice(np.setdiff1d(pool_c, ids, assume_unique=True), window - n_shift, replace=False)
            x, p = np.concatenate([x, xc[rest]]), np.concatenate([p, pc[rest]])
        detector = DriftDetector(reference, window=window)
        detector.update(x, p)  # one batch of `window` requests: the same window as `window` single updates
        result = detector.check()
        out[k] = result.p_value, result.feature_p_value, result.entropy_p_value
    return out


def rates(p_values, alpha=0.05):
    """Fractions of windows flagged: overall, by the input test and by the entropy test (Bonferroni's halves)."""
    p, feature, ent = p_values.T
    return {"flagged": float(np.mean(p < alpha)), "inputs": float(np.mean(2 * feature < alpha)),
            "entropy": float(np.mean(2 * ent < alpha)), "n": int(p.size)}


def _rng(seed, *key):
    """A generator keyed by the seed and a cell's place in the tables, so no table depends on another's draws."""
    flat = [k for part in key for k in (part if isinstance(part, tuple) else (part,))]
    return np.random.default_rng([seed, *flat])


@contextlib.contextmanager
def quiet_drift_log():
    """Every fresh detector that flags logs "Drift detected"; thousands of windows would flood stderr."""
    log = logging.getLogger("neurona.serving.drift")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


# ----------------------------------------------------------------------------------------------------------- run
# The references compared on clean data: (key, model, label). "control" is fitted on a random half of the test images
# and its windows come from the other half: one population, so it measures the detector's own false-alarm rate. The
# "shuffled" and "long" models are fitted on the training rows in a random order, so that `validation_split` holds
# out a random 10 % rather than the last stretch of the file; "long" is fitted for --long-epochs.
REFERENCES = (("validation", "main", "validation rows (the last 10 %, as `validation_split` holds out)"),
              ("training", "main", "training rows (as many, drawn at random from the rows fitted on)"),
              ("control", "main", "a random half of the test images (windows from the other half)"),
              ("validation shuffled", "shuffled", "shuffled model: validation rows (a random 10 %)"),
              ("training shuffled", "shuffled", "shuffled model: training rows (as many, at random)"),
              ("validation long", "long", "shuffled model fitted longer: validation rows"),
              ("training long", "long", "shuffled model fitted longer: training rows"))
DRAWS = (("training", "training rows, each draw another {n:,} (main model)"),
         ("control", "test-half control, each draw another split of the test images"))


def load(args):
    (x_train, y_train), (x_test, y_test) = nr.datasets.mnist.load_data(source=args.source, verbose=False)
    source = nr.datasets.mnist.last_source()
    if args.train_subset:
        keep = np.sort(_rng(args.seed, 1).permutation(len(x_train))[:args.train_subset])
        x_train, y_train = x_train[keep], y_train[keep]
    if args.test_subset:
        keep = np.sort(_rng(args.seed, 2).permutation(len(x_test))[:args.test_subset])
        x_test, y_test = x_test[keep], y_test[keep]
    return (x_train, y_train), (x_test, y_test), source


def fit_model(args, raw_train, y_train, order, epochs):
    """The convnet fitted on the rows ``order`` (in that order; ``validation_split`` holds out its last 10 %)."""
    nr.seed(args.seed)
    model = build_model()
    model.preprocessing = [nr.saving.preprocessing.rescale(255.0)]
    x = preprocess(model, raw_train[order])
    history = model.fit(x, utils.to_categorical(y_train[order], 10), batch_size=BATCH, epochs=epochs,
                        validation_split=VALIDATION_SPLIT, verbose=args.verbose)
    return model, history.history


def conditions(model, x_test, y_test, seed):
    """name -> (inputs, probabilities, pool, accuracy of the model on them) for "clean" and every shift."""
    out = {}
    probs = predict(model, x_test)
    everything = np.arange(len(x_test))
    out["clean"] = (x_test, probs, everything, float(np.mean(probs.argmax(1) == y_test)))
    for index, (name, kind, parameter) in enumerate(SHIFTS):
        if kind == "digits":
            pool = np.flatnonzero(np.isin(y_test, parameter))
            out[name] = (x_test, probs, pool, float(np.mean(probs[pool].argmax(1) == y_test[pool])))
            continue
        if kind == "rotate":
            x = rotate(x_test, parameter)
        elif kind == "noise":
            x = add_noise(x_test, parameter, _rng(seed, 1000 + index))
        else:
            x = invert(x_test)
        p = predict(model, x)
        out[name] = (x, p, everything, float(np.mean(p.argmax(1) == y_test)))
    return out


def _reference(x, p, seed):
    return ReferenceStatistics.from_arrays(x, p, seed=seed), float(entropy(p).mean())


def model_references(model, raw_train, y_train, order, seed, draw_key=3):
    """The validation and training-row references of a model fitted on rows ``order``, and facts about them.

    The training-row reference takes as many rows as the validation one, at random (generator key ``draw_key``)
    from the rows fitted on, so the two differ only in where their rows come from.
    """
    train_rows, val_rows = (order[part] for part in split_validation(len(order)))
    picked = np.sort(_rng(seed, draw_key).choice(train_rows, len(val_rows), replace=False))
    x_val, x_fit = preprocess(model, raw_train[val_rows]), preprocess(model, raw_train[picked])
    p_val, p_fit = predict(model, x_val), predict(model, x_fit)
    facts = {"n_train": len(train_rows), "n_val": len(val_rows),
             "val_accuracy": float(np.mean(p_val.argmax(1) == y_train[val_rows]))}
    return {"validation": _reference(x_val, p_val, seed), "training": _reference(x_fit, p_fit, seed)}, facts


def control_reference(x_test, p_test, seed, draw_key=5):
    """A reference from a random half of the test images, and the other half as the pool of its windows."""
    order = _rng(seed, draw_key).permutation(len(x_test))
    rows, pool = np.sort(order[:len(x_test) // 2]), np.sort(order[len(x_test) // 2:])
    return _reference(x_test[rows], p_test[rows], seed), pool


def run(args):
    """Every window's p-values and the facts the report states, as a dict (also what ``main`` returns)."""
    times, start = {}, time.perf_counter()
    (raw_train, y_train), (raw_test, y_test), source = load(args)
    n = len(raw_train)
    t = time.perf_counter()
    orders = {"main": np.arange(n)}
    if args.model:
        fitted, history = {"main": models.load_model(args.model)}, None
        times["loading the model"] = time.perf_counter() - t
    else:
        main_model, history = fit_model(args, raw_train, y_train, orders["main"], args.epochs)
        fitted = {"main": main_model}
        times["training"] = time.perf_counter() - t
        if args.save:
            main_model.save(args.save)
    shuffled_order = _rng(args.seed, 4).permutation(n)
    for name, epochs in (("shuffled", args.epochs if args.shuffled_model else 0), ("long", args.long_epochs)):
        if epochs:
            t = time.perf_counter()
            fitted[name], orders[name] = fit_model(args, raw_train, y_train, shuffled_order, epochs)[0], shuffled_order
            times[f"training the {name} model"] = time.perf_counter() - t

    t = time.perf_counter()
    x_test = preprocess(fitted["main"], raw_test)
    data = conditions(fitted["main"], x_test, y_test, args.seed)
    refs, facts, streams, accuracy = {}, {}, {}, {"main": {name: data[name][3] for name in data}}
    for name, model in fitted.items():
        model_refs, facts[name] = model_references(model, raw_train, y_train, orders[name], args.seed)
        suffix = "" if name == "main" else " " + name
        for kind, ref in model_refs.items():
            refs[kind + suffix] = ref
        p_test = data["clean"][1] if name == "main" else predict(model, x_test)
        streams[name] = (x_test, p_test, data["clean"][2])
        accuracy.setdefault(name, {})["clean"] = float(np.mean(p_test.argmax(1) == y_test))
    refs["control"], control_pool = control_reference(x_test, data["clean"][1], args.seed)
    times["predictions and references"] = time.perf_counter() - t

    p_values = {}
    with quiet_drift_log():
        t = time.perf_counter()
        for r, (key, which, _) in enumerate(REFERENCES):
            if key not in refs:
                continue
            x, p, pool = streams[which]
            stream = (x, p, control_pool if key == "control" else pool)
            for w in args.windows:
                p_values[key, "clean", w, 1.0] = window_p_values(refs[key][0], stream, None, w, args.clean_windows,
                                                                 _rng(args.seed, 10, r, w, 0))
        times["clean windows"] = time.perf_counter() - t
        t = time.perf_counter()
        shifted_refs = ("validation", "training") if args.shifts_with_training_reference else ("validation",)
        fractions = (1.0, args.fraction) if args.fraction < 1 else (1.0,)
        for r, (key, _, _) in enumerate(REFERENCES):
            if key not in shifted_refs:
                continue
            for c, (name, _, _) in enumerate(SHIFTS, start=1):
                for w in args.windows:
                    for f, fraction in enumerate(fractions if key == "validation" else (1.0,)):
                        p_values[key, name, w, fraction] = window_p_values(
                            refs[key][0], data[name][:3], data["clean"][:3], w, args.shift_windows,
                            _rng(args.seed, 10 + 10 * f, r, w, c), fraction=fraction)
        times["shifted windows"] = time.perf_counter() - t
        t = time.perf_counter()
        draws = reference_draws(args, fitted["main"], raw_train, y_train, x_test, streams["main"])
        if draws:
            times["reference draws"] = time.perf_counter() - t
    times["total"] = time.perf_counter() - start
    return {"source": source, "history": history, "names": ["clean"] + [name for name, _, _ in SHIFTS],
            "accuracy": accuracy, "facts": facts, "pool": {name: len(data[name][2]) for name in data},
            "references": {key: {"n_components": ref.n_components, "n_projections": ref.projections.shape[0],
                                 "n_entropies": ref.entropies.size, "mean_entropy": mean_entropy}
                           for key, (ref, mean_entropy) in refs.items()},
            "test_entropy": float(entropy(data["clean"][1]).mean()), "n_test": len(x_test),
            "n_control": len(control_pool), "p_values": p_values, "draws": draws, "times": times,
            "windows": list(args.windows), "fraction": args.fraction, "args": args}


def reference_draws(args, model, raw_train, y_train, x_test, stream):
    """Clean false alarms for ``--reference-draws`` other draws of the training-row and control references.

    Each cell of the other tables is conditional on one reference; these draws show how far the rate moves from
    one reference to the next (the reference sample's own randomness, which more windows do not average out).
    Returns {(kind, draw, window): rates} (empty without draws).
    """
    out = {}
    x, p, pool = stream
    for d in range(args.reference_draws):
        training = model_references(model, raw_train, y_train, np.arange(len(raw_train)), args.seed,
                                    draw_key=(30, d))[0]["training"][0]
        control, control_pool = control_reference(x_test, p, args.seed, draw_key=(31, d))
        for k, (kind, ref, kind_pool) in enumerate((("training", training, pool),
                                                    ("control", control[0], control_pool))):
            for w in args.windows:
                out[kind, d, w] = rates(window_p_values(ref, (x, p, kind_pool), None, w, args.draw_windows,
                                                        _rng(args.seed, 40, k, d, w)))
    return out


# ------------------------------------------------------------------------------------------------------- report
def _pct(rate, n=None):
    """A rate in % with one decimal; with ``n``, its binomial standard error too."""
    if n is None:
        return f"{100 * rate:.1f}"
    return f"{100 * rate:.1f} ± {100 * np.sqrt(rate * (1 - rate) / n):.1f}"


def proposed_alpha(results, key="validation", target=0.05):
    """The largest alpha of ALPHAS whose clean false-alarm rate is <= ``target`` at every window size."""
    for alpha in ALPHAS:
        if all(rates(results["p_values"][key, "clean", w, 1.0], alpha)["flagged"] <= target
               for w in results["windows"]):
            return alpha
    return None


def _row(cells):
    return "| " + " | ".join(cells) + " |\n"


def detection_table(results, key, fraction, alphas, with_accuracy=False):
    windows, p = results["windows"], results["p_values"]
    names = [n for n in results["names"] if (key, n, windows[0], fraction) in p]
    label = " / ".join(f"α = {a}" for a in alphas)
    head = ["condition"] + (["model accuracy %"] if with_accuracy else []) + [f"window {w}: {label}"
                                                                            for w in windows]
    out = _row(head) + _row(["---"] * len(head))
    for name in names:
        cells = [name] + ([f"{100 * results['accuracy']['main'][name]:.2f}"] if with_accuracy else [])
        for w in windows:
            pv = p[key, name, w, fraction]
            n = pv.shape[0] if name == "clean" else None
            cells.append(" / ".join(_pct(rates(pv, a)["flagged"], n if a == alphas[0] else None) for a in alphas))
        out += _row(cells)
    return out


def fired_table(results):
    windows, p = results["windows"], results["p_values"]
    out = _row(["condition"] + [f"window {w}: inputs / entropy" for w in windows]) + _row(["---"] * (1 + len(windows)))
    for name in results["names"]:
        cells = [name]
        for w in windows:
            r = rates(p["validation", name, w, 1.0])
            cells.append(f"{_pct(r['inputs'])} / {_pct(r['entropy'])}")
        out += _row(cells)
    return out


def reference_table(results):
    windows, p = results["windows"], results["p_values"]
    head = ["reference", "mean entropy (nats)", "window", "flagged % (α = 0.05)", "by inputs %", "by entropy %"]
    head += [f"α = {a}" for a in ALPHAS[1:]]
    out = _row(head) + _row(["---"] * len(head))
    for key, _, label in REFERENCES:
        if key not in results["references"]:
            continue
        for w in windows:
            pv = p[key, "clean", w, 1.0]
            r = rates(pv)
            out += _row([label, f"{results['references'][key]['mean_entropy']:.4f}", str(w),
                         _pct(r["flagged"], r["n"]), _pct(r["inputs"]), _pct(r["entropy"])]
                        + [_pct(rates(pv, a)["flagged"]) for a in ALPHAS[1:]])
    return out


def draws_table(results):
    draws, n_draws = results["draws"], results["args"].reference_draws
    head = ["reference", "window"] + [f"draw {d + 1}" for d in range(n_draws)] + ["mean"]
    out = _row(head) + _row(["---"] * len(head))
    for kind, label in DRAWS:
        for w in results["windows"]:
            values = [draws[kind, d, w]["flagged"] for d in range(n_draws)]
            out += _row([label.format(n=results["facts"]["main"]["n_val"]), str(w)] + [_pct(v) for v in values]
                        + [_pct(float(np.mean(values)))])
    return out


def command_line(argv):
    env = f"NEURONA_DATA_DIR={os.environ['NEURONA_DATA_DIR']} " if "NEURONA_DATA_DIR" in os.environ else ""
    return f"{env}.venv/bin/python benchmarks/drift_mnist.py {shlex.join(argv)}".rstrip()


def _epochs(n):
    return f"{n} epoch" + ("s" if n != 1 else "")


def setup_lines(results, argv):
    args, times, facts, accuracy = results["args"], results["times"], results["facts"], results["accuracy"]
    main = facts["main"]
    ref = results["references"]["validation"]
    trained = (f"trained here for {_epochs(args.epochs)} (Adam, batch {BATCH}) on {main['n_train']:,} images, the "
               f"last {main['n_val']:,} held out by `validation_split=0.1`" if not args.model
               else f"loaded from `{args.model}` (its validation rows taken to be the last 10 %)")
    if args.train_subset:
        trained += f" (a random subset of {args.train_subset:,} training images)"
    others = []
    if "shuffled" in facts:
        others.append(f"the **shuffled model** is the same recipe and seed fitted on the training rows in a random "
                      f"order, so that `validation_split` holds out a random 10 % (test accuracy "
                      f"{100 * accuracy['shuffled']['clean']:.2f} %, validation "
                      f"{100 * facts['shuffled']['val_accuracy']:.2f} %)")
    if "long" in facts:
        others.append(f"the **longer-fitted model** is the shuffled one fitted for {_epochs(args.long_epochs)} "
                      f"(test accuracy {100 * accuracy['long']['clean']:.2f} %, validation "
                      f"{100 * facts['long']['val_accuracy']:.2f} %)")
    digits = results["names"][-1]
    return [
        "```bash",
        command_line(argv),
        "```",
        "",
        f"- data: {results['source'].describe().removeprefix('neurona.datasets.mnist: ')}"
        + (f"; a random {results['n_test']:,} of the test images" if args.test_subset else "") + ".",
        f"- model: the Keras \"simple MNIST convnet\" (Conv2D 32 - MaxPooling - Conv2D 64 - MaxPooling - Flatten - "
        f"Dropout 0.5 - Dense 10 softmax), {trained}; test accuracy "
        f"**{100 * accuracy['main']['clean']:.2f} %**, validation accuracy {100 * main['val_accuracy']:.2f} %"
        + ("; " + "; ".join(others) if others else "") + ".",
        f"- reference: `ReferenceStatistics.from_arrays(x_val, model.predict(x_val))` on the {main['n_val']:,} "
        f"validation rows: a PCA of {ref['n_components']} components fitted on half of them, the other half "
        f"({ref['n_projections']:,} rows) projected as the reference sample, the entropies of "
        f"{ref['n_entropies']:,} rows.",
        f"- windows: each a fresh `DriftDetector(reference, window=w)` fed w requests drawn without replacement "
        f"from the test images, then `check()`; {args.clean_windows:,} windows per cell on clean data, "
        f"{args.shift_windows:,} per cell under a shift. Rotation is bilinear about the image centre "
        f"(counterclockwise, zeros outside), the noise Gaussian in [0, 1] pixel units and clipped, the two-digit "
        f"stream draws from the {results['pool'][digits]:,} test images of the digits {TWO_DIGITS[0]} and "
        f"{TWO_DIGITS[1]}. Seed {args.seed}; a rerun gives the same figures.",
        f"- time: {times['total']:.0f} s in all on {os.cpu_count()} CPU cores ({platform.machine()}, Python "
        f"{platform.python_version()}, NumPy {np.__version__}): "
        + ", ".join(f"{k} {v:.0f} s" for k, v in times.items() if k != "total") + ".",
        "",
    ]


def report(results, argv):
    """The Markdown page: set-up, the tables and what they show."""
    args, windows, facts = results["args"], results["windows"], results["facts"]
    alpha = proposed_alpha(results)
    alphas = tuple(sorted({0.05, 0.01} | ({alpha} if alpha else set()), reverse=True))
    lines = [
        "# Drift detection on MNIST",
        "",
        "How often `neurona.serving.drift.DriftDetector` (PCA + Kolmogorov-Smirnov per component, KS on the entropy "
        "of the model's outputs, Bonferroni; Rabanser et al. 2019) flags a window of requests drawn from the MNIST "
        "test images (never trained on), as they are and shifted. Command (this page is its output):",
        "",
    ] + setup_lines(results, argv) + [
        "## Windows flagged, %",
        "",
        "Validation reference. The clean row is the false-alarm rate (± its binomial standard error over the "
        "windows); the other rows are detection rates. "
        + "Each cell gives the rate at " + ", ".join(f"α = {a}" for a in alphas) + " in turn, read off the same "
        "windows' p-values (a detector built with that `alpha`)"
        + (f"; {alpha} is the largest of {list(ALPHAS)} that keeps clean false alarms at or below 5 % at every "
           "window size. " if alpha else ". ")
        + "Model accuracy is on all the test images of that condition.",
        "",
        detection_table(results, "validation", 1.0, alphas, with_accuracy=True),
    ]
    if args.fraction < 1:
        lines += [f"## Windows flagged when {100 * args.fraction:.0f} % of each window is shifted, %", "",
                  "The rest of each window is clean test images (other images than the shifted ones).", "",
                  detection_table(results, "validation", args.fraction, alphas)]
    lines += ["## Which test fired, % of windows (validation reference, α = 0.05)", "",
              "A test counts as fired when its own p-value is below α/2, its Bonferroni share: the combined p-value "
              "is twice the smaller of the two, so a window is flagged exactly when at least one test fired.", "",
              fired_table(results),
              "## False alarms on clean test data by reference, %", "",
              f"Every reference holds {facts['main']['n_val']:,} rows (the control {results['n_test'] // 2:,}) and "
              "uses the same `from_arrays` settings. The α columns give the rate a detector built with that "
              "`alpha` would have, read off the same windows' p-values. Mean entropy is the model's on the "
              f"reference rows; on the clean test images the main model's is {results['test_entropy']:.4f}.", "",
              reference_table(results)]
    if results["draws"]:
        lines += ["## The same reference kind, other draws: false alarms at α = 0.05, %", "",
                  f"{args.draw_windows:,} windows per cell. Every cell above is conditional on one reference sample; "
                  "these rows show how much the rate moves from one draw of the reference rows to the next.", "",
                  draws_table(results)]
    if ("training", results["names"][1], windows[0], 1.0) in results["p_values"]:
        lines += ["## Detection with the training-row reference (α = 0.05), %", "",
                  detection_table(results, "training", 1.0, (0.05,))]
    lines += ["## What the numbers show", ""] + notes(results, alpha) + [""]
    return "\n".join(lines)


def _rate(results, key, w, alpha=0.05):
    return rates(results["p_values"][key, "clean", w, 1.0], alpha)["flagged"]


def notes(results, alpha):
    """Statements read off the results: each is worded from the numbers, none written in advance."""
    windows, refs, args = results["windows"], results["references"], results["args"]
    has = lambda key: key in refs  # noqa: E731

    def listed(key, a=0.05):
        return ", ".join(f"{_pct(_rate(results, key, w, a))} % at {w}" for w in windows)

    def gap(key, other):
        return ", ".join(f"{100 * (_rate(results, key, w) - _rate(results, other, w)):+.1f}" for w in windows)

    default = inspect.signature(DriftDetector).parameters["alpha"].default
    out = [f"- **The detector's default, α = {default}** (`DriftDetector`, `neurona serve`): clean false alarms "
           f"{listed('validation', default)} with the validation reference, "
           f"{'at or below' if all(_rate(results, 'validation', w, default) <= 0.05 for w in windows) else 'above'}"
           " 5 % at every window size measured."]
    over = [w for w in windows if _rate(results, "validation", w) > 0.05]
    if not over:
        out.append(f"- **False alarms hold at α = 0.05** with the validation reference: "
                   f"{listed('validation')}.")
    else:
        out.append(f"- **False alarms exceed 5 % at α = 0.05** with the validation reference that "
                   f"`validation_split` gives: {listed('validation')}."
                   + (f" `alpha={alpha}` keeps them at or below 5 % at every window size measured "
                      f"({listed('validation', alpha)}); what that costs in detection is in the tables above."
                      if alpha else f" None of the α values {list(ALPHAS)} keeps them there.")
                   + (f" With α = 0.01: {listed('validation', 0.01)}." if alpha not in (None, 0.01) else ""))

    def within(rate, n):  # at most two binomial standard errors above alpha = 0.05
        return rate <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / n)

    calibrated = all(within(_rate(results, "control", w), args.clean_windows) for w in windows)
    text = (f"- **The test keeps its level on one population.** With reference and windows from two random halves "
            f"of the test images: {listed('control')} at α = 0.05")
    if results["draws"]:
        means = [np.mean([results["draws"]["control", d, w]["flagged"] for d in range(args.reference_draws)])
                 for w in windows]
        text += (f"; over {args.reference_draws} other splits, on average "
                 + ", ".join(f"{_pct(m)} % at {w}" for m, w in zip(means, windows)))
        calibrated &= all(within(m, args.reference_draws * args.draw_windows) for m in means)
    text += (". " + ("All within two standard errors of α or below, so an excess elsewhere is a real difference "
                     "between the reference rows and the stream, not the test's." if calibrated else
                     "Some exceed α by more than two standard errors: the test itself is liberal here."))
    out.append(text)
    if has("validation shuffled"):
        block, test_e = refs["validation"]["mean_entropy"], results["test_entropy"]
        extra = [w for w in windows if _rate(results, "validation shuffled", w) > _rate(results, "control", w)
                 + 2 * np.sqrt(0.05 * 0.95 / args.clean_windows)]
        out.append(f"- **A contiguous validation split against a random one.** `validation_split` holds out the last "
                   f"10 % of the arrays as given, one stretch of MNIST's training file; the model's mean entropy "
                   f"there is {block:.4f}, {'below' if block < test_e else 'not below'} the test images' "
                   f"({test_e:.4f}). False alarms: {listed('validation')}. With a random 10 % (the shuffled model): "
                   f"{listed('validation shuffled')}. "
                   + (f"At window(s) {', '.join(map(str, extra))} the random split still flags more than the "
                      "control by over two standard errors: MNIST's test digits were written by other people than "
                      "its training digits (the sets of writers are disjoint, as LeCun, Cortes and Burges describe "
                      "the data set), a real difference that a large enough window sees."
                      if extra else "The random split flags no more than the control, within two standard errors."))
    pairs = [(name, f"validation{suffix}", f"training{suffix}") for name, suffix in
             (("the main model", ""), ("the shuffled model", " shuffled"), ("the longer-fitted model", " long"))
             if has(f"validation{suffix}")]
    fallback = "; ".join(
        f"{name}: {gap(train, val)} points (mean entropy on training rows {refs[train]['mean_entropy']:.4f}, "
        f"on validation rows {refs[val]['mean_entropy']:.4f})" for name, val, train in pairs)
    rises = [(100 * (_rate(results, train, w) - _rate(results, val, w)), name, w) for name, val, train in pairs
             for w in windows]
    top, top_name, top_w = max(rises)
    confident = [name for name, val, train in pairs if refs[train]["mean_entropy"] < refs[val]["mean_entropy"]]
    out.append(f"- **Training rows instead of validation rows** (same model, as many rows), false alarms at windows "
               f"{', '.join(map(str, windows))}, training-row reference minus validation reference: {fallback}. "
               f"The largest increase is {top:+.1f} points ({top_name}, window {top_w}). A model more confident on "
               "the rows it was fitted on makes clean new data look more uncertain than such a reference, which the "
               "entropy test would read as drift; the models more confident on their training rows here: "
               f"{', '.join(confident) or 'none'}.")
    if results["draws"]:
        spread = [[results["draws"]["training", d, w]["flagged"] for d in range(args.reference_draws)]
                  for w in windows]
        out.append(f"- **One reference is one draw.** {args.reference_draws} other draws of "
                   f"{results['facts']['main']['n_val']:,} training rows gave "
                   + ", ".join(f"{_pct(min(v))} to {_pct(max(v))} % at {w}" for v, w in zip(spread, windows))
                   + ": differences between references smaller than that spread are not evidence for either.")
    w0 = windows[0]
    by = {name: rates(results["p_values"]["validation", name, w0, 1.0]) for name in results["names"][1:]}
    entropy_led = [n for n, r in by.items() if r["entropy"] > r["inputs"] + 0.1]
    inputs_led = [n for n, r in by.items() if r["inputs"] > r["entropy"] + 0.1]
    if entropy_led or inputs_led:
        out.append(f"- **Which test catches what.** At window {w0} the entropy test fires on more windows than "
                   f"the input test under: {', '.join(entropy_led) or 'none'}; the input test on more under: "
                   f"{', '.join(inputs_led) or 'none'} (by more than 10 points).")
    out.append(f"- Every cell draws its windows from one reference and one pool of {results['n_test']:,} test "
               "images, so its standard error is that of the window draws only; windows overlap (they share "
               "images), which makes it slightly optimistic.")
    return out


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="load this saved model (a folder written by --save) instead of training")
    parser.add_argument("--save", help="save the trained model (with its pixels/255 preprocessing) to this folder")
    parser.add_argument("--epochs", type=int, help="epochs of the main and shuffled models (default 3)")
    parser.add_argument("--train-subset", type=int, help="train on a random subset of this many images (default: all)")
    parser.add_argument("--test-subset", type=int, help="draw windows from a random subset of this many test images "
                        "(default: all)")
    parser.add_argument("--windows", type=int, nargs="+", help=f"window sizes (default {' '.join(map(str, WINDOWS))})")
    parser.add_argument("--clean-windows", type=int, help="windows per cell on clean data (default 1000)")
    parser.add_argument("--shift-windows", type=int, help="windows per cell under a shift (default 200)")
    parser.add_argument("--fraction", type=float, default=0.5, help="share of each window shifted in the second "
                        "table (1: no such table)")
    parser.add_argument("--shuffled-model", action=argparse.BooleanOptionalAction, default=None,
                        help="also fit the model on shuffled rows, so that validation_split holds out a random 10 %% "
                        "(default: yes, but not with --quick)")
    parser.add_argument("--long-epochs", type=int, default=None, help="also fit the shuffled model this long, to see "
                        "the training-row reference of a model fitted closer to its training rows (0: no; default "
                        "15, 0 with --quick)")
    parser.add_argument("--reference-draws", type=int, help="other draws of the training-row and control "
                        "references, clean false alarms only (0: none; default 5)")
    parser.add_argument("--draw-windows", type=int, help="windows per cell for those draws (default 300)")
    parser.add_argument("--shifts-with-training-reference", action="store_true",
                        help="also measure detection with the training-row reference")
    parser.add_argument("--source", default="auto", choices=["auto", "full", "embedded"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", help="write the Markdown report here (e.g. docs/drift.md)")
    parser.add_argument("--verbose", type=int, default=0, help="fit's verbosity")
    parser.add_argument("--quick", action="store_true", help="a smoke run of seconds: 1 epoch on 1,000 images, "
                        "1,000 test images, windows of 50 and 100, few windows, no extra models (options given on "
                        "the command line are kept)")
    args = parser.parse_args(argv)
    # what the command line leaves unset: the full run's values, or with --quick those of a run of seconds
    given = {key for key, value in vars(args).items() if value is not None}
    defaults = dict(epochs=3, windows=list(WINDOWS), clean_windows=1000, shift_windows=200, shuffled_model=True,
                    long_epochs=15, reference_draws=5, draw_windows=300, train_subset=0, test_subset=0)
    if args.quick:
        defaults.update(epochs=1, windows=[50, 100], clean_windows=20, shift_windows=5, shuffled_model=False,
                        long_epochs=0, reference_draws=2, draw_windows=5, train_subset=1000, test_subset=1000)
    for key, value in defaults.items():
        if key not in given:
            setattr(args, key, value)
    if args.model:  # a loaded model comes without its shuffled twins
        args.shuffled_model, args.long_epochs = False, 0
    if min(args.windows) < 2 or min(args.clean_windows, args.shift_windows, args.draw_windows) < 1 \
            or not 0 < args.fraction <= 1 or args.epochs < 1 or args.long_epochs < 0 or args.reference_draws < 0:
        parser.error("--windows must be >= 2, the window counts and --epochs >= 1, --long-epochs and "
                     "--reference-draws >= 0, --fraction in (0, 1]")
    return args


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    results = run(args)
    text = report(results, argv)
    print(text)
    if args.output:
        os.makedirs(os.path.dirname(args.output) or ".", exist_ok=True)
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    return results


if __name__ == "__main__":
    main()
