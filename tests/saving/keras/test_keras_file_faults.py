"""A fault and bad-input matrix for Keras's own files read and written by Neurona (issue 14).

Real Keras (3.15.1, on the numpy backend this directory's conftest selects) writes one good file of each
form for a two-Dense Sequential model ``s`` (layers ``d1`` 4->3 and ``d2`` 3->2); each case damages one file
the way a truncated download, a tampered archive or a hostile author would, and checks that Neurona refuses it
with ``FileFormatError`` (a ``ValueError``) whose message names the file (and member) and what is wrong, that
a failed ``load_weights`` leaves the model's weights as they were, and that nothing from the file runs.

The forms, as Keras 3.15.1 writes them (``saving_lib.py``, ``legacy_h5_format.py``):

- ``m.keras``: a zip of ``metadata.json``, ``config.json`` and ``model.weights.h5`` (Keras 3's HDF5 layout,
  ``layers/dense/vars/0``, ``layers/dense_1/vars/0``, ...), read by ``load_model`` and ``load_weights``;
- ``m.h5``: the legacy whole-model file of ``keras.saving.save_model(model, "m.h5")``: root attribute
  ``model_config`` (the JSON) and ``model_weights/<layer>/<weight name>`` (``model_weights/d1/s/d1/kernel``);
- ``w.weights.h5``: Keras 3's ``save_weights`` file (Keras 3's layout at the root; ``load_weights`` only);
- ``folder/``: ``model.to_json()`` as ``model.json`` beside a legacy ``model.h5`` (the deployment article);
- the JSON text itself, for ``models.model_from_json``.

Members that inflate past the size they declare (with either CRC) and flipped bytes are refused as
FileFormatError (zipfile alone stops inflating at the declared size and raises BadZipFile on a bad CRC), and
the refusals of ``save("m.keras")`` name the file and the reason.
"""

import io
import os
import re
import shutil
import struct
import warnings
import zipfile
from types import SimpleNamespace

import h5py
import numpy as np
import pytest

from neurona import activations, layers, models
from neurona.saving.errors import FileFormatError

os.environ.setdefault("KERAS_BACKEND", "numpy")  # the conftest's choice; set before Keras is imported
keras = pytest.importorskip("keras")


# ---- the good files, written once by real Keras ---------------------------------------------------------------
def _keras_model(middle=None, last=None):
    """Keras's ``s``: Input(4) -> d1 (Dense 3) [-> middle] -> d2 (Dense 2, or ``last``), with seeded weights."""
    stack = [keras.Input((4,)), keras.layers.Dense(3, name="d1")]
    stack += [middle] if middle is not None else []
    stack += [last if last is not None else keras.layers.Dense(2, name="d2")]
    model = keras.Sequential(stack, name="s")
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(size=w.shape).astype("float32") for w in model.get_weights()])
    return model


def _marker_lambda(marker):
    """A Lambda whose function creates ``marker`` when it runs. A lambda expression, which Keras saves as base64
    bytecode, with the path a constant of its code (Keras 3.15 cannot reload a function's saved defaults)."""
    return keras.layers.Lambda(eval(f"lambda x: (open({str(marker)!r}, 'w').close(), x)[1]"), name="lam")


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """Keras's good files under ``files/``, its archive's members, and the JSON of models Neurona must refuse."""
    root = tmp_path_factory.mktemp("keras_faults")
    files = root / "files"
    (files / "folder").mkdir(parents=True)
    model = _keras_model()
    model.save(str(files / "m.keras"))
    model.save_weights(str(files / "w.weights.h5"))
    keras.saving.save_model(model, str(files / "m.h5"))
    (files / "folder" / "model.json").write_text(model.to_json())
    keras.saving.save_model(model, str(files / "folder" / "model.h5"))
    marker = root / "lambda_ran"
    lam = _keras_model(middle=_marker_lambda(marker))  # Keras runs the function once, to trace it
    lam.save(str(root / "lambda.keras"))
    marker.unlink()
    configs = {
        "lambda": lam.to_json(),
        "unknown_class": _keras_model(middle=keras.layers.Discretization(bin_boundaries=[0.0], name="bins")).to_json(),
        "option_value": _keras_model(middle=keras.layers.Flatten(data_format="channels_first", name="flat")).to_json(),
    }
    with zipfile.ZipFile(files / "m.keras") as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    return SimpleNamespace(root=root, files=files, marker=marker, configs=configs, members=members)


