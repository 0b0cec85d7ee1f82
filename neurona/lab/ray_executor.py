"""Running the runs of a grid as Ray tasks (``executor="ray"``, ``neurona lab compare --executor ray``).

The same runs as ``parallel``'s worker processes, with the same records: each run is one Ray task calling
``runner.run_one`` on the grid's data. The data this process loaded is put once into Ray's object store, so
every task trains on the very arrays the local executor would (whatever MNIST files or ``$NEURONA_DATA_DIR``
a node has); on one machine the tasks read them from shared memory, without a copy. A task asks Ray for
``threads`` CPUs, and ``run_one`` holds the run to ``threads`` threads as in a worker process. The
``NEURONA_*`` environment variables of this process (``NEURONA_KERNELS``, ``NEURONA_DATA_DIR`` ...) are set
in the tasks too (``runtime_env``), so they behave as in the worker processes, which inherit them.

This process stays the only writer of ``results.json``: at most ``jobs`` tasks are submitted at a time
(they are the "running" of the progress line), ``ray.wait`` hands each finished record to ``on_result`` at
once, and the next run is submitted. A run that raises, or a task Ray loses (a worker that died, a function
a node cannot import), stops the grid with a ``RuntimeError`` naming the run; tasks are not retried. On
Ctrl-C, or any error, the outstanding tasks are cancelled. The runs finished before are kept either way.

Where Ray runs: a Ray already connected in this process (``ray.init`` called by the caller) is used as it
is; else ``address`` (``HOST:PORT``, ``"auto"`` or ``ray://HOST:PORT``), else ``$RAY_ADDRESS`` (Ray's own
convention), else a new local instance with ``jobs * threads`` CPUs (without ``jobs``: this machine's CPUs),
even where one started by ``ray start`` is running here (``address="auto"`` connects to that one).
Ray is shut down (or disconnected from) afterwards only when it was started (or connected) here.
"""

import contextlib
import logging
import os
import re
import sys
import traceback

from .parallel import POLL_SECONDS
from .runner import run_one

ENV_PREFIX = "NEURONA_"
_HOST_PORT = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?):(\d{1,5})")
_CLIENT = re.compile(r"ray://(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)(?::(\d{1,5}))?")


def import_ray():
    """The ``ray`` module, or an ImportError naming the ``neurona[ray]`` extra."""
    try:
        import ray
    except ImportError as error:
        raise ImportError(f"lab.compare: executor='ray' (--executor ray) needs Ray: pip install 'neurona[ray]' "
                          f"({error})") from error
    return ray


def check_address(address):
    """Refuse an ``address`` that is not ``HOST:PORT``, ``"auto"`` or ``ray://HOST[:PORT]``; returns it."""
    match = None
    if isinstance(address, str):
        match = _HOST_PORT.fullmatch(address) or _CLIENT.fullmatch(address)
    port = match and match.group(1)
    if address != "auto" and (match is None or (port is not None and not 0 < int(port) < 65536)):
        raise ValueError(f"lab.compare: address must be a Ray cluster's HOST:PORT (e.g. 10.0.0.5:6379), 'auto' "
                         f"or a Ray client URL ray://HOST:PORT, got {address!r}")
    return address


def check_sendable(specs):
    """Refuse, before any run, a spec that Ray cannot send to its tasks (Ray's cloudpickle, which sends lambdas
    and nested functions by value and module-level functions by name); needs Ray (``import_ray``)."""
    ray = import_ray()
    seen = set()
    for spec in specs:
        for what, fn in (("initializer", spec.initializer), ("model builder", spec.model)):
            if callable(fn) and not isinstance(fn, str) and id(fn) not in seen:
                seen.add(id(fn))
                try:
                    ray.cloudpickle.dumps(fn)
                except Exception as error:  # PicklingError, TypeError: whatever makes it unsendable
                    raise ValueError(f"lab.compare: the {what} of run {spec.run_id} cannot be sent to Ray tasks "
                                     f"({type(error).__name__}: {error})") from None


def _task(spec, data):
    """One run in a Ray worker: ``("done", record, None)``, or ``("error", message, traceback)`` if it raised.

    Only ``Exception`` is caught: a cancellation (``ray.cancel``) still ends the task."""
    try:
        return "done", run_one(spec, data), None
    except Exception as error:  # noqa: BLE001 - reported to the driver, which raises it
        return "error", f"{type(error).__name__}: {error}", traceback.format_exc()


