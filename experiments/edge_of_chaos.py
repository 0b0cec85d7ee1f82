"""The trainable-depth phase diagram of deep tanh networks: the edge of chaos and the 6 xi_c bound.

Paper: S. S. Schoenholz, J. Gilmer, S. Ganguli and J. Sohl-Dickstein, 2017, "Deep information propagation"
(ICLR 2017), Figs. 5-6: fully connected tanh networks with weights ~ N(0, sigma_w^2 / N) and biases
~ N(0, sigma_b^2), trained on MNIST (and CIFAR-10) over a grid of depths and sigma_w^2, train only where a
signal can cross them: depths up to about 6 xi_c, with xi_c the depth scale over which two inputs' correlation
relaxes to its fixed point. xi_c diverges at the order-to-chaos transition (chi_1 = 1, sigma_w^2 ~ 1.76 for
sigma_b^2 = 0.05), so arbitrarily deep networks train only close to it.

What this script reports:
- the mean-field theory, computed here: the length map's fixed point q* (``neurona.diagnostics.mean_field``),
  chi_1 = sigma_w^2 E[tanh'(z)^2] at q*, the correlation map's stable fixed point c* (1 in the ordered phase,
  below 1 in the chaotic one, by Gaussian quadrature over two variables), its slope there
  chi_c = sigma_w^2 E[tanh'(u1) tanh'(u2)] and xi_c = -1 / ln(chi_c) (the paper's mean-field theory);
- the test accuracy of every (depth, sigma_w^2) network of the grid after a short training, and the training
  accuracy (the mean over the last epoch);
- per sigma_w^2: the paper's bound 6 xi_c beside the deepest depth of the grid that trained here (test accuracy
  at or above a threshold, by default half-way between chance and the grid's best cell), and their ratio to xi_c;
- the figure: the two accuracy heat maps (depth vs sigma_w^2) with the 6 xi_c curve drawn over them.

Setup here (default size): width 64, 7 values of sigma_w^2 in [1, 4], depths 10 to 100, sigma_b^2 = 0.05,
plain SGD (learning rate 0.01, batch 128) for 300 steps on 6,400 training images, tested on 2,000 test images;
every cell starts from the same random draws (the seeds do not depend on sigma_w^2; the weights of one cell are a
rescaled copy of another's), so the differences along sigma_w^2 are the scale's alone. Inputs are the pixels
scaled to zero mean and unit variance; the output layer is a Dense(10) with the same sigma_w^2, trained on logits.
``--optimizer rmsprop`` (learning rate 1e-4) is the paper's other optimizer: it divides each gradient by its
running RMS, which undoes much of the ordered phase's vanishing gradient, so on that side it can train past 6 xi_c.
How it differs from the paper: the paper used width 300, depths up to 300, the whole training set and far longer
training (its Fig. 5 shows the trainable region growing with training time until it fills 6 xi_c), and its heat
maps are of training accuracy. Here the networks are narrow and the training short (two CPU cores, a few
minutes), so the trainable region is expected inside 6 xi_c rather than on it; the left heat map is test
accuracy, the right one training accuracy (the mean over the last epoch). ``--full`` runs a paper-like grid
(width 300, depths 10-300, 13 sigma_w^2, 60,000 images, 3,000 steps), which takes many CPU hours.

Commands:
    NEURONA_DATA_DIR=/path/to/data python experiments/edge_of_chaos.py          # default size, a few minutes
    python experiments/edge_of_chaos.py --quick --data embedded                 # seconds (the test)
    python experiments/edge_of_chaos.py --full                                  # paper-like grid, hours
"""

import argparse
import math
import os
import sys
import time

import numpy as np
from numpy.polynomial.legendre import leggauss

import neurona as nr
from neurona import datasets, initializers, layers, losses, models, optimizers
from neurona.diagnostics import mean_field

