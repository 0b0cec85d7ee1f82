"""Glorot & Bengio 2010, activations and back-propagated gradients per layer under two initializations.

X. Glorot and Y. Bengio, "Understanding the difficulty of training deep feedforward neural networks", AISTATS
2010, Figures 6, 7 and 8 (and the Jacobian singular values of section 4.2.2). A tanh network with 5 hidden
layers of 1000 units is drawn under the "standard" initialization W ~ U[-1/sqrt(n), 1/sqrt(n)] (n the fan-in,
their eq. 1: n Var[W] = 1/3) and under the "normalized" one W ~ U[-sqrt(6)/sqrt(n_in + n_out), +...] (eq. 16,
Keras's glorot_uniform), biases zero. What the paper reports, at initialization:

- Fig. 6, activation values: with the standard initialization "0-peak increases for higher layers" (the
  activations shrink layer after layer); with the normalized one the histograms stay alike across layers;
- Fig. 7, back-propagated gradients dCost/ds (s the pre-activation): with the standard initialization their
  variance "gets smaller as it is propagated downwards" (toward the input; "0-peak decreases for higher
  layers"), which the normalized one removes; "this trend is reversed very quickly during learning";
- Fig. 8, weight gradients: roughly the same variance in every layer under both (their eq. 14), even though the
  back-propagated gradients shrink under the standard one;
- the average singular value of the layer Jacobian dz^{i+1}/dz^i is about 0.8 (normalized) and 0.5 (standard).

What this script measures, with Neurona (``initializers.RandomUniform`` with the eq. 1 bounds per layer and
``initializers.GlorotUniform``): on a batch of MNIST training images (pixels scaled to [0, 1]; or standardized
with ``--inputs standardized``), one forward and backward pass of the summed negative log-likelihood (softmax
output), so each example's gradient is read as it is. Layer hooks take every hidden layer's activation z and
the gradient reaching its pre-activation s; the per-example weight gradient dCost/dW_lk = z_l dCost/ds_k (their
eq. 3) is sampled from those. Beside each measured std: Glorot's linear-regime theory (eqs. 5 and 6, with the
inputs' mean square for Var[x], since the weights have zero mean) and the mean-field recursion of
``nr.diagnostics`` (Poole et al. 2016), which also counts tanh's curvature; beside the Jacobian's mean singular
value, the quarter-circle law of a square random matrix (8 / (3 pi)) sqrt(n Var[W]). Then each network trains
briefly (SGD, minibatches of 10 as in the paper) and the same quantities are measured again on the same images.

How it differs from the paper: MNIST instead of Shapeset-3x2 (the paper says the other datasets gave
qualitatively similar figures); the default size trains only one epoch on 10,000 images with one fixed learning
rate for both networks (the paper tuned it per network and trained to convergence), so its test error is not
Table 1's; its Figs. 2 and 4 use 300 fixed test examples and Figs. 6-8 do not say how many, ours use the first
``--examples`` training images.

Commands (the figure and table of docs/lab/glorot2010.md come from the second)::

    .venv/bin/python experiments/glorot2010.py --quick            # seconds: 64 units, for tests
    NEURONA_DATA_DIR=/work/shared/data .venv/bin/python experiments/glorot2010.py
    NEURONA_DATA_DIR=/work/shared/data .venv/bin/python experiments/glorot2010.py --full   # 2 epochs on 60,000

Options: ``--width``, ``--examples``, ``--epochs`` (0: at initialization only), ``--train-examples``,
``--batch-size``, ``--learning-rate``, ``--inputs {unit,standardized}``, ``--data {full,embedded}``,
``--seed``, ``--out``.
"""

import argparse
import math
import os
import sys
import time

import numpy as np

import neurona as nr
from neurona import datasets, initializers, layers, losses, optimizers

NAME = "glorot2010"
DEPTH = 5
SCHEMES = ("standard", "normalized")
QUARTER_CIRCLE_MEAN = 8.0 / (3.0 * math.pi)  # mean singular value of an n x n matrix of entries N(0, 1/n)
SIZES = {  # the paper's network is 784-1000x5-10; only --quick narrows it
    "quick": {"width": 64, "examples": 256, "jacobian_examples": 2, "train_examples": 2000, "epochs": 1},
    "default": {"width": 1000, "examples": 1000, "jacobian_examples": 2, "train_examples": 10000, "epochs": 1},
    "full": {"width": 1000, "examples": 5000, "jacobian_examples": 8, "train_examples": 60000, "epochs": 2},
}
HIST_SAMPLES = 400_000  # values kept per layer and quantity for the histograms (the stds use every value)
PAPER = {  # what the paper reports, per scheme (its words where it has them)
    "activation": {"standard": "shrink with depth (0-peak increases for higher layers)",
                   "normalized": "alike across layers"},
    "gradient": {"standard": "smaller as propagated downwards", "normalized": "no such decrease"},
    "weight_gradient": {"standard": "roughly the same in every layer", "normalized": "roughly the same in every layer"},
    "jacobian": {"standard": "about 0.5", "normalized": "about 0.8"},
    "trained_gradient": {"standard": "decrease reversed very quickly during learning", "normalized": "not stated"},
    "trained_weight_gradient": {"standard": "diverge, larger in lower layers",
                                "normalized": "kept alike across layers"},
    "table1_mnist_error": {"standard": 1.76, "normalized": 1.64},
}


