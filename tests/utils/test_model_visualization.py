"""model_to_dot and plot_model: the DOT text of every kind of graph, the labels, the files and their errors.

The DOT text is read back by a small parser below and compared with graphs written out by hand; where Graphviz
is installed, its own parse (``dot -Tplain``) must find the same boxes and arrows. Rendering is also checked
without Graphviz through a stand-in ``dot`` program on a faked PATH.
"""

import html
import json
import os
import re
import shutil
import subprocess
import sys
import types

import pytest

import neurona as nr
from neurona import layers
from neurona.utils import model_to_dot, plot_model
from neurona.utils import model_visualization as mv

HAS_DOT = shutil.which("dot") is not None
NODE = re.compile(r"^\s*(n\d+) \[label=<(.*)>\];$", re.M)
EDGE = re.compile(r"^\s*(n\d+) -> (n\d+);$", re.M)


def parse(dot):
    """``({node id: layer name}, {(source name, destination name)}, {layer name: cluster label or None})``."""
    names = {i: html.unescape(re.search(r"<b>(.*?)</b>", label).group(1)) for i, label in NODE.findall(dot)}
    edges = [(names[a], names[b]) for a, b in EDGE.findall(dot)]
    assert len(edges) == len(set(edges)), "an arrow is drawn twice"
    clusters, stack = {}, []
    for line in dot.splitlines():
        if line.strip().startswith("subgraph cluster_"):
            stack.append(None)
        elif stack and stack[-1] is None and "label=<" in line and "style=" in line:
            stack[-1] = html.unescape(re.search(r"label=<(.*?)>", line).group(1))
        elif line.strip() == "}" and stack:
            stack.pop()
        elif NODE.match(line):
            clusters[names[NODE.match(line).group(1)]] = stack[-1] if stack else None
    return names, set(edges), clusters


def label_of(dot, name):
    return next(label for _, label in NODE.findall(dot) if f"<b>{html.escape(name)}</b>" in label)


def mlp():
    return nr.Sequential([layers.Input((784,)), layers.Dense(64, activation="relu", name="hidden"),
                          layers.Dense(10, activation="softmax", name="probs")], name="mlp")


def two_towers():
    """Two inputs, a shared layer, a merge, TensorOps (x + 1, x[:, :2]) and two outputs."""
    nr.backend.clear_session()  # the TensorOps' automatic names ("add", "getitem") count from zero again
    a, b = nr.Input((3,), name="left"), nr.Input((4,), name="right")
    shared = layers.Dense(5, name="shared")
    merged = layers.Concatenate(name="cat")([shared(layers.Dense(3, name="pa")(a)),
                                             shared(layers.Dense(3, name="pb")(b))])
    out1 = layers.Dense(1, name="o1")(merged + 1.0)
    out2 = layers.Dense(2, name="o2")(merged[:, :2])
    return nr.Model([a, b], [out1, out2], name="towers")


def test_sequential_draws_its_layers_as_a_chain_without_the_input():
    dot = model_to_dot(mlp())
    names, edges, _ = parse(dot)
    assert sorted(names.values()) == ["hidden", "probs"]  # Sequential: no InputLayer box, as Keras
    assert edges == {("hidden", "probs")}
    assert dot.startswith('digraph "mlp" {') and dot.rstrip().endswith("}")
    assert 'rankdir="TB"' in dot and "dpi=200" in dot and 'splines="ortho"' in dot


def test_a_sequential_model_built_without_an_input_layer():
    model = nr.Sequential([layers.Dense(4, name="a"), layers.Dense(2, name="b")])
    model.build((None, 3))
    names, edges, _ = parse(model_to_dot(model, show_shapes=True))
    assert sorted(names.values()) == ["a", "b"] and edges == {("a", "b")}