@pytest.fixture
def work(good, tmp_path):
    """A private copy of the good files, for one case to damage."""
    return shutil.copytree(good.files, tmp_path / "files")


# ---- helpers --------------------------------------------------------------------------------------------------
def _neurona_model():
    """A Neurona model of the files' architecture, with weights of its own (not the files')."""
    return models.Sequential([layers.Input((4,)), layers.Dense(3, name="d1"), layers.Dense(2, name="d2")], name="s")


def _refused(call, names, wrong, error=FileFormatError):
    """Run ``call``: it must raise ``error`` with a message holding every string of ``names`` (the file, the
    member) and matching the regex ``wrong`` (what is wrong)."""
    with pytest.raises(error) as caught:
        call()
    message = str(caught.value)
    for name in names:
        assert name in message, f"{name!r} not named in: {message}"
    assert re.search(wrong, message), f"{wrong!r} not said in: {message}"


def _refused_by(how, path, names, wrong):
    """``load_model(path)`` (``how="model"``) or ``model.load_weights(path)`` must be refused; a failed
    ``load_weights`` must leave every weight as it was."""
    if how == "model":
        _refused(lambda: models.load_model(str(path)), names, wrong)
        return
    model = _neurona_model()
    before = [w.copy() for w in model.get_weights()]
    _refused(lambda: model.load_weights(str(path)), names, wrong)
    for old, new in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)


def _zip(path, members, compression=zipfile.ZIP_STORED):
    """Write the zip ``path`` of ``[(name, bytes)]`` in that order (a name may repeat)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns of a duplicate name: that is the point
        with zipfile.ZipFile(path, "w", compression=compression) as archive:
            for name, data in members:
                archive.writestr(name, data)


def _archive(good, path, replace=None, drop=(), extra=()):
    """Write ``path`` as the good archive with members replaced, dropped or added."""
    replace = replace or {}
    _zip(path, [(name, replace.get(name, data)) for name, data in good.members.items() if name not in drop]
         + list(extra))


def _understate(path, name, declared, crc_of_prefix):
    """Make member ``name`` of the zip ``path`` declare ``declared`` bytes in both its local header and its
    central directory entry (a zip bomb declares little and inflates to much). The CRC written is that of the
    whole data, or of its first ``declared`` bytes (which a reader stopping there then finds correct)."""
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(raw))) as archive:
        info, data = archive.getinfo(name), archive.read(name)
    crc = zipfile.crc32(data[:declared]) if crc_of_prefix else info.CRC
    struct.pack_into("<I", raw, info.header_offset + 14, crc)  # local header: CRC at 14, uncompressed size at 22
    struct.pack_into("<I", raw, info.header_offset + 22, declared)
    start = raw.find(b"PK\x01\x02")
    while start >= 0:  # central directory entries: CRC at 16, uncompressed size at 24, name at 46
        length = struct.unpack_from("<H", raw, start + 28)[0]
        if raw[start + 46:start + 46 + length] == name.encode():
            struct.pack_into("<I", raw, start + 16, crc)
            struct.pack_into("<I", raw, start + 24, declared)
        start = raw.find(b"PK\x01\x02", start + 4)
    path.write_bytes(bytes(raw))


# ---- bytes: truncated, random, empty, for every form and reader -----------------------------------------------
CARRIERS = {  # case: (file damaged, path given, reader)
    "keras-load_model": ("m.keras", "m.keras", "model"),
    "keras-load_weights": ("m.keras", "m.keras", "weights"),
    "h5-load_model": ("m.h5", "m.h5", "model"),
    "h5-load_weights": ("m.h5", "m.h5", "weights"),
    "weights.h5-load_weights": ("w.weights.h5", "w.weights.h5", "weights"),
    "folder_json-load_model": ("folder/model.json", "folder", "model"),
    "folder_h5-load_model": ("folder/model.h5", "folder", "model"),
    "folder_h5-load_weights": ("folder/model.h5", "folder", "weights"),
}
DAMAGES = {
    "truncated": lambda data: data[:len(data) // 2],
    "random_bytes": lambda data: np.random.default_rng(1).bytes(len(data)),
    "empty": lambda data: b"",
}
SAID = {"m.keras": r"not a \.keras archive", "model.json": r"not valid JSON|not UTF-8"}  # else HDF5's


@pytest.mark.parametrize("damage", DAMAGES)
@pytest.mark.parametrize("carrier", CARRIERS)
def test_damaged_bytes_are_refused(work, carrier, damage):
    damaged, given, how = CARRIERS[carrier]
    target = work / damaged
    target.write_bytes(DAMAGES[damage](target.read_bytes()))
    _refused_by(how, work / given, [str(target)], SAID.get(target.name, r"not a readable HDF5"))


# ---- zip members of a .keras archive --------------------------------------------------------------------------
def _npz():
    buffer = io.BytesIO()
    np.savez(buffer, **{f"arr_{i}": np.zeros(3, "float32") for i in range(4)})
    return buffer.getvalue()


def _added(name, data=b"x"):
    return lambda good, path: _archive(good, path, extra=[(name, data)])


def _without(*names, extra=()):
    return lambda good, path: _archive(good, path, drop=names, extra=extra)


def _inflating(member, crc_of_prefix):
    """The good archive, deflated, whose ``member`` inflates to 1 MB of NULs past the good data it declares."""
    def make(good, path):
        data = good.members[member]
        _zip(path, [(name, value + b"\0" * 1_000_000 if name == member else value)
                    for name, value in good.members.items()], zipfile.ZIP_DEFLATED)
        _understate(path, member, len(data), crc_of_prefix)
    return make


def _flipped(member):
    """The good (stored) archive with one byte of ``member``'s data changed: its CRC no longer matches."""
    def make(good, path):
        _archive(good, path)
        raw = bytearray(path.read_bytes())
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo(member)
        local_name, local_extra = struct.unpack_from("<HH", raw, info.header_offset + 26)
        raw[info.header_offset + 30 + local_name + local_extra + 10] ^= 0x20
        path.write_bytes(bytes(raw))
    return make


