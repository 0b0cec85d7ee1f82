"""ONNX converters of the attention layers: ``MultiHeadAttention`` and ``Attention``, as the layers compute them.

MultiHeadAttention (layers/attention/multi_head_attention.py): the four projections are ``Einsum`` nodes with
Keras's kernel shapes, the scores ``Einsum("bshd,bthd->bhts")`` of the keys and the scaled queries, a softmax
over the value steps, then the weighted values and the output projection. ``Attention``: ``MatMul`` scores
(times ``scale``), or the concat scores ``c * sum tanh(q_t + k_s)``, a softmax, and ``MatMul`` with the values.

Masks: ``use_causal_mask`` (the lower triangle, built from the sequences' run-time lengths with ``Trilu``) and
MultiHeadAttention's ``attention_mask`` tensor are exported; Keras masks are not (an ONNX graph carries none:
Embedding(mask_zero=True) and Masking refuse to export). Inference mode: dropout is the identity.
"""

import math

import numpy

from .onnx_export import register_converter


def _axes(g, *axes):
    return g.constant("axes_" + "_".join(map(str, axes)), numpy.array(axes, numpy.int64))


def _causal(g, query, value):
    """A (T, S) boolean lower triangle for the run-time lengths of ``query`` (B, T, ...) and ``value``."""
    steps = [g.node("Gather", [g.node("Shape", [t]), g.constant("one_index", numpy.array([1], numpy.int64))],
                    axis=0) for t in (query, value)]
    ones = g.node("ConstantOfShape", [g.node("Concat", steps, axis=0)],
                  value=g.helper.make_tensor("one", g.onnx.TensorProto.FLOAT, [1], [1.0]))
    return g.node("Cast", [g.node("Trilu", [ones], upper=0)], to=g.onnx.TensorProto.BOOL)


def _inputs(layer, x, what, value=None, key=None):
    """The names of the query, value and key, whether the call gave them positionally or by keyword (the value
    defaults to the query and the key to the value, as in the layers)."""
    names = list(x) if isinstance(x, (list, tuple)) else [x]
    for position, (word, given) in enumerate((("value", value), ("key", key)), start=1):
        if given is None:
            continue
        if len(names) > position:
            raise ValueError(f"export_onnx: layer {layer.name!r} ({what}) is given its {word} twice, "
                             f"positionally and as {word}=")
        if len(names) < position:  # key= without a value: the value is the query
            names.append(names[0])
        names.append(given)
    if not 1 <= len(names) <= 3 or not all(isinstance(n, str) for n in names):
        raise ValueError(f"export_onnx: layer {layer.name!r} ({what}) must be called on [query, value(, key)] "
                         f"tensors, got {x!r}")
    query = names[0]
    value = names[1] if len(names) > 1 else query
    key = names[2] if len(names) > 2 else value
    return query, value, key


def _project(layer, g, x, which):
    kernel = getattr(layer, f"{which}_kernel").numpy()
    out = g.node("Einsum", [x, g.constant(f"{layer.name}_{which}_kernel", kernel)], equation="bsf,fhd->bshd")
    bias = getattr(layer, f"{which}_bias")
    return out if bias is None else g.node("Add", [out, g.constant(f"{layer.name}_{which}_bias", bias.numpy())])


@register_converter("MultiHeadAttention")
def multi_head_attention(layer, g, x, value=None, key=None, attention_mask=None, use_causal_mask=False,
                         return_attention_scores=False):
    query, value, key = _inputs(layer, x, "MultiHeadAttention", value=value, key=key)
    q = g.node("Mul", [_project(layer, g, query, "query"), g.constant("inverse_sqrt_key_dim",
                                                                      1.0 / math.sqrt(layer.key_dim))])
    k, v = _project(layer, g, key, "key"), _project(layer, g, value, "value")
    scores = g.node("Einsum", [k, q], equation="bshd,bthd->bhts")
    allowed = None
    if attention_mask is not None:
        allowed = g.node("Unsqueeze", [g.node("Cast", [attention_mask], to=g.onnx.TensorProto.BOOL), _axes(g, 1)])
    if use_causal_mask:
        causal = _causal(g, query, value)
        allowed = causal if allowed is None else g.node("And", [allowed, causal])
    if allowed is not None:
        scores = g.node("Where", [allowed, scores, g.constant("large_negative", -1e9)])
    probabilities = g.node("Softmax", [scores], axis=-1)
    if allowed is not None and (layer.dropout > 0 or return_attention_scores):
        probabilities = g.node("Where", [allowed, probabilities, g.constant("zero", 0.0)])  # Keras's scores path
    heads = g.node("Einsum", [probabilities, v], equation="bhts,bshd->bthd")
    out = g.node("Einsum", [heads, g.constant(f"{layer.name}_output_kernel", layer.output_kernel.numpy())],
                 equation="bthd,hdo->bto")
    if layer.output_bias is not None:
        out = g.node("Add", [out, g.constant(f"{layer.name}_output_bias", layer.output_bias.numpy())])
    return [out, probabilities] if return_attention_scores else out


@register_converter("Attention")
def attention(layer, g, x, use_causal_mask=False, return_attention_scores=False):
    query, value, key = _inputs(layer, x, "Attention")
    if layer.score_mode == "dot":
        scores = g.node("MatMul", [query, g.node("Transpose", [key], perm=[0, 2, 1])])
        if layer.scale is not None:
            scores = g.node("Mul", [scores, g.constant(f"{layer.name}_scale", layer.scale.numpy().reshape(1))])
    else:
        summed = g.node("Add", [g.node("Unsqueeze", [query, _axes(g, 2)]), g.node("Unsqueeze", [key, _axes(g, 1)])])
        if layer.scale is not None:
            summed = g.node("Mul", [summed, g.constant(f"{layer.name}_scale", layer.scale.numpy().reshape(1))])
        total = g.node("ReduceSum", [g.node("Tanh", [summed]), _axes(g, -1)], keepdims=0)
        scores = g.node("Mul", [total, g.constant(f"{layer.name}_concat_score_weight",
                                                  layer.concat_score_weight.numpy().reshape(1))])
    if use_causal_mask:  # as the layer: masked scores lowered by 1e9 (not replaced)
        lowered = g.node("Sub", [scores, g.constant("billion", 1e9)])
        scores = g.node("Where", [_causal(g, query, value), scores, lowered])
    weights = g.node("Softmax", [scores], axis=-1)
    out = g.node("MatMul", [weights, value])
    return [out, weights] if return_attention_scores else out