# ---- setup ---------------------------------------------------------------------------------------------
def parse_args(argv):
    p = argparse.ArgumentParser(prog=NAME, description=__doc__.split("\n")[0])
    size = p.add_mutually_exclusive_group()
    size.add_argument("--full", action="store_true", help="5000 images measured, 2 epochs on all 60,000")
    size.add_argument("--quick", action="store_true", help="64 units and a few hundred images (tests)")
    p.add_argument("--out", default=os.path.join("docs", "lab"), help="folder of the .png and .md")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", choices=("full", "embedded"), default=None,
                   help="MNIST source (default: full when load_data finds it, else the embedded subset)")
    p.add_argument("--inputs", choices=("unit", "standardized"), default="unit",
                   help="pixels scaled to [0, 1], or to zero mean and unit variance")
    p.add_argument("--width", type=int, help="units per hidden layer (paper: 1000)")
    p.add_argument("--examples", type=int, help="images measured at init and after training")
    p.add_argument("--epochs", type=int, help="training epochs after the measurement at init (0: none)")
    p.add_argument("--train-examples", type=int, help="training images used by fit")
    p.add_argument("--batch-size", type=int, default=10, help="SGD minibatch (paper: 10)")
    p.add_argument("--learning-rate", type=float, default=0.01)
    args = p.parse_args(argv)
    preset = SIZES["full" if args.full else "quick" if args.quick else "default"]
    for key, value in preset.items():
        if getattr(args, key, None) is None:
            setattr(args, key, value)
    for key in ("width", "examples", "train_examples", "batch_size"):
        if getattr(args, key) <= 0:
            p.error(f"--{key.replace('_', '-')} must be a positive integer, got {getattr(args, key)}")
    if args.epochs < 0 or args.seed < 0 or args.learning_rate <= 0:
        p.error("--epochs and --seed must be >= 0 and --learning-rate > 0")
    return args


def load_mnist(choice, inputs):
    """``(x_train, y_train, x_test, y_test, kind)``, images flattened to float32 rows of 784."""
    if choice is None:
        (x, y), (xt, yt) = datasets.mnist.load_data(download=False, verbose=False)
        if not datasets.mnist.last_source().is_full:
            print(f"note: {datasets.mnist.last_source().describe()} (set NEURONA_DATA_DIR for the full set)")
    else:
        (x, y), (xt, yt) = datasets.mnist.load_data(source=choice, verbose=False)
    x = x.reshape(len(x), -1).astype(np.float32) / 255.0
    xt = xt.reshape(len(xt), -1).astype(np.float32) / 255.0
    if inputs == "standardized":  # one mean and std over all training pixels, so every feature keeps its shape
        mean, std = float(x.mean()), float(x.std())
        x, xt = (x - mean) / std, (xt - mean) / std
    return x, y.astype(np.int64), xt, yt.astype(np.int64), datasets.mnist.last_source().kind


def widths(width):
    return [784] + [width] * DEPTH + [10]


def weight_variance(scheme, n_in, n_out):
    """Var[W] of the scheme: eq. 1's U[-1/sqrt(n_in), ...] has 1/(3 n_in); eq. 16's has 2/(n_in + n_out)."""
    return 1.0 / (3.0 * n_in) if scheme == "standard" else 2.0 / (n_in + n_out)


def kernel_initializer(scheme, n_in, seed):
    """The paper's eq. 1 as ``RandomUniform(-1/sqrt(n_in), 1/sqrt(n_in))``, eq. 16 as ``GlorotUniform``."""
    if scheme == "standard":
        bound = 1.0 / math.sqrt(n_in)
        return initializers.RandomUniform(-bound, bound, seed=seed)
    return initializers.GlorotUniform(seed=seed)


