"""A full disk during a save is a clear OSError, never a crash, and the previous save survives (issue 10, item 8).

A real child process saves once, then lowers its file size limit
(``RLIMIT_FSIZE``, with SIGXFSZ ignored so that ``write()`` fails with EFBIG as on
a full disk) below the size of model.h5 and saves again through every writer:
``model.save``, ``save_weights`` and ``ModelCheckpoint`` inside ``fit``. HDF5
writing to disk with Fletcher-32 filters used to die of SIGSEGV there.
"""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from neurona import layers, models

pytestmark = pytest.mark.skipif(os.name != "posix", reason="RLIMIT_FSIZE is POSIX")

CHILD = textwrap.dedent("""
    import resource, signal, sys
    import numpy as np
    from neurona import callbacks, layers, models

    folder, weights = sys.argv[1], sys.argv[2]
    model = models.Sequential([layers.Input((32,)), layers.Dense(64), layers.Dense(4)])
    model.compile(optimizer="adam", loss="mse")
    x, y = np.ones((8, 32), np.float32), np.ones((8, 4), np.float32)
    model.set_weights([np.full(w.shape, 1, w.dtype) for w in model.get_weights()])
    model.save(folder)
    model.save_weights(weights)
    model.set_weights([np.full(w.shape, 2, w.dtype) for w in model.get_weights()])
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() then fails with EFBIG instead of killing the process
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
    attempts = {"save": lambda: model.save(folder), "save_weights": lambda: model.save_weights(weights),
                "checkpoint": lambda: model.fit(x, y, epochs=1, verbose=0,
                                                callbacks=[callbacks.ModelCheckpoint(folder)])}
    for label, attempt in attempts.items():
        try:
            attempt()
            print(label, "saved")
        except OSError as error:
            print(label, "|", error.errno, "|", error)
    print("alive")
""")


def _same(model, value):
    return all(np.array_equal(w, np.full(w.shape, value, w.dtype)) for w in model.get_weights())


def test_a_full_disk_raises_a_clear_error_and_keeps_the_previous_save(tmp_path):
    folder, weights = tmp_path / "model", tmp_path / "w.weights.h5"
    (tmp_path / "child.py").write_text(CHILD)
    child = subprocess.run([sys.executable, str(tmp_path / "child.py"), str(folder), str(weights)],
                           capture_output=True, text=True, timeout=120)
    assert child.returncode == 0, f"the child died (returncode {child.returncode}): {child.stderr[-2000:]}"
    lines = child.stdout.splitlines()
    assert lines[-1] == "alive" and len(lines) == 4, child.stdout
    for line, path in zip(lines[:3], [folder, weights, folder]):
        label, errno, message = line.split(" | ")
        assert int(errno) == 27, line  # EFBIG, what a full file system or a size limit gives write()
        assert f"cannot save to {str(path)!r}: writing failed: File too large" in message
        assert "the disk is full, or a quota or file size limit was reached" in message
        assert f"the previous save at {str(path)!r}, if any, is intact" in message
        assert ".tmp-" not in message, "the message names a temporary path instead of the user's"
    assert _same(models.load_model(folder), 1)  # the save before the limit, whole
    twin = models.Sequential([layers.Input((32,)), layers.Dense(64), layers.Dense(4)])
    twin.load_weights(weights)
    assert _same(twin, 1)
    assert sorted(os.listdir(tmp_path)) == ["child.py", "model", "w.weights.h5"]  # no temporary file left behind