def test_functional_graph_with_shared_layers_merges_and_ops():
    dot = model_to_dot(two_towers(), rankdir="LR")
    names, edges, _ = parse(dot)
    assert sorted(names.values()) == ["add", "cat", "getitem", "left", "o1", "o2", "pa", "pb", "right", "shared"]
    assert edges == {("left", "pa"), ("right", "pb"), ("pa", "shared"), ("pb", "shared"), ("shared", "cat"),
                     ("cat", "add"), ("cat", "getitem"), ("add", "o1"), ("getitem", "o2")}
    assert 'rankdir="LR"' in dot


def test_labels_show_what_is_asked_for():
    model = two_towers()
    model.get_layer("pb").trainable = False
    dot = model_to_dot(model, show_shapes=True, show_dtype=True, show_trainable=True, show_layer_activations=True)
    pa, pb, left, cat = (label_of(dot, n) for n in ("pa", "pb", "left", "cat"))
    assert "<b>pa</b> (Dense)" in pa and "Activation: <b>linear</b>" in pa
    assert "Input shape: <b>(None, 3)</b>" in pa and "Output shape: <b>(None, 3)</b>" in pa
    assert "Output dtype: <b>float32</b>" in pa and "<b>Trainable</b>" in pa and "forestgreen" in pa
    assert "<b>Non-trainable</b>" in pb and "firebrick" in pb
    assert "Input shape" not in left and "Output shape: <b>(None, 3)</b>" in left  # an input has no input shape
    assert "Input shape: <b>[(None, 5), (None, 5)]</b>" in cat and "Output shape: <b>(None, 10)</b>" in cat
    assert "Trainable" not in cat and "Activation" not in cat  # no weights, no activation: nothing to say
    assert 'colspan="4"' in pa and 'colspan="2"' in left  # the title spans the cells below it

    plain = "".join(label for _, label in NODE.findall(model_to_dot(model)))
    assert not any(word in plain for word in ("shape", "dtype", "Trainable", "Activation"))
    classes = model_to_dot(model, show_layer_names=False)
    assert "<b>Dense</b>" in classes and "<b>InputLayer</b>" in classes
    assert not re.search(r"<b>(pa|left|shared)</b>", classes)


def test_activation_names():
    model = mlp()
    dot = model_to_dot(model, show_layer_activations=True)
    assert "Activation: <b>relu</b>" in label_of(dot, "hidden")
    assert "Activation: <b>softmax</b>" in label_of(dot, "probs")


def test_a_layer_called_on_different_shapes_says_multiple():
    a, b = nr.Input((3,), name="a"), nr.Input((4,), name="b")
    act = layers.Activation("relu", name="act")
    model = nr.Model([a, b], [act(a), act(b)])
    dot = model_to_dot(model, show_shapes=True)
    assert "Input shape: <b>multiple</b>" in label_of(dot, "act")
    assert parse(dot)[1] == {("a", "act"), ("b", "act")}


def test_dict_inputs_show_their_keys():
    inputs = {"x": nr.Input((2,), name="x"), "y": nr.Input((3,), name="y")}
    out = layers.Lambda(lambda d: nr.ops.concatenate([d["x"], d["y"]], axis=-1), name="cat")(inputs)
    dot = model_to_dot(nr.Model(inputs, out), show_shapes=True)
    assert "Input shape: <b>x: (None, 2), y: (None, 3)</b>" in label_of(dot, "cat")


def nested():
    inner = nr.Sequential([layers.Input((4,)), layers.Dense(4, name="s1"), layers.Dense(4, name="s2")], name="stack")
    fin = nr.Input((4,), name="fin")
    block = nr.Model(fin, layers.Dense(4, name="f1")(fin), name="block")
    z = nr.Input((4,), name="z")
    return nr.Model(z, layers.Dense(2, name="head")(block(inner(z))), name="outer")