ZIP_FAULTS = {  # case: (make the archive, member named, what is said)
    "dotdot_member": (_added("../evil"), "../evil", r"climbs out"),
    "absolute_member": (_added("/abs"), "/abs", r"absolute path"),
    "duplicated_config": (lambda good, path: _added("config.json", good.members["config.json"])(good, path),
                          "config.json", r"appears twice"),
    "no_config": (_without("config.json"), "config.json", r"has no"),
    "no_weights": (_without("model.weights.h5"), "model.weights.h5", r"has no"),
    "npz_weights_only": (_without("model.weights.h5", extra=[("model.weights.npz", _npz())]), "model.weights.npz",
                         r"npz form"),
}
ZIP_FAULTS.update({
    "config_inflates_past_its_size": (_inflating("config.json", False), "config.json", r"decompresses to more"),
    "weights_inflate_past_their_size": (_inflating("model.weights.h5", False), "model.weights.h5",
                                        r"decompresses to more"),
    "config_inflates_past_its_size_prefix_crc": (_inflating("config.json", True), "config.json",
                                                 r"decompresses to more"),
    "weights_inflate_past_their_size_prefix_crc": (_inflating("model.weights.h5", True), "model.weights.h5",
                                                   r"decompresses to more"),
    "config_byte_flipped": (_flipped("config.json"), "config.json", r"corrupt|CRC"),
})


@pytest.mark.parametrize("how", ["model", "weights"])
@pytest.mark.parametrize("fault", list(ZIP_FAULTS))
def test_archive_members_are_checked(good, tmp_path, fault, how):
    make, member, wrong = ZIP_FAULTS[fault]
    path = tmp_path / "m.keras"
    make(good, path)
    _refused_by(how, path, [str(path), member], wrong)