def build_model(scheme, width, seed):
    """784 -> 5 tanh layers of ``width`` -> 10 logits, every kernel drawn by ``scheme`` (a seed per layer)."""
    n = widths(width)
    model = nr.Sequential([layers.Input((784,))])
    for k in range(1, DEPTH + 2):
        model.add(layers.Dense(n[k], activation="tanh" if k <= DEPTH else None,
                               kernel_initializer=kernel_initializer(scheme, n[k - 1], 1000 * seed + k)))
    return model


# ---- measurement ---------------------------------------------------------------------------------------
def capture(model, x, y):
    """One forward and backward pass of the summed NLL; per hidden layer: its activation z and dCost/ds.

    Returns ``(z, g)``, lists of DEPTH float32 arrays of shape (examples, width). The hooks (Layer's
    ``register_forward_hook``, ``register_preactivation_hook`` and Tensor's ``register_hook``) are removed after.
    """
    hidden = [layer for layer in model.layers if isinstance(layer, layers.Dense)][:DEPTH]
    z, g, handles = [None] * DEPTH, [None] * DEPTH, []

    def keep_output(k):
        def hook(layer, args, output):
            z[k] = np.array(output.numpy(), dtype=np.float32)
        return hook

    def keep_gradient(k):
        def hook(layer, s):
            def on_grad(grad):
                g[k] = np.array(getattr(grad, "data", grad), dtype=np.float32)
            handles.append(s.register_hook(on_grad))
        return hook

    for k, layer in enumerate(hidden):
        handles.append(layer.register_forward_hook(keep_output(k)))
        handles.append(layer.register_preactivation_hook(keep_gradient(k)))
    try:
        logits = model(x, training=False)
        loss = losses.sparse_categorical_crossentropy(y, logits, from_logits=True).sum()
        model.zero_grad()
        loss.backward()
    finally:
        for handle in handles:
            handle.remove()
    model.zero_grad()
    return z, g


def jacobian_mean_singular_value(z_out, kernel, n_examples):
    """Mean singular value of J = dz^{k}/dz^{k-1} = diag(1 - z^2) W^T over the first ``n_examples`` examples.

    The singular values are the square roots of the eigenvalues of J J^T (symmetric, float64): the same numbers as
    an SVD of J at about half its cost, which matters for 1000 x 1000 layers on two cores.
    """
    kernel = np.asarray(kernel, dtype=np.float64)
    values = []
    for i in range(min(n_examples, len(z_out))):
        jac = (1.0 - z_out[i].astype(np.float64)[:, None] ** 2) * kernel.T
        values.append(np.sqrt(np.clip(np.linalg.eigvalsh(jac @ jac.T), 0.0, None)).mean())
    return float(np.mean(values))


def sample(values, rng, limit=HIST_SAMPLES):
    flat = values.ravel()
    return flat if flat.size <= limit else flat[rng.choice(flat.size, limit, replace=False)]


def weight_gradient_stats(z_in, g, rng):
    """RMS and a sample of the per-example weight gradients z_in[n, l] * g[n, k] (eq. 3), never materialized."""
    second = np.mean(np.mean(z_in.astype(np.float64) ** 2, axis=1) * np.mean(g.astype(np.float64) ** 2, axis=1))
    size = min(HIST_SAMPLES, z_in.shape[0] * z_in.shape[1] * g.shape[1])
    n, unit_in, unit_out = (rng.integers(0, dim, size) for dim in (z_in.shape[0], z_in.shape[1], g.shape[1]))
    return math.sqrt(second), z_in[n, unit_in] * g[n, unit_out]


def measure(model, x, y, jacobian_examples, seed):
    """Per hidden layer: measured stds, histogram samples and the Jacobian's mean singular value."""
    rng = np.random.default_rng(seed)
    z, g = capture(model, x, y)
    kernels = [layer.kernel.numpy() for layer in model.layers if isinstance(layer, layers.Dense)]
    rows = []
    for k in range(DEPTH):
        w_rms, w_sample = weight_gradient_stats(x if k == 0 else z[k - 1], g[k], rng)
        square = k > 0 and kernels[k].shape[0] == kernels[k].shape[1]
        rows.append({
            "layer": k + 1, "activation_std": float(z[k].std()), "gradient_std": float(g[k].std()),
            "weight_gradient_rms": w_rms, "saturated_fraction": float(np.mean(np.abs(z[k]) > 0.99)),
            "jacobian_mean_sv": jacobian_mean_singular_value(z[k], kernels[k], jacobian_examples) if square else None,
            "_samples": {"activation": sample(z[k], rng), "gradient": sample(g[k], rng), "weight_gradient": w_sample},
        })
    top = rows[-1]["gradient_std"]
    for row in rows:
        row["gradient_ratio"] = row["gradient_std"] / top
    return rows


