"""Plots of an ``InitReport``: how the signal and the gradient scale change with depth, and what each layer outputs.

A well initialized network keeps the std of its activations and of its
gradients roughly constant from layer to layer (Glorot & Bengio 2010, He et
al. 2015): on a log axis both curves are flat. Vanishing shows as a curve
falling by orders of magnitude with depth, exploding as one rising; the
histograms show saturation (tanh and sigmoid outputs piled at their bounds)
and dead ReLU units (a spike at zero) that a std alone hides.

matplotlib is optional (``pip install neurona[plot]``) and imported only when
a plot is drawn. The figure is a bare ``matplotlib.figure.Figure`` on an Agg
canvas, never made through pyplot: drawing one changes no backend, opens no
window and leaves no figure in pyplot's list.
"""

import io
import math
import numbers
import os

from ..files import atomic_output  # a failed save never leaves half a picture

MAX_HISTOGRAMS = 20  # small multiples beyond this are too small to read; the layers shown are spread evenly
HISTOGRAM_COLUMNS = 5
_MAX_NAMED_SKIPS = 4  # a note names this many skipped points, then counts the rest

# (record -> value, legend label) for each curve of the two depth panels
_FORWARD = [(lambda r: r.get("activation_std"), "activation std"),
            (lambda r: r.get("preactivation_std"), "pre-activation std")]
_BACKWARD = [(lambda r: r.get("output_grad_std"), "output gradient std  (d objective / d output)"),
             (lambda r: (r.get("kernel") or {}).get("grad_std"), "kernel gradient std  (d objective / d kernel)")]


def _matplotlib():
    """``(Figure, FigureCanvasAgg)``, or an ImportError that says which extra to install."""
    try:
        import matplotlib  # noqa: F401 - first, so a blocked or missing matplotlib fails here, not on a cached submodule
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as err:
        raise ImportError("report.plot needs matplotlib: pip install neurona[plot]") from err
    return Figure, FigureCanvasAgg


def _new_figure(width, height):
    Figure, FigureCanvasAgg = _matplotlib()
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)  # the figure's own canvas: savefig works without pyplot or a display
    return fig


def _check_report(report, argument):
    layers = getattr(report, "layers", None)
    if not isinstance(layers, list):
        raise TypeError(f"{argument} must be an InitReport (from neurona.diagnostics.inspect), "
                        f"got {type(report).__name__}")
    if not layers:
        raise ValueError(f"{argument} has no layer records to plot (model {getattr(report, 'model_name', '?')!r})")
    return layers


def _check_path(path):
    """The image format ``path``'s extension names (``"png"``), after checking both."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a file name (str or os.PathLike) or None, got {type(path).__name__}")
    _, FigureCanvasAgg = _matplotlib()
    supported = sorted(FigureCanvasAgg.get_supported_filetypes())
    ext = os.path.splitext(os.fspath(path))[1].lstrip(".").lower()
    if ext not in supported:
        raise ValueError(f"path must end in an image format's extension ({', '.join('.' + e for e in supported)}), "
                         f"got {os.fspath(path)!r}")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):  # checked before drawing, which takes longer than the save
        raise FileNotFoundError(f"path's directory does not exist: {directory!r}")
    return ext


def _save(fig, path):
    """Write ``fig`` to ``path`` whole or not at all; the format is the extension's."""
    fmt = _check_path(path)
    buffer = io.BytesIO()  # rendered first: a rendering error never even creates the temporary file
    fig.savefig(buffer, format=fmt)
    with atomic_output(path) as handle:
        handle.write(buffer.getvalue())


def _short_names(layers):
    """Each layer's last path part (``"dense_1"``), or its whole path where the last parts collide."""
    shorts = [r["layer"].rsplit("/", 1)[-1] for r in layers]
    return [r["layer"] if shorts.count(s) > 1 else s for r, s in zip(layers, shorts)]


def _series(layers, names, value_of):
    """``(ys, skipped)``: the values to draw (NaN where missing or not drawable), and the skipped points' names.

    A log axis cannot show zero or a non-finite std; such a point becomes a gap in the curve and is
    named in ``skipped``. A figure the report never measured (None) is a silent gap.
    """
    ys, skipped = [], []
    for record, name in zip(layers, names):
        value = value_of(record)
        if value is None:
            ys.append(math.nan)
        elif not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
            ys.append(math.nan)
            skipped.append(f"{name} ({value:g})" if isinstance(value, numbers.Real) else name)
        else:
            ys.append(float(value))
    return ys, skipped