# ---- config: not JSON, not UTF-8, deep, code, unknown class, unsupported option ----------------------------------
def _configs(good):
    """``{fault: (JSON bytes, what is said)}``."""
    deep = ('{"module": "keras", "class_name": "Sequential", "config": {"name": "s", "layers": ['
            + "[" * 10_000 + "]" * 10_000 + "]}}")
    return {
        "not_json": (b'{"module": "keras", "class_name": "Seq', r"not valid JSON"),
        "not_utf8": (b'{"class_name": "\xff\xfe"}', r"not UTF-8"),
        "nested_10000_deep": (deep.encode(), r"nested too deeply"),
        "lambda": (good.configs["lambda"].encode(), r"'lam' \(Lambda\).*never runs"),
        "unknown_class": (good.configs["unknown_class"].encode(), r"'bins'.*no 'Discretization' layer"),
        "option_value": (good.configs["option_value"].encode(), r"'flat'.*'data_format' is 'channels_first'"),
    }


def _config_in(carrier, work, good, data):
    """``(call, names)``: the reader of ``data`` put where ``carrier`` keeps a model's JSON."""
    if carrier == "keras_config.json":
        path = work / "m.keras"
        _archive(good, path, replace={"config.json": data})
        return (lambda: models.load_model(str(path))), [str(path), "config.json"]
    if carrier == "h5_model_config":
        path = work / "m.h5"
        with h5py.File(path, "r+") as h5:
            h5.attrs["model_config"] = np.bytes_(data)
        return (lambda: models.load_model(str(path))), [str(path), "model_config"]
    if carrier == "folder_model.json":
        (work / "folder" / "model.json").write_bytes(data)
        return (lambda: models.load_model(str(work / "folder"))), [str(work / "folder" / "model.json")]
    return (lambda: models.model_from_json(data)), ["JSON"]


@pytest.mark.parametrize("carrier", ["keras_config.json", "h5_model_config", "folder_model.json", "model_from_json"])
@pytest.mark.parametrize("fault", ["not_json", "not_utf8", "nested_10000_deep", "lambda", "unknown_class",
                                   "option_value"])
def test_bad_configs_are_refused_and_never_run(good, work, carrier, fault):
    data, wrong = _configs(good)[fault]
    call, names = _config_in(carrier, work, good, data)
    good.marker.unlink(missing_ok=True)
    _refused(call, names, wrong)
    assert not good.marker.exists(), "the Lambda's bytecode ran"


def test_the_lambda_bytecode_is_live_so_its_refusal_proves_something(good):
    """Control: Keras itself, told to trust the file (safe_mode=False), runs the Lambda: the marker appears."""
    good.marker.unlink(missing_ok=True)
    model = keras.models.load_model(str(good.root / "lambda.keras"), safe_mode=False)
    model.predict(np.zeros((1, 4), "float32"), verbose=0)
    assert good.marker.exists()
    good.marker.unlink()


# ---- HDF5 weights: links, external storage, strings, shapes, missing layers ---------------------------------
def _kernel(h5, shape):
    """The path of the one dataset of ``shape``: ``(4, 3)`` is d1's kernel, ``(3, 2)`` d2's, in every layout.
    The faults hit d2, the last layer, so that a loader assigning layer by layer would have changed d1."""
    found = []
    h5.visititems(lambda name, obj: found.append(name) if isinstance(obj, h5py.Dataset) and obj.shape == shape
                  else None)
    (path,) = found
    return path


def _replace(h5, path, **dataset):
    del h5[path]
    h5.create_dataset(path, **dataset)


def _external_link(h5, tmp):
    with h5py.File(tmp / "other.h5", "w") as other:
        other["x"] = np.zeros((3, 2), "float32")
    h5["evil"] = h5py.ExternalLink(str(tmp / "other.h5"), "/x")


def _external_storage(h5, tmp):
    raw = tmp / "outside.bin"
    raw.write_bytes(np.ones((3, 2), "float32").tobytes())
    _replace(h5, _kernel(h5, (3, 2)), shape=(3, 2), dtype="float32", external=[(str(raw), 0, raw.stat().st_size)])


