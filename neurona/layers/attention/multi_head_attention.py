"""``MultiHeadAttention`` (Vaswani et al. 2017, "Attention is all you need"), with Keras 3's weights and masks.

For a query sequence ``q`` (B, T, d_q) and a value sequence ``v`` (B, S, d_v) (``key`` defaults to ``value``),
with H heads of size ``key_dim``:

    Q = q W_q + b_q,  K = k W_k + b_k,  V = v W_v + b_v          (B, T|S, H, key_dim | value_dim), per head
    scores = softmax(Q K^T / sqrt(key_dim), masked)               (B, H, T, S)
    output = concat_heads(scores V) W_o + b_o                     (B, T, d_out), d_out = d_q unless output_shape

The kernels are Keras's einsum shapes: W_q (d_q, H, key_dim), W_k (d_k, H, key_dim), W_v (d_v, H, value_dim),
W_o (H, value_dim, d_out), so Keras weights load unchanged. Masks, merged with a logical and: the query's
(B, T) and the value's and key's (B, S) masks (the tensors' Keras masks, or ``query_mask``, ``value_mask``,
``key_mask``), ``attention_mask`` (B, T, S), and with ``use_causal_mask`` the lower triangle (query step t sees
value steps <= t); the query's mask is passed on to the output. A masked score is replaced by -1e9 before the
softmax. A query row with nothing to attend to (a padded query step) gets what Keras 3.15 gives it, which
depends on the path Keras takes: with ``dropout`` > 0 or ``return_attention_scores`` (Keras's explicit scores)
its probabilities are set to 0, so it outputs the output bias; otherwise (Keras's fused
``dot_product_attention``) the softmax over equal scores spreads it uniformly over every value step.

Where Neurona differs from Keras 3.15: Keras's ``call`` removes the Keras masks of the tensors it is given
(``backend.set_keras_mask(query, None)`` ...), so when a functional model runs, a tensor attended over loses its
mask for the layers that read it afterwards and propagate masks themselves (the residual ``Add([x,
attention(x, x)])`` of a Transformer block, the next attention layer), while the layers Keras handed the mask
when it built the graph (an LSTM's or GlobalAveragePooling1D's ``mask=``) keep it. Neurona keeps every mask, so
in a model that reuses a masked tensor after attending over it the results differ from Keras's at the steps
after a padded one. And Keras 3.15's ``call`` reads the query's mask from the query tensor alone
(``query_mask = backend.get_keras_mask(query)``), so an explicit ``query_mask=`` is ignored there, although its
documentation describes the argument; Neurona applies it (the query's own mask when none is given), so a
program that passes ``query_mask=`` gets the padded-row results above at its masked query steps here, and
ordinary attention there in Keras.
"""

import math

from ... import backend, initializers, ops, regularizers
from ...arguments import is_int, is_real
from ...autograd import Tensor
from ..base import Layer, check_bool
from ..masking import as_mask
from ..regularization.dropout import dropout_mask
from .inputs import check_sequences

LARGE_NEGATIVE = {"float16": -65500.0}


