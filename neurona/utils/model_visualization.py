"""Pictures of a model's graph: ``model_to_dot`` (Graphviz DOT text) and ``plot_model`` (an image file).

``model_to_dot`` writes the DOT source itself, so it needs nothing installed:
one box per layer, an arrow for each tensor one layer passes to another. A box
is an HTML-like table (Graphviz's ``label=<...>``), as Keras draws it: the
layer's name and class, then on request its activation, input and output
shapes, output dtype and whether its weights train. Every text from the model
(names, shapes) is HTML-escaped, so ``<``, ``&`` or quotes in a layer name stay
text. Nested models can be drawn as one box or, with ``expand_nested``, as a
dashed cluster holding their own layers, the arrows then going to the layer
inside that reads the tensor (a nested functional model's ``InputLayer``, a
nested Sequential model's first layer) and leaving from the layer that makes
the nested model's output.

``plot_model`` writes that text to a ``.dot``/``.gv`` file directly, and any
other format (``png``, ``svg``, ``pdf``, ``jpg`` ...) by running Graphviz's
``dot`` program, which must then be on ``PATH``.
"""

import html
import os
import re
import shutil
import subprocess
import sys

from ..arguments import check_bool, check_path, check_real, shown
from ..files import atomic_output

RANKDIRS = ("TB", "LR", "BT", "RL")
SPLINES = ("ortho", "curved", "polyline", "spline", "line", "true", "false", "none")
# formats written without Graphviz, then those `dot -T<format>` renders in a standard Graphviz build
TEXT_FORMATS = ("dot", "gv")
IMAGE_FORMATS = ("png", "svg", "pdf", "jpg", "jpeg", "gif", "bmp", "tif", "tiff", "webp", "ps", "eps", "svgz",
                 "json", "plain", "xdot")
DOT_TIMEOUT_S = 120  # a model's graph renders in well under a second; this only stops a hung `dot`
_INSTALL_HINT = ("install Graphviz (apt-get install graphviz, brew install graphviz, conda install graphviz, or "
                 "https://graphviz.org/download/) so that the `dot` program is on PATH; a .dot file "
                 "(to_file='model.dot') or neurona.utils.model_to_dot(model) needs nothing installed")


# ---- the model's structure ---------------------------------------------------------------------------
def _kind(model):
    """``"functional"``, ``"sequential"`` or None (a layer, or a subclassed model: drawn as one box).

    Models sit above utils (they import utils.py_dataset), so they are told apart by the ``graph_kind`` their
    classes declare rather than imported here.
    """
    return getattr(type(model), "graph_kind", None)


def _graph_nodes(model):
    """``{id(node): node}``: the calls between the model's inputs and outputs, its inputs' own nodes included."""
    inputs = {id(t) for t in model.inputs}
    found, stack = {}, list(model.outputs)
    while stack:
        tensor = stack.pop()
        node = tensor.node
        if id(node) in found:
            continue
        found[id(node)] = node
        if id(tensor) not in inputs:
            stack.extend(node.inputs)
    return found


def _source(layer, index):
    """The drawn layer that makes output ``index`` of ``layer``, looking inside nested models."""
    while _kind(layer) is not None:
        tensor = layer.outputs[min(index, len(layer.outputs) - 1)]
        layer, index = tensor.node.layer, tensor.index
    return layer


def _destination(layer, position):
    """The drawn layer that reads input ``position`` of ``layer``, looking inside nested models."""
    while True:
        kind = _kind(layer)
        if kind == "functional":
            layer = layer.inputs[min(position, len(layer.inputs) - 1)].node.layer
        elif kind == "sequential":
            layer, position = layer.layers[0], 0  # its InputLayer is not drawn: its first layer reads the input
        else:
            return layer


# ---- one box ----------------------------------------------------------------------------------------
def _shape_text(structure):
    """Shapes as Keras shows them: ``(None, 784)``, ``[(None, 3), (None, 4)]``, ``a: (None, 3), b: (None, 4)``."""
    if isinstance(structure, dict):
        return ", ".join(f"{key}: {_shape_text(value)}" for key, value in structure.items())
    if isinstance(structure, tuple) and all(s is None or isinstance(s, int) for s in structure):
        return str(structure)
    if isinstance(structure, (list, tuple)):
        return "[" + ", ".join(_shape_text(s) for s in structure) + "]"
    return "?"


def _leaves(tensors, structure, what):
    """``what`` of each tensor: one value, a dict when the call's structure is a dict, else a list."""
    if isinstance(structure, dict) and len(structure) == len(tensors):
        return {key: what(t) for key, t in zip(sorted(structure), tensors)}  # nest.flatten's order: sorted keys
    values = [what(t) for t in tensors]
    return values[0] if len(values) == 1 else values


