"""Weights files whose data could come from other files are refused (issue 10, item 7).

HDF5 lets a dataset keep its bytes in another file (external storage, e.g.
``external=[("/etc/passwd", 0, 12)]``), map them from other files (a virtual
dataset), or be a link (soft, external) to data elsewhere. The SHA-256 in
model.json covers model.h5 only, so any of these would load the bytes of an
arbitrary local file into the weights. Each is built here with h5py, in every
reader (load_model, load_weights of a bare file, load_checkpoint, optimizer
slots), and must be refused with a FileFormatError naming the dataset, before
any weight changes.
"""

import hashlib
import json

import h5py
import numpy as np
import pytest

from neurona import layers, models, saving

SECRET = np.array([7.0, 7.0, 7.0], dtype=np.float32)  # what the attacker's "local file" holds


def _model():
    model = models.Sequential([layers.Input((4,)), layers.Dense(3, name="hidden"), layers.Dense(2, name="out")],
                              name="net")
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(0)
    model.train_step(rng.normal(size=(8, 4)).astype(np.float32), rng.normal(size=(8, 2)).astype(np.float32))
    return model


def _other_file(tmp_path):
    """A second HDF5 file and a raw file holding SECRET."""
    (tmp_path / "secret.bin").write_bytes(SECRET.tobytes())
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f.create_dataset("bias", data=SECRET)
    return tmp_path / "secret.bin", tmp_path / "other.h5"


def _tamper(h5_path, name, attack, tmp_path):
    """Replace the dataset ``name`` (shape (3,), float32) of ``h5_path`` by one whose data lies elsewhere."""
    secret, other = _other_file(tmp_path)
    with h5py.File(h5_path, "a") as f:
        shape, dtype = f[name].shape, f[name].dtype
        assert shape == (3,) and dtype == np.float32
        del f[name]
        if attack == "external_storage":
            f.create_dataset(name, shape=shape, dtype=dtype, external=[(str(secret), 0, SECRET.nbytes)])
        elif attack == "external_link":
            f[name] = h5py.ExternalLink(str(other), "/bias")
        elif attack == "soft_link":
            f.create_dataset("stash", data=SECRET)
            f[name] = h5py.SoftLink("/stash")
        else:
            layout = h5py.VirtualLayout(shape=shape, dtype=dtype)
            layout[:] = h5py.VirtualSource(str(other), "bias", shape=shape)
            f.create_virtual_dataset(name, layout)


def _rehash(folder):
    """Update model.json's SHA-256 to the tampered model.h5 (the attack the hash does not catch)."""
    doc = json.loads((folder / "model.json").read_text())
    doc["weights"]["sha256"] = hashlib.sha256((folder / "model.h5").read_bytes()).hexdigest()
    (folder / "model.json").write_text(json.dumps(doc))


ATTACKS = ["external_storage", "external_link", "soft_link", "virtual"]
MESSAGES = {"external_storage": "a dataset with external storage", "external_link": "an external link",
            "soft_link": "a soft link", "virtual": "a virtual dataset"}


@pytest.mark.parametrize("attack", ATTACKS)
def test_load_weights_of_a_bare_file_refuses_data_from_elsewhere(tmp_path, attack):
    source = _model()
    path = tmp_path / "w.h5"
    source.save_weights(path)
    _tamper(path, "weights/hidden/bias", attack, tmp_path)
    target = models.Sequential([layers.Input((4,)), layers.Dense(3), layers.Dense(2)])
    before = target.get_weights()
    with pytest.raises(saving.FileFormatError, match=rf"w\.h5'.*'weights/hidden/bias' is {MESSAGES[attack]}.*refused"):
        target.load_weights(path)
    assert all(np.array_equal(a, b) for a, b in zip(before, target.get_weights()))


@pytest.mark.parametrize("attack", ATTACKS)
def test_load_model_refuses_data_from_elsewhere_even_with_a_matching_sha256(tmp_path, attack):
    _model().save(tmp_path / "m")
    _tamper(tmp_path / "m" / "model.h5", "weights/hidden/bias", attack, tmp_path)
    _rehash(tmp_path / "m")
    with pytest.raises(saving.FileFormatError, match=rf"model\.h5'.*'weights/hidden/bias' is {MESSAGES[attack]}"):
        models.load_model(tmp_path / "m")


def test_load_checkpoint_refuses_external_storage(tmp_path):
    saving.save_checkpoint(_model(), tmp_path / "ckpt", epoch=1)
    _tamper(tmp_path / "ckpt" / "model.h5", "weights/hidden/bias", "external_storage", tmp_path)
    _rehash(tmp_path / "ckpt")
    with pytest.raises(saving.FileFormatError, match=r"'weights/hidden/bias' is a dataset with external storage"):
        saving.load_checkpoint(tmp_path / "ckpt")


@pytest.mark.parametrize("attack", ["external_storage", "virtual"])
def test_optimizer_slots_from_elsewhere_are_refused(tmp_path, attack):
    _model().save(tmp_path / "m")
    _tamper(tmp_path / "m" / "model.h5", "optimizer/hidden/bias/momentum", attack, tmp_path)
    _rehash(tmp_path / "m")
    with pytest.raises(saving.FileFormatError, match=rf"'optimizer/hidden/bias/momentum' is {MESSAGES[attack]}"):
        models.load_model(tmp_path / "m")
    # compile=False reads no slots, but the file as a whole is still refused
    with pytest.raises(saving.FileFormatError, match="optimizer/hidden/bias/momentum"):
        models.load_model(tmp_path / "m", compile=False)


def test_a_plugin_filter_is_refused(tmp_path):
    model = _model()
    path = tmp_path / "w.h5"
    model.save_weights(path)
    with h5py.File(path, "a") as f:
        data = f["weights/hidden/bias"][()]
        del f["weights/hidden/bias"]
        # filter 32001 (Blosc) is a plugin: reading it would load a shared library named by the file
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_chunk((3,))
        dcpl.set_filter(32001, h5py.h5z.FLAG_OPTIONAL)
        space = h5py.h5s.create_simple((3,))
        h5py.h5d.create(f["weights/hidden"].id, b"bias", h5py.h5t.IEEE_F32LE, space, dcpl=dcpl).write(
            h5py.h5s.ALL, h5py.h5s.ALL, data)
    with pytest.raises(saving.FileFormatError, match=r"'weights/hidden/bias' is a dataset using HDF5 filter 32001"):
        model.load_weights(path)


def test_plain_files_still_load(tmp_path):
    """Control: the checks refuse nothing that Neurona writes (fletcher32-filtered, scalar and empty datasets)."""
    model = _model()
    model.save(tmp_path / "m")
    loaded = models.load_model(tmp_path / "m")
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), loaded.get_weights()))
