"""model.reference_statistics in a saved model (saving/reference_h5.py): stored, restored bit for bit, checked."""

import hashlib
import json
import math
import pathlib
import re

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurona import layers, models, saving
from neurona.saving import FileFormatError, document, load_checkpoint, save_checkpoint
from neurona.serving.drift import DriftDetector, ReferenceStatistics

LEGACY = pathlib.Path(__file__).parent / "legacy" / "sequential_v1"


def _trained(n=200):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4, 2)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[(x[:, 0, 0] > 0).astype(int) + (x[:, 1, 1] > 0.5).astype(int)]
    model = models.Sequential([layers.Input((4, 2)), layers.Flatten(), layers.Dense(8, activation="relu"),
                               layers.Dense(3, activation="softmax")], name="net")
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    model.fit(x, y, epochs=2, validation_split=0.5, verbose=0)
    assert model.reference_statistics is not None
    return model, x


def _assert_equal(a, b):
    assert type(b) is ReferenceStatistics
    assert (a.input_shape, a.n_classes, a.n_components) == (b.input_shape, b.n_classes, b.n_components)
    for name, array in a.to_arrays().items():
        loaded = b.to_arrays()[name]
        assert loaded.dtype == np.float32 and loaded.shape == array.shape
        assert loaded.tobytes() == array.tobytes(), name  # bit-exact


@pytest.fixture
def saved(tmp_path):
    model, x = _trained()
    model.save(tmp_path / "m")
    return model, x, tmp_path / "m"


def test_round_trip_is_bit_exact(saved):
    model, x, folder = saved
    loaded = models.load_model(folder)
    _assert_equal(model.reference_statistics, loaded.reference_statistics)
    assert loaded.reference_statistics.input_shape == (4, 2) and loaded.reference_statistics.n_classes == 3
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    # the drift test gives the same verdict on either copy
    verdicts = []
    for stats in (model.reference_statistics, loaded.reference_statistics):
        detector = DriftDetector(stats, window=50)
        detector.update(x[:50] + 1.0, model.predict(x[:50] + 1.0, verbose=0))
        verdicts.append(detector.check().to_dict())
    assert verdicts[0] == verdicts[1] and verdicts[0]["drift"]


def test_layout_of_the_two_files(saved):
    model, _, folder = saved
    entry = json.loads((folder / "model.json").read_text())["reference_statistics"]
    stats = model.reference_statistics
    assert entry == {"format": "neurona.drift.reference", "version": 1, "input_shape": [4, 2], "n_classes": 3,
                     "n_components": stats.n_components}
    assert entry == stats.metadata()
    assert document.REFERENCE_FORMAT == stats.metadata()["format"]  # document.py's copy of drift.py's name
    with h5py.File(folder / "model.h5", "r") as h5:
        group = h5["reference_statistics"]
        assert sorted(group) == ["components", "entropies", "mean", "projections"]
        for name, array in stats.to_arrays().items():
            assert group[name].dtype == np.float32 and group[name].fletcher32
            np.testing.assert_array_equal(group[name][()], array)
        assert "reference_statistics" not in h5["weights"]


def test_metadata_and_arrays_rebuild_through_from_dict(saved):
    stats = saved[0].reference_statistics
    _assert_equal(stats, ReferenceStatistics.from_dict({**stats.metadata(), **stats.to_arrays()}))
    _assert_equal(stats, ReferenceStatistics.from_dict(stats.to_dict()))  # the JSON form agrees


def test_a_model_without_statistics_saves_null(tmp_path):
    model = models.Sequential([layers.Input((3,)), layers.Dense(2)])
    model.save(tmp_path / "m")
    assert json.loads((tmp_path / "m" / "model.json").read_text())["reference_statistics"] is None
    with h5py.File(tmp_path / "m" / "model.h5", "r") as h5:
        assert "reference_statistics" not in h5
    assert models.load_model(tmp_path / "m").reference_statistics is None


def test_statistics_computed_by_hand_are_saved(tmp_path):
    model, x = _trained()
    stats = model.compute_reference_statistics(x[:60], components=3)
    model.save(tmp_path / "m")
    _assert_equal(stats, models.load_model(tmp_path / "m").reference_statistics)