def _cpus():
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _connect(ray, address, jobs, threads):
    """Connect to or start Ray as the module docstring says; True when this call did (so must shut it down)."""
    if ray.is_initialized():
        return False
    quiet = dict(log_to_driver=False, logging_level=logging.ERROR)  # the progress line is the output
    address = address or os.environ.get("RAY_ADDRESS") or None
    if address is not None:
        ray.init(address=address, **quiet)
    else:
        cpus = (jobs or max(1, _cpus() // threads)) * threads
        # "local": a new instance, even where `ray start` has left one running on this machine (--address auto)
        ray.init(address="local", num_cpus=cpus, include_dashboard=False, **quiet)
    return True


def _window(ray, jobs, threads, pending):
    """How many runs are submitted at a time: ``jobs``, else as many as the cluster's CPUs hold."""
    if jobs is None:
        jobs = max(1, int(ray.cluster_resources().get("CPU", 1)) // threads)
    return max(1, min(jobs, pending))


def _task_options(threads):
    """A run's task: ``threads`` CPUs, no retry, and this process's ``NEURONA_*`` environment variables."""
    env = {k: v for k, v in os.environ.items() if k.startswith(ENV_PREFIX)}
    options = dict(num_cpus=threads, max_retries=0)
    if env:
        options["runtime_env"] = {"env_vars": env}
    return options


def _result(ray, ref, spec):
    """The record of a finished task, or the RuntimeError naming its run."""
    try:
        kind, payload, detail = ray.get(ref)
    except ray.exceptions.RayError as error:  # the task never ran to its end: a dead worker, an import error
        first = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
        raise RuntimeError(f"run {spec.run_id} failed in a Ray task: {type(error).__name__}: {first}; the runs "
                           "finished before are kept: rerun with --resume to continue") from None
    if kind == "error":
        sys.stderr.write(detail)  # the task's traceback: the error below is one line
        raise RuntimeError(f"run {spec.run_id} failed in a Ray task: {payload}")
    return payload


def run_grid(specs, data, jobs, on_result, progress, address=None):
    """Run every spec of ``specs`` on ``data`` as Ray tasks; ``on_result(record)`` here as each ends.

    Args:
        specs: the ``RunSpec``s still to run (one ``threads`` for all, as ``make_grid`` makes them).
        data: the ``runner.Data`` the runs train on (put once into the object store).
        jobs: runs submitted at a time (None: the Ray cluster's CPUs divided by ``threads``).
        on_result: called in this process with each finished run's record (e.g. to write results.json).
        progress: a ``parallel.Progress``.
        address: the Ray cluster to connect to (see the module docstring); None: ``$RAY_ADDRESS`` or local.

    Raises:
        ImportError: Ray is not installed (``neurona[ray]``).
        RuntimeError: a run failed (its traceback is written to stderr first).
        KeyboardInterrupt: Ctrl-C; the outstanding tasks are cancelled.
    """
    if not specs:
        return
    ray = import_ray()
    threads = specs[0].threads
    started = _connect(ray, address, jobs, threads)
    outstanding = {}  # ObjectRef -> spec
    try:
        task = ray.remote(**_task_options(threads))(_task)
        data_ref = ray.put(data)
        window, queue = _window(ray, jobs, threads, len(specs)), list(reversed(specs))
        while queue or outstanding:
            while queue and len(outstanding) < window:
                spec = queue.pop()
                outstanding[task.remote(spec, data_ref)] = spec
                progress.started(spec.run_id)
            ready, _ = ray.wait(list(outstanding), num_returns=1, timeout=POLL_SECONDS)
            if not ready:
                progress.tick()
            for ref in ready:
                record = _result(ray, ref, outstanding.pop(ref))
                on_result(record)
                progress.finished(record)
    finally:
        for ref in outstanding:  # a run's task ends now, not after its epochs (force: even inside NumPy's loops)
            with contextlib.suppress(Exception):  # never hide the error or Ctrl-C that got us here
                ray.cancel(ref, force=True)
        if started:
            ray.shutdown()
