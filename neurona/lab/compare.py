"""``neurona.lab.compare``: one architecture trained under several initializers and seeds, compared.

>>> import neurona as nr
>>> result = nr.lab.compare(["he_normal", "glorot_uniform", "lsuv"], seeds=[0, 1, 2], depth=6, epochs=3,
...                         out="lab_out")
>>> result.ranking[0]["initializer"]          # the best mean final validation accuracy
>>> result.report                             # lab_out/report.md (also results.json, curves.png, init_depth.png)

The output folder holds ``results.json`` (``results``), ``report.md`` (``report``) and the figures (``plots``).
An interrupted grid is continued with ``resume=True`` (only the missing runs are run); every run is
reproducible from its spec alone (``runner``), whatever ``jobs`` and the executor (local worker processes, or
Ray tasks with ``executor="ray"``, on this machine or a cluster: ``ray_executor``).
"""

import dataclasses
import math
import os
import sys

from .. import optimizers
from . import parallel, ray_executor, report, results
from . import plots as plotting
from .grid import ModelConfig, check_picklable, make_grid
from .runner import DataSource, arrays_data, mnist_data

EXECUTORS = ("local", "ray")


@dataclasses.dataclass
class Comparison:
    """What ``compare`` produced: the folder, results.json's content, the ranked rows and the files written."""

    out: str
    results: dict
    ranking: list
    report: str
    plots: list


def _positive_int(value, name, allow_none=False):
    if allow_none and value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"lab.compare: {name} must be an integer >= 1{' or None' if allow_none else ''}, "
                         f"got {value!r}")
    return value


def _settings(epochs, batch_size, optimizer, learning_rate, target, threads):
    """The training settings of every run, checked."""
    _positive_int(epochs, "epochs")
    _positive_int(batch_size, "batch_size")
    _positive_int(threads, "threads")
    if not isinstance(optimizer, str):
        raise ValueError(f"lab.compare: optimizer must be a name (e.g. 'sgd', 'adam'), got {optimizer!r}")
    try:
        optimizers.get(optimizer)
    except (ValueError, TypeError) as error:
        raise ValueError(f"lab.compare: unknown optimizer {optimizer!r}: {error}") from None
    if learning_rate is not None and not (isinstance(learning_rate, (int, float)) and not isinstance(
            learning_rate, bool) and math.isfinite(learning_rate) and learning_rate > 0):
        raise ValueError(f"lab.compare: learning_rate must be a finite number > 0 or None, got {learning_rate!r}")
    if not (isinstance(target, (int, float)) and not isinstance(target, bool) and 0 < target <= 1):
        raise ValueError(f"lab.compare: target must be an accuracy in (0, 1], got {target!r}")
    return {"epochs": epochs, "batch_size": batch_size, "optimizer": optimizer,
            "learning_rate": None if learning_rate is None else float(learning_rate), "target": float(target),
            "threads": threads}


def _model(model, depth, width, activation, normalization):
    if callable(model) and not isinstance(model, str):
        return model
    return ModelConfig(kind=model, depth=depth, width=width, activation=activation, normalization=normalization)


def _data(data, max_train, max_val):
    """``(Data, DataSource)``: the data loaded here, and how worker processes get the same."""
    _positive_int(max_train, "max_train", allow_none=True)
    _positive_int(max_val, "max_val", allow_none=True)
    if isinstance(data, str):
        loaded = mnist_data(data, max_train, max_val)
        return loaded, DataSource(loaded.label, max_train, max_val)
    loaded = arrays_data(data, max_train, max_val)
    return loaded, DataSource("arrays", data=loaded)


def _executor(executor, address):
    """Check ``executor`` and ``address`` (only Ray runs on a cluster)."""
    if executor not in EXECUTORS:
        raise ValueError(f"lab.compare: unknown executor {executor!r}; expected one of {', '.join(EXECUTORS)}")
    if address is not None:
        if executor != "ray":
            raise ValueError(f"lab.compare: address ({address!r}) names a Ray cluster: it needs executor='ray' "
                             f"(--executor ray), got executor={executor!r}")
        ray_executor.check_address(address)
    if executor == "ray":
        ray_executor.import_ray()  # a missing Ray is told before the data is loaded


def _default_jobs(pending):
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cores, pending))


def _check_sendable(specs):
    """With worker processes, every callable of the grid must be importable by name."""
    seen = set()
    for spec in specs:
        for what, fn in (("initializer", spec.initializer), ("model builder", spec.model)):
            if callable(fn) and not isinstance(fn, (str, ModelConfig)) and id(fn) not in seen:
                seen.add(id(fn))
                check_picklable(fn, what)


def _call_text(specs, kwargs):
    """A readable ``neurona.lab.compare(...)`` line for the top of report.md when no command is given."""
    seeds = sorted({s.seed for s in specs}, key=[s.seed for s in specs].index)
    shown = {k: ("<arrays>" if k == "data" and not isinstance(v, str) else v) for k, v in kwargs.items()}
    names = [s.init_label for s in specs[::len(seeds)]]
    args = ", ".join(f"{k}={v!r}" for k, v in shown.items())
    return f"neurona.lab.compare({names!r}, seeds={seeds!r}, {args})"