def theory(scheme, model, x):
    """Per hidden layer: Glorot's linear-regime predictions and the mean-field (tanh-aware) ones."""
    n = widths(model.layers[0].units)
    m2 = float(np.mean(x.astype(np.float64) ** 2))  # eq. 5's Var[x]: the weights have zero mean, so E[x^2] enters
    factor = [n[k - 1] * weight_variance(scheme, n[k - 1], n[k]) for k in range(1, DEPTH + 2)]  # n_in Var[W_k]
    back = [n[k] * weight_variance(scheme, n[k - 1], n[k]) for k in range(1, DEPTH + 2)]  # n_out Var[W_k]
    mf = nr.diagnostics.predict_preactivation_variances(model, x=x)
    q = [entry["predicted_preactivation_variance"] for entry in mf]
    fan_out_scale = [entry["sigma_w2"] * entry["units"] / entry["fan_in"] for entry in mf]  # n_out E[W^2], drawn W
    rows = []
    for k in range(DEPTH):
        linear_ratio = math.prod(back[j] for j in range(k + 1, DEPTH))  # eq. 6, relative to layer DEPTH
        mf_ratio = math.prod(nr.diagnostics.chi("tanh", q[j], fan_out_scale[j + 1]) for j in range(k, DEPTH - 1))
        rows.append({
            "activation_std_linear": math.sqrt(m2 * math.prod(factor[: k + 1])),
            "activation_std_mean_field": math.sqrt(nr.diagnostics.expected_square("tanh", q[k])),
            "gradient_ratio_linear": math.sqrt(linear_ratio), "gradient_ratio_mean_field": math.sqrt(mf_ratio),
            "jacobian_mean_sv_linear": QUARTER_CIRCLE_MEAN * math.sqrt(factor[k]) if k > 0 else None,
        })
    return rows


