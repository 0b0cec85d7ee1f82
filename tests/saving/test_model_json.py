"""A model.json that cannot be loaded always raises FileFormatError naming the file, never another error
(issue 10, item 15): garbage entries, wrong types for every top-level key, bytes that are not UTF-8, deep
nesting, classes that are not models, and a hypothesis fuzzer that mutates a valid model.json."""

import copy
import json
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from neurona import layers, models, saving


def _saved(folder):
    """A checkpoint with every entry model.json can hold: compile settings and optimizer state, preprocessing,
    a layer's random generator, training state."""
    model = models.Sequential([layers.Input((4,)), layers.Dense(5, name="hidden"), layers.Dropout(0.5, name="drop"),
                               layers.Dense(2, name="out")], name="net")
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    rng = np.random.default_rng(0)
    model.train_step(rng.normal(size=(8, 4)).astype(np.float32), rng.normal(size=(8, 2)).astype(np.float32))
    model.preprocessing = [saving.preprocessing.rescale(255)]
    saving.save_checkpoint(model, folder, epoch=1)
    return json.loads((folder / "model.json").read_text())


def _set(doc, path, value):
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


LAYERS = ("model", "config", "layers")
CASES = {
    # (path in model.json, new value, what the message must say)
    "optimizer_state garbage": (("optimizer_state",), "garbage", r"'optimizer_state' is 'garbage' \(str\)"),
    "optimizer_state a list": (("optimizer_state",), [1, 2], r"'optimizer_state' is \[1, 2\]"),
    "iterations a string": (("optimizer_state", "iterations"), "x", r"'optimizer_state.iterations' is 'x'"),
    "learning_rate a string": (("optimizer_state", "learning_rate"), "fast", r"learning_rate' is 'fast'"),
    "class Model": (("model", "class_name"), "Model",
                    r"'class_name' is 'Model'.*expected one of \['Functional', 'Sequential'\]"),
    "class Layer": (("model", "class_name"), "Layer", r"'class_name' is 'Layer'"),
    "class dunder": (("model", "class_name"), "__class__", r"'class_name' is '__class__'"),
    "class a number": (("model", "class_name"), 5, r"'class_name' is '5'"),
    "format_version a string": (("format_version",), "1", r"format_version is '1'"),
    "weights a list": (("weights",), [1], r"'weights' is \[1\] \(list\)"),
    "sha256 a number": (("weights", "sha256"), 3, r"'weights.sha256' is 3"),
    "weights file elsewhere": (("weights", "file"), "/etc/passwd", r"'weights.file' is '/etc/passwd'"),
    "model a number": (("model",), 5, r"'model' is 5 \(int\)"),
    "config a list": (("model", "config"), [1], r"the model's 'config' is '\[1\]' \(list\)"),
    "layers not a list": (LAYERS, 5, r"config's 'layers' is '5' \(int\); expected a list of layer configs"),
    "a layer a string": (LAYERS + (1,), "Dense", r"could not rebuild"),
    "a layer config a list": (LAYERS + (1, "config"), [], r"could not rebuild"),
    "build_input_shape a string": (("model", "build_input_shape"), "abc", r"'build_input_shape' is 'abc'"),
    "build_input_shape a number": (("model", "build_input_shape"), 5, r"'build_input_shape' is '5'"),
    "build_input_shapes with a string": (("model", "build_input_shape"), [[None, 4], "x"],
                                         r"'build_input_shape' is .*or a list \(or an object keyed by input name\)"),
    "build_input_shapes of another model": (("model", "build_input_shape"), [[None, 4], [None, 3]],
                                            r"cannot be built for 'build_input_shape' \[\[None, 4\], \[None, 3\]\]"),
    "build_input_shape dict of strings": (("model", "build_input_shape"), {"a": "x"}, r"'build_input_shape' is"),
    "compile a list": (("compile",), [1], r"'compile' is \[1\] \(list\)"),
    "metrics not a list": (("compile", "metrics"), 3,
                           r"'compile' is .*'metrics' \(a list, or an object keyed by output name\)"),
    "optimizer config garbage": (("compile", "optimizer"), [1], r"compile settings cannot be rebuilt"),
    "rng a list": (("rng",), [1], r"'rng' is \[1\] \(list\)"),
    "rng of a method": (("rng", "layers", "drop"), {"call": {"bit_generator": "PCG64"}}, r"'call' of layer 'drop'"),
    "rng state garbage": (("rng", "layers", "drop", "_rng"), {"bit_generator": "PCG64", "state": 3},
                          r"invalid PCG64 random generator state"),
    "training a list": (("training",), [1], r"'training' is \[1\] \(list\)"),
    "training epoch a string": (("training", "epoch"), "3", r"'training.epoch' is '3'"),
    "history a list": (("training", "history"), [], r"'training.history' is \[\]"),
    "preprocessing a string": (("preprocessing",), "x", r"'preprocessing' is 'x'"),
    "divisor a string": (("preprocessing", 0, "divisor"), "a", r"'divisor' is 'a'; expected a finite nonzero"),
    "neurona_version a number": (("neurona_version",), 5, r"'neurona_version' is 5"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_wrong_entries_raise_file_format_error_naming_the_file(tmp_path, case):
    path, value, expected = CASES[case]
    doc = _saved(tmp_path / "m")
    _set(doc, path, value)
    (tmp_path / "m" / "model.json").write_text(json.dumps(doc))
    source = re.escape(f"model.json at {str(tmp_path / 'm' / 'model.json')!r}")
    with pytest.raises(saving.FileFormatError, match=source + ".*" + expected):
        models.load_model(tmp_path / "m")


RAW = {
    "not UTF-8": (b'\xff\xfe{"format": 1}', r"is not UTF-8 text.*byte b'\\xff' at offset 0"),
    "100000 nested lists": (b"[" * 100000 + b"]" * 100000, r"nested too deeply"),
    "500 nested lists": (b'{"model": ' + b"[" * 500 + b"]" * 500 + b"}", r"nested more than 100 levels"),
    "a number too long": (b'{"format_version": 1' + b"1" * 5000 + b"}", r"is not valid JSON"),
    "a list": (b"[1, 2]", r"expected a JSON object, got list"),
}


@pytest.mark.parametrize("case", sorted(RAW))
def test_undecodable_text_raises_file_format_error(tmp_path, case):
    raw, expected = RAW[case]
    _saved(tmp_path / "m")
    (tmp_path / "m" / "model.json").write_bytes(raw)
    with pytest.raises(saving.FileFormatError, match=r"model\.json at .*" + expected):
        models.load_model(tmp_path / "m")
    with pytest.raises(saving.FileFormatError):
        saving.load_checkpoint(tmp_path / "m")


def test_a_deep_but_legal_document_still_loads(tmp_path):
    """Control: the depth limit leaves room for real files (extra keys are ignored)."""
    doc = _saved(tmp_path / "m")
    nested = 1
    for _ in range(60):
        nested = [nested]
    doc["training"]["extra"] = {"deep": nested}
    (tmp_path / "m" / "model.json").write_text(json.dumps(doc))
    assert saving.load_checkpoint(tmp_path / "m").extra["deep"] == nested


def _paths(node, prefix=()):
    """Every path to a value in the JSON document ``node``."""
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        yield prefix + (key,)
        yield from _paths(child, prefix + (key,))


VALUES = st.one_of(st.none(), st.booleans(), st.integers(-3, 300), st.floats(allow_nan=True), st.text(max_size=4),
                   st.lists(st.integers(-2, 9), max_size=3), st.just({}), st.just({"class_name": "Dense"}))


def test_mutated_model_json_loads_or_raises_file_format_error(tmp_path):
    original = _saved(tmp_path / "m")
    paths = sorted(_paths(original), key=repr)
    target = tmp_path / "m" / "model.json"

    @settings(max_examples=200, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(st.tuples(st.sampled_from(paths), st.booleans(), VALUES), min_size=1, max_size=3))
    def check(mutations):
        doc = copy.deepcopy(original)
        for path, delete, value in mutations:
            try:
                parent = doc
                for key in path[:-1]:
                    parent = parent[key]
                if delete:
                    del parent[path[-1]]
                else:
                    parent[path[-1]] = copy.deepcopy(value)  # hypothesis shares just() values between examples
            except (KeyError, IndexError, TypeError):  # an earlier mutation removed or replaced this path
                continue
        target.write_text(json.dumps(doc))
        try:
            saving.load_checkpoint(target.parent)
        except saving.FileFormatError:
            pass

    check()


# ---- fault probe, defect 3: model_from_json of something that is not JSON text ------------------------------------
@pytest.mark.parametrize("text", [None, 3, {"class_name": "Sequential"}], ids=["None", "int", "dict"])
def test_model_from_json_refuses_what_is_not_text(text):
    with pytest.raises(TypeError, match=r"^model_from_json: expected the JSON text of model.to_json\(\) \(a str, or "
                                        rf"UTF-8 bytes\), got .* \({type(text).__name__}\)$"):
        models.model_from_json(text)


def test_model_from_json_accepts_utf8_bytes():
    model = models.Sequential([layers.Input((4,)), layers.Dense(2, name="out")], name="net")
    for text in (model.to_json(), model.to_json().encode("utf-8"), bytearray(model.to_json(), "utf-8")):
        rebuilt = models.model_from_json(text)
        assert [layer.name for layer in rebuilt.layers] == ["out"] and rebuilt.count_params() == 10