def _skip_note(skips):
    """One line per curve that lost points: ``"activation std: zero or non-finite, not drawn at dense_3 (0)"``."""
    lines = []
    for label, names in skips:
        shown = ", ".join(names[:_MAX_NAMED_SKIPS])
        more = f" and {len(names) - _MAX_NAMED_SKIPS} more" if len(names) > _MAX_NAMED_SKIPS else ""
        lines.append(f"{label}: zero or non-finite, not drawn at {shown}{more}")
    return "\n".join(lines)


def _depth_axis(ax, names, ylabel, title, skips):
    n = len(names)
    step = max(1, math.ceil(n / 40))  # beyond about 40 labels they overlap: label every step-th layer
    ticks = list(range(0, n, step))
    ax.set_xticks(ticks, [names[i] for i in ticks], rotation=45, ha="right", rotation_mode="anchor", fontsize=7)
    ax.set_xlim(-0.5, n - 0.5)
    ax.set_yscale("log")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10, loc="left")
    ax.grid(True, which="major", alpha=0.3)
    if ax.get_lines():
        ax.legend(fontsize=7, loc="best")
    note = _skip_note(skips)
    if note:  # above the axes, where it hides no point
        ax.set_title(note, fontsize=7, loc="right", color="0.3")


def _draw_curves(ax, layers, names, curves, color=None, label=None, linestyles=("-", "--")):
    """One line per curve of ``curves`` (``[(value_of, label)]``); returns ``[(label, skipped names)]``.

    ``label`` replaces the curves' own legend labels (one report's name in a comparison).
    """
    skips = []
    for (value_of, own_label), style in zip(curves, linestyles):
        ys, skipped = _series(layers, names, value_of)
        full = own_label if label is None else label
        if skipped:  # the note names the curve by its quantity, or by its report in a comparison
            skips.append((own_label.split("  (")[0] if label is None else label, skipped))
        if all(math.isnan(y) for y in ys) and not skipped:
            continue  # never measured (e.g. a report recorded without a backward pass): no empty legend entry
        ax.plot(range(len(ys)), ys, marker="o", markersize=4, linestyle=style, color=color, label=full)
    return skips


def _histogram_layers(layers):
    """Indices of up to ``MAX_HISTOGRAMS`` layers holding an activation histogram, spread evenly over depth."""
    have = [i for i, r in enumerate(layers) if r.get("activation_histogram") is not None]
    if len(have) <= MAX_HISTOGRAMS:
        return have
    picks = sorted({round(k * (len(have) - 1) / (MAX_HISTOGRAMS - 1)) for k in range(MAX_HISTOGRAMS)})
    return [have[p] for p in picks]


def _draw_histogram(ax, record, name):
    ax.set_title(f"{name} ({record.get('activation') or 'linear'})", fontsize=8)
    ax.tick_params(labelsize=6)
    ax.set_yticks([])  # the counts' scale depends on the batch size; the shape is what matters
    histogram = record["activation_histogram"]
    counts, edges = histogram.get("counts") or [], histogram.get("edges") or []
    if not counts or len(edges) != len(counts) + 1:
        ax.text(0.5, 0.5, "no finite values", transform=ax.transAxes, ha="center", va="center", fontsize=7)
        return
    ax.stairs(counts, edges, fill=True, alpha=0.7, color="C0")