def train(model, x, y, x_test, y_test, args):
    """SGD on the batch-mean NLL (Keras's loss) in minibatches of ``batch_size``; returns losses and test accuracy."""
    model.compile(optimizer=optimizers.SGD(learning_rate=args.learning_rate),
                  loss=losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    history = model.fit(x, y, batch_size=args.batch_size, epochs=args.epochs, verbose=0, shuffle=True)
    _, accuracy = model.evaluate(x_test, y_test, batch_size=1000, verbose=0)
    return {"train_loss": [float(v) for v in history.history["loss"]], "test_accuracy": float(accuracy)}


def run_scheme(scheme, args, data):
    """The measurement at init (with theory), then optional training and the same measurement again."""
    x_train, y_train, x_test, y_test = data
    xm, ym = x_train[: args.examples], y_train[: args.examples]
    nr.seed(args.seed)
    model = build_model(scheme, args.width, args.seed)
    result = {"init": measure(model, xm, ym, args.jacobian_examples, args.seed),
              "input_second_moment": float(np.mean(xm.astype(np.float64) ** 2))}
    for row, predicted in zip(result["init"], theory(scheme, model, xm)):
        row.update(predicted)
    if args.epochs:
        n = min(args.train_examples, len(x_train))
        result["training"] = train(model, x_train[:n], y_train[:n], x_test, y_test, args)
        result["trained"] = measure(model, xm, ym, args.jacobian_examples, args.seed)
    return result


# ---- report --------------------------------------------------------------------------------------------
def fmt(value):
    if value is None:
        return "-"
    return f"{value:.3g}" if abs(value) >= 1e-3 else f"{value:.2e}"


def ratios(rows):
    """The headline ratios of one measurement (a list of per-layer rows)."""
    w = [row["weight_gradient_rms"] for row in rows]
    return {"activation": rows[-1]["activation_std"] / rows[0]["activation_std"],
            "gradient": rows[0]["gradient_ratio"], "weight_spread": max(w) / min(w), "weight_1_5": w[0] / w[-1],
            "jacobian": float(np.mean([r["jacobian_mean_sv"] for r in rows if r["jacobian_mean_sv"] is not None]))}


def theory_ratios(rows):
    return {"activation_linear": rows[-1]["activation_std_linear"] / rows[0]["activation_std_linear"],
            "activation_mean_field": rows[-1]["activation_std_mean_field"] / rows[0]["activation_std_mean_field"],
            "gradient_linear": rows[0]["gradient_ratio_linear"],
            "gradient_mean_field": rows[0]["gradient_ratio_mean_field"],
            "jacobian_linear": float(np.mean([r["jacobian_mean_sv_linear"] for r in rows[1:]]))}


def summary_rows(results):
    """(quantity, scheme, what the paper reports, measured, theory) for the headline comparisons."""
    out = []
    for scheme in SCHEMES:
        m, t = ratios(results[scheme]["init"]), theory_ratios(results[scheme]["init"])
        out += [("Fig. 6: activation std, layer 5 / layer 1", scheme, PAPER["activation"][scheme], fmt(m["activation"]),
                 f"{fmt(t['activation_linear'])} eq. 5, {fmt(t['activation_mean_field'])} mean-field"),
                ("Fig. 7: back-prop. gradient std, layer 1 / layer 5", scheme, PAPER["gradient"][scheme],
                 fmt(m["gradient"]), f"{fmt(t['gradient_linear'])} eq. 6, {fmt(t['gradient_mean_field'])} mean-field"),
                ("Fig. 8: weight-gradient rms, max / min over layers", scheme, PAPER["weight_gradient"][scheme],
                 fmt(m["weight_spread"]), "1 (eq. 14, equal widths)"),
                ("Sec. 4.2.2: mean singular value of dz^{i+1}/dz^i", scheme, PAPER["jacobian"][scheme],
                 fmt(m["jacobian"]), f"{fmt(t['jacobian_linear'])} quarter circle"),
                ]
        if "trained" in results[scheme]:
            after, epochs = ratios(results[scheme]["trained"]), len(results[scheme]["training"]["train_loss"])
            error = 100.0 * (1.0 - results[scheme]["training"]["test_accuracy"])
            out += [(f"Sec. 4.3, after {epochs} epoch(s): gradient std, layer 1 / layer 5", scheme,
                     PAPER["trained_gradient"][scheme], fmt(after["gradient"]), "-"),
                    (f"Fig. 9, after {epochs} epoch(s): weight-gradient rms, layer 1 / layer 5", scheme,
                     PAPER["trained_weight_gradient"][scheme], f"{fmt(after['weight_1_5'])} (at init "
                     f"{fmt(m['weight_1_5'])})", "-"),
                    ("Table 1: MNIST test error %", scheme,
                     f"{PAPER['table1_mnist_error'][scheme]} (trained to convergence)", f"{error:.2f}", "-")]
    return out


def layer_rows(results, when="init"):
    header = ["scheme", "layer", "act. std", "linear", "mean-field", "saturated", "grad std", "grad / layer 5",
              "linear", "mean-field", "weight-grad rms", "Jacobian mean sv", "quarter circle"]
    rows = []
    for scheme in SCHEMES:
        for row in results[scheme].get(when, []):
            rows.append([scheme, str(row["layer"]), fmt(row["activation_std"]), fmt(row.get("activation_std_linear")),
                         fmt(row.get("activation_std_mean_field")), f"{100 * row['saturated_fraction']:.1f}%",
                         fmt(row["gradient_std"]), fmt(row["gradient_ratio"]), fmt(row.get("gradient_ratio_linear")),
                         fmt(row.get("gradient_ratio_mean_field")), fmt(row["weight_gradient_rms"]),
                         fmt(row["jacobian_mean_sv"]), fmt(row.get("jacobian_mean_sv_linear"))])
    return header, rows


def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def text_table(header, rows):
    width = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, width))  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in width])] + [line(r) for r in rows])


def _off(measured, predicted):
    return f"{100.0 * abs(measured / predicted - 1.0):.0f}%"


def _forward_text(st, no, ms, ts, mn, tn):
    shrink = all(a["activation_std"] > b["activation_std"] for a, b in zip(st, st[1:]))
    return (f"**Forward (Fig. 6).** Under the standard initialization the activation std "
            f"{'falls at every layer' if shrink else 'does not fall at every layer'}, from "
            f"{fmt(st[0]['activation_std'])} in layer 1 to {fmt(st[-1]['activation_std'])} in layer 5 "
            f"(x{fmt(ms['activation'])}; eq. 5 predicts (1/sqrt 3)^4 = {fmt(ts['activation_linear'])}, "
            f"{_off(ms['activation'], ts['activation_linear'])} off): each layer multiplies the variance by "
            "n Var[W] = 1/3, and at these small values tanh is nearly linear. This is the paper's rising 0-peak. "
            f"Under the normalized one it goes from {fmt(no[0]['activation_std'])} to {fmt(no[-1]['activation_std'])} "
            f"(x{fmt(mn['activation'])}): eq. 5 says constant (n Var[W] = 1 for the square layers), but tanh's slope "
            "is below 1 away from 0, so each layer loses a little; the mean-field recursion, which integrates tanh, "
            f"predicts x{fmt(tn['activation_mean_field'])}. "
            + ("The histograms stay alike across layers, as in the paper's bottom panel."
               if mn["activation"] > 0.5 else "The histograms narrow with depth here too, unlike the paper's."))