def _node_facts(node):
    args = node.args[0] if len(node.args) == 1 else None
    return {"input": _shape_text(_leaves(node.inputs, args, lambda t: t.shape)),
            "output": _shape_text(_leaves(node.flat_outputs, node.outputs, lambda t: t.shape)),
            "dtype": str(_leaves(node.flat_outputs, node.outputs, lambda t: t.dtype)).replace("'", "")}


def _facts(layer, nodes):
    """Input shape, output shape and output dtype of ``layer``'s calls in the graph (``multiple`` if they differ)."""
    if not nodes:  # a model drawn alone: the shapes it was built for
        return {"input": _shape_text(getattr(layer, "input_shape", None)),
                "output": _shape_text(getattr(layer, "output_shape", None)), "dtype": "?"}
    facts = [_node_facts(node) for node in nodes]
    return {key: facts[0][key] if all(f[key] == facts[0][key] for f in facts) else "multiple" for key in facts[0]}


def _activation_name(activation):
    for attribute in ("name", "__name__"):
        name = getattr(activation, attribute, None)
        if isinstance(name, str):
            return name
    return str(activation)


def _cell(text, colour="white", font=""):
    return f'<td bgcolor="{colour}"><font point-size="14"{font}>{text}</font></td>'


def _label(layer, nodes, options):
    """The HTML-like table of one box (every text from the model escaped)."""
    name, cls = html.escape(layer.name), html.escape(type(layer).__name__)
    facts = _facts(layer, nodes)
    cells = []
    if options["show_shapes"]:
        if type(layer).__name__ != "InputLayer":
            cells.append(_cell(f"Input shape: <b>{html.escape(facts['input'])}</b>"))
        cells.append(_cell(f"Output shape: <b>{html.escape(facts['output'])}</b>"))
    if options["show_dtype"]:
        cells.append(_cell(f"Output dtype: <b>{html.escape(facts['dtype'])}</b>"))
    if options["show_trainable"] and layer.weights:
        trains = layer.trainable
        cells.append(_cell("<b>Trainable</b>" if trains else "<b>Non-trainable</b>",
                            "forestgreen" if trains else "firebrick", ' color="white"'))
    span = max(1, len(cells))
    title = f"<b>{name}</b> ({cls})" if options["show_layer_names"] else f"<b>{cls}</b>"
    rows = [f'<tr><td colspan="{span}" bgcolor="black"><font point-size="16" color="white">{title}</font></td></tr>']
    activation = getattr(layer, "activation", None)
    if options["show_layer_activations"] and activation is not None:
        rows.append(f'<tr><td colspan="{span}" bgcolor="white"><font point-size="14">Activation: '
                    f"<b>{html.escape(_activation_name(activation))}</b></font></td></tr>")
    if cells:
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return '<<table border="0" cellborder="1" bgcolor="black" cellpadding="10">' + "".join(rows) + "</table>>"


# ---- the graph -----------------------------------------------------------------------------------------
class _Drawing:
    """The node ids handed out so far (one per layer object) and the clusters opened, for one DOT text."""

    def __init__(self, options, expand_nested):
        self.options, self.expand_nested = options, expand_nested
        self.ids, self.clusters = {}, 0

    def box(self, layer, nodes):
        self.ids[id(layer)] = f"n{len(self.ids)}"
        return f"{self.ids[id(layer)]} [label={_label(layer, nodes, self.options)}];"

    def cluster(self, model, indent):
        """A model's layers and arrows inside ``subgraph cluster_k { ... }`` (dashed, labelled by its name)."""
        self.clusters += 1
        pad = "  " * (indent + 1)
        lines = [f"subgraph cluster_{self.clusters} {{",
                 f'{pad}graph [style="dashed", label=<{html.escape(model.name)}>, labeljust="l", '
                 'fontname="Helvetica"];']
        lines += [pad + line for line in self.body(model, indent + 1)]
        return lines + ["}"]

    def body(self, model, indent=0):
        """The statements that draw ``model``: a box per layer (clusters for nested models), then the arrows."""
        kind = _kind(model)
        if kind is None:
            return [self.box(model, [])]
        graph = _graph_nodes(model)
        lines = []
        for layer in model.layers:
            if self.expand_nested and _kind(layer) is not None:
                lines += self.cluster(layer, indent)
            else:
                lines.append(self.box(layer, [n for n in layer._inbound_nodes if id(n) in graph]))
        edges = []
        for layer in model.layers:
            for node in (n for n in layer._inbound_nodes if id(n) in graph):
                for position, tensor in enumerate(node.inputs):
                    source, destination = tensor.node.layer, layer
                    if self.expand_nested:
                        source, destination = _source(source, tensor.index), _destination(destination, position)
                    # a Sequential model's InputLayer has no box: arrows from it are left out, as in Keras
                    if id(source) in self.ids and id(destination) in self.ids:
                        edge = f"{self.ids[id(source)]} -> {self.ids[id(destination)]};"
                        if edge not in edges:
                            edges.append(edge)
        return lines + edges


