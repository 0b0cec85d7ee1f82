"""``results.json``: the grid and every finished run, rewritten atomically after each run; read to resume.

Layout (``format`` ``"neurona.lab.compare"``, ``version`` 1)::

    {"format": "neurona.lab.compare", "version": 1,
     "grid": {"data": {"label", "train", "validation", "input_shape", "classes"},
              "runs": [{"id", **RunSpec.config()}, ...]},  # every run of the grid, finished or not
     "runs": [record, ...]}                                # the finished ones, in grid order

A record (``runner.run_one``) holds ``id``, ``config``, ``history`` (``loss``, ``accuracy``, ``val_loss``,
``val_accuracy``: one value per epoch run, ``null`` where non-finite), ``diverged``, ``stalled``,
``epochs_to_target``, ``seconds_to_target``, ``final_val_accuracy``, ``val_loss_after_epoch_1``,
``train_loss_after_epoch_1``, ``diagnostics`` (``InitReport.to_dict()`` at initialization), ``lsuv`` (LSUV's
report or null) and ``timing`` (``init_seconds``: building and initializing the model, LSUV included;
``epoch_seconds``, cumulative from the start of training; ``wall_seconds``). ``seconds_to_target`` counts from
the start of the initialization.

The file is written whole with ``neurona.saving.atomic.atomic_file`` (a temporary file beside it, fsynced,
renamed over it): a grid killed at any moment leaves the previous complete file, holding every run finished
before it. Only the parent process writes it.
"""

import json
import os

from ..saving.atomic import TMP_TAG, atomic_file
from ..saving.errors import FileFormatError

FORMAT = "neurona.lab.compare"
VERSION = 1
RESULTS = "results.json"
# what a comparison folder may hold besides results.json: the files this package writes there
OUTPUTS = ("report.md", "curves.png", "init_depth.png")


def grid_record(specs, data):
    """The JSON-safe description of a grid that ``--resume`` compares: the data and every run's config."""
    runs = [{"id": spec.run_id, **spec.config()} for spec in specs]
    return json.loads(json.dumps({"data": data.summary(), "runs": runs}))


def _foreign(out):
    """Entries of the folder ``out`` that a comparison does not write (temporary files of our writes aside)."""
    ours = {RESULTS, *OUTPUTS}

    def temporary(name):  # left by a write killed midway: saving.atomic's (.tmp-) or files.atomic_output's (.part)
        return name.startswith(".") and (TMP_TAG in name or any(
            name.startswith(f".{output}.") and name.endswith(".part") for output in ours))

    return sorted(name for name in os.listdir(out) if name not in ours and not temporary(name))


def read_results(out):
    """The content of ``out/results.json``, checked to be a comparison's.

    Raises:
        FileNotFoundError: there is no results.json in ``out``.
        FileFormatError: the file is not JSON or not a comparison's results (format, version, keys).
    """
    path = os.path.join(os.fspath(out), RESULTS)
    try:
        with open(path, encoding="utf-8") as f:
            content = json.load(f)
    except json.JSONDecodeError as error:
        raise FileFormatError(f"{path}: not a JSON file ({error}); expected the results.json of "
                              "`neurona lab compare`") from None
    except UnicodeDecodeError:
        raise FileFormatError(f"{path}: not a text file; expected the results.json of `neurona lab compare`") \
            from None
    if not isinstance(content, dict) or content.get("format") != FORMAT:
        raise FileFormatError(f"{path}: not the results of `neurona lab compare` (expected \"format\": "
                              f"\"{FORMAT}\")")
    if content.get("version") != VERSION:
        raise FileFormatError(f"{path}: results format version {content.get('version')!r}; this Neurona reads "
                              f"version {VERSION}")
    grid, runs = content.get("grid"), content.get("runs")
    if not isinstance(grid, dict) or not isinstance(grid.get("runs"), list) or not isinstance(runs, list) \
            or not all(isinstance(r, dict) and isinstance(r.get("id"), str) for r in runs):
        raise FileFormatError(f"{path}: expected a \"grid\" object with a \"runs\" list and a \"runs\" list of "
                              "run records with an \"id\"")
    return content


def _grid_difference(old, new):
    """A sentence saying how two grid records differ ('' when they are equal)."""
    if old.get("data") != new["data"]:
        return f"the data differ (was {old.get('data')}, now {new['data']})"
    old_runs = {r.get("id"): r for r in old["runs"] if isinstance(r, dict)}
    new_runs = {r["id"]: r for r in new["runs"]}
    if set(old_runs) != set(new_runs):
        gone = sorted(map(str, set(old_runs) - set(new_runs)))
        added = sorted(map(str, set(new_runs) - set(old_runs)))
        return f"the runs differ (only in the folder: {gone}; only in this command: {added})"
    for key, run in new_runs.items():
        changed = sorted(k for k in set(run) | set(old_runs[key]) if run.get(k) != old_runs[key].get(k))
        if changed:
            field = changed[0]
            return f"{field} of run {key} differs (was {old_runs[key].get(field)!r}, now {run.get(field)!r})"
    return ""


def prepare_folder(out, grid, resume):
    """Check the output folder ``out`` and return the finished runs to keep, by id.

    A new or empty folder starts a grid; a folder holding a comparison is continued with ``resume`` (its grid
    must equal ``grid``) and refused without it; a folder holding other files is refused.

    Raises:
        ValueError: naming the folder: not a folder, other files in it, an earlier comparison without
            ``resume``, or a grid that differs from the one in the folder.
    """
    out = os.fspath(out)
    if os.path.exists(out) and not os.path.isdir(out):
        raise ValueError(f"lab.compare: out {out!r} is a file; expected a folder (new or empty, or an earlier "
                         "comparison's to resume)")
    os.makedirs(out, exist_ok=True)
    foreign = _foreign(out)
    if foreign:
        raise ValueError(f"lab.compare: out {out!r} holds files that are not a comparison's ({', '.join(foreign)}); "
                         "expected a new or empty folder, or an earlier comparison's")
    if not os.path.exists(os.path.join(out, RESULTS)):
        return {}
    content = read_results(out)
    if not content["runs"] and not resume:  # an earlier comparison that finished no run: nothing to keep
        return {}
    if not resume:
        raise ValueError(f"lab.compare: out {out!r} holds an earlier comparison (results.json); pass --resume "
                         "(resume=True) to continue it, or choose another folder")
    difference = _grid_difference(content["grid"], grid)
    if difference:
        raise ValueError(f"lab.compare: cannot resume {out!r}: its grid differs from this command's: {difference}; "
                         "run the same command as before, or choose another folder")
    wanted = {r["id"] for r in grid["runs"]}
    return {r["id"]: r for r in content["runs"] if r["id"] in wanted}


def write_results(out, grid, runs):
    """Write ``out/results.json`` atomically: ``grid`` and the records ``runs`` (a dict by id) in grid order."""
    order = {r["id"]: i for i, r in enumerate(grid["runs"])}
    records = sorted(runs.values(), key=lambda r: order[r["id"]])
    text = json.dumps({"format": FORMAT, "version": VERSION, "grid": grid, "runs": records}, indent=1,
                      allow_nan=False)
    path = os.path.join(os.fspath(out), RESULTS)
    with atomic_file(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    return path