def _backward_text(st, ms, ts, mn, tn):
    grows = all(a["gradient_std"] < b["gradient_std"] for a, b in zip(st, st[1:]))
    return (f"**Backward (Fig. 7).** The standard network's back-propagated gradient dCost/ds "
            f"{'grows at every layer toward the output' if grows else 'does not grow at every layer toward the output'}"
            f": layer 1 gets x{fmt(ms['gradient'])} of layer 5's std (eq. 6: {fmt(ts['gradient_linear'])}, the same "
            "factor 1/3 per layer, now n_out Var[W]), so the variance shrinks as it is propagated downwards, as the "
            "paper (after Bradley 2009) reports; its caption's \"0-peak decreases for higher layers\" is the same fact "
            f"read off the histograms. With the normalized one, layer 1 gets x{fmt(mn['gradient'])} "
            f"({'much closer to 1' if mn['gradient'] > 2 * ms['gradient'] else 'not much closer to 1'}); eq. 6 says 1, "
            f"and tanh's slope below 1 takes the rest (mean-field: x{fmt(tn['gradient_mean_field'])}). Layer 5's "
            "gradient histogram is flat-topped: it is tanh'(s) times W6 (p - onehot(y)), a combination of ten uniform "
            "columns of the output kernel, dominated by the true class's.")


def _weights_text(ms, ts, mn, tn):
    return ("**Weight gradients (Fig. 8) and the Jacobian.** The per-example weight-gradient rms varies by "
            f"x{fmt(ms['weight_spread'])} (standard) and x{fmt(mn['weight_spread'])} (normalized) across layers, "
            "against x" + fmt(1 / ms["activation"]) + " for the standard network's activations: the shrinking "
            "activations and the shrinking gradients cancel in z * dCost/ds (eq. 14), the paper's \"surprising\" "
            "observation. (Layer 1's histogram has an extra spike at 0: MNIST's background pixels are exactly 0.) "
            f"The mean singular value of dz^(i+1)/dz^i is {fmt(ms['jacobian'])} (standard) and {fmt(mn['jacobian'])} "
            "(normalized), against the paper's 0.5 and 0.8; a square random matrix of entry variance sigma^2 has mean "
            f"singular value (8 / 3 pi) sigma sqrt(n) (quarter-circle law), {fmt(ts['jacobian_linear'])} and "
            f"{fmt(tn['jacobian_linear'])} here, and tanh' < 1 lowers the normalized one to what is measured.")


def _learning_text(results, args, ms, mn):
    after_s, after_n = ratios(results["standard"]["trained"]), ratios(results["normalized"]["trained"])
    err = {k: 100.0 * (1.0 - results[k]["training"]["test_accuracy"]) for k in SCHEMES}
    reversed_ = after_s["gradient"] > 1.0
    spread_s = after_s["weight_1_5"] > max(1.0, ms["weight_1_5"])
    return (f"**During learning.** After {args.epochs} epoch(s) of SGD (lr {args.learning_rate}, batch "
            f"{args.batch_size}) the standard network's layer-1 / layer-5 gradient ratio is {fmt(after_s['gradient'])} "
            f"(at init {fmt(ms['gradient'])}): the decrease toward the input is "
            + ("reversed, as the paper says happens \"very quickly\". " if reversed_ else "not (yet) reversed. ")
            + f"The normalized network's is {fmt(after_n['gradient'])} (at init {fmt(mn['gradient'])}). Layer 1's "
            f"weight gradients over layer 5's: {fmt(ms['weight_1_5'])} -> {fmt(after_s['weight_1_5'])} (standard), "
            f"{fmt(mn['weight_1_5'])} -> {fmt(after_n['weight_1_5'])} (normalized); "
            + ("they spread apart with larger ones in the lower layers, the paper's Fig. 9 trend"
               + (", more so under the standard initialization, as there. " if after_s["weight_1_5"] >
                  after_n["weight_1_5"] else ", though here not more so under the standard initialization. ")
               if spread_s else "the paper's Fig. 9 divergence (larger in the lower layers) has not appeared yet. ")
            + f"Test error: {err['standard']:.2f}% (standard) and {err['normalized']:.2f}% (normalized). The paper's "
            "Table 1 (1.76% and 1.64%) is after training to convergence with a learning rate tuned per network; this "
            "short run at one shared rate shows only which network starts learning faster.")