class MultiHeadAttention(Layer):
    """Multi-head scaled dot-product attention.

    Args:
        num_heads: number of heads H.
        key_dim: size of each head for the query and the key.
        value_dim: size of each head for the value (default ``key_dim``).
        dropout: dropout rate on the attention probabilities, in training.
        use_bias: biases in the four projections.
        output_shape: the last dimension of the output (default: the query's).
        attention_axes: only None (attention over axis 1) is supported.
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer: for the four projections.
        seed: seed of the dropout.
        **kwargs: base Layer arguments.

    Call: ``layer(query, value, key=None, query_mask=None, value_mask=None, key_mask=None, attention_mask=None,
    return_attention_scores=False, training=None, use_causal_mask=False)``; ``value`` may be left out for
    self-attention (Neurona's shorthand for ``layer(x, x)``).
    """

    supports_masking = True  # the output's mask is the query's

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True, output_shape=None,
                 attention_axes=None, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, seed=None, **kwargs):
        for what, value in (("num_heads", num_heads), ("key_dim", key_dim)):
            if not is_int(value) or value <= 0:
                raise ValueError(f"MultiHeadAttention {what} must be a positive integer, got {value!r}")
        if value_dim is not None and (not is_int(value_dim) or value_dim <= 0):
            raise ValueError(f"MultiHeadAttention value_dim must be None or a positive integer, got {value_dim!r}")
        if not is_real(dropout) or not 0 <= dropout < 1:
            raise ValueError(f"MultiHeadAttention dropout must be a number in [0, 1), got {dropout!r}")
        if attention_axes is not None:
            raise NotImplementedError("MultiHeadAttention: attention_axes other than None (axis 1) are not "
                                      "supported yet")
        if output_shape is not None and not (is_int(output_shape) and output_shape > 0):
            shape = tuple(output_shape) if isinstance(output_shape, (list, tuple)) else None
            if shape is None or len(shape) != 1 or not is_int(shape[0]) or shape[0] <= 0:
                raise ValueError(f"MultiHeadAttention output_shape must be None or a positive integer, got "
                                 f"{output_shape!r}")
            output_shape = shape[0]
        if seed is not None and (not is_int(seed) or seed < 0):
            raise ValueError(f"MultiHeadAttention seed must be None or a non-negative int, got {seed!r}")
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.num_heads, self.key_dim = int(num_heads), int(key_dim)
        self.value_dim = int(value_dim) if value_dim is not None else self.key_dim
        self.dropout = float(dropout)
        self.use_bias = check_bool(use_bias, "MultiHeadAttention use_bias")
        self.output_shape_arg = None if output_shape is None else int(output_shape)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.seed = None if seed is None else int(seed)
        self._rng = backend.make_generator(self.seed)
        self.query_kernel = self.query_bias = self.key_kernel = self.key_bias = None
        self.value_kernel = self.value_bias = self.output_kernel = self.output_bias = None

    # ---- weights -------------------------------------------------------------------------------------------
    def _projection(self, name, kernel_shape, bias_shape):
        kernel = self.add_weight(name=f"{name}_kernel", shape=kernel_shape, initializer=self.kernel_initializer,
                                 regularizer=self.kernel_regularizer)
        bias = self.add_weight(name=f"{name}_bias", shape=bias_shape, initializer=self.bias_initializer,
                               regularizer=self.bias_regularizer) if self.use_bias else None
        return kernel, bias

    def build(self, query_shape, value_shape=None, key_shape=None):
        """Create the four projections for these shapes; called with the query's shape alone (a layer is
        built on its first input), it waits for the call, which knows the value's and the key's."""
        if value_shape is None:
            return
        self._build_projections(query_shape, value_shape, value_shape if key_shape is None else key_shape)

    def _build_projections(self, query_shape, value_shape, key_shape):
        if getattr(self, "query_kernel", None) is not None:
            return
        h, dk, dv = self.num_heads, self.key_dim, self.value_dim
        self.query_kernel, self.query_bias = self._projection("query", (query_shape[-1], h, dk), (h, dk))
        self.key_kernel, self.key_bias = self._projection("key", (key_shape[-1], h, dk), (h, dk))
        self.value_kernel, self.value_bias = self._projection("value", (value_shape[-1], h, dv), (h, dv))
        out = self.output_shape_arg or query_shape[-1]
        self.output_kernel, self.output_bias = self._projection("output", (h, dv, out), (out,))

    def build_for(self, input_shape):
        """Build for self-attention over inputs of ``input_shape`` (query, value and key alike)."""
        shape = super().build_for(input_shape)
        self._build_projections(tuple(input_shape), tuple(input_shape), tuple(input_shape))
        return shape

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        return tuple(query_shape[:-1]) + (self.output_shape_arg or query_shape[-1],)

    def compute_output_spec(self, query, value=None, key=None, return_attention_scores=False, **kwargs):
        """Called on symbolic tensors (the functional API): the weights are created here, for the shapes of
        all three inputs."""
        from ..symbolic import SymbolicTensor

        value = query if value is None else value
        key = value if key is None else key
        self._build_projections(query.shape, value.shape, key.shape)
        out = SymbolicTensor(self.compute_output_shape(query.shape), self.compute_dtype, name=self.name)
        if return_attention_scores:
            scores = SymbolicTensor((query.shape[0], self.num_heads, query.shape[1], value.shape[1]),
                                    self.compute_dtype, name=self.name)
            return [out, scores]
        return out

    # ---- the call ----------------------------------------------------------------------------------------------
    def call(self, query, value=None, key=None, query_mask=None, value_mask=None, key_mask=None, attention_mask=None,
             return_attention_scores=False, training=None, use_causal_mask=False):
        value = query if value is None else ops.convert_to_tensor(value)
        key_given = key is not None
        key = value if key is None else ops.convert_to_tensor(key)
        check_sequences(self, query, value, key)
        self._build_projections(query.shape, value.shape, key.shape)
        for name, tensor, kernel in (("query", query, self.query_kernel), ("value", value, self.value_kernel),
                                     ("key", key, self.key_kernel)):
            if tensor.shape[-1] != kernel.shape[0]:
                raise ValueError(f"layer {self.name!r} (MultiHeadAttention) was built for {name} features of size "
                                 f"{kernel.shape[0]}, got {name} of shape {tuple(tensor.shape)}")
        q = self._project(query, self.query_kernel, self.query_bias)
        k = self._project(key, self.key_kernel, self.key_bias)
        v = self._project(value, self.value_kernel, self.value_bias)
        mask = self._attention_mask(query, value, key if key_given else None, query_mask, value_mask, key_mask,
                                    attention_mask, use_causal_mask)
        scores = ops.einsum("bshd,bthd->bhts", k, ops.mul(q, 1.0 / math.sqrt(self.key_dim)))
        probabilities = _masked_softmax(scores, mask, zero_empty_rows=self.dropout > 0 or return_attention_scores)
        attended = probabilities
        if training and self.dropout > 0:
            attended = self._dropped(probabilities)
        heads = ops.einsum("bhts,bshd->bthd", attended, v)
        out = ops.einsum("bthd,hdo->bto", heads, self._computed(self.output_kernel))
        if self.output_bias is not None:
            out = ops.add(out, self._computed(self.output_bias))
        return [out, probabilities] if return_attention_scores else out

    def _project(self, x, kernel, bias):
        out = ops.einsum("bsf,fhd->bshd", self._computed(x), self._computed(kernel))
        return out if bias is None else ops.add(out, self._computed(bias))

    def _computed(self, t):
        """``t`` in the compute dtype: the inputs, and the weights of the first call, which builds them after
        a mixed policy's cast of the layer's weights (layers/autocast.py) has run."""
        return t if t.dtype == self.compute_dtype else ops.cast(t, self.compute_dtype)

    def _attention_mask(self, query, value, key, query_mask, value_mask, key_mask, attention_mask, causal):
        """The (B, T, S) boolean mask that every given mask allows (None: attend everywhere)."""
        query_mask = query_mask if query_mask is not None else getattr(query, "_keras_mask", None)
        value_mask = value_mask if value_mask is not None else getattr(value, "_keras_mask", None)
        if key is not None and key_mask is None:
            key_mask = getattr(key, "_keras_mask", None)
        steps_q, steps_v = query.shape[1], value.shape[1]
        xp = backend.xp_of(query.data)
        mask = None

        def merge(part):
            nonlocal mask
            mask = part if mask is None else xp.logical_and(mask, part)

        if query_mask is not None:
            merge(_bool(query_mask, (query.shape[0], steps_q), "query_mask")[:, :, None])
        if value_mask is not None:
            merge(_bool(value_mask, (value.shape[0], steps_v), "value_mask")[:, None, :])
        if key_mask is not None:
            merge(_bool(key_mask, (value.shape[0], steps_v), "key_mask")[:, None, :])
        if attention_mask is not None:
            merge(_bool(attention_mask, (query.shape[0], steps_q, steps_v), "attention_mask"))
        if causal:
            merge(xp.tril(xp.ones((steps_q, steps_v), dtype=bool))[None])
        return mask

    def _dropped(self, probabilities):
        return ops.mul(probabilities, dropout_mask(self._rng, probabilities.shape, self.dropout, probabilities.dtype,
                                                   probabilities.device))

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "key_dim": self.key_dim,
            "value_dim": self.value_dim,
            "dropout": self.dropout,
            "use_bias": self.use_bias,
            "output_shape": self.output_shape_arg,
            "attention_axes": None,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "seed": self.seed,
        }


def _bool(mask, shape, what):
    values = as_mask(mask).data
    if tuple(values.shape) != tuple(shape) and not (values.ndim == len(shape) and all(
            m in (1, s) for m, s in zip(values.shape, shape))):
        raise ValueError(f"MultiHeadAttention {what} must have shape {tuple(shape)} (or broadcast to it), got "
                         f"{tuple(values.shape)}")
    return values


def _masked_softmax(scores, mask, zero_empty_rows):
    """``softmax`` over the last axis where ``mask`` (B, T, S) allows; with ``zero_empty_rows`` 0 elsewhere
    (Keras's ``Softmax(mask=)``), else the masked scores are only lowered to -1e9 (Keras's fused
    ``dot_product_attention``), which differs only in a row with nothing allowed: uniform there."""
    if mask is None:
        return ops.softmax(scores, axis=-1)
    allowed = Tensor._wrap(mask[:, None], False)  # over the heads
    filler = LARGE_NEGATIVE.get(str(scores.dtype), -1e9)
    probabilities = ops.softmax(ops.where(allowed, scores, filler), axis=-1)
    return ops.where(allowed, probabilities, 0.0) if zero_empty_rows else probabilities
