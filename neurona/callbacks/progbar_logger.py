"""``ProgbarLogger``: a live per-epoch progress bar with the running loss and metrics.

Keras-style output, written by this module (no extra dependency)::

    Epoch 1/5
    469/469 [==============================] - 1s 2ms/step - loss: 0.2571 - accuracy: 0.9265

On a terminal the bar redraws in place (at most every 0.1 s, so drawing never
slows training); in a log file or a pipe it prints one line per epoch.
"""

import sys
import time

from .callback import Callback


def format_logs(logs):
    """``" - loss: 0.2571 - accuracy: 0.9265"`` for a logs dict."""
    return "".join(f" - {key}: {value:.4f}" if isinstance(value, float) else f" - {key}: {value}"
                   for key, value in logs.items())


def _format_duration(seconds):
    if seconds >= 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds >= 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{seconds:.0f}s"


class Progbar:
    """Renders one progress bar of ``target`` steps to ``stream``."""

    def __init__(self, target, width=30, stream=None, interval=0.1, live=None):
        self.target, self.width, self.interval = target, width, interval
        self.stream = stream or sys.stdout
        self.live = self.stream.isatty() if live is None else live
        self.start = time.perf_counter()
        self._last_draw = 0.0

    def update(self, current, logs=None, final=False):
        """Show progress ``current``/``target``; draws at most every ``interval`` seconds unless final."""
        now = time.perf_counter()
        if not final and (not self.live or now - self._last_draw < self.interval):
            return
        self._last_draw = now
        elapsed = now - self.start
        filled = int(self.width * current / self.target) if self.target else self.width
        bar = "=" * max(filled - 1, 0) + (">" if filled < self.width else "=") + "." * (self.width - filled)
        per_step = elapsed / max(current, 1)
        if final:
            timing = f"{_format_duration(elapsed)} {per_step * 1e3:.0f}ms/step"
        else:
            timing = f"ETA: {_format_duration(per_step * (self.target - current))}"
        digits = len(str(self.target))
        line = f"{current:{digits}d}/{self.target} [{bar}] - {timing}{format_logs(logs or {})}"
        if self.live:
            self.stream.write("\r" + line + ("\n" if final else ""))
        elif final:
            self.stream.write(line + "\n")
        self.stream.flush()


class ProgbarLogger(Callback):
    """Prints training progress; added by ``fit`` when ``verbose`` is 1 (bar) or 2 (one line per epoch)."""

    def __init__(self, stream=None):
        super().__init__()
        self.stream = stream
        self.bar = None
        self._logs = None
        self._seen = 0

    def on_epoch_begin(self, epoch, logs=None):
        stream = self.stream or sys.stdout
        if self.params.get("verbose", 1):
            stream.write(f"Epoch {epoch + 1}/{self.params['epochs']}\n")
        live = None if self.params.get("verbose", 1) == 1 else False
        self.bar = Progbar(self.params["steps"], stream=stream, live=live)
        self._seen = 0

    def on_train_batch_end(self, batch, logs=None):
        self._seen = batch + 1
        self._logs = logs
        self.bar.update(self._seen, logs)

    def on_epoch_end(self, epoch, logs=None):
        self.bar.update(self._seen, logs, final=True)