def _check_options(owner, show_shapes, show_dtype, show_layer_names, rankdir, expand_nested, dpi,
                   show_layer_activations, show_trainable, splines):
    options = {name: check_bool(value, owner, name) for name, value in [
        ("show_shapes", show_shapes), ("show_dtype", show_dtype), ("show_layer_names", show_layer_names),
        ("show_layer_activations", show_layer_activations), ("show_trainable", show_trainable)]}
    check_bool(expand_nested, owner, "expand_nested")
    if not isinstance(rankdir, str) or rankdir.upper() not in RANKDIRS:
        raise ValueError(f"{owner}: rankdir must be one of {list(RANKDIRS)} (TB: top to bottom, LR: left to "
                         f"right), got {shown(rankdir)}")
    check_real(dpi, owner, "dpi", low=0, low_open=True)
    if not isinstance(splines, str) or splines.lower() not in SPLINES:
        raise ValueError(f"{owner}: splines must be one of {list(SPLINES)}, got {shown(splines)}")
    return options


def _check_model(owner, model):
    if not (hasattr(model, "built") and callable(getattr(model, "get_config", None))
            and hasattr(model, "name")):  # a Layer, known by its interface (layers sit above utils too)
        raise TypeError(f"{owner}: model must be a neurona Model (or Layer), got {shown(model)}")
    if not model.built:
        raise ValueError(f"{owner}: model {model.name!r} has not been built yet, so its graph is not known: build "
                         "it first (start it with nr.Input(shape), or call model.build(input_shape) or the model "
                         "on a batch of data)")


def _check_kwargs(owner, kwargs):
    if "layer_range" in kwargs:
        raise ValueError(f"{owner}: layer_range is not supported (Keras 3 dropped it as well); draw a sub-model "
                         "instead: nr.Model(layer_a.input, layer_b.output)")
    if kwargs:
        raise ValueError(f"{owner}: unrecognized keyword arguments {sorted(kwargs)}")


def model_to_dot(model, show_shapes=False, show_dtype=False, show_layer_names=True, rankdir="TB",
                 expand_nested=False, dpi=200, subgraph=False, show_layer_activations=False, show_trainable=False,
                 splines="ortho", **kwargs):
    """The Graphviz DOT source of a model's graph (Keras's ``keras.utils.model_to_dot``, as text).

    Sequential and functional models are drawn layer by layer (several inputs and outputs, shared layers,
    merges and ops on symbolic tensors each one box; a shared layer's box gets an arrow from each of its
    calls); a subclassed model, having no graph, is one box.

    Args:
        model: a built model (or layer).
        show_shapes: show each layer's input and output shapes (``multiple`` for a layer called on several).
        show_dtype: show each layer's output dtype.
        show_layer_names: show ``name (Class)``; False shows the class only.
        rankdir: ``"TB"`` (top to bottom), ``"LR"`` (left to right), ``"BT"`` or ``"RL"``.
        expand_nested: draw the layers of nested Sequential and functional models inside a dashed cluster.
        dpi: the image's resolution in dots per inch (Graphviz's ``dpi``).
        subgraph: return the model as a ``subgraph cluster_1 {...}`` block, to paste into another graph.
        show_layer_activations: show the activation of layers that have one.
        show_trainable: show whether each layer's weights train (layers with weights only).
        splines: how arrows are drawn: ``"ortho"`` (right angles), ``"curved"``, ``"polyline"``, ``"spline"``,
            ``"line"`` ...

    Returns:
        str: the DOT text (``digraph ... { ... }``; render it with ``dot -Tpng`` or use ``plot_model``).

    Raises:
        TypeError: ``model`` is not a layer or model; an option is not a bool.
        ValueError: the model is not built; an option is out of range; an unknown keyword argument.
    """
    owner = "model_to_dot"
    _check_kwargs(owner, kwargs)
    options = _check_options(owner, show_shapes, show_dtype, show_layer_names, rankdir, expand_nested, dpi,
                             show_layer_activations, show_trainable, splines)
    check_bool(subgraph, owner, "subgraph")
    _check_model(owner, model)
    drawing = _Drawing(options, bool(expand_nested))
    if subgraph:
        return "\n".join(drawing.cluster(model, 0)) + "\n"
    name = re.sub(r"[^\w.-]", "_", model.name)  # the graph's name (an SVG's <title>): no quotes or backslashes
    header = [f'digraph "{name}" {{',
              f'  graph [rankdir="{rankdir.upper()}", concentrate=true, dpi={float(dpi):g}, '
              f'splines="{splines.lower()}", fontname="Helvetica"];',
              '  node [shape="plaintext", fontname="Helvetica", margin=0];',
              "  edge [penwidth=2];"]
    return "\n".join(header + ["  " + line for line in drawing.body(model)] + ["}"]) + "\n"


