"""``InitReport``: what ``inspect`` measured, as data first (JSON-safe records), then as a table and plots."""

import json
import math

from ..files import atomic_output  # a partial report never replaces an earlier one
from . import through_time
from . import verdicts as verdicts_lib

_COLUMNS = [  # (header, function of a layer record -> text)
    ("layer", lambda r: r["layer"]),
    ("type", lambda r: r["type"]),
    ("act", lambda r: r.get("activation") or "-"),
    ("init", lambda r: (r.get("kernel") or {}).get("initializer") or "-"),
    ("w std theory", lambda r: _num((r.get("kernel") or {}).get("expected_std"))),
    ("w std", lambda r: _num((r.get("kernel") or {}).get("std"))),
    ("pre std", lambda r: _num(r.get("preactivation_std"))),
    ("q mean-field", lambda r: _num(r.get("predicted_preactivation_variance"))),
    ("q measured", lambda r: _num(r.get("preactivation_second_moment"))
     if r.get("predicted_preactivation_variance") is not None else "-"),
    ("act mean", lambda r: _num(r.get("activation_mean"))),
    ("act std", lambda r: _num(r.get("activation_std"))),
    ("sat", lambda r: _pct(r.get("saturated_fraction"))),
    ("dead", lambda r: _pct(r.get("dead_fraction"))),
    ("grad out", lambda r: _num(r.get("output_grad_std"))),
    ("grad w", lambda r: _num((r.get("kernel") or {}).get("grad_std"))),
    ("upd/w", lambda r: _num((r.get("kernel") or {}).get("update_ratio"))),
]


def _num(value):
    if value is None:
        return "-"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return f"{value:.3g}" if 1e-3 <= abs(value) < 1e4 or value == 0 else f"{value:.2e}"


def _pct(value):
    return "-" if value is None else f"{value:.0%}"


def _jsonable(value):
    """Floats that JSON cannot hold (inf, nan) as strings, recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


class InitReport:
    """The result of ``neurona.diagnostics.inspect``.

    Attributes:
        layers: one dict per watched layer, in the order they ran: its statistics (see ``inspect``),
            ``weights`` (one dict per weight) and ``kernel`` (the main weight's dict, or None).
        network: network-level figures: ``gradient_ratio`` (first/last output-gradient RMS),
            ``signal_ratio`` (last/first pre-activation std), ``loss``, ``objective``, ``optimizer``,
            ``examples``, ``jacobian`` (singular-value summary or None), ``mean_field`` (whether predicted)
            and, for a model with recurrent layers, ``through_time_layers``: per recurrent layer (by path), the
            objective's gradient RMS at each step of its input and the first/last step ratio
            (``through_time.profile``, real steps only under a mask), and ``through_time``: the first such
            layer's (None without recurrent layers).
        verdicts: ``[{"kind", "layers", "message"}]``, empty for a healthy network.
        verdict: one line, ``"healthy"`` or the kinds found.
        symmetric: the layers with identical units (``symmetry.symmetric_units``).
    """

    def __init__(self, model_name, layers, network, symmetric):
        self.model_name = model_name
        self.layers = layers
        self.network = network
        self.symmetric = symmetric
        self.verdicts = verdicts_lib.judge(layers, symmetric)
        if network.get("through_time_layers"):  # of each recurrent layer's input sequence
            self.verdicts += through_time.verdicts(network["through_time_layers"])
        self.verdict = verdicts_lib.summary(self.verdicts)

    @property
    def healthy(self):
        return not self.verdicts

    def kinds(self):
        """The kinds of problem found, e.g. ``{"vanishing", "saturated"}``."""
        return {v["kind"] for v in self.verdicts}

    def __getitem__(self, name):
        """The record of the layer whose path (or last path part) is ``name``."""
        for record in self.layers:
            if record["layer"] == name or record["layer"].rsplit("/", 1)[-1] == name:
                return record
        raise KeyError(f"no layer {name!r} in the report; layers: {[r['layer'] for r in self.layers]}")

    def to_dict(self, histograms=False):
        """Everything as JSON-safe data (histograms left out unless asked for)."""
        layers = [{k: v for k, v in r.items() if histograms or not k.endswith("_histogram")} for r in self.layers]
        return _jsonable({"model": self.model_name, "layers": layers, "network": self.network,
                          "symmetric": self.symmetric, "verdicts": self.verdicts, "verdict": self.verdict})

    def to_json(self, path=None, histograms=False, indent=2):
        """The report as JSON text; also written to ``path`` when given."""
        text = json.dumps(self.to_dict(histograms=histograms), indent=indent)
        if path is not None:
            with atomic_output(path) as handle:
                handle.write((text + "\n").encode("utf-8"))
        return text

    def table(self):
        """The per-layer figures as a text table (one row per layer)."""
        rows = [[header for header, _ in _COLUMNS]] + [[fn(r) for _, fn in _COLUMNS] for r in self.layers]
        widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)

    def __str__(self):
        net = self.network
        lines = [f"Initialization report for {self.model_name!r} ({net.get('examples')} examples, "
                 f"objective: {net.get('objective')})", "", self.table(), ""]
        ratio = net.get("gradient_ratio")
        lines.append("gradient ratio first/last layer: " + _num(ratio) +
                     "   signal ratio last/first layer: " + _num(net.get("signal_ratio")))
        for path, through in (net.get("through_time_layers") or {}).items():
            lines.append(f"gradient through time at {path!r}, input step 1 / step {len(through['per_step_rms'])}: "
                         f"{_num(through['first_last_ratio'])} (far below 1: vanishing over the sequence; far "
                         "above: exploding)")
        jac = net.get("jacobian")
        if jac:
            lines.append(f"input-output Jacobian singular values: mean {_num(jac['mean'])}, min "
                         f"{_num(jac['min'])}, max {_num(jac['max'])} ({jac['n_samples']} examples; near 1 = "
                         "dynamical isometry)")
        lines.append(f"verdict: {self.verdict}")
        lines.extend(f"  - {v['message']}" for v in self.verdicts)
        return "\n".join(lines)

    def __repr__(self):
        return f"<InitReport {self.model_name!r}: {len(self.layers)} layers, verdict {self.verdict!r}>"

    def plot(self, path=None):
        """Draw activation and gradient std versus depth and per-layer histograms (needs ``neurona[plot]``).

        Returns the matplotlib Figure; saved to ``path`` (PNG, SVG, PDF by extension) when given.
        """
        from .plots import plot_report  # matplotlib is optional: imported only when a plot is asked for

        return plot_report(self, path)