def discussion(results, args):
    """The discussion of docs/lab/glorot2010.md, its numbers and verdicts taken from this run (paragraphs)."""
    st, no = results["standard"], results["normalized"]
    ms, ts, mn, tn = ratios(st["init"]), theory_ratios(st["init"]), ratios(no["init"]), theory_ratios(no["init"])
    saturated = max(row["saturated_fraction"] for r in (st, no) for row in r["init"])
    text = [_forward_text(st["init"], no["init"], ms, ts, mn, tn), "", _backward_text(st["init"], ms, ts, mn, tn),
            "", _weights_text(ms, ts, mn, tn), "",
            f"**Where it differs and why.** The inputs (E[x^2] = {fmt(st['input_second_moment'])}) keep the units in "
            f"tanh's near-linear range at initialization ({100 * saturated:.1f}% of the activations beyond |0.99|), "
            "so Glorot's linear theory is close for the standard network and the mean-field one for both. The paper's "
            "figures are on Shapeset-3x2 (32 x 32 synthetic images), so their absolute widths need not match ours; in "
            "the linear regime the layer-to-layer factors depend on n Var[W] alone. With larger inputs "
            "(`--inputs standardized`, E[x^2] = 1) tanh's curvature shrinks the normalized network's signal more "
            "per layer, as its mean-field column then shows."]
    if "training" in st:
        text += ["", _learning_text(results, args, ms, mn)]
    return text


# ---- figure --------------------------------------------------------------------------------------------
def _hist_range(rows, quantity):
    """tanh's range for activations (the paper's axis); +-4 std (+-3 rms) of the widest layer for gradients."""
    if quantity == "activation":
        return -1.0, 1.0
    if quantity == "gradient":
        top = 4.0 * max(row["gradient_std"] for row in rows)
    else:
        top = 3.0 * max(row["weight_gradient_rms"] for row in rows)
    return -top, top


