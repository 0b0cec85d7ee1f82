"""``report.md``: the ranked table of a comparison, its runs, and the diagnostics' verdicts at initialization.

Ranking: initializers by the mean over seeds of the final validation accuracy, highest first (an initializer
with no finite accuracy last), ties broken by fewer diverged runs, then by the smaller spread over seeds. The
std is the sample standard deviation over seeds (``-`` for one seed). "epochs / seconds to target" average the
runs that reached the target and say how many did; the seconds count from the start of the initialization (so
LSUV's passes over data are included). Diverged and stalled runs are counted in their own columns
(``runner`` defines the marks).
"""

import math
import os

from ..files import atomic_output


def markdown_table(rows):
    """A Markdown table of ``rows`` (dicts with the same keys, in column order), columns padded to one width."""
    keys = list(rows[0])
    widths = [max(len(str(k)), *(len(str(r[k])) for r in rows)) for k in keys]

    def line(values):
        return "| " + " | ".join(str(v).ljust(w) for v, w in zip(values, widths)) + " |"

    return "\n".join([line(keys), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
                     + [line([r[k] for k in keys]) for r in rows])


def _mean(values):
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def _std(values):
    values = [v for v in values if v is not None]
    if len(values) < 2:
        return None
    m = sum(values) / len(values)
    return math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1))


def group_runs(results):
    """Finished run records by initializer label, in the grid's order of initializers."""
    order = list(dict.fromkeys(r["initializer"] for r in results["grid"]["runs"]))
    groups = {label: [] for label in order}
    for record in results["runs"]:
        groups.setdefault(record["config"]["initializer"], []).append(record)
    return groups


def _verdicts(records):
    """``{kind: {"seeds": [...], "message": ...}}``: each kind of verdict over the runs of one initializer, with
    the message of the first seed that had it (the messages carry that run's numbers)."""
    found = {}
    for record in records:
        for verdict in (record.get("diagnostics") or {}).get("verdicts", []):
            entry = found.setdefault(verdict.get("kind", "?"), {"seeds": [], "message": verdict.get("message", "")})
            entry["seeds"].append(record["config"]["seed"])
    return found


def summarize_initializer(label, records):
    """One row of the ranking: the figures of ``records``, the finished runs of initializer ``label``."""
    final = [r["final_val_accuracy"] for r in records]
    reached = [r for r in records if r["epochs_to_target"] is not None]
    return {"initializer": label, "runs": len(records), "seeds": [r["config"]["seed"] for r in records],
            "final_val_accuracy_mean": _mean(final), "final_val_accuracy_std": _std(final),
            "reached_target": len(reached), "epochs_to_target": _mean([r["epochs_to_target"] for r in reached]),
            "seconds_to_target": _mean([r["seconds_to_target"] for r in reached]),
            "val_loss_after_epoch_1": _mean([r["val_loss_after_epoch_1"] for r in records]),
            "diverged": sum(bool(r["diverged"]) for r in records), "stalled": sum(bool(r["stalled"]) for r in records),
            "verdicts": _verdicts(records)}


def rank(results):
    """The rows of the ranked table (see the module docstring), best first; initializers without finished
    runs are left out."""
    rows = [summarize_initializer(label, records) for label, records in group_runs(results).items() if records]

    def key(row):
        mean = row["final_val_accuracy_mean"]
        return (mean is None, -(mean or 0.0), row["diverged"], row["final_val_accuracy_std"] or 0.0)

    return sorted(rows, key=key)


def _fmt(value, spec=".4f"):
    return "-" if value is None else format(value, spec)


def _model_text(model):
    if "builder" in model:
        return f"built by `{model['builder']}`"
    norm = "batch norm" if model["normalization"] else "no normalization"
    return f"{model['kind']}, {model['depth']} hidden layers of {model['width']}, {model['activation']}, {norm}"