def test_nested_models_are_one_box_unless_expanded():
    model = nested()
    names, edges, clusters = parse(model_to_dot(model))
    assert sorted(names.values()) == ["block", "head", "stack", "z"]
    assert edges == {("z", "stack"), ("stack", "block"), ("block", "head")}
    assert set(clusters.values()) == {None}

    dot = model_to_dot(model, expand_nested=True)
    names, edges, clusters = parse(dot)
    assert sorted(names.values()) == ["f1", "fin", "head", "s1", "s2", "z"]
    # into a Sequential: its first layer; into a functional model: its InputLayer; out: the layer making the output
    assert edges == {("z", "s1"), ("s1", "s2"), ("s2", "fin"), ("fin", "f1"), ("f1", "head")}
    assert clusters == {"z": None, "s1": "stack", "s2": "stack", "fin": "block", "f1": "block", "head": None}
    assert dot.count("subgraph cluster_") == 2 and 'style="dashed"' in dot


def test_expanded_nested_model_with_several_inputs_and_outputs_connects_each_one():
    i1, i2 = nr.Input((2,), name="i1"), nr.Input((3,), name="i2")
    inner = nr.Model([i1, i2], [layers.Dense(2, name="ia")(i1), layers.Dense(3, name="ib")(i2)], name="inner")
    p, q = nr.Input((2,), name="p"), nr.Input((3,), name="q")
    pp, qq = layers.Dense(2, name="pp")(p), layers.Dense(3, name="qq")(q)
    first, second = inner([pp, qq])
    model = nr.Model([p, q], [layers.Dense(1, name="from_b")(second), layers.Dense(1, name="from_a")(first)])
    _, edges, clusters = parse(model_to_dot(model, expand_nested=True))
    assert edges == {("p", "pp"), ("q", "qq"), ("pp", "i1"), ("qq", "i2"), ("i1", "ia"), ("i2", "ib"),
                     ("ib", "from_b"), ("ia", "from_a")}
    assert clusters["ia"] == clusters["i2"] == "inner" and clusters["pp"] is None


def test_a_sequential_inside_a_sequential_expands():
    inner = nr.Sequential([layers.Input((3,)), layers.Dense(3, name="a"), layers.Dense(3, name="b")], name="inner")
    model = nr.Sequential([layers.Input((3,)), inner, layers.Dense(1, name="c")])
    assert parse(model_to_dot(model))[1] == {("inner", "c")}
    _, edges, clusters = parse(model_to_dot(model, expand_nested=True))
    assert edges == {("a", "b"), ("b", "c")} and clusters == {"a": "inner", "b": "inner", "c": None}


def test_subgraph_gives_a_cluster_block():
    dot = model_to_dot(mlp(), subgraph=True)
    assert dot.startswith("subgraph cluster_1 {") and "digraph" not in dot and "label=<mlp>" in dot
    assert parse(dot)[1] == {("hidden", "probs")}