def test_checkpoints_keep_them(tmp_path):
    model, x = _trained()
    save_checkpoint(model, tmp_path / "ckpt", epoch=2)
    ckpt = load_checkpoint(tmp_path / "ckpt")
    _assert_equal(model.reference_statistics, ckpt.model.reference_statistics)
    y = np.eye(3, dtype=np.float32)[np.arange(len(x)) % 3]
    ckpt.model.fit(x, y, epochs=3, initial_epoch=2, verbose=0, reference_statistics=False)  # resumes as before
    _assert_equal(model.reference_statistics, ckpt.model.reference_statistics)


def test_old_saves_load_with_none(tmp_path):
    assert models.load_model(LEGACY).reference_statistics is None  # written before issue 13
    _, _, folder = _saved_copy(tmp_path)
    doc = json.loads((folder / "model.json").read_text())
    del doc["reference_statistics"]  # as a save of the previous version has it
    (folder / "model.json").write_text(json.dumps(doc))
    assert models.load_model(folder).reference_statistics is None


def _saved_copy(tmp_path):
    model, x = _trained()
    model.save(tmp_path / "m")
    return model, x, tmp_path / "m"


# ---- malformed entries ---------------------------------------------------------------------------------------
def _edit_json(folder, edit):
    """Apply ``edit`` to model.json's entry in place, or replace the entry by ``edit`` when it is not callable."""
    doc = json.loads((folder / "model.json").read_text())
    if callable(edit):
        edit(doc["reference_statistics"])
    else:
        doc["reference_statistics"] = edit
    (folder / "model.json").write_text(json.dumps(doc))


def _setter(key, value):
    def edit(entry):
        if value is _DELETE:
            del entry[key]
        else:
            entry[key] = value
    return edit


_DELETE = object()

JSON_CASES = {
    "not an object": ([1, 2], r"'reference_statistics' is \[1, 2\] \(list\); expected an object or null"),
    "format": (_setter("format", "other"), r"'reference_statistics.format' is 'other'"),
    "no format": (_setter("format", _DELETE), r"'reference_statistics.format' is None"),
    "version": (_setter("version", 2), r"'reference_statistics.version' is 2 .*upgrade Neurona"),
    "version bool": (_setter("version", True), r"'reference_statistics.version' is True"),
    "input_shape text": (_setter("input_shape", "8"), r"'reference_statistics.input_shape' is '8'"),
    "input_shape empty": (_setter("input_shape", []), r"'reference_statistics.input_shape' is \[\]"),
    "input_shape zero": (_setter("input_shape", [0, 8]), r"'reference_statistics.input_shape' is \[0, 8\]"),
    "n_classes one": (_setter("n_classes", 1), r"'reference_statistics.n_classes' is 1 .*int >= 2"),
    "n_classes text": (_setter("n_classes", "3"), r"'reference_statistics.n_classes' is '3'"),
    "n_components zero": (_setter("n_components", 0), r"'reference_statistics.n_components' is 0"),
    "n_components too many": (_setter("n_components", 9), r"'reference_statistics.n_components' is 9 .*\[1, 8\]"),
}


@pytest.mark.parametrize("case", sorted(JSON_CASES))
def test_malformed_json_entry_is_refused(tmp_path, case):
    _, _, folder = _saved_copy(tmp_path)
    edit, message = JSON_CASES[case]
    _edit_json(folder, edit)
    with pytest.raises(FileFormatError, match=re.escape(str(folder / "model.json")) + ".*" + message):
        models.load_model(folder)


def test_json_and_h5_that_disagree_are_refused(tmp_path):
    model, _, folder = _saved_copy(tmp_path)
    k = model.reference_statistics.n_components
    _edit_json(folder, _setter("n_components", k - 1))  # valid on its own, but not the arrays' k
    with pytest.raises(FileFormatError, match=r"model\.h5.*'/reference_statistics/components' has shape "
                                              rf"\({k}, 8\); expected \({k - 1}, 8\)"):
        models.load_model(folder)
    _edit_json(folder, _setter("n_components", k))
    _edit_json(folder, _setter("input_shape", [2, 4]))  # same size: only informative, loads
    assert models.load_model(folder).reference_statistics.input_shape == (2, 4)
    _edit_json(folder, _setter("input_shape", [9]))
    with pytest.raises(FileFormatError, match=r"'/reference_statistics/mean' has shape \(8,\); expected \(9,\)"):
        models.load_model(folder)