def _missing_layer(h5, tmp):
    """Delete d2's group: ``layers/dense_1`` (Keras 3's layout) or ``model_weights/d2`` (legacy)."""
    path = _kernel(h5, (3, 2))
    del h5[path.split("/vars/")[0] if "/vars/" in path else "/".join(path.split("/")[:2])]


H5_FAULTS = {  # case: (edit the open file, what is said)
    "external_link": (_external_link, r"'evil' is an external link"),
    "soft_link": (lambda h5, tmp: h5.__setitem__("alias", h5py.SoftLink("/" + _kernel(h5, (3, 2)))),
                  r"'alias' is a soft link"),
    "external_storage": (_external_storage, r"external storage.*outside\.bin"),
    "string_dataset": (lambda h5, tmp: _replace(h5, _kernel(h5, (3, 2)), data=np.full((3, 2), "a", dtype=object),
                                                dtype=h5py.string_dtype()), r"must be a numeric array"),
    "wrong_shape": (lambda h5, tmp: _replace(h5, _kernel(h5, (3, 2)), data=np.zeros((4, 2), "float32")),
                    r"'d2'.*shape \(4, 2\).*expects \(3, 2\)"),
    "missing_layer_group": (_missing_layer, r"not in the file: .*'d2'|lists 'd2'.*no such member"),
}


def _edit_weights(target, edit, tmp):
    """Apply ``edit(h5, tmp)`` to the HDF5 file ``target``, or to the weights member of the archive ``target``;
    returns the names a message must give."""
    if target.suffix != ".keras":
        with h5py.File(target, "r+") as h5:
            edit(h5, tmp)
        return [str(target)]
    with zipfile.ZipFile(target) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    inner = tmp / "member.weights.h5"
    inner.write_bytes(members["model.weights.h5"])
    with h5py.File(inner, "r+") as h5:
        edit(h5, tmp)
    members["model.weights.h5"] = inner.read_bytes()
    _zip(target, list(members.items()))
    return [str(target), "model.weights.h5"]


@pytest.mark.parametrize("fault", H5_FAULTS)
@pytest.mark.parametrize("carrier", [name for name, case in CARRIERS.items() if case[0] != "folder/model.json"])
def test_hdf5_weights_faults_are_refused(work, tmp_path, carrier, fault):
    damaged, given, how = CARRIERS[carrier]
    edit, wrong = H5_FAULTS[fault]
    names = _edit_weights(work / damaged, edit, tmp_path)
    _refused_by(how, work / given, names, wrong)


# ---- a form missing its other half ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["m.h5", "w.weights.h5"])
def test_h5_without_model_config_is_not_a_whole_model(work, name):
    path = work / name
    with h5py.File(path, "r+") as h5:
        if "model_config" in h5.attrs:
            del h5.attrs["model_config"]
    _refused(lambda: models.load_model(str(path)), [str(path)], r"no 'model_config' attribute.*load_weights")


def test_keras_model_json_without_model_h5(work):
    (work / "folder" / "model.h5").unlink()
    _refused(lambda: models.load_model(str(work / "folder")), [str(work / "folder"), "model.h5"], r"is missing")


# ---- writing: what Keras cannot describe, overwrite=False, bad arguments ----------------------------------------
UNDESCRIBABLE = {  # case: (make the model, what is said)
    "instance_norm": (lambda: models.Sequential([layers.Input((5, 4)), layers.InstanceNormalization(name="inorm"),
                                                 layers.Flatten(), layers.Dense(2)]),
                      r"'inorm' \(InstanceNormalization\).*Keras has no InstanceNormalization"),
    "lambda_of_a_closure": (lambda: models.Sequential([layers.Input((4,)), layers.Lambda(lambda x: x * 2, name="twice"),
                                                       layers.Dense(2)]),
                            r"'twice' \(Lambda\).*cannot be saved without its code"),
    "lambda_of_a_neurona_function": (lambda: models.Sequential([layers.Input((4,)),
                                                                layers.Lambda(activations.relu, name="rectify"),
                                                                layers.Dense(2)]),
                                     r"'rectify' \(Lambda\)"),
}
SENTINEL = b"an earlier save that must survive"