class Tiny(nr.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = layers.Dense(2)

    def call(self, x):
        return self.dense(x)


def test_a_subclassed_model_is_one_box_and_must_be_built():
    model = Tiny(name="tiny")
    with pytest.raises(ValueError, match="not been built"):
        model_to_dot(model)
    model(nr.Tensor([[1.0, 2.0, 3.0]]))
    dot = model_to_dot(model, show_shapes=True)
    names, edges, _ = parse(dot)
    assert list(names.values()) == ["tiny"] and edges == set()
    assert "Output shape: <b>(None, 2)</b>" in dot


def test_names_are_escaped():
    name = 'a<b>&"c\'\\'
    x = nr.Input((2,), name="in")
    model = nr.Model(x, layers.Dense(1, name=name)(x), name='m "1"\\')
    dot = model_to_dot(model)
    assert "<b>a&lt;b&gt;&amp;&quot;c&#x27;\\</b>" in dot
    assert set(parse(dot)[0].values()) == {"in", name}
    assert dot.startswith('digraph "m__1__" {')  # the graph's name keeps no quote or backslash


def test_unbuilt_and_wrong_models_are_refused():
    with pytest.raises(ValueError, match="not been built"):
        model_to_dot(nr.Sequential([layers.Dense(2)]))
    with pytest.raises(ValueError, match="not been built"):
        plot_model(nr.Sequential([layers.Dense(2)]), "m.dot")
    with pytest.raises(TypeError, match="model must be a neurona Model"):
        model_to_dot("model")


@pytest.mark.parametrize("kwargs, error, words", [
    ({"rankdir": "XY"}, ValueError, "rankdir must be one of"),
    ({"show_shapes": "yes"}, TypeError, "show_shapes must be True or False"),
    ({"expand_nested": 1}, TypeError, "expand_nested"),
    ({"dpi": 0}, ValueError, "dpi"),
    ({"splines": "wiggly"}, ValueError, "splines must be one of"),
    ({"layer_range": ["a", "b"]}, ValueError, "layer_range is not supported"),
    ({"show_shape": True}, ValueError, r"unrecognized keyword arguments \['show_shape'\]"),
])
def test_bad_options_are_named(kwargs, error, words, tmp_path):
    with pytest.raises(error, match=words):
        model_to_dot(mlp(), **kwargs)
    with pytest.raises(error, match=words):
        plot_model(mlp(), str(tmp_path / "m.dot"), **kwargs)
    assert not os.listdir(tmp_path)


@pytest.mark.parametrize("ext", [".dot", ".gv"])
def test_dot_files_need_no_graphviz(ext, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    path, model = tmp_path / f"model{ext}", two_towers()
    assert plot_model(model, path, show_shapes=True, expand_nested=True) is None
    # plot_model's default hides the names (Keras 3's show_layer_names=False); model_to_dot's shows them
    assert path.read_text() == model_to_dot(model, show_shapes=True, expand_nested=True, show_layer_names=False)


def test_images_without_graphviz_raise_import_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    with pytest.raises(ImportError, match="(?s)install Graphviz.*to_file='model.dot'"):
        plot_model(mlp(), tmp_path / "model.png")
    assert not os.listdir(tmp_path)


def fake_dot(folder, body):
    """A stand-in ``dot`` program on PATH: a Python script that logs its arguments and input, then runs ``body``."""
    folder.mkdir()
    script = folder / "dot"
    script.write_text(f"#!{sys.executable}\nimport json, sys, time\ndata = sys.stdin.buffer.read()\n"
                      f"open({str(folder / 'log.json')!r}, 'w').write(json.dumps([sys.argv[1:], data.decode()]))\n"
                      f"{body}\n")
    script.chmod(0o755)
    return folder / "log.json"


def test_images_are_rendered_by_dot_from_the_dot_text(tmp_path, monkeypatch):
    log = fake_dot(tmp_path / "bin", "sys.stdout.buffer.write(b'IMAGE')")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    for name, fmt in [("model.svg", "svg"), ("model", "png"), ("m.JPG", "jpg")]:
        assert plot_model(mlp(), tmp_path / name, show_shapes=True, dpi=96) is None
        assert (tmp_path / name).read_bytes() == b"IMAGE"
        argv, text = json.loads(log.read_text())
        assert argv == [f"-T{fmt}"] and text == model_to_dot(mlp(), show_shapes=True, dpi=96, show_layer_names=False)
    assert sorted(os.listdir(tmp_path)) == ["bin", "m.JPG", "model", "model.svg"]  # no temporary file left


def test_a_failing_dot_leaves_the_previous_file(tmp_path, monkeypatch):
    fake_dot(tmp_path / "bin", "sys.stderr.write('Error: boom'); sys.exit(3)")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    (tmp_path / "model.png").write_bytes(b"OLD")
    with pytest.raises(RuntimeError, match=r"dot -Tpng` failed \(exit status 3\): Error: boom"):
        plot_model(mlp(), tmp_path / "model.png")
    assert (tmp_path / "model.png").read_bytes() == b"OLD"
    assert sorted(os.listdir(tmp_path)) == ["bin", "model.png"]


def test_a_hung_dot_is_stopped(tmp_path, monkeypatch):
    fake_dot(tmp_path / "bin", "time.sleep(30)")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setattr(mv, "DOT_TIMEOUT_S", 0.5)
    with pytest.raises(RuntimeError, match="did not finish in 0.5 s"):
        plot_model(mlp(), tmp_path / "model.png")
    assert sorted(os.listdir(tmp_path)) == ["bin"]


def test_bad_files_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r"unknown format 'docx'.*'\.png'"):
        plot_model(mlp(), tmp_path / "model.docx")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        plot_model(mlp(), tmp_path / "missing" / "model.dot")
    with pytest.raises(TypeError, match="to_file"):
        plot_model(mlp(), None)


def test_in_a_notebook_the_image_is_returned(tmp_path, monkeypatch):
    class Image:
        def __init__(self, filename):
            self.filename = filename

    display = types.SimpleNamespace(Image=Image, SVG=Image)
    shell = types.SimpleNamespace(config={"IPKernelApp": {}})
    fake = types.SimpleNamespace(get_ipython=lambda: shell, display=display)
    monkeypatch.setitem(sys.modules, "IPython", fake)
    monkeypatch.setitem(sys.modules, "IPython.display", display)
    fake_dot(tmp_path / "bin", "sys.stdout.buffer.write(b'IMAGE')")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    image = plot_model(mlp(), tmp_path / "model.png")
    assert isinstance(image, Image) and image.filename == str(tmp_path / "model.png")
    assert plot_model(mlp(), tmp_path / "model.dot") is None  # text is not displayed
    shell.config = {}  # a terminal IPython: nothing to display in
    assert plot_model(mlp(), tmp_path / "model.png") is None


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot is not installed")
def test_graphviz_reads_the_same_graph(tmp_path):
    x = nr.Input((2,), name="in")
    odd = 'a<b>&"c\'\\'
    y = layers.Dense(2, name=odd)(x)
    model = nr.Model(x, layers.Concatenate(name="cat")([y, x]))
    for m in (two_towers(), nested(), model):
        for expand in (False, True):
            dot = model_to_dot(m, show_shapes=True, show_dtype=True, show_trainable=True,
                               show_layer_activations=True, expand_nested=expand)
            done = subprocess.run(["dot", "-Tplain"], input=dot.encode(), capture_output=True, timeout=60)
            assert done.returncode == 0, done.stderr
            lines = [line.split() for line in done.stdout.decode().splitlines()]
            ids, edges = {ln[1] for ln in lines if ln[0] == "node"}, {(ln[1], ln[2]) for ln in lines if ln[0] == "edge"}
            assert ids == {i for i, _ in NODE.findall(dot)} and edges == set(EDGE.findall(dot))


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot is not installed")
def test_graphviz_renders_png_svg_and_pdf(tmp_path):
    model = nested()
    plot_model(model, tmp_path / "model.png", show_shapes=True, expand_nested=True, dpi=50)
    plot_model(model, tmp_path / "model.svg", show_shapes=True, show_layer_names=True)
    plot_model(model, tmp_path / "model.pdf")
    assert (tmp_path / "model.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "model.pdf").read_bytes()[:5] == b"%PDF-"
    svg = (tmp_path / "model.svg").read_text()
    assert "<svg" in svg and "Output shape: " in svg and ">head<" in svg


def test_a_layer_reading_one_tensor_twice_gets_one_arrow():
    x = nr.Input((2,), name="x")
    dot = model_to_dot(nr.Model(x, layers.Multiply(name="square")([x, x])), show_shapes=True)
    assert parse(dot)[1] == {("x", "square")}  # parse() also refuses a repeated arrow
    assert "Input shape: <b>[(None, 2), (None, 2)]</b>" in label_of(dot, "square")