def _edit_h5(folder, edit):
    """Change model.h5 and record its new SHA-256, so that only the reference checks stand in the way."""
    with h5py.File(folder / "model.h5", "r+") as h5:
        edit(h5)
    doc = json.loads((folder / "model.json").read_text())
    doc["weights"]["sha256"] = hashlib.sha256((folder / "model.h5").read_bytes()).hexdigest()
    (folder / "model.json").write_text(json.dumps(doc))


def _replace(name, make):
    def edit(h5):
        group = h5["reference_statistics"]
        old = group[name][()]
        del group[name]
        group.create_dataset(name, data=make(old))
    return edit


def _delete(path):
    def edit(h5):
        del h5[path]
    return edit


def _poison(name, value):
    def make(old):
        new = old.copy()
        new.flat[0] = value
        return new
    return _replace(name, make)


H5_CASES = {
    "no group": (_delete("reference_statistics"), r"has a 'reference_statistics' entry, but the file has no group "
                                                  r"'/reference_statistics'"),
    "no mean": (_delete("reference_statistics/mean"), r"'/reference_statistics/mean' is missing; expected a float32 "
                                                      r"dataset of shape \(8,\)"),
    "no entropies": (_delete("reference_statistics/entropies"), r"'/reference_statistics/entropies' is missing"),
    "float64": (_replace("projections", lambda a: a.astype(np.float64)),
                r"'/reference_statistics/projections' has dtype float64; expected float32"),
    "shape": (_replace("mean", lambda a: a[:-1]), r"'/reference_statistics/mean' has shape \(7,\); expected \(8,\)"),
    "rank": (_replace("entropies", lambda a: a[:, None]),
             r"'/reference_statistics/entropies' has shape \(\d+, 1\); expected \('n',\)"),
    "empty": (_replace("projections", lambda a: a[:0]), r"'/reference_statistics/projections' is empty"),
    "nan": (_poison("components", np.nan), r"'/reference_statistics/components' holds NaN or inf"),
    "inf": (_poison("mean", np.inf), r"'/reference_statistics/mean' holds NaN or inf"),
    "negative entropy": (_poison("entropies", -0.5), r"'/reference_statistics/entropies' ranges over \[-0.5, .*"
                                                     r"expected entropies in \[0, log 3"),
    "entropy too large": (_poison("entropies", 2.0), r"entropies in \[0, log 3 = 1.099\]"),
    "a group": (lambda h5: (h5.__delitem__("reference_statistics/mean"),
                            h5["reference_statistics"].create_group("mean")), r"'/reference_statistics/mean' is "
                                                                              "missing"),
}


@pytest.mark.parametrize("case", sorted(H5_CASES))
def test_malformed_h5_datasets_are_refused(tmp_path, case):
    _, _, folder = _saved_copy(tmp_path)
    edit, message = H5_CASES[case]
    _edit_h5(folder, edit)
    with pytest.raises(FileFormatError, match=re.escape(str(folder / "model.h5")) + ".*" + message):
        models.load_model(folder)


def test_a_flipped_byte_in_the_statistics_is_caught(tmp_path):
    model, _, folder = _saved_copy(tmp_path)
    data = bytearray((folder / "model.h5").read_bytes())
    offset = data.find(model.reference_statistics.projections.tobytes()[:16])
    assert offset > 0
    data[offset + 1] ^= 0x20
    (folder / "model.h5").write_bytes(bytes(data))
    with pytest.raises(FileFormatError, match=r"model\.h5.*does not match model\.json: its SHA-256"):
        models.load_model(folder)
    doc = json.loads((folder / "model.json").read_text())
    doc["weights"]["sha256"] = hashlib.sha256(bytes(data)).hexdigest()
    (folder / "model.json").write_text(json.dumps(doc))
    with pytest.raises(FileFormatError, match=r"'/reference_statistics/projections' is corrupted"):  # Fletcher-32
        models.load_model(folder)