def plot(results, path, title):
    """Rows: standard, normalized. Columns: Fig. 6, Fig. 7, Fig. 8 histograms, then the stds per layer."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    quantities = (("activation", "Fig. 6: activation values"), ("gradient", "Fig. 7: back-propagated dCost/ds"),
                  ("weight_gradient", "Fig. 8: weight gradients"))
    fig, axes = plt.subplots(2, 4, figsize=(22, 9))
    colors = plt.cm.viridis(np.linspace(0.0, 0.9, DEPTH))
    for r, scheme in enumerate(SCHEMES):
        for c, (quantity, label) in enumerate(quantities):
            ax, low_high = axes[r, c], _hist_range(results[scheme]["init"], quantity)
            bins = np.linspace(*low_high, 121)
            peaks = []
            for row, color in zip(results[scheme]["init"], colors):
                counts, edges = np.histogram(row["_samples"][quantity], bins=bins, density=True)
                ax.plot(0.5 * (edges[1:] + edges[:-1]), counts, color=color, label=f"layer {row['layer']}")
                peaks.append(counts.max())
            if quantity == "weight_gradient":  # layer 1's exact zeros (background pixels) would flatten the rest
                ax.set_ylim(0, 1.3 * max(peaks[1:]))
                ax.text(0.02, 0.95, "layer 1's spike at 0 (zero pixels) clipped", transform=ax.transAxes, fontsize=8,
                        va="top")
            ax.ticklabel_format(axis="x", style="sci", scilimits=(-2, 3))
            ax.set_title(f"{label}, {scheme} init")
            ax.set_ylabel("normalized histogram")
            ax.legend(fontsize=8)
    _plot_stds(axes[0, 3], axes[1, 3], results)
    fig.suptitle(title)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)


def _plot_stds(ax_act, ax_grad, results):
    depth = np.arange(1, DEPTH + 1)
    for scheme, color in zip(SCHEMES, ("tab:red", "tab:blue")):
        init = results[scheme]["init"]
        ax_act.plot(depth, [r["activation_std"] for r in init], "o-", color=color, label=f"{scheme}: measured")
        ax_act.plot(depth, [r["activation_std_linear"] for r in init], "--", color=color, label=f"{scheme}: eq. 5")
        ax_act.plot(depth, [r["activation_std_mean_field"] for r in init], ":", color=color,
                    label=f"{scheme}: mean-field")
        ax_grad.plot(depth, [r["gradient_ratio"] for r in init], "o-", color=color, label=f"{scheme}: at init")
        ax_grad.plot(depth, [r["gradient_ratio_linear"] for r in init], "--", color=color, label=f"{scheme}: eq. 6")
        if "trained" in results[scheme]:
            ax_grad.plot(depth, [r["gradient_ratio"] for r in results[scheme]["trained"]], "s-.", color=color,
                         alpha=0.6, label=f"{scheme}: after training")
    for ax, title in ((ax_act, "activation std per layer"), (ax_grad, "back-prop. gradient std / layer 5")):
        ax.set_yscale("log")
        ax.set_xlabel("hidden layer")
        ax.set_xticks(depth)
        ax.set_title(title)
        ax.legend(fontsize=8)


# ---- main ----------------------------------------------------------------------------------------------
def command_line(argv):
    prefix = "NEURONA_DATA_DIR=" + os.environ["NEURONA_DATA_DIR"] + " " if os.environ.get("NEURONA_DATA_DIR") else ""
    return prefix + ".venv/bin/python experiments/glorot2010.py" + "".join(f" {a}" for a in argv)


def setup_text(args, kind, n_train):
    scale = "scaled to [0, 1]" if args.inputs == "unit" else "standardized (one mean and std over all pixels)"
    text = (f"784-{args.width}x{DEPTH}-10 tanh network (softmax output, zero biases), {kind} MNIST, the first "
            f"{args.examples} training images, pixels {scale}; seed {args.seed}; Jacobian over "
            f"{args.jacobian_examples} images.")
    if args.epochs:
        text += (f" Training: SGD lr {args.learning_rate}, batch {args.batch_size}, {args.epochs} epoch(s) on "
                 f"{n_train} images; test accuracy on the {kind} test set.")
    return text


def write_markdown(path, report):
    """``report``: command, setup, summary, per_layer and trained tables, discussion, wall and cpu seconds."""
    summary_md = markdown_table(["quantity", "init", "paper", "Neurona measured", "theory"],
                                [list(r) for r in report["summary"]])
    text = ["# Glorot & Bengio 2010, Figs. 6-8: activations and gradients per layer, standard vs normalized init",
            "", f"Made by ({os.cpu_count()} CPU cores, shared; {report['wall']:.0f} s wall, {report['cpu']:.0f} s "
            "CPU time):", "", "    " + report["command"], "", report["setup"], "",
            f"![histograms per layer]({NAME}.png)", "", "## Paper beside Neurona", "", summary_md, "",
            "## Per layer at initialization", "", markdown_table(*report["per_layer"]), ""]
    if report["trained"][1]:
        text += ["## Per layer after training (same images)", "", markdown_table(*report["trained"]), ""]
    text += ["Columns: *linear* is Glorot's linear-regime theory (eqs. 5 and 6, Var[x] taken as the inputs' mean "
             "square); *mean-field* the recursion q_l = n Var[W] E[tanh(z)^2], z ~ N(0, q_{l-1}), of "
             "`nr.diagnostics` on the drawn weights (gradients: chi = n_out E[W^2] E[tanh'(z)^2] per layer); "
             "*quarter circle* the mean singular value (8 / 3 pi) sqrt(n Var[W]) of a square random matrix; "
             "*saturated* |z| > 0.99. Gradients are per example (the summed NLL).", "",
             "## Discussion", "", *report["discussion"], ""]
    with open(path, "w") as f:
        f.write("\n".join(text))


def main(argv=None):
    """Run the experiment; returns the measured results (per scheme), the summary rows and the output paths."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    start, cpu_start = time.perf_counter(), time.process_time()
    x, y, xt, yt, kind = load_mnist(args.data, args.inputs)
    results = {scheme: run_scheme(scheme, args, (x, y, xt, yt)) for scheme in SCHEMES}
    report = {"command": command_line(argv), "setup": setup_text(args, kind, min(args.train_examples, len(x))),
              "summary": summary_rows(results), "per_layer": layer_rows(results, "init"),
              "trained": layer_rows(results, "trained"), "discussion": discussion(results, args),
              "wall": time.perf_counter() - start, "cpu": time.process_time() - cpu_start}
    print(report["setup"])
    print(text_table(["quantity", "init", "paper", "Neurona measured", "theory"], report["summary"]))
    print("\nper layer at initialization:\n" + text_table(*report["per_layer"]))
    if report["trained"][1]:
        print("\nper layer after training:\n" + text_table(*report["trained"]))
    os.makedirs(args.out, exist_ok=True)
    png, md = os.path.join(args.out, f"{NAME}.png"), os.path.join(args.out, f"{NAME}.md")
    plot(results, png, f"Glorot & Bengio 2010 on {kind} MNIST: 784-{args.width}x{DEPTH}-10 tanh; histograms at "
         "initialization")
    write_markdown(md, report)
    print(f"\n{report['wall']:.1f} s wall, {report['cpu']:.1f} s CPU; wrote {png} and {md}")
    for scheme in SCHEMES:
        for when in ("init", "trained"):
            for row in results[scheme].get(when, []):
                row.pop("_samples", None)
    return {"results": results, "summary": report["summary"], "data": kind, "seconds": report["wall"],
            "png": png, "md": md}


if __name__ == "__main__":
    main()
