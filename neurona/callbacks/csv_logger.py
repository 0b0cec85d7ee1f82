"""``CSVLogger``: one CSV row of logs per epoch, written as training goes."""

import csv
import io
import os
import warnings

from ._arguments import check_bool, check_path
from .callback import Callback


def _cell(value):
    """Text of one logged value: numbers as Python writes them, sequences (per-class scores) as ``[a, b]``."""
    if isinstance(value, str):
        return value
    if hasattr(value, "tolist"):  # NumPy scalars and arrays
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


def _read_header(path, separator):
    """The column names of an existing CSV file, or None when it is missing or empty."""
    if not os.path.exists(path):
        return None
    with open(path, newline="", encoding="utf-8") as f:
        first = f.readline()
    if not first.strip():
        return None
    return next(csv.reader([first], delimiter=separator))


class CSVLogger(Callback):
    """Write each epoch's logs to a CSV file: an ``epoch`` column (0-based) then the logged keys.

    The header is written at the end of the first epoch from that epoch's keys,
    sorted (as Keras does); a key missing from a later epoch is written as
    ``NA``, and a key that was not in the header is left out (with a warning).
    Each row is written in one piece and flushed, so the file is readable
    (e.g. by ``pandas.read_csv``) while training runs and holds every finished
    epoch if training dies.

    Args:
        filename: path of the CSV file.
        separator: the column separator.
        append: add to an existing file instead of overwriting it; its header is
            kept and rows follow its columns (a new key not in it is dropped, with a
            warning). Use it to continue a log when resuming training.

    Raises:
        TypeError: ``filename`` is not a path (str or os.PathLike), or ``append`` is not a bool.
        ValueError: ``filename`` is empty, or ``separator`` is not one character.
    """

    rank_zero_only = True  # data-parallel: one process writes

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        if not isinstance(separator, str) or len(separator) != 1:
            raise ValueError(f"CSVLogger: separator must be one character, got {separator!r}")
        self.filename = check_path(filename, "CSVLogger", "filename")
        self.sep = separator
        self.append = check_bool(append, "CSVLogger", "append")
        self.keys = None
        self.csv_file = None

    def on_train_begin(self, logs=None):
        self._close()
        self.keys = None
        header = _read_header(self.filename, self.sep) if self.append else None
        if header is not None:
            if header[:1] != ["epoch"]:
                raise ValueError(f"CSVLogger: cannot append to {self.filename!r}: its first column is "
                                 f"{header[:1]}, expected ['epoch']")
            self.keys = header[1:]
        self.csv_file = open(self.filename, "a" if self.append else "w", newline="", encoding="utf-8")
        self._header_written = header is not None
        self._warned = False

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
        dropped = sorted(set(logs) - set(self.keys))
        if dropped and not self._warned:
            self._warned = True
            warnings.warn(f"CSVLogger: {self.filename!r} has no column for {dropped}; those values are not "
                          "written", stacklevel=2)
        lines = []
        if not self._header_written:
            lines.append(["epoch", *self.keys])
            self._header_written = True
        lines.append([epoch, *(_cell(logs[key]) if key in logs else "NA" for key in self.keys)])
        text = io.StringIO()
        csv.writer(text, delimiter=self.sep, lineterminator="\n").writerows(lines)
        self.csv_file.write(text.getvalue())  # one write per epoch: no half row is ever flushed
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        self._close()

    def on_train_failed(self, error):
        self._close()  # the rows written so far stay

    def _close(self):
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.csv_file = None
