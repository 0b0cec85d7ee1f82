"""``ProgbarLogger``: the progress of ``fit``, ``evaluate`` and ``predict``, with the running loss and metrics.

Keras-style output, written by this module (no extra dependency). ``verbose=1``,
a bar (redrawn in place on a terminal, at most every 0.1 s, so drawing never
slows training; in a log file or a pipe, its last state only)::

    Epoch 1/5
    469/469 [==============================] - 1s 2ms/step - accuracy: 0.9265 - loss: 0.2571

``verbose=2``, one line per epoch (or per evaluation or prediction)::

    469/469 - 1s - 2ms/step - accuracy: 0.9265 - loss: 0.2571

As in Keras, ``Epoch i/N`` is printed when there is more than one epoch, and the
validation pass inside ``fit`` draws no bar of its own (its ``val_`` results are
on the epoch's line).
"""

import sys
import time

from .callback import Callback


def format_logs(logs):
    """``" - accuracy: 0.9265 - loss: 0.2571"`` for a logs dict."""
    return "".join(f" - {key}: {value:.4f}" if isinstance(value, float) else f" - {key}: {value}"
                   for key, value in logs.items())


def _format_duration(seconds):
    if seconds >= 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds >= 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{seconds:.0f}s"


class Progbar:
    """Renders the progress of ``target`` steps (None when unknown, as for a generator) to ``stream``.

    Args:
        target: the number of steps, or None.
        width: characters of the bar.
        stream: where to write (``sys.stdout`` by default).
        interval: least seconds between two redraws.
        live: redraw in place (default: when ``stream`` is a terminal); otherwise only the final state
            is written.
        verbose: 1 for the bar, 2 for one plain line at the end.
    """

    def __init__(self, target, width=30, stream=None, interval=0.1, live=None, verbose=1):
        self.target, self.width, self.interval, self.verbose = target, width, interval, verbose
        self.stream = stream or sys.stdout
        self.live = (verbose == 1 and self.stream.isatty()) if live is None else live
        self.start = time.perf_counter()
        self._last_draw = 0.0

    def update(self, current, logs=None, final=False):
        """Show progress ``current``/``target``; draws at most every ``interval`` seconds unless final."""
        if not self.verbose:
            return
        now = time.perf_counter()
        if not final and (not self.live or now - self._last_draw < self.interval):
            return
        self._last_draw = now
        elapsed = now - self.start
        per_step = elapsed / max(current, 1)
        target = self.target if self.target is not None else current if final else None
        metrics = format_logs(logs or {})
        if self.verbose == 2:
            line = f"{current}/{target} - {_format_duration(elapsed)} - {per_step * 1e3:.0f}ms/step{metrics}"
        else:
            if target:
                filled = int(self.width * current / target)
                bar = "=" * max(filled - 1, 0) + (">" if filled < self.width else "=") + "." * (self.width - filled)
                count = f"{current:{len(str(target))}d}/{target} [{bar}]"
            else:
                count = f"{current}/Unknown"
            if final:
                timing = f"{_format_duration(elapsed)} {per_step * 1e3:.0f}ms/step"
            elif target:
                timing = f"ETA: {_format_duration(per_step * (target - current))}"
            else:
                timing = f"{_format_duration(elapsed)} {per_step * 1e3:.0f}ms/step"
            line = f"{count} - {timing}{metrics}"
        if self.live:
            self.stream.write("\r" + line + ("\n" if final else ""))
        elif final:
            self.stream.write(line + "\n")
        self.stream.flush()


class ProgbarLogger(Callback):
    """Prints progress; ``fit``, ``evaluate`` and ``predict`` add one when ``verbose`` is 1 (bar) or 2 (lines).

    Args:
        stream: where to write (``sys.stdout`` by default, looked up at each run).
    """

    rank_zero_only = True  # data-parallel: one process writes

    def __init__(self, stream=None):
        super().__init__()
        self.stream = stream
        self.bar = None
        self._seen = 0
        self._in_fit = False

    def _verbose(self):
        verbose = self.params.get("verbose", 1)
        return 1 if verbose == "auto" else verbose

    def _new_bar(self):
        self.bar = Progbar(self.params.get("steps"), stream=self.stream or sys.stdout, verbose=self._verbose())
        self._seen = 0

    def _update(self, batch, logs):
        if self.bar is None:
            self._new_bar()
        self._seen = batch + 1
        self.bar.update(self._seen, logs)

    def _finish(self, logs):
        if self.bar is None:
            self._new_bar()
        self.bar.update(self._seen, logs, final=True)
        self.bar = None

    def on_train_begin(self, logs=None):
        self._in_fit = True  # the validation passes inside fit are silent

    def on_train_end(self, logs=None):
        self._in_fit = False

    def on_train_failed(self, error):
        self._in_fit = False

    def on_epoch_begin(self, epoch, logs=None):
        epochs = self.params.get("epochs", 1)
        if self._verbose() and epochs > 1:
            (self.stream or sys.stdout).write(f"Epoch {epoch + 1}/{epochs}\n")
        self._new_bar()

    def on_train_batch_end(self, batch, logs=None):
        self._update(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._finish(logs)

    def on_test_begin(self, logs=None):
        if not self._in_fit:
            self._new_bar()

    def on_test_batch_end(self, batch, logs=None):
        if not self._in_fit:
            self._update(batch, logs)

    def on_test_end(self, logs=None):
        if not self._in_fit:
            self._finish(logs)

    def on_predict_begin(self, logs=None):
        self._new_bar()

    def on_predict_batch_end(self, batch, logs=None):
        self._update(batch, None)  # the predictions are no metrics

    def on_predict_end(self, logs=None):
        self._finish(None)
