"""The order Keras gives a functional model's layers, which its weight files follow.

Keras 3 (``keras/src/ops/function.py``, ``map_graph``, checked against 3.15.1) does not keep the order layers
were created or called in: it walks the graph depth-first from the outputs (each output in turn, each call's
input tensors in order), numbering every layer when first reached and listing every call after the calls it
reads from; then it gives each call a depth (0 for the calls no other call reads, otherwise one more than
the deepest call that reads it; a shared layer takes its deepest call's depth) and lists the layers deepest
first, layers of one depth in the order first reached. ``model.layers``, ``model.weights`` and the weight files
(Keras 3's ``layers/<class>_<i>`` groups, the legacy ``layer_names``) all follow that order, and Keras matches
the layers of a file to a model's by it. Neurona lists a functional model's layers in the order they run,
which differs whenever several branches or outputs have different depths, so the weight files are read and
written in Keras's order, computed here from Neurona's graph of nodes. A Sequential model keeps its list order
in both libraries.
"""


def _is_functional(model):
    from ...models import Functional  # saving sits above models

    return isinstance(model, Functional) and hasattr(model, "_flat_outputs")


def _walk(model):
    """``(nodes in Keras's post-order, {id(layer): index of first visit})`` of a functional model's graph."""
    post_order, first_visit, finished = [], {}, set()
    for output in model._flat_outputs:
        stack = [(output.node, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                finished.add(id(node))
                post_order.append(node)
                continue
            if id(node) in finished:
                continue
            first_visit.setdefault(id(node.layer), len(first_visit))
            stack.append((node, True))
            if not node.is_input:
                # visited in argument order, as Keras's recursion does: pushed in reverse
                stack.extend((tensor.node, False) for tensor in reversed(node.inputs))
    return post_order, first_visit


def keras_layers(model):
    """``model``'s layers in Keras's order (module docstring): a functional model's by depth, others as listed."""
    if not _is_functional(model):
        return list(model.layers)
    post_order, first_visit = _walk(model)
    in_graph = {id(node) for node in post_order}
    node_depth, layer_depth, layers = {}, {}, {}
    for node in reversed(post_order):
        depth = max(node_depth.setdefault(id(node), 0), layer_depth.get(id(node.layer), 0))
        layer_depth[id(node.layer)], node_depth[id(node)] = depth, depth
        layers[id(node.layer)] = node.layer
        for parent in node.parent_nodes:
            if id(parent) in in_graph:
                node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
    for tensor in model._flat_inputs:  # an input no output needs still counts, at depth 0
        layer = tensor.node.layer
        if id(layer) not in layer_depth:
            layer_depth[id(layer)], layers[id(layer)], first_visit[id(layer)] = 0, layer, -1
    order = sorted(layers, key=lambda key: (-layer_depth[key], first_visit[key]))
    return [layers[key] for key in order]
