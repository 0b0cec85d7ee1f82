"""The comparison's figures: training curves per initializer with seed bands, and the signal at init versus depth.

- ``curves.png``: loss (left) and accuracy (right) per epoch; for each initializer the mean over seeds of the
  validation curve (solid) with a band from the lowest to the highest seed, and the mean training curve
  (dashed). Epochs where a run's value is missing (diverged) are left out of the means.
- ``init_depth.png``: at initialization, before any training, the std of each hidden weighted layer's output
  (activation std) and of the gradient of the loss with respect to it (``output_grad_std``), from the
  diagnostics report of each run, against the layer's depth (1 = the first layer with weights), averaged over
  seeds, on log axes (the output layer, a softmax over the classes, is left out): flat curves are a well
  scaled initialization, falling ones vanishing, rising exploding.

matplotlib is optional (``pip install 'neurona[plot]'``) and imported only here; the figures are bare
``matplotlib.figure.Figure`` objects on an Agg canvas (no pyplot, no window, no backend change) and are
written atomically.
"""

import io
import math
import os

from ..files import atomic_output
from .report import group_runs

CURVES, INIT_DEPTH = "curves.png", "init_depth.png"


def require_matplotlib():
    """``(Figure, FigureCanvasAgg)``, or an ImportError naming the ``neurona[plot]`` extra (checked before a grid
    starts, so that a missing matplotlib costs no training time)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError("the lab's plots need matplotlib: pip install 'neurona[plot]' (or pass plots=False / "
                          "--no-plots)") from error
    return Figure, FigureCanvasAgg


def _figure(width, height, ncols):
    Figure, FigureCanvasAgg = require_matplotlib()
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.subplots(1, ncols)


def _save(fig, path):
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    with atomic_output(path) as f:
        f.write(buffer.getvalue())
    return path


def _by_epoch(records, key):
    """Per epoch: the finite values of ``key`` over ``records`` (lists may be shorter for diverged runs)."""
    epochs = max((len(r["history"][key]) for r in records), default=0)
    return [[r["history"][key][e] for r in records if e < len(r["history"][key]) and r["history"][key][e] is not None]
            for e in range(epochs)]


def _draw_curves(ax, groups, metric, colors):
    for (label, records), color in zip(groups.items(), colors):
        val = _by_epoch(records, f"val_{metric}")
        train = _by_epoch(records, metric)
        xs = [e + 1 for e, v in enumerate(val) if v]
        if xs:
            ax.plot(xs, [sum(v) / len(v) for v in val if v], color=color, label=f"{label} (val)")
            ax.fill_between(xs, [min(v) for v in val if v], [max(v) for v in val if v], color=color, alpha=0.2)
        xt = [e + 1 for e, v in enumerate(train) if v]
        if xt:
            ax.plot(xt, [sum(v) / len(v) for v in train if v], color=color, linestyle="--", alpha=0.7)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    ax.set_title(metric)
    ax.grid(alpha=0.3)


def plot_curves(results, path):
    """Draw ``curves.png`` (see the module docstring) from results.json's content; returns the path."""
    groups = {k: v for k, v in group_runs(results).items() if v}
    fig, (loss_ax, acc_ax) = _figure(11, 4.2, 2)
    colors = [f"C{i % 10}" for i in range(len(groups))]
    _draw_curves(loss_ax, groups, "loss", colors)
    _draw_curves(acc_ax, groups, "accuracy", colors)
    fig.suptitle("validation: solid, mean over seeds with a min-max band; training: dashed, mean", fontsize=10)
    if any(v for records in groups.values() for r in records for v in r["history"]["val_loss"] if v and v > 0):
        loss_ax.set_yscale("log")
    acc_ax.legend(fontsize=8, loc="lower right")
    return _save(fig, path)


def _depth_profile(records, key):
    """``(depths, mean over seeds)`` of ``key`` for the hidden layers with weights of each run's diagnostics (the
    last one, the softmax classifier, is left out: its output is probabilities, on another scale)."""
    per_depth = {}
    for record in records:
        layers = [r for r in (record.get("diagnostics") or {}).get("layers", []) if r.get("kernel")][:-1]
        for depth, layer in enumerate(layers, 1):
            value = layer.get(key)
            if isinstance(value, (int, float)) and math.isfinite(value) and value > 0:
                per_depth.setdefault(depth, []).append(value)
    depths = sorted(per_depth)
    return depths, [sum(per_depth[d]) / len(per_depth[d]) for d in depths]


def plot_init_depth(results, path):
    """Draw ``init_depth.png`` (see the module docstring) from results.json's content; returns the path."""
    groups = {k: v for k, v in group_runs(results).items() if v}
    fig, axes = _figure(11, 4.2, 2)
    for ax, key, title in ((axes[0], "activation_std", "activation std per layer at initialization"),
                           (axes[1], "output_grad_std", "gradient std (d loss / d layer output) at initialization")):
        for i, (label, records) in enumerate(groups.items()):
            depths, values = _depth_profile(records, key)
            if depths:
                ax.plot(depths, values, marker="o", color=f"C{i % 10}", label=label)
        ax.set_yscale("log")
        ax.set_xlabel("depth (layers with weights)")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3, which="both")
    axes[0].legend(fontsize=8)
    return _save(fig, path)


def plot_all(results, out):
    """Both figures in the folder ``out``; returns their file names."""
    plot_curves(results, os.path.join(os.fspath(out), CURVES))
    plot_init_depth(results, os.path.join(os.fspath(out), INIT_DEPTH))
    return [CURVES, INIT_DEPTH]
