"""Atomic writes: a save killed at any point (a real SIGKILL of a child process) leaves a complete, loadable save."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from neurona import layers, models
from neurona.saving import atomic

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL and fsync of folders are POSIX")

# A child that saves version k (every weight equal to k) to PATH for k = START, START + 1, ...; after each complete
# save it prints k. KILL_AT names a point inside the save where it SIGKILLs itself instead of going on ("once":
# save once and exit normally).
CHILD = textwrap.dedent("""
    import os, shutil, signal, sys
    import numpy as np
    from neurona import layers, models, saving
    from neurona.saving import atomic, weights_h5

    path, start, kill_at = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    die = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)
    if kill_at == "mid_h5":  # after the first dataset of model.h5 is written
        original = weights_h5._create
        def create(group, name, array):
            original(group, name, array)
            die()
        weights_h5._create = create
    elif kill_at == "between_renames":  # the target has moved to its backup, the new folder is not in place yet
        renames = []
        real_rename = os.rename
        def rename(src, dst):
            renames.append(dst)
            if len(renames) == 2:
                die()
            real_rename(src, dst)
        atomic.os.rename = rename
    elif kill_at == "cleanup":  # the new folder is in place, the backup not yet deleted
        real_rmtree = shutil.rmtree
        atomic.shutil.rmtree = lambda p, *a, **k: die() if p.endswith(".previous") else real_rmtree(p, *a, **k)
    model = models.Sequential([layers.Input((256,)), layers.Dense(512), layers.Dense(512), layers.Dense(10)])
    model.compile(optimizer="adam", loss="mse")
    k = start
    while True:
        model.set_weights([np.full(w.shape, k, dtype=w.dtype) for w in model.get_weights()])
        saving.save_checkpoint(model, path, epoch=k)
        print(k, flush=True)
        if kill_at == "once":
            break
        k += 1
""")


def _child(tmp_path, target, start, kill_at="none"):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    return subprocess.Popen([sys.executable, str(script), str(target), str(start), kill_at],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _version(target):
    """The version a (possibly recovered) save holds; it must be complete and consistent."""
    model = models.load_model(target)
    values = {float(v) for w in model.get_weights() for v in np.unique(w)}
    assert len(values) == 1, f"a mix of saves: {sorted(values)[:5]}"
    return int(values.pop())


def _leftovers(target):
    parent, name = os.path.split(str(target))
    return sorted(e for e in os.listdir(parent) if e.startswith(f".{name}."))


def test_sigkill_at_random_moments_always_leaves_a_complete_save(tmp_path):
    target = tmp_path / "ckpt"
    rng = np.random.default_rng(0)
    last, mid_write = 0, 0
    for _ in range(6):
        child = _child(tmp_path, target, last + 1)
        first = child.stdout.readline()  # one complete save; later ones are in progress when the kill comes
        assert first.strip() == str(last + 1), child.stderr.read()
        time.sleep(rng.uniform(0.0, 0.08))
        child.send_signal(signal.SIGKILL)
        out, _ = child.communicate()
        printed = [int(line) for line in [first, *out.split()] if line.strip()]
        mid_write += bool(_leftovers(target))
        version = _version(target)
        # the newest completed save, or one that completed just before its print was killed
        assert printed[-1] <= version <= printed[-1] + 1
        last = version
    print(f"{mid_write} of 6 kills landed inside a save")
    assert mid_write >= 1, "no kill landed inside a save: the test did not exercise what it claims"
    assert models.load_model(target) is not None


@pytest.mark.parametrize("kill_at, survivor", [("mid_h5", "old"), ("between_renames", "old"), ("cleanup", "new")])
def test_sigkill_at_each_step_of_the_swap(tmp_path, kill_at, survivor):
    target = tmp_path / "ckpt"
    first = _child(tmp_path, target, 1, "once")
    assert first.wait(timeout=60) == 0 and _leftovers(target) == []
    assert _version(target) == 1
    child = _child(tmp_path, target, 2, kill_at)
    assert child.wait(timeout=60) == -signal.SIGKILL
    assert _leftovers(target), "the kill left no trace: it did not happen inside the save"
    if kill_at == "between_renames":
        assert not target.exists()  # only the backup holds the previous save; readers find it there
    assert _version(target) == (1 if survivor == "old" else 2)
    # the next save recovers: it puts the backup back or deletes it, removes the dead writer's temporary folder
    model = models.load_model(target)
    model.save(target)
    assert _leftovers(target) == [] and _version(target) == (1 if survivor == "old" else 2)


def test_atomic_file_keeps_the_old_file_when_the_writer_fails(tmp_path):
    path = tmp_path / "data.bin"
    atomic.write_bytes(path, b"old")
    with pytest.raises(RuntimeError):
        with atomic.atomic_file(path) as tmp:
            with open(tmp, "wb") as f:
                f.write(b"half of the n")
            raise RuntimeError("writer failed")
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["data.bin"]


def test_atomic_folder_keeps_the_old_folder_when_the_writer_fails(tmp_path):
    model = models.Sequential([layers.Input((3,)), layers.Dense(2)])
    model.save(tmp_path / "m")
    before = (tmp_path / "m" / "model.h5").read_bytes()
    with pytest.raises(RuntimeError):
        with atomic.atomic_folder(tmp_path / "m") as tmp:
            (open(os.path.join(tmp, "model.h5"), "wb")).close()
            raise RuntimeError("writer failed")
    assert (tmp_path / "m" / "model.h5").read_bytes() == before and _leftovers(tmp_path / "m") == []


def test_orphans_of_live_writers_are_kept(tmp_path):
    live = tmp_path / f".m{atomic.TMP_TAG}{os.getppid()}-abc"  # a running process (the parent) owns it
    live.mkdir()
    models.Sequential([layers.Input((3,)), layers.Dense(2)]).save(tmp_path / "m")
    assert live.exists()