def _setup(results):
    grid = results["grid"]
    first = grid["runs"][0]
    data = grid["data"]
    seeds = sorted({r["seed"] for r in grid["runs"]})
    lr = first["learning_rate"]
    return [f"- model: {_model_text(first['model'])}",
            f"- data: {data['label']} ({data['train']} training, {data['validation']} validation examples)",
            f"- training: {first['epochs']} epochs, batch {first['batch_size']}, {first['optimizer']} "
            f"(learning rate {'default' if lr is None else f'{lr:g}'}), {first['threads']} thread(s) per run",
            f"- target validation accuracy: {first['target']:g}; seeds: {', '.join(map(str, seeds))}",
            f"- runs finished: {len(results['runs'])} of {len(grid['runs'])}"]


def _ranking_table(rows):
    lines = ["| rank | initializer | final val acc (mean ± std) | epochs to target | seconds to target "
             "| val loss after epoch 1 | diverged | stalled |", "|---|---|---|---|---|---|---|---|"]
    for i, row in enumerate(rows, 1):
        std = row["final_val_accuracy_std"]
        acc = _fmt(row["final_val_accuracy_mean"]) + ("" if std is None else f" ± {std:.4f}")
        reach = f"{_fmt(row['epochs_to_target'], '.1f')} ({row['reached_target']}/{row['runs']})"
        secs = f"{_fmt(row['seconds_to_target'], '.1f')} ({row['reached_target']}/{row['runs']})"
        marks = [f"**{row[k]}/{row['runs']}**" if row[k] else "0" for k in ("diverged", "stalled")]
        lines.append(f"| {i} | {row['initializer']} | {acc} | {reach} | {secs} | "
                     f"{_fmt(row['val_loss_after_epoch_1'])} | {marks[0]} | {marks[1]} |")
    return lines


def _runs_table(results):
    lines = ["| run | final val acc | epochs run | epochs to target | val loss after epoch 1 | marks | wall s |",
             "|---|---|---|---|---|---|---|"]
    for r in results["runs"]:
        marks = ", ".join(m for m in ("diverged", "stalled") if r[m]) or "-"
        lines.append(f"| {r['id']} | {_fmt(r['final_val_accuracy'])} | {len(r['history']['loss'])} | "
                     f"{r['epochs_to_target'] or '-'} | {_fmt(r['val_loss_after_epoch_1'])} | {marks} | "
                     f"{r['timing']['wall_seconds']:.1f} |")
    return lines


def _verdict_lines(rows):
    lines = []
    for row in rows:
        if not row["verdicts"]:
            lines.append(f"- **{row['initializer']}**: healthy (all {row['runs']} runs)")
            continue
        lines.append(f"- **{row['initializer']}**:")
        for kind, entry in row["verdicts"].items():
            seeds = entry["seeds"]
            lines.append(f"  - {kind}, {len(seeds)}/{row['runs']} runs (seed{'s' if len(seeds) > 1 else ''} "
                         f"{', '.join(map(str, seeds))}); seed {seeds[0]}: {entry['message']}")
    return lines


def make_report(results, command=None, plots=()):
    """The text of report.md for ``results`` (results.json's content); ``command`` is written at the top."""
    rows = rank(results)
    lines = ["# Initializer comparison", ""]
    if command:
        lines += ["```", command, "```", ""]
    lines += _setup(results) + ["", "## Ranking", ""]
    lines += _ranking_table(rows) if rows else ["No run has finished yet."]
    lines += ["", "Diverged: a training or validation loss became NaN or infinite. Stalled: validation accuracy "
              "still near chance after the first epochs.", "", "## Runs", ""] + _runs_table(results)
    lines += ["", "## Diagnostics at initialization", "",
              "Verdicts of `neurona.diagnostics.inspect` on each run's probe batch before training:", ""]
    lines += _verdict_lines(rows)
    if plots:
        lines += ["", "## Plots", ""] + [f"![{os.path.splitext(p)[0]}]({p})" for p in plots]
    return "\n".join(lines) + "\n"


def write_report(results, out, command=None, plots=()):
    """Write ``out/report.md`` atomically; returns its path."""
    path = os.path.join(os.fspath(out), "report.md")
    with atomic_output(path) as f:
        f.write(make_report(results, command, plots).encode("utf-8"))
    return path