NAME = "edge_of_chaos"
CHANCE = 0.1  # ten balanced classes
SIZES = {  # grid and training for --quick, the default and --full; learning rates by optimizer
    "quick": {"sigma_w2": (1.0, 1.75, 4.0), "depths": (3, 40), "width": 32, "steps": 100, "batch_size": 64,
              "train": 1280, "test": 500, "learning_rate": {"sgd": 0.03, "rmsprop": 1e-3}},
    "default": {"sigma_w2": (1.0, 1.5, 1.75, 2.0, 2.5, 3.0, 4.0), "depths": (10, 20, 30, 45, 60, 80, 100),
                "width": 64, "steps": 300, "batch_size": 128, "train": 6400, "test": 2000,
                "learning_rate": {"sgd": 0.01, "rmsprop": 1e-4}},
    "full": {"sigma_w2": tuple(float(s) for s in np.linspace(1.0, 4.0, 13)),
             "depths": (10, 20, 40, 60, 80, 100, 130, 160, 200, 250, 300), "width": 300, "steps": 3000,
             "batch_size": 128, "train": 60000, "test": 10000, "learning_rate": {"sgd": 0.01, "rmsprop": 1e-4}},
}
HALF_LINE_POINTS = 48  # Gauss-Legendre nodes per half-line and variable: E[tanh^2] to 1e-13 for q* <= 2.2
GAUSS_SPAN = 10.0  # standard deviations; the Gaussian mass beyond is about 1.5e-23


# ---- mean-field theory (Poole et al. 2016; Schoenholz et al. 2017) --------------------------------------------
def _rules():
    """Quadrature rules for E[g(z)] and E[g(z1, z2)], z, z1, z2 iid N(0, 1): (z, w) and (z1, z2, w).

    Gauss-Legendre on each half-line out to 10 standard deviations, as ``neurona.diagnostics.mean_field`` does:
    Gauss-Hermite converges slowly for tanh at these variances (61 nodes are 3.5e-6 off E[tanh^2] at q = 2.2,
    against 1e-14 here; checked with scipy.integrate.quad), which would shift c* and xi_c.
    """
    x, w = leggauss(HALF_LINE_POINTS)
    t = (x + 1) * GAUSS_SPAN / 2
    w = w * GAUSS_SPAN / 2 * np.exp(-t ** 2 / 2) / math.sqrt(2 * math.pi)
    z, w = np.concatenate([-t[::-1], t]), np.concatenate([w[::-1], w])
    z1, z2 = np.meshgrid(z, z, indexing="ij")
    return (z, w), (z1.ravel(), z2.ravel(), np.outer(w, w).ravel())


def _length_fixed_point(sigma_w2, sigma_b2, single):
    """q* of q -> sigma_w^2 E[tanh(sqrt(q) z)^2] + sigma_b^2, by bisection (the map is concave: one root > 0).

    A fast start for ``mean_field.fixed_point``, whose plain iteration needs thousands of steps near the edge.
    """
    z, w = single
    low, high = 0.0, sigma_w2 + sigma_b2 + 1.0  # the map is >= sigma_b^2 > 0 at 0 and < q beyond the high end
    for _ in range(60):
        mid = (low + high) / 2
        if sigma_w2 * float(w @ np.tanh(math.sqrt(mid) * z) ** 2) + sigma_b2 > mid:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def _pair(q, c, pair):
    """Two pre-activations of variance q and correlation c: u1 = sqrt(q) z1, u2 = sqrt(q) (c z1 + sqrt(1-c^2) z2)."""
    z1, z2, _ = pair
    root = math.sqrt(q)
    return root * z1, root * (c * z1 + math.sqrt(max(1.0 - c * c, 0.0)) * z2)


def correlation_map(c, q, sigma_w2, sigma_b2, pair):
    """c -> (sigma_w^2 E[tanh(u1) tanh(u2)] + sigma_b^2) / q*: the correlation of two inputs one layer deeper."""
    u1, u2 = _pair(q, c, pair)
    return (sigma_w2 * float(pair[2] @ (np.tanh(u1) * np.tanh(u2))) + sigma_b2) / q


def correlation_slope(c, q, sigma_w2, pair):
    """chi_c = sigma_w^2 E[tanh'(u1) tanh'(u2)]: the slope of the correlation map at c."""
    u1, u2 = _pair(q, c, pair)
    return sigma_w2 * float(pair[2] @ (np.cosh(u1) ** -2 * np.cosh(u2) ** -2))


