"""Running the runs of a grid: in this process (``jobs=1``) or in ``jobs`` worker processes, with a progress line.

Workers are started with the ``spawn`` method (a fresh interpreter: no state inherited from the parent, and
safe with threads, unlike ``fork``). Each loads the data once, then takes runs from a shared queue and sends
back ``("start", index, pid)`` and ``("done", index, record)`` events; the parent, the only writer of
``results.json``, hands every finished record to ``on_result`` at once, so a grid stopped at any moment keeps
every run finished before. Workers ignore SIGINT: on Ctrl-C the parent terminates them and raises
``KeyboardInterrupt``; a run that raises, or a worker that dies, stops the grid with a ``RuntimeError`` naming
the run.
"""

import multiprocessing
import os
import queue
import signal
import sys
import time
import traceback

from .runner import run_one

POLL_SECONDS = 0.5


def _duration(seconds):
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes}m{seconds:02d}s" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"


class Progress:
    """The live progress line over the whole grid: runs done, running, ETA, and the last result.

    On a terminal the line is rewritten in place; otherwise one line is printed per finished run. The ETA is
    the time the runs finished so far took per run, times the runs left.
    """

    def __init__(self, total, done, stream=None, enabled=True):
        self.total, self.done, self.running = total, done, set()
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.start, self.finished_here, self.last = time.perf_counter(), 0, ""
        self.live = enabled and getattr(self.stream, "isatty", lambda: False)()

    def line(self):
        left = self.total - self.done
        if self.finished_here:
            eta = _duration((time.perf_counter() - self.start) / self.finished_here * left)
        else:
            eta = "-"
        text = f"lab: {self.done}/{self.total} runs done, {len(self.running)} running, ETA {eta}"
        return f"{text}  (last: {self.last})" if self.last else text

    def _show(self, final=False):
        if not self.enabled:
            return
        if self.live:
            self.stream.write("\r\x1b[K" + self.line() + ("\n" if final else ""))
        elif final:
            self.stream.write(self.line() + "\n")
        self.stream.flush()

    def started(self, run_id):
        self.running.add(run_id)
        self._show()

    def finished(self, record):
        self.running.discard(record["id"])
        self.done += 1
        self.finished_here += 1
        acc = record.get("final_val_accuracy")
        mark = " diverged" if record.get("diverged") else " stalled" if record.get("stalled") else ""
        self.last = f"{record['id']} val acc {'-' if acc is None else f'{acc:.4f}'}{mark}"
        self._show(final=not self.live or self.done == self.total)

    def tick(self):
        if self.live:
            self._show()


def _run_here(specs, source, on_result, progress):
    data = source.load()
    for spec in specs:
        progress.started(spec.run_id)
        record = run_one(spec, data)
        on_result(record)
        progress.finished(record)


def _exit_with_parent():
    """End this worker as soon as its parent is gone (killed by SIGKILL or SIGTERM, a closed terminal): its
    results would reach nobody, and a worker blocked on the full pipe to a dead parent would never exit."""
    import multiprocessing
    import threading

    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch():
        parent.join()  # waits on the parent's sentinel
        os._exit(1)

    threading.Thread(target=watch, name="neurona-lab-parent-watch", daemon=True).start()


def _worker(tasks, events, source):
    """A worker process: load the data, then run specs from ``tasks`` until a None arrives."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and ends the workers
    _exit_with_parent()
    try:
        data = source.load()
    except BaseException as error:  # noqa: BLE001 - reported to the parent, which raises it
        events.put(("error", None, f"{type(error).__name__}: {error}", traceback.format_exc()))
        return
    while True:
        item = tasks.get()
        if item is None:
            return
        index, spec = item
        events.put(("start", index, os.getpid(), None))
        try:
            record = run_one(spec, data)
        except BaseException as error:  # noqa: BLE001 - reported to the parent, which raises it
            events.put(("error", index, f"{type(error).__name__}: {error}", traceback.format_exc()))
            return
        events.put(("done", index, record, None))


def _check_workers(workers, running, specs):
    """Raise when a worker died with a run unfinished, or every worker is gone."""
    alive = {p.pid for p in workers if p.is_alive()}
    for index, pid in running.items():
        if pid not in alive:
            code = next((p.exitcode for p in workers if p.pid == pid), None)
            raise RuntimeError(f"the worker process running {specs[index].run_id} died (exit code {code}); the "
                               "runs finished before are kept: rerun with --resume to continue")
    if not alive:
        raise RuntimeError("every worker process ended before the grid was done; rerun with --resume to continue")


def _run_workers(specs, source, jobs, on_result, progress):
    context = multiprocessing.get_context("spawn")
    tasks, events = context.Queue(), context.Queue()
    for item in enumerate(specs):
        tasks.put(item)
    workers = [context.Process(target=_worker, args=(tasks, events, source), daemon=True,
                               name=f"neurona-lab-{i}") for i in range(jobs)]
    for _ in workers:
        tasks.put(None)
    running, left = {}, set(range(len(specs)))
    try:
        for p in workers:
            p.start()
        while left:
            try:
                kind, index, payload, detail = events.get(timeout=POLL_SECONDS)
            except queue.Empty:
                _check_workers(workers, running, specs)
                progress.tick()
                continue
            if kind == "start":
                running[index] = payload
                progress.started(specs[index].run_id)
            elif kind == "done":
                running.pop(index, None)
                left.discard(index)
                on_result(payload)
                progress.finished(payload)
            else:
                where = "loading the data" if index is None else f"run {specs[index].run_id}"
                sys.stderr.write(detail)  # the worker's traceback: the error below is one line
                raise RuntimeError(f"{where} failed in a worker process: {payload}")
    finally:
        for p in workers:
            if p.is_alive():
                p.terminate()
        for p in workers:
            p.join(timeout=10)
        for q in (tasks, events):
            q.cancel_join_thread()
            q.close()


def run_grid(specs, source, jobs, on_result, progress):
    """Run every spec of ``specs`` on ``source``'s data, ``jobs`` at a time; ``on_result(record)`` as each ends.

    Args:
        specs: the ``RunSpec``s still to run.
        source: a ``runner.DataSource``.
        jobs: 1 runs them here, one after the other; more starts ``min(jobs, len(specs))`` worker processes.
        on_result: called in this process with each finished run's record (e.g. to write results.json).
        progress: a ``Progress``.
    """
    if not specs:
        return
    jobs = min(jobs, len(specs))
    if jobs == 1:
        _run_here(specs, source, on_result, progress)
    else:
        _run_workers(specs, source, jobs, on_result, progress)