@pytest.mark.parametrize("name", ["m.keras", "m.h5"])
@pytest.mark.parametrize("layer", UNDESCRIBABLE)
def test_save_of_what_keras_cannot_describe_writes_nothing(tmp_path, layer, name):
    make, wrong = UNDESCRIBABLE[layer]
    model = make()
    existing, fresh = tmp_path / name, tmp_path / f"fresh_{name}"
    existing.write_bytes(SENTINEL)
    _refused(lambda: model.save(str(existing)), [], wrong, error=ValueError)
    _refused(lambda: model.save(str(fresh)), [], wrong, error=ValueError)
    assert existing.read_bytes() == SENTINEL
    assert sorted(os.listdir(tmp_path)) == [name], "a temporary or half-written file was left"
    _refused(lambda: model.to_json(format="keras"), [], wrong, error=ValueError)


SAVE_MESSAGES = {  # case: what the message says beside the file's name
    "instance_norm": r"InstanceNormalization",
    "lambda_of_a_closure": r"Lambda",
    "lambda_of_a_neurona_function": r"Lambda.*(code|bytecode|function)",
}


@pytest.mark.parametrize("layer", list(SAVE_MESSAGES))
def test_save_refusal_names_the_file_and_the_reason(tmp_path, layer):
    model = UNDESCRIBABLE[layer][0]()
    path = tmp_path / "m.keras"
    _refused(lambda: model.save(str(path)), [str(path)], SAVE_MESSAGES[layer], error=ValueError)


@pytest.mark.parametrize("name", ["m.keras", "m.h5", "w.weights.h5"])
def test_overwrite_false_keeps_the_existing_file(tmp_path, name):
    path, model = tmp_path / name, _neurona_model()
    path.write_bytes(SENTINEL)
    save = model.save_weights if name.endswith(".weights.h5") else model.save
    kwargs = {"format": "keras"} if name.endswith(".weights.h5") else {}
    _refused(lambda: save(str(path), overwrite=False, **kwargs), [str(path)], r"exists and overwrite=False",
             error=FileExistsError)
    assert path.read_bytes() == SENTINEL and sorted(os.listdir(tmp_path)) == [name]


BAD_ARGUMENTS = {  # case: (call on a Neurona model and a folder, exception, what is said)
    "save_weights_format": (lambda m, d: m.save_weights(str(d / "w.weights.h5"), format="hdf5"), ValueError,
                            r"format must be 'neurona' or 'keras', got 'hdf5'"),
    "save_weights_suffix": (lambda m, d: m.save_weights(str(d / "w.bin"), format="keras"), ValueError,
                            r"w\.bin' must end in '\.weights\.h5'"),
    "to_json_format": (lambda m, d: m.to_json(format="yaml"), ValueError, r"format must be .*got 'yaml'"),
    "load_model_path": (lambda m, d: models.load_model(42), TypeError, r"load_model.*got 42"),
    "model_from_json_text": (lambda m, d: models.model_from_json(42), TypeError, r"model_from_json.*got 42"),
    "load_weights_path": (lambda m, d: m.load_weights(42), TypeError, r"load_weights.*got 42"),
}


@pytest.mark.parametrize("case", BAD_ARGUMENTS)
def test_bad_arguments(tmp_path, case):
    call, error, wrong = BAD_ARGUMENTS[case]
    model = _neurona_model()
    _refused(lambda: call(model, tmp_path), [], wrong, error=error)
    assert os.listdir(tmp_path) == []


def test_the_good_files_load(good, work):
    """The matrix's baseline: every undamaged form loads and predicts as Keras does."""
    x = np.random.default_rng(2).normal(size=(3, 4)).astype("float32")
    expected = keras.models.load_model(str(good.files / "m.keras")).predict(x, verbose=0)
    for given in ("m.keras", "m.h5", "folder"):
        np.testing.assert_allclose(models.load_model(str(work / given)).predict(x), expected, atol=1e-6)
    for given in ("m.keras", "m.h5", "w.weights.h5", "folder"):
        model = _neurona_model()
        model.load_weights(str(work / given))
        np.testing.assert_allclose(model.predict(x), expected, atol=1e-6)