def plot_report(report, path=None):
    """Draw an ``InitReport``: activation and gradient std versus depth, and per-layer activation histograms.

    Top: the std of each layer's activation and pre-activation (forward pass), then of the
    gradient of the objective with respect to each layer's output and kernel (backward pass), one
    marker per layer in the order the layers ran, on log axes (flat curves = scale preserved, the
    aim of Glorot & Bengio 2010 and He et al. 2015). Zero or non-finite values cannot sit on a log
    axis: they are gaps, named in a note. Bottom: histograms of the activations of
    up to 20 layers, chosen evenly over depth.

    Args:
        report: an ``InitReport`` from ``neurona.diagnostics.inspect``.
        path: where to save the figure; the extension picks the format (``.png``, ``.svg``, ``.pdf``, ...).
            Written atomically: a failed save leaves no partial file.

    Returns:
        The ``matplotlib.figure.Figure`` (axes: the forward panel, the backward panel, then one per histogram).

    Raises:
        ImportError: matplotlib is not installed (``pip install neurona[plot]``).
    """
    layers = _check_report(report, "report")
    if path is not None:
        _check_path(path)  # before drawing: a bad name fails fast
    names = _short_names(layers)
    shown = _histogram_layers(layers)
    rows = math.ceil(len(shown) / HISTOGRAM_COLUMNS)
    fig = _new_figure(11, 6.4 + 1.9 * rows)
    grid = fig.add_gridspec(2 + rows, HISTOGRAM_COLUMNS, height_ratios=[1.6, 1.6] + [1.0] * rows)

    forward = fig.add_subplot(grid[0, :])
    skips = _draw_curves(forward, layers, names, _FORWARD, color=None)
    _depth_axis(forward, names, "std (log)", "Forward pass: signal scale by layer", skips)
    backward = fig.add_subplot(grid[1, :], sharex=forward)
    skips = _draw_curves(backward, layers, names, _BACKWARD, color=None)
    _depth_axis(backward, names, "std (log)", "Backward pass: gradient scale by layer", skips)
    forward.tick_params(labelbottom=False)  # shared x axis: the names once, under the backward panel

    for k, i in enumerate(shown):
        ax = fig.add_subplot(grid[2 + k // HISTOGRAM_COLUMNS, k % HISTOGRAM_COLUMNS])
        _draw_histogram(ax, layers[i], names[i])
    title = f"Initialization report: {getattr(report, 'model_name', '')}"
    verdict = getattr(report, "verdict", None)
    fig.suptitle(title + (f"  (verdict: {verdict})" if verdict else ""), fontsize=11)
    if path is not None:
        _save(fig, path)
    return fig


def _comparison_names(all_layers, per_report):
    """The x labels of a comparison: the layer names if all reports share them, else index and layer type.

    Models built one after another get different automatic names (``dense`` then ``dense_9``) for the
    same architecture, so layers are matched by position; their types label them when those agree.
    """
    if all(names == per_report[0] for names in per_report):
        return per_report[0]
    depth = max(len(layers) for layers in all_layers)
    types = [[r["type"] for r in layers] for layers in all_layers]
    if all(t == types[0] for t in types):
        return [f"{i}: {t}" for i, t in enumerate(types[0])]
    return [str(i) for i in range(depth)]


def plot_comparison(reports, labels, path=None):
    """Activation std and gradient std versus depth for several reports on one figure (e.g. one per initializer).

    Each report gets one color, the same in both panels: the top panel its activation std, the
    bottom its output-gradient std, per layer on log axes. The x axis is the layer index; its labels
    are the layer names when every report has the same layers.

    Args:
        reports: a list of ``InitReport`` (from ``neurona.diagnostics.inspect``).
        labels: one legend label per report (e.g. the initializer's name).
        path: where to save the figure (format by extension), atomically; None to only return it.

    Returns:
        The ``matplotlib.figure.Figure`` (two axes: activation std, then gradient std).
    """
    if not isinstance(reports, (list, tuple)):
        raise TypeError(f"reports must be a list of InitReport, got {type(reports).__name__}")
    if not reports:
        raise ValueError("reports must hold at least one InitReport, got an empty list")
    all_layers = [_check_report(r, f"reports[{i}]") for i, r in enumerate(reports)]
    if not isinstance(labels, (list, tuple)) or not all(isinstance(label, str) for label in labels):
        raise TypeError(f"labels must be a list of strings (one legend label per report), got {labels!r}")
    if len(labels) != len(reports):
        raise ValueError(f"labels must hold one label per report: {len(reports)} reports, {len(labels)} labels")
    if path is not None:
        _check_path(path)
    per_report = [_short_names(layers) for layers in all_layers]
    axis_names = _comparison_names(all_layers, per_report)

    fig = _new_figure(11, 7.5)
    forward, backward = fig.subplots(2, 1, sharex=True)
    forward_skips, backward_skips = [], []
    for k, (layers, label) in enumerate(zip(all_layers, labels)):
        color, names = f"C{k % 10}", axis_names[:len(layers)]  # skipped points named as the axis names them
        forward_skips += _draw_curves(forward, layers, names, _FORWARD[:1], color=color, label=label)
        backward_skips += _draw_curves(backward, layers, names, _BACKWARD[:1], color=color, label=label)
    _depth_axis(forward, axis_names, "activation std (log)", "Forward pass: activation std by layer", forward_skips)
    _depth_axis(backward, axis_names, "gradient std (log)", "Backward pass: output gradient std by layer",
                backward_skips)
    forward.tick_params(labelbottom=False)  # shared x axis: the names once, under the bottom panel
    # the legend names every curve; the title names them only while they fit on one line
    joined = ", ".join(labels)
    fig.suptitle(f"Initialization compared: {joined}" if len(joined) <= 80 else
                 f"Initialization compared: {len(labels)} networks", fontsize=11)
    if path is not None:
        _save(fig, path)
    return fig