# ---- files ---------------------------------------------------------------------------------------------
def _render(dot_text, fmt):
    """``dot -T<fmt>`` of the text, as bytes."""
    exe = shutil.which("dot")
    if exe is None:
        raise ImportError(f"plot_model: writing a .{fmt} file needs Graphviz, whose `dot` program is not on "
                          f"PATH; {_INSTALL_HINT}")
    try:
        done = subprocess.run([exe, f"-T{fmt}"], input=dot_text.encode("utf-8"), capture_output=True,
                              timeout=DOT_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"plot_model: Graphviz's `dot -T{fmt}` did not finish in {DOT_TIMEOUT_S} s") from None
    if done.returncode != 0 or not done.stdout:
        message = done.stderr.decode("utf-8", "replace").strip() or "no message"
        raise RuntimeError(f"plot_model: Graphviz's `dot -T{fmt}` failed (exit status {done.returncode}): "
                           f"{message}")
    return done.stdout


def _write_atomically(path, data):
    """Write ``data`` over ``path`` whole or not at all: never a half-written plot."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"plot_model: cannot write to_file={path!r}: the folder {directory!r} does not "
                                "exist")
    with atomic_output(path) as file:
        file.write(data)


def _notebook_image(path, fmt):
    """An IPython image of the file when running in a notebook kernel (as Keras returns), else None."""
    ipython = sys.modules.get("IPython")  # a notebook has it loaded; never imported here
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    if shell is None or "IPKernelApp" not in getattr(shell, "config", {}):
        return None
    from IPython import display

    if fmt == "svg":
        return display.SVG(filename=path)
    return display.Image(filename=path) if fmt in ("png", "jpg", "jpeg", "gif") else None


def plot_model(model, to_file="model.png", show_shapes=False, show_dtype=False, show_layer_names=False, rankdir="TB",
               expand_nested=False, dpi=200, show_layer_activations=False, show_trainable=False, splines="ortho",
               **kwargs):
    """Draw a model's graph into ``to_file`` (Keras's ``keras.utils.plot_model``).

    The format is ``to_file``'s extension (``png`` when it has none): ``.dot`` and ``.gv`` get the DOT text of
    ``model_to_dot``; an image (``.png``, ``.svg``, ``.pdf``, ``.jpg`` ...) is rendered by Graphviz's ``dot``
    program. The file is written whole or not at all (a temporary file renamed over it).

    Args:
        model: a built model.
        to_file: the file to write.
        show_shapes, show_dtype, show_layer_names, rankdir, expand_nested, dpi, show_layer_activations,
            show_trainable, splines: as for ``model_to_dot``.

    Returns:
        An ``IPython.display`` image of the file inside a notebook (as Keras), else None.

    Raises:
        ImportError: an image format, and Graphviz's ``dot`` is not on PATH (the message says how to install it).
        ValueError: the model is not built; an unknown format, option or keyword argument.
        RuntimeError: Graphviz failed.
    """
    owner = "plot_model"
    _check_kwargs(owner, kwargs)
    path = check_path(to_file, owner, "to_file")
    fmt = os.path.splitext(path)[1][1:].lower() or "png"
    if fmt not in TEXT_FORMATS + IMAGE_FORMATS:
        raise ValueError(f"plot_model: cannot write to_file={path!r}: unknown format {fmt!r}; expected a file "
                         f"ending in one of {['.' + f for f in TEXT_FORMATS + IMAGE_FORMATS]}")
    dot_text = model_to_dot(model, show_shapes=show_shapes, show_dtype=show_dtype, show_layer_names=show_layer_names,
                            rankdir=rankdir, expand_nested=expand_nested, dpi=dpi,
                            show_layer_activations=show_layer_activations, show_trainable=show_trainable,
                            splines=splines)
    data = dot_text.encode("utf-8") if fmt in TEXT_FORMATS else _render(dot_text, fmt)
    _write_atomically(path, data)
    return _notebook_image(path, fmt)


__all__ = ["model_to_dot", "plot_model"]
