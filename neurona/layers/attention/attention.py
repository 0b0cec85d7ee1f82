"""``Attention``: dot-product (Luong et al. 2015) or additive-style attention of a query sequence over a value
sequence, with no projections of its own (Keras 3's semantics).

    scores  = q k^T (times a learned scale with ``use_scale``)                 score_mode="dot"
    scores  = c * sum over features of tanh(q_t + k_s) (tanh(scale (q_t + k_s)))  score_mode="concat"
    weights = softmax over the value steps (masked value steps: scores - 1e9; ``use_causal_mask``: s <= t)
    output  = weights v, zero at masked query steps                                  (B, T_q, d_v)

With ``dropout`` in training the weights are dropped (inverted dropout) before the product, and
``return_attention_scores`` returns those dropped weights, as Keras 3's Attention does (its MultiHeadAttention
returns them before the dropout).

Called on ``[query, value]`` or ``[query, value, key]`` (key defaults to value); masks are ``[query_mask,
value_mask]`` (``mask=``, or the inputs' own Keras masks).
"""

from ... import backend, ops
from ...arguments import is_int, is_real
from ...autograd import Tensor
from ..base import Layer, check_bool
from ..masking import as_mask
from ..regularization.dropout import dropout_mask
from .inputs import check_sequences


class Attention(Layer):
    """Dot-product or concat-score attention over ``[query, value(, key)]``.

    Args:
        use_scale: learn a scalar that multiplies the scores (initialized to one).
        score_mode: ``"dot"`` or ``"concat"``.
        dropout: dropout rate on the attention weights, in training.
        seed: seed of the dropout.
        **kwargs: base Layer arguments.
    """

    supports_masking = True
    SCORE_MODES = ("dot", "concat")

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        if score_mode not in self.SCORE_MODES:
            raise ValueError(f"Attention score_mode must be one of {self.SCORE_MODES}, got {score_mode!r}")
        if not is_real(dropout) or not 0 <= dropout < 1:
            raise ValueError(f"Attention dropout must be a number in [0, 1), got {dropout!r}")
        if seed is not None and (not is_int(seed) or seed < 0):
            raise ValueError(f"Attention seed must be None or a non-negative int, got {seed!r}")
        super().__init__(**kwargs)
        self.use_scale = check_bool(use_scale, "Attention use_scale")
        self.score_mode, self.dropout = score_mode, float(dropout)
        self.seed = None if seed is None else int(seed)
        self._rng = backend.make_generator(self.seed)
        self.scale = self.concat_score_weight = None

    def build(self, input_shape):
        if self.use_scale:
            self.scale = self.add_weight(name="scale", shape=(), initializer="ones")
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight(name="concat_score_weight", shape=(), initializer="ones")

    def _inputs(self, inputs):
        if not isinstance(inputs, (list, tuple)) or not 2 <= len(inputs) <= 3:
            raise ValueError(f"layer {self.name!r} (Attention) must be called on [query, value] or [query, value, "
                             f"key], got {type(inputs).__name__}")
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) > 2 else value
        check_sequences(self, query, value, key)
        return query, value, key

    def call(self, inputs, mask=None, training=None, return_attention_scores=False, use_causal_mask=False):
        query, value, key = self._inputs(inputs)
        masks = list(mask) if isinstance(mask, (list, tuple)) else [mask, None]
        query_mask, value_mask = (masks + [None, None])[:2]
        scores = self._scores(query, key)
        allowed = None
        if value_mask is not None:
            allowed = as_mask(value_mask).data[:, None, :]
        if use_causal_mask:
            xp = backend.xp_of(scores.data)
            causal = xp.tril(xp.ones(scores.shape[1:], dtype=bool))[None]
            allowed = causal if allowed is None else xp.logical_and(allowed, causal)
        if allowed is not None:
            penalty = 65504.0 if scores.dtype == "float16" else 1.0e9
            scores = ops.where(Tensor._wrap(allowed, False), scores, ops.sub(scores, penalty))
        weights = ops.softmax(scores, axis=-1)
        if training and self.dropout > 0:  # the scores returned are the dropped ones, as Keras's Attention
            weights = ops.mul(weights, dropout_mask(self._rng, weights.shape, self.dropout, weights.dtype,
                                                    weights.device))
        out = ops.matmul(weights, value)
        if query_mask is not None:
            out = ops.where(Tensor._wrap(as_mask(query_mask).data[:, :, None], False), out, 0.0)
        return [out, weights] if return_attention_scores else out

    def _scores(self, query, key):
        if self.score_mode == "dot":
            scores = ops.matmul(query, ops.swapaxes(key, -2, -1))
            return scores if self.scale is None else ops.mul(scores, self.scale)
        summed = ops.add(ops.expand_dims(query, -2), ops.expand_dims(key, -3))  # (B, T_q, T_v, d)
        if self.scale is not None:
            summed = ops.mul(self.scale, summed)
        return ops.mul(self.concat_score_weight, ops.sum(ops.tanh(summed), axis=-1))

    def compute_mask(self, inputs, mask=None):
        if not isinstance(mask, (list, tuple)) or mask[0] is None:
            return None
        return mask[0]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0][:-1]) + (input_shape[1][-1],)

    def compute_output_spec(self, inputs, return_attention_scores=False, **kwargs):
        """On symbolic tensors (the functional API): the output, and with ``return_attention_scores`` the
        (B, T_q, T_v) weights beside it."""
        from ..symbolic import SymbolicTensor

        out = super().compute_output_spec(inputs, **kwargs)
        if not return_attention_scores:
            return out
        query, value = self._inputs(inputs)[:2]
        return [out, SymbolicTensor((query.shape[0], query.shape[1], value.shape[1]), out.dtype, name=self.name)]

    def get_config(self):
        return {**super().get_config(), "use_scale": self.use_scale, "score_mode": self.score_mode,
                "dropout": self.dropout, "seed": self.seed}