def test_null_entry_ignores_a_stray_group(tmp_path):
    _, _, folder = _saved_copy(tmp_path)
    _edit_json(folder, None)
    assert models.load_model(folder).reference_statistics is None


# ---- what save refuses, before writing anything ------------------------------------------------------------------
def test_save_refuses_what_is_not_reference_statistics(tmp_path):
    model, _ = _trained()
    model.reference_statistics = np.zeros(8, np.float32)
    with pytest.raises(TypeError, match=r"reference_statistics is of type ndarray; expected a neurona\.serving\.drift\."
                                        "ReferenceStatistics"):
        model.save(tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_save_refuses_non_finite_statistics_and_keeps_the_previous_save(tmp_path):
    model, _ = _trained()
    model.save(tmp_path / "m")
    before = (tmp_path / "m" / "model.h5").read_bytes()
    stats = model.reference_statistics
    bad = ReferenceStatistics(stats.mean, stats.components, stats.projections, np.full_like(stats.entropies, np.nan),
                              stats.input_shape, stats.n_classes)
    model.reference_statistics = bad
    with pytest.raises(ValueError, match=r"cannot save model 'net': its reference_statistics entropies holds NaN"):
        model.save(tmp_path / "m")
    assert (tmp_path / "m" / "model.h5").read_bytes() == before
    _assert_equal(stats, models.load_model(tmp_path / "m").reference_statistics)


def test_weights_only_paths_are_unaffected(saved, tmp_path):
    model, x, folder = saved
    twin = models.Sequential([layers.Input((4, 2)), layers.Flatten(), layers.Dense(8, activation="relu"),
                              layers.Dense(3, activation="softmax")])
    twin.load_weights(folder)
    assert twin.reference_statistics is None
    np.testing.assert_array_equal(twin.predict(x, verbose=0), model.predict(x, verbose=0))
    model.save_weights(tmp_path / "w.h5")
    with h5py.File(tmp_path / "w.h5", "r") as h5:
        assert "reference_statistics" not in h5
    assert saving.peek(folder)["reference_statistics"]["n_classes"] == 3


# ---- properties ----------------------------------------------------------------------------------------------------
@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), n=st.integers(4, 40), classes=st.integers(2, 5),
       components=st.integers(1, 12), max_samples=st.integers(2, 30), seed=st.integers(0, 2**32 - 1))
def test_any_statistics_round_trip_bit_exact(tmp_path, shape, n, classes, components, max_samples, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, *shape)) * rng.uniform(0.01, 100.0)
    if x[0].size > 1:
        x.reshape(n, -1)[:, 0] = 0.5  # a constant feature, whose direction is dropped
    logits = rng.normal(size=(n, classes)) * 4
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    stats = ReferenceStatistics.from_arrays(x, p, components=components, max_samples=max_samples, seed=seed)
    model = models.Sequential([layers.Input((2,)), layers.Dense(2)])
    model.reference_statistics = stats
    model.save(tmp_path / "m")
    _assert_equal(stats, models.load_model(tmp_path / "m").reference_statistics)


FUZZ_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-3, 300), st.floats(allow_nan=True),
                        st.text(max_size=4), st.lists(st.integers(-2, 9), max_size=3), st.just({}),
                        st.just("neurona.drift.reference"))


def test_a_mutated_entry_loads_or_raises_file_format_error(tmp_path):
    _, _, folder = _saved_copy(tmp_path)
    original = json.loads((folder / "model.json").read_text())
    keys = sorted(original["reference_statistics"])

    @settings(max_examples=150, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(st.tuples(st.sampled_from(keys), st.booleans(), FUZZ_VALUES), min_size=1, max_size=3))
    def check(mutations):
        doc = json.loads(json.dumps(original))
        for key, delete, value in mutations:
            if delete:
                doc["reference_statistics"].pop(key, None)
            else:
                doc["reference_statistics"][key] = json.loads(json.dumps(value))
        (folder / "model.json").write_text(json.dumps(doc))
        try:
            stats = models.load_model(folder).reference_statistics
        except FileFormatError:
            return
        assert stats.mean.size == math.prod(stats.input_shape) and stats.n_classes >= 2  # loaded: consistent

    check()
