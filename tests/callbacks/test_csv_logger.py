"""CSVLogger: header, exact values, a row on disk after every epoch, append, separator, NA and lists."""

import csv

import numpy as np
import pytest

from neurona import callbacks

from .conftest import tiny_model


def _read(path, sep=","):
    with open(path, newline="") as f:
        return list(csv.reader(f, delimiter=sep))


def test_rows_match_the_history(data, tmp_path):
    path = tmp_path / "log.csv"
    x, y = data
    history = tiny_model().fit(x[:30], y[:30], epochs=3, batch_size=10, verbose=0, validation_data=(x[30:], y[30:]),
                               callbacks=[callbacks.CSVLogger(path)])
    rows = _read(path)
    assert rows[0] == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]  # sorted keys, as Keras
    assert len(rows) == 4
    for epoch, row in enumerate(rows[1:]):
        assert int(row[0]) == epoch
        for key, cell in zip(rows[0][1:], row[1:]):
            assert float(cell) == history.history[key][epoch]  # written exactly (repr of the float)


def test_each_epoch_is_on_disk_when_it_ends(data, tmp_path):
    path = tmp_path / "log.csv"
    lines_seen = []
    peek = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: lines_seen.append(len(_read(path))))
    tiny_model().fit(*data, epochs=3, batch_size=20, verbose=0, callbacks=[callbacks.CSVLogger(path), peek])
    assert lines_seen == [2, 3, 4]  # header + one row per finished epoch, flushed before training goes on


def test_append_and_overwrite(data, tmp_path):
    path = tmp_path / "log.csv"
    model = tiny_model()
    model.fit(*data, epochs=2, batch_size=20, verbose=0, callbacks=[callbacks.CSVLogger(path)])
    model.fit(*data, epochs=2, batch_size=20, verbose=0, callbacks=[callbacks.CSVLogger(path, append=True)])
    rows = _read(path)
    assert [r[0] for r in rows] == ["epoch", "0", "1", "0", "1"]  # one header, four rows
    logger = callbacks.CSVLogger(path)
    model.fit(*data, epochs=1, batch_size=20, verbose=0, callbacks=[logger])
    assert len(_read(path)) == 2 and logger.csv_file is None  # overwritten, and closed at the end


def test_append_follows_the_existing_columns(data, tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("epoch,loss,extra\n0,1.5,7\n")
    with pytest.warns(UserWarning, match=r"no column for \['accuracy'\]"):
        tiny_model().fit(*data, epochs=1, batch_size=20, verbose=0, callbacks=[callbacks.CSVLogger(path, append=True)])
    rows = _read(path)
    assert rows[0] == ["epoch", "loss", "extra"] and rows[2][0] == "0" and rows[2][2] == "NA"
    path.write_text("step,loss\n")
    with pytest.raises(ValueError, match="first column is \\['step'\\], expected \\['epoch'\\]"):
        tiny_model().fit(*data, epochs=1, verbose=0, callbacks=[callbacks.CSVLogger(path, append=True)])


def test_separator_missing_keys_and_lists(data, tmp_path):
    path = tmp_path / "log.csv"

    def add(epoch, logs):
        if epoch == 0:
            logs["only_first"] = 1.25
        logs["per_class"] = [0.5, 0.25]

    tiny_model().fit(*data, epochs=2, batch_size=20, verbose=0,
                     callbacks=[callbacks.LambdaCallback(on_epoch_end=add), callbacks.CSVLogger(path, separator=";")])
    rows = _read(path, sep=";")
    assert rows[0] == ["epoch", "accuracy", "loss", "only_first", "per_class"]
    assert rows[1][3:] == ["1.25", "[0.5, 0.25]"] and rows[2][3:] == ["NA", "[0.5, 0.25]"]
    with pytest.raises(ValueError, match="separator must be one character"):
        callbacks.CSVLogger(path, separator=", ")


# ---- defect 2 (fault probe): the file name and append are checked at construction ----------------------------
@pytest.mark.parametrize("filename", [None, 3], ids=["None", "int"])
def test_a_filename_that_is_not_a_path_is_refused(filename):
    with pytest.raises(TypeError, match=r"CSVLogger: expected a path \(str or os.PathLike\) as filename, got "
                                        rf"{filename!r} \({type(filename).__name__}\)"):
        callbacks.CSVLogger(filename)


def test_append_must_be_a_bool(tmp_path):
    with pytest.raises(TypeError, match=r"CSVLogger: append must be True or False, got 'yes' \(str\)"):
        callbacks.CSVLogger(tmp_path / "log.csv", append="yes")
    logger = callbacks.CSVLogger(tmp_path / "log.csv", append=np.bool_(True))
    assert logger.append is True and logger.filename == str(tmp_path / "log.csv")