def _stable_correlation(q, sigma_w2, sigma_b2, pair):
    """c* in [0, 1): the stable fixed point of the correlation map in the chaotic phase, by bisection.

    There ``map(c) - c`` is positive at 0 (sigma_b^2 > 0 correlates any two inputs) and negative just below 1
    (c = 1 is repelling), so one root lies between.
    """
    low, high = 0.0, 1.0 - 1e-12
    for _ in range(60):
        mid = (low + high) / 2
        if correlation_map(mid, q, sigma_w2, sigma_b2, pair) > mid:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def depth_scale(sigma_w2, sigma_b2, rules=None, neurona_check=True):
    """The mean-field quantities of a deep tanh network: q*, chi_1, c*, chi_c and xi_c = -1 / ln(chi_c).

    Ordered phase (chi_1 < 1): c* = 1 and chi_c = chi_1. Chaotic phase: c* < 1 is found by bisection and chi_c
    is the map's slope there. xi_c is infinite where chi_c reaches 1 (the edge of chaos). With
    ``neurona_check``, q* and chi_1 come from ``neurona.diagnostics.mean_field`` (its quadrature and autograd
    slopes, started from this module's q*); without, from the rule here (fast, for the drawn curve).
    """
    single, pair = rules or _rules()
    q_star = _length_fixed_point(sigma_w2, sigma_b2, single)
    if neurona_check:
        q_star, converged = mean_field.fixed_point("tanh", sigma_w2, sigma_b2, q0=q_star)
        if not converged:
            raise RuntimeError(f"edge_of_chaos: the length map did not converge for sigma_w^2={sigma_w2}, "
                               f"sigma_b^2={sigma_b2}")
        chi_1 = mean_field.chi("tanh", q_star, sigma_w2)
    else:
        chi_1 = sigma_w2 * float(single[1] @ np.cosh(math.sqrt(q_star) * single[0]) ** -4)
    if chi_1 < 1.0:
        c_star, chi_c = 1.0, chi_1
    else:
        c_star = _stable_correlation(q_star, sigma_w2, sigma_b2, pair)
        chi_c = correlation_slope(c_star, q_star, sigma_w2, pair)
    xi_c = math.inf if chi_c >= 1.0 else -1.0 / math.log(chi_c)
    return {"sigma_w2": float(sigma_w2), "q_star": q_star, "chi_1": chi_1, "c_star": c_star, "chi_c": chi_c,
            "xi_c": xi_c}


def critical_sigma_w2(sigma_b2, rules=None, low=0.5, high=6.0):
    """The sigma_w^2 at which chi_1(q*) = 1 (the order-to-chaos transition), by bisection."""
    rules = rules or _rules()
    for _ in range(50):
        mid = (low + high) / 2
        ordered = depth_scale(mid, sigma_b2, rules, neurona_check=False)["chi_1"] < 1.0
        low, high = (mid, high) if ordered else (low, mid)
    return (low + high) / 2


# ---- data and networks ------------------------------------------------------------------------------------
def load_mnist(choice, n_train, n_test, seed):
    """Flattened, standardized subsamples (x_train, y_train, x_test, y_test) and the data source's description.

    ``choice`` None picks the full MNIST when ``load_data`` finds it (``NEURONA_DATA_DIR``), else the embedded
    subset with a printed note. The pixels are scaled by the training subsample's mean and std (one number each),
    so the first layer sees inputs of second moment about 1.
    """
    if choice is None:
        try:
            data = datasets.mnist.load_data(source="full", download=False, verbose=False)
        except FileNotFoundError:
            print(f"{NAME}: the full MNIST is not available (set NEURONA_DATA_DIR); using the embedded subset")
            data = datasets.mnist.load_data(source="embedded", verbose=False)
    else:
        data = datasets.mnist.load_data(source=choice, download=False, verbose=False)
    (x_train, y_train), (x_test, y_test) = data
    rng = np.random.default_rng(seed)
    train = rng.permutation(len(x_train))[:n_train]
    test = rng.permutation(len(x_test))[:n_test]
    x_train = x_train[train].reshape(len(train), -1).astype(np.float32) / 255.0
    x_test = x_test[test].reshape(len(test), -1).astype(np.float32) / 255.0
    mean, std = float(x_train.mean()), float(x_train.std())
    source = datasets.mnist.last_source()
    return ((x_train - mean) / std, y_train[train], (x_test - mean) / std, y_test[test],
            f"{source.kind} MNIST ({len(train)} of {source.num_train} training, {len(test)} of {source.num_test} "
            "test images)")


