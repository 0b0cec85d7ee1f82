"""results.json: written whole after each run, read back checked, and the output folder's rules."""

import json

import pytest

from neurona.lab import results
from neurona.saving.errors import FileFormatError

GRID = {"data": {"label": "embedded", "train": 10, "validation": 5},
        "runs": [{"id": "he_normal/seed0", "initializer": "he_normal", "seed": 0, "epochs": 1},
                 {"id": "zeros/seed0", "initializer": "zeros", "seed": 0, "epochs": 1}]}


def _record(run_id):
    return {"id": run_id, "config": {}, "history": {"loss": [1.0]}}


def test_runs_are_written_in_grid_order_and_read_back(tmp_path):
    results.write_results(tmp_path, GRID, {"zeros/seed0": _record("zeros/seed0"),
                                           "he_normal/seed0": _record("he_normal/seed0")})
    content = results.read_results(tmp_path)
    assert content["format"] == "neurona.lab.compare" and content["grid"] == GRID
    assert [r["id"] for r in content["runs"]] == ["he_normal/seed0", "zeros/seed0"]
    assert results.prepare_folder(tmp_path, GRID, resume=True).keys() == {"he_normal/seed0", "zeros/seed0"}


def test_a_failed_write_leaves_the_previous_file_whole(tmp_path):
    results.write_results(tmp_path, GRID, {"he_normal/seed0": _record("he_normal/seed0")})
    before = (tmp_path / "results.json").read_bytes()
    with pytest.raises(ValueError):  # NaN is not JSON: refused before anything is written
        results.write_results(tmp_path, GRID, {"zeros/seed0": {**_record("zeros/seed0"), "x": float("nan")}})
    assert (tmp_path / "results.json").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]  # no temporary file left


def test_unreadable_results_raise_file_format_errors(tmp_path):
    path = tmp_path / "results.json"
    for text, match in (("{not json", "not a JSON file"), ('{"format": "other"}', "not the results"),
                        ('{"format": "neurona.lab.compare", "version": 9}', "version 9"),
                        ('{"format": "neurona.lab.compare", "version": 1, "grid": {}}', "expected a")):
        path.write_text(text)
        with pytest.raises(FileFormatError, match=match):
            results.read_results(tmp_path)
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(FileFormatError, match="not a text file"):
        results.read_results(tmp_path)


def test_folder_rules(tmp_path):
    assert results.prepare_folder(tmp_path / "new", GRID, resume=False) == {}
    assert results.prepare_folder(tmp_path / "empty", GRID, resume=True) == {}  # nothing to resume yet
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="is a file"):
        results.prepare_folder(tmp_path / "file", GRID, resume=False)
    results.write_results(tmp_path / "new", GRID, {})  # a comparison whose first run failed: nothing to keep,
    assert results.prepare_folder(tmp_path / "new", GRID, resume=False) == {}  # so a plain rerun may start over
    results.write_results(tmp_path / "new", GRID, {"zeros/seed0": _record("zeros/seed0")})
    with pytest.raises(ValueError, match="holds an earlier comparison"):
        results.prepare_folder(tmp_path / "new", GRID, resume=False)
    other = json.loads(json.dumps(GRID))
    other["runs"][1]["epochs"] = 2
    with pytest.raises(ValueError, match="epochs of run zeros/seed0 differs"):
        results.prepare_folder(tmp_path / "new", other, resume=True)
    other["data"]["train"] = 11
    with pytest.raises(ValueError, match="the data differ"):
        results.prepare_folder(tmp_path / "new", other, resume=True)


def test_grid_ids_name_initializer_configurations_and_accept_one_name_and_numpy_seeds():
    import numpy as np

    from neurona import initializers
    from neurona.lab.grid import ModelConfig, make_grid

    settings = dict(epochs=1, batch_size=8, optimizer="adam", learning_rate=None, target=0.9, data="embedded")
    one = make_grid("he_normal", np.int64(3), ModelConfig(), **settings)  # a bare name is one initializer
    assert [s.run_id for s in one] == ["he_normal/seed3"] and type(one[0].seed) is int
    wide, narrow = initializers.VarianceScaling(scale=2.0), initializers.VarianceScaling(scale=1e-4)
    specs = make_grid([wide, narrow], [0], ModelConfig(), **settings)
    assert specs[0].run_id != specs[1].run_id  # two configurations are two runs, not a collision
    assert "scale=2.0" in specs[0].run_id and "scale=0.0001" in specs[1].run_id
    with pytest.raises(ValueError, match="seeds must be non-negative integers, got 1.5"):
        make_grid("he_normal", [1.5], ModelConfig(), **settings)
