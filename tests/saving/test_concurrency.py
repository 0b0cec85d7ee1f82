"""Processes saving to and loading from one folder at once (issue 10, item 9).

Two writer processes each save SAVES checkpoints to one path (version v: every
weight equals v, and the checkpoint's epoch is v too), while a reader process
loads it in a loop, pausing between opening model.json and model.h5 (as a
descheduled process would) so that saves land in between. Every save must succeed, and every load must succeed and
return one save entirely: a single weight value, equal to the epoch recorded
in model.json (so model.json and model.h5 come from the same save), and one of
the versions that were saved. Writers take the lock beside the target; readers
open every file of one folder through one directory descriptor (atomic.py).
"""

import json
import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from neurona import layers, models, saving

pytestmark = pytest.mark.skipif(os.name != "posix", reason="fcntl locks and directory descriptors are POSIX")

SAVES = 25

CHILD = textwrap.dedent("""
    import json, os, sys, time
    import numpy as np
    from neurona import layers, models, saving

    role, path, ident, sync = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    model = models.Sequential([layers.Input((64,)), layers.Dense(128), layers.Dense(10)])
    model.compile(optimizer="sgd", loss="mse")
    open(os.path.join(sync, f"ready-{role}-{ident}"), "w").close()
    while not os.path.exists(os.path.join(sync, "go")):  # every process starts at the same moment
        time.sleep(0.001)

    def report(**entry):
        print(json.dumps(entry), flush=True)

    if role == "writer":
        for k in range(1, int(sys.argv[5]) + 1):
            version = ident * 1000 + k
            model.set_weights([np.full(w.shape, version, w.dtype) for w in model.get_weights()])
            try:
                saving.save_checkpoint(model, path, epoch=version)
                report(saved=version)
            except Exception as error:
                report(error=f"{type(error).__name__}: {error}")
        open(os.path.join(sync, f"done-{ident}"), "w").close()
    else:
        from neurona.saving import atomic

        def slow_open(name, *args, **kwargs):  # a reader descheduled between opening model.json and model.h5
            f = open(name, *args, **kwargs)
            if str(name).endswith("model.json"):
                time.sleep(0.003)
            return f

        atomic.open = slow_open  # the module's open(), that only: the reader's files open as before, slowly
        loads = 0
        while loads < 5 or not all(os.path.exists(os.path.join(sync, f"done-{i}")) for i in (1, 2)):
            loads += 1
            try:
                ckpt = saving.load_checkpoint(path)
                values = sorted({float(v) for w in ckpt.model.get_weights() for v in np.unique(w)})
                report(epoch=ckpt.epoch, values=values)
            except Exception as error:
                report(error=f"{type(error).__name__}: {error}")
""")


def _start(tmp_path, role, path, ident):
    args = [sys.executable, str(tmp_path / "child.py"), role, str(path), str(ident), str(tmp_path / "sync")]
    return subprocess.Popen(args + [str(SAVES)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_writers_and_a_reader_always_see_one_whole_save(tmp_path):
    path = tmp_path / "ckpt"
    (tmp_path / "child.py").write_text(CHILD)
    (tmp_path / "sync").mkdir()
    first = models.Sequential([layers.Input((64,)), layers.Dense(128), layers.Dense(10)])
    first.set_weights([np.zeros_like(w) for w in first.get_weights()])
    first.compile(optimizer="sgd", loss="mse")
    saving.save_checkpoint(first, path, epoch=0)  # the reader always finds a save
    children = [_start(tmp_path, "writer", path, 1), _start(tmp_path, "writer", path, 2),
                _start(tmp_path, "reader", path, 0)]
    deadline = time.monotonic() + 60
    while len(os.listdir(tmp_path / "sync")) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    (tmp_path / "sync" / "go").touch()
    outputs = [child.communicate(timeout=120) for child in children]
    assert [child.returncode for child in children] == [0, 0, 0], [err[-2000:] for _, err in outputs]
    writes = [json.loads(line) for out, _ in outputs[:2] for line in out.splitlines()]
    loads = [json.loads(line) for line in outputs[2][0].splitlines()]

    errors = [entry["error"] for entry in writes + loads if "error" in entry]
    assert not errors, f"{len(errors)} saves or loads failed, e.g. {errors[:3]}"
    saved = {entry["saved"] for entry in writes}
    assert saved == {i * 1000 + k for i in (1, 2) for k in range(1, SAVES + 1)}
    for entry in loads:
        assert len(entry["values"]) == 1, f"a load mixed saves: weights {entry['values'][:5]}"
        assert entry["values"][0] == entry["epoch"], f"model.h5 of save {entry['values'][0]}, model.json of " \
                                                     f"save {entry['epoch']}"
        assert entry["epoch"] in saved | {0}
    assert len(loads) >= 5
    final = saving.load_checkpoint(path)
    assert final.epoch in {1000 + SAVES, 2000 + SAVES}  # the last save to swap in wins, whole
    assert sorted(os.listdir(tmp_path)) == ["child.py", "ckpt", "sync"]  # no lock, backup or temporary left


def test_writer_lock_excludes_a_second_holder_and_leaves_no_file(tmp_path):
    """In one process too: a second open of the lock file cannot lock it while the first holds it."""
    import fcntl

    from neurona.saving import atomic

    with atomic.writer_lock(str(tmp_path), "m"):
        fd = os.open(tmp_path / ".m.lock", os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)
    assert os.listdir(tmp_path) == []


def test_a_reader_always_finds_the_published_folder_while_writers_swap(tmp_path):
    # the swap renames target -> backup, tmp -> target, then deletes the backup: a reader that looked at the target
    # (gone) and then at the backup (already deleted) used to conclude "no saved model" in the middle of a save
    import threading

    from neurona.saving import atomic

    target = tmp_path / "m"
    target.mkdir()
    stop = threading.Event()

    def swap_forever():
        while not stop.is_set():
            with atomic.writer_lock(str(tmp_path), "m"):
                tmp = tmp_path / ".m.tmp-new"
                tmp.mkdir()
                atomic._swap_in(str(tmp), str(target))

    writer = threading.Thread(target=swap_forever)
    writer.start()
    try:
        misses = sum(atomic._identity(str(target)) is None for _ in range(20000))
    finally:
        stop.set()
        writer.join()
    assert misses == 0