def build_network(depth, width, sigma_w2, sigma_b2, seed):
    """``depth`` Dense(width, tanh) layers and a Dense(10) of logits, W ~ N(0, sigma_w^2 / fan_in), b ~ N(0, sigma_b^2).

    The seeds depend on the layer and ``seed`` only, so networks of different sigma_w^2 are rescaled copies.
    """
    def kernel(i):
        return initializers.VarianceScaling(scale=sigma_w2, mode="fan_in", distribution="untruncated_normal",
                                            seed=seed * 1000 + i)

    def bias(i):
        return initializers.RandomNormal(stddev=math.sqrt(sigma_b2), seed=seed * 1000 + 500 + i)

    stack = [layers.Input((784,))]
    stack += [layers.Dense(width, activation="tanh", kernel_initializer=kernel(i), bias_initializer=bias(i))
              for i in range(depth)]
    stack.append(layers.Dense(10, kernel_initializer=kernel(999), bias_initializer=bias(999)))
    return models.Sequential(stack)


def train_cell(data, depth, sigma_w2, size, sigma_b2, optimizer, seed):
    """Train one network of the grid; returns (test accuracy, train accuracy over the last epoch, loss finite)."""
    x_train, y_train, x_test, y_test = data
    nr.seed(seed)  # the batch order
    model = build_network(depth, size["width"], sigma_w2, sigma_b2, seed)
    opt = (optimizers.RMSprop(learning_rate=size["learning_rate"]) if optimizer == "rmsprop"
           else optimizers.SGD(learning_rate=size["learning_rate"]))
    model.compile(optimizer=opt, loss=losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    batches = math.ceil(len(x_train) / size["batch_size"])
    history = model.fit(x_train, y_train, batch_size=size["batch_size"], epochs=max(1, round(size["steps"] / batches)),
                        verbose=0, reference_statistics=False)
    logits = model.predict(x_test, batch_size=500, verbose=0)
    finite = bool(np.all(np.isfinite(history.history["loss"])) and np.all(np.isfinite(logits)))
    test_acc = float(np.mean(np.argmax(logits, axis=1) == y_test)) if finite else CHANCE
    return test_acc, float(history.history["accuracy"][-1]), finite


def run_grid(data, size, sigma_b2, optimizer, seed, log=print):
    """Test and train accuracy arrays (depths x sigma_w2) and the cells whose loss went non-finite."""
    shape = (len(size["depths"]), len(size["sigma_w2"]))
    test_acc, train_acc, diverged = np.zeros(shape), np.zeros(shape), []
    for i, depth in enumerate(size["depths"]):
        for j, sigma_w2 in enumerate(size["sigma_w2"]):
            test_acc[i, j], train_acc[i, j], finite = train_cell(data, depth, sigma_w2, size, sigma_b2, optimizer,
                                                                 seed)
            if not finite:
                diverged.append((depth, sigma_w2))
        log(f"  depth {depth:4d}: test accuracy " + " ".join(f"{a:.2f}" for a in test_acc[i]))
    return test_acc, train_acc, diverged


# ---- summary, figure, report ------------------------------------------------------------------------------
def trainable_depths(test_acc, depths, threshold):
    """Per sigma_w^2 column: the deepest grid depth with test accuracy >= threshold (0 when none)."""
    out = []
    for column in test_acc.T:
        good = [d for d, a in zip(depths, column) if a >= threshold]
        out.append(max(good) if good else 0)
    return out


def summary_rows(theory, measured_depths, depths):
    """One row per sigma_w^2: the theory, the paper's bound 6 xi_c and the deepest depth that trained here."""
    rows = []
    for th, depth in zip(theory, measured_depths):
        bound = 6 * th["xi_c"]
        capped = depth == max(depths)
        rows.append({**th, "six_xi_c": bound, "measured_depth": depth, "capped": capped,
                     "ratio": depth / th["xi_c"] if math.isfinite(th["xi_c"]) else 0.0})
    return rows


def format_table(rows):
    """A Markdown table: the paper's prediction (6 xi_c) beside the depth measured here."""
    lines = ["| sigma_w^2 | q* | chi_1 | c* | xi_c | paper: trainable to ~6 xi_c | Neurona: deepest trained "
             "| measured / xi_c |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        depth = f">= {r['measured_depth']}" if r["capped"] else str(r["measured_depth"])
        lines.append(f"| {r['sigma_w2']:.2f} | {r['q_star']:.3f} | {r['chi_1']:.3f} | {r['c_star']:.3f} | "
                     f"{r['xi_c']:.1f} | {r['six_xi_c']:.0f} | {depth} | {r['ratio']:.1f} |")
    return "\n".join(lines)


def cell_edges(values):
    """Edges of heat-map cells centred on ``values`` (uneven spacing allowed)."""
    v = np.asarray(values, dtype=float)
    mids = (v[1:] + v[:-1]) / 2
    return np.concatenate([[v[0] - (mids[0] - v[0])], mids, [v[-1] + (v[-1] - mids[-1])]])


def plot(path, size, test_acc, train_acc, sigma_b2, curve, critical):
    """The two heat maps (depth vs sigma_w^2, test and train accuracy) with 6 xi_c drawn over them."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sw, dp = cell_edges(size["sigma_w2"]), cell_edges(size["depths"])
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6), sharey=True, layout="constrained")
    for ax, acc, title in zip(axes, (test_acc, train_acc), ("test accuracy", "train accuracy (last epoch)")):
        mesh = ax.pcolormesh(sw, dp, acc, vmin=0.0, vmax=1.0, cmap="viridis", shading="flat")
        ax.plot(curve[0], np.minimum(curve[1], dp[-1] * 2), "w-", lw=2, label=r"$6\,\xi_c$ (mean field)")
        ax.axvline(critical, color="w", ls=":", lw=1, label=rf"$\chi_1 = 1$ ($\sigma_w^2$ = {critical:.2f})")
        ax.set_xlim(sw[0], sw[-1])
        ax.set_ylim(dp[0], dp[-1])
        ax.set_xlabel(r"$\sigma_w^2$")
        ax.set_title(f"{title} after {size['steps']} steps", fontsize=10)
        ax.legend(loc="upper right", fontsize=8)
    axes[0].set_ylabel("depth (tanh layers)")
    fig.colorbar(mesh, ax=axes, label="accuracy", shrink=0.9)
    fig.suptitle(f"Deep tanh networks on MNIST, width {size['width']}, $\\sigma_b^2$ = {sigma_b2} "
                 "(after Schoenholz et al. 2017, Figs. 5-6)", fontsize=10)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _names(rows):
    return ", ".join(f"{r['sigma_w2']:.2f}" for r in rows) or "none"


def _ratios(rows):
    return ", ".join(f"{r['ratio']:.1f}" for r in rows) or "none"


def _beyond(r, optimizer):
    """Why a column trained past 6 xi_c (RMSprop in the ordered phase), in one sentence, or ''."""
    if optimizer != "rmsprop" or r["chi_1"] >= 1:
        return ""
    return (" RMSprop divides each gradient by its running RMS, which undoes much of the ordered phase's vanishing "
            "gradient; 6 xi_c is a forward-signal scale, and at this depth the gap between two inputs' correlation "
            f"and 1 is shrunk by chi_c^L = {r['chi_c'] ** r['measured_depth']:.1e} (e^-6 = 2.5e-3 at 6 xi_c): "
            "attenuated, but far above float32 resolution, so still learnable.")


def discussion(rows, critical, test_acc, size, threshold, optimizer):
    """Sentences drawn from this run's numbers: where the trainable region follows 6 xi_c and where it does not."""
    depths, sigma_w2 = size["depths"], size["sigma_w2"]
    trained_rows = [i for i, row in enumerate(test_acc) if row.max() >= threshold] or [0]
    deep = trained_rows[-1]  # the deepest depth at which some sigma_w^2 trained
    deep_best = sigma_w2[int(np.argmax(test_acc[deep]))]
    bracket = sorted(sigma_w2, key=lambda s: abs(s - critical))[:2]
    lines = [f"- Theory: chi_1 = 1 at sigma_w^2 = {critical:.3f} for this sigma_b^2, where xi_c diverges (the "
             "paper's critical line passes near 1.76 at sigma_b^2 = 0.05).",
             f"- Trained = test accuracy >= {threshold:.2f}. At the deepest depth where any network trained "
             f"({depths[deep]}) the best test accuracy ({test_acc[deep].max():.2f}) is at sigma_w^2 = {deep_best:.2f}"
             + (": the trainable region peaks at the edge of chaos, as in the paper." if deep_best in bracket else
                ", away from the edge of chaos, unlike the paper.")]
    testable = [r for r in rows if r["six_xi_c"] <= depths[-1]]
    for r in (r for r in testable if r["measured_depth"] > r["six_xi_c"]):
        lines.append(f"- Differs: sigma_w^2 = {r['sigma_w2']:.2f} trained to depth {r['measured_depth']}, beyond "
                     f"6 xi_c = {r['six_xi_c']:.0f}.{_beyond(r, optimizer)}")
    inside = [r for r in testable if r["measured_depth"] <= r["six_xi_c"]]
    if inside:
        ordered, chaotic = [r for r in inside if r["chi_1"] < 1], [r for r in inside if r["chi_1"] >= 1]
        shrinking = len(chaotic) > 1 and all(a["ratio"] > b["ratio"] for a, b in zip(chaotic, chaotic[1:]))
        lines.append(f"- Follows the bound from inside: sigma_w^2 = {_names(inside)} trained only within 6 xi_c. "
                     f"The deepest trained depth over xi_c is {_ratios(ordered)} on the ordered side "
                     f"({_names(ordered)}) and {_ratios(chaotic)} on the chaotic side ({_names(chaotic)}), not the "
                     "~6 the paper reaches"
                     + ("; on the chaotic side the ratio falls as sigma_w^2 grows: the trainable depth shrinks "
                        "faster than xi_c." if shrinking else "."))
    untestable = [r for r in rows if r["six_xi_c"] > depths[-1]]
    if untestable:
        reached = ", ".join(f"{r['sigma_w2']:.2f} to {'>= ' if r['capped'] else ''}{r['measured_depth']}"
                            for r in untestable)
        lines.append(f"- Not testable on this grid: for sigma_w^2 = {_names(untestable)}, 6 xi_c lies past the "
                     f"deepest depth ({depths[-1]}); they trained to depth {reached}"
                     + (" ('>= d': the grid, not the network, set the limit)." if any(r["capped"] for r in untestable)
                        else "."))
    lines.append(f"- Why short of 6 xi_c: {size['steps']} training steps. The paper's Fig. 5 follows the trainable "
                 "region over training time: after few steps it lies well inside 6 xi_c and grows toward it. Near "
                 "the critical point 6 xi_c is hundreds to thousands of layers, far past what a few hundred steps "
                 f"can train, and the narrow layers (width {size['width']}, the paper's 300) add finite-width "
                 "fluctuations to the Jacobians that the mean-field theory leaves out.")
    return "\n".join(lines)


def accuracy_table(test_acc, size):
    """The measured test accuracy grid as a Markdown table (rows: depth, columns: sigma_w^2)."""
    head = "| depth \\ sigma_w^2 | " + " | ".join(f"{s:.2f}" for s in size["sigma_w2"]) + " |"
    lines = [head, "|---" * (len(size["sigma_w2"]) + 1) + "|"]
    lines += [f"| {d} | " + " | ".join(f"{a:.2f}" for a in row) + " |" for d, row in zip(size["depths"], test_acc)]
    return "\n".join(lines)


def write_markdown(path, command, setup, tables, text, times):
    """``<out>/edge_of_chaos.md``: the command, the setup, the tables, the discussion."""
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(f"# Edge of chaos: trainable depth of deep tanh networks (Schoenholz et al. 2017)\n\n"
                     f"Made by (wall {times[0]:.0f} s, CPU {times[1]:.0f} s):\n\n```\n{command}\n```\n\n"
                     f"## Setup\n\n{setup}\n\n![accuracy heat maps with the 6 xi_c curve]({NAME}.png)\n\n"
                     f"## Paper vs Neurona\n\n{tables[0]}\n\n## Measured test accuracy\n\n{tables[1]}\n\n"
                     f"## Discussion\n\n{text}\n")


def parse_args(argv):
    parser = argparse.ArgumentParser(prog=NAME, description=__doc__.split("\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--full", action="store_true", help="the paper-like grid (many CPU hours)")
    group.add_argument("--quick", action="store_true", help="a tiny grid for tests (seconds)")
    parser.add_argument("--out", default=os.path.join("docs", "lab"), help="output folder (default docs/lab)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", choices=("full", "embedded"), default=None,
                        help="MNIST source (default: full when available, else embedded)")
    parser.add_argument("--sigma-b2", type=float, default=0.05, help="bias variance (default 0.05, the paper's)")
    parser.add_argument("--optimizer", choices=("sgd", "rmsprop"), default="sgd")
    parser.add_argument("--learning-rate", type=float, default=None, help="default: the size's own")
    parser.add_argument("--steps", type=int, default=None, help="training steps per network (default: the size's)")
    parser.add_argument("--threshold", type=float, default=None,
                        help="test accuracy counted as trained (default: half-way between chance and the best cell)")
    args = parser.parse_args(argv)
    if not args.sigma_b2 > 0:
        parser.error(f"--sigma-b2 must be > 0 (the chaotic fixed point c* needs it), got {args.sigma_b2}")
    if args.learning_rate is not None and not args.learning_rate > 0:
        parser.error(f"--learning-rate must be > 0, got {args.learning_rate}")
    if args.steps is not None and args.steps < 1:
        parser.error(f"--steps must be >= 1, got {args.steps}")
    if args.threshold is not None and not 0 < args.threshold < 1:
        parser.error(f"--threshold must be a test accuracy between 0 and 1, got {args.threshold}")
    return args


def mean_field_theory(size, sigma_b2):
    """The theory rows of the grid's sigma_w^2, the critical sigma_w^2 and the 6 xi_c curve (x, y) for the plot."""
    rules = _rules()
    theory = [depth_scale(s, sigma_b2, rules) for s in size["sigma_w2"]]
    fine = np.linspace(*cell_edges(size["sigma_w2"])[[0, -1]], 241)
    curve = (fine, np.array([6 * depth_scale(s, sigma_b2, rules, neurona_check=False)["xi_c"] for s in fine]))
    return theory, critical_sigma_w2(sigma_b2, rules), curve


def _command(argv):
    data_dir = os.environ.get("NEURONA_DATA_DIR")
    return " ".join([f"NEURONA_DATA_DIR={data_dir}"] * bool(data_dir) + ["python experiments/edge_of_chaos.py",
                                                                         *argv])


def main(argv=None):
    """Run the experiment; returns the theory, the accuracy grids, the summary rows and the output paths."""
    argv = [str(a) for a in (sys.argv[1:] if argv is None else argv)]
    args = parse_args(argv)
    size = dict(SIZES["full" if args.full else "quick" if args.quick else "default"])
    size["learning_rate"] = args.learning_rate or size["learning_rate"][args.optimizer]
    size["steps"] = args.steps or size["steps"]
    start, cpu = time.time(), time.process_time()
    theory, critical, curve = mean_field_theory(size, args.sigma_b2)
    *data, source = load_mnist(args.data, size["train"], size["test"], args.seed)
    setup = (f"{source}; width {size['width']}; depths {list(size['depths'])}; sigma_w^2 {list(size['sigma_w2'])}; "
             f"sigma_b^2 {args.sigma_b2}; {args.optimizer} lr {size['learning_rate']:g}, batch {size['batch_size']}, "
             f"about {size['steps']} steps; seed {args.seed}")
    print(f"{NAME}: {setup}")
    test_acc, train_acc, diverged = run_grid(data, size, args.sigma_b2, args.optimizer, args.seed)
    threshold = args.threshold if args.threshold is not None else (CHANCE + float(test_acc.max())) / 2
    rows = summary_rows(theory, trainable_depths(test_acc, size["depths"], threshold), size["depths"])
    table = format_table(rows)
    text = discussion(rows, critical, test_acc, size, threshold, args.optimizer)
    if diverged:
        text += f"\n- Non-finite loss (counted at chance): {diverged}."
    times = (time.time() - start, time.process_time() - cpu)
    print(f"\ncritical sigma_w^2 (chi_1 = 1): {critical:.3f}; trained = test accuracy >= {threshold:.2f}\n{table}\n"
          f"\n{text}\n\n{NAME}: wall {times[0]:.0f} s, CPU {times[1]:.0f} s")
    os.makedirs(args.out, exist_ok=True)
    png, md = os.path.join(args.out, f"{NAME}.png"), os.path.join(args.out, f"{NAME}.md")
    plot(png, size, test_acc, train_acc, args.sigma_b2, curve, critical)
    write_markdown(md, _command(argv), setup, (table, accuracy_table(test_acc, size)), text, times)
    return {"theory": theory, "critical_sigma_w2": critical, "depths": list(size["depths"]),
            "sigma_w2": list(size["sigma_w2"]), "test_accuracy": test_acc.tolist(),
            "train_accuracy": train_acc.tolist(), "threshold": threshold, "rows": rows, "diverged": diverged,
            "seconds": times[0], "png": png, "md": md}


if __name__ == "__main__":
    main()