def compare(initializers=("he_normal", "glorot_uniform"), seeds=(0, 1, 2), *, model="dense", depth=3,
            width=128, activation="relu", normalization=False, epochs=3, batch_size=128, optimizer="sgd",
            learning_rate=None, target=0.9, data="auto", max_train=None, max_val=None, out="lab_compare",
            jobs=None, threads=1, resume=False, plots=True, progress=True, command=None, stream=None,
            executor="local", address=None):
    """Train the same architecture under each initializer and seed; write results.json, report.md, plots.

    Args:
        initializers: registry names (``"he_normal"``, ``"xavier_uniform"`` ...), ``"lsuv"`` (orthonormal
            kernels rescaled on a probe batch, Mishkin & Matas 2016) or callables ``(shape, dtype) -> array``.
        seeds: one run per seed and initializer; a run's numbers depend only on its seed and settings.
        model: ``"dense"``, ``"conv"`` or a callable ``builder(input_shape, num_classes, kernel_initializer)``
            returning an uncompiled model (then depth, width, activation, normalization are not used).
        depth, width, activation, normalization: the built-in architecture (``grid.ModelConfig``).
        epochs, batch_size, optimizer, learning_rate: training (learning_rate None: the optimizer's default).
        target: the validation accuracy whose first epoch and time are reported.
        data: ``"auto"`` (full MNIST when on this machine, else the embedded subset), ``"full"``, ``"embedded"``
            or a tuple ``(x_train, y_train, x_val, y_val)`` (labels as integers or one-hot rows).
        max_train, max_val: keep only the first that many training / validation examples.
        out: the output folder (new, empty, or an earlier comparison's with ``resume``).
        jobs: runs at a time. Local: worker processes (default: the CPU count, at most the number of runs); 1
            runs in this process. Workers are spawned (fresh interpreters that import the calling script as a
            module), so a script calling ``compare`` with ``jobs > 1`` needs the usual
            ``if __name__ == "__main__":`` guard. Ray: tasks submitted at a time (default: the Ray cluster's
            CPUs divided by ``threads``).
        threads: threads per run (``NEURONA_NUM_THREADS``); part of a run's spec, the same whatever ``jobs``.
        resume: continue the comparison in ``out``, running only the runs it lacks.
        plots: draw the PNG figures (needs matplotlib, ``neurona[plot]``).
        progress: show the progress line on ``stream`` (default stderr).
        command: the command line to write at the top of report.md (default: this call, spelled out).
        stream: where the progress line goes (default ``sys.stderr``).
        executor: ``"local"`` (worker processes on this machine) or ``"ray"`` (one Ray task per run, on a local
            Ray instance or the cluster at ``address``; needs ``neurona[ray]``). The same records either way.
        address: with ``executor="ray"``: the cluster, ``HOST:PORT``, ``"auto"`` or ``ray://HOST:PORT`` (default:
            ``$RAY_ADDRESS``, else a new local instance of ``jobs * threads`` CPUs); a Ray this process is
            already connected to is used as it is.

    Returns:
        A ``Comparison``.

    Raises:
        ValueError: an unknown initializer, model, activation, optimizer or data; a count < 1; a folder holding
            other files, an earlier comparison without ``resume``, or one whose grid differs; a callable that
            worker processes cannot receive (use jobs=1 or a module-level function); an unknown executor, or an
            address that is not a Ray cluster's or is given without executor="ray".
        ImportError: executor="ray" without Ray installed (before any run).
        RuntimeError: a run failed (the runs finished before are kept in ``out/results.json``).
        KeyboardInterrupt: after the runs finished so far are saved in ``out/results.json``.
    """
    kwargs = dict(model=model, depth=depth, width=width, activation=activation, normalization=normalization,
                  epochs=epochs, batch_size=batch_size, optimizer=optimizer, learning_rate=learning_rate,
                  target=target, data=data, max_train=max_train, max_val=max_val, threads=threads)
    settings = _settings(epochs, batch_size, optimizer, learning_rate, target, threads)
    model_spec = _model(model, depth, width, activation, normalization)
    _positive_int(jobs, "jobs", allow_none=True)
    _executor(executor, address)
    if plots:
        plotting.require_matplotlib()
    loaded, source = _data(data, max_train, max_val)
    specs = make_grid(initializers, seeds, model_spec, data=loaded.label, **settings)
    grid = results.grid_record(specs, loaded)
    finished = results.prepare_folder(out, grid, resume)
    pending = [s for s in specs if s.run_id not in finished]
    if executor == "ray":
        ray_executor.check_sendable(pending)
    else:
        jobs = min(jobs or _default_jobs(len(pending)), max(1, len(pending)))
        if jobs > 1:
            _check_sendable(pending)
    results.write_results(out, grid, finished)  # the folder is a comparison's from now on: resumable

    def on_result(record):
        finished[record["id"]] = record
        results.write_results(out, grid, finished)

    bar = parallel.Progress(len(specs), len(finished), stream=stream, enabled=progress)
    try:
        if executor == "ray":  # the tasks get the data already loaded, through Ray's object store
            ray_executor.run_grid(pending, loaded, jobs, on_result, bar, address=address)
        else:
            if jobs == 1:  # runs here use the data already loaded
                source = dataclasses.replace(source, data=loaded)
            parallel.run_grid(pending, source, jobs, on_result, bar)
    except KeyboardInterrupt:
        print(f"lab: interrupted; the {len(finished)} of {len(specs)} runs finished are in "
              f"{os.path.join(os.fspath(out), results.RESULTS)}: run again with --resume (resume=True) to finish",
              file=sys.stderr)
        raise
    content = results.read_results(out)
    written = plotting.plot_all(content, out) if plots else []
    path = report.write_report(content, out, command or _call_text(specs, kwargs), written)
    return Comparison(os.fspath(out), content, report.rank(content), path,
                      [os.path.join(os.fspath(out), p) for p in written])
