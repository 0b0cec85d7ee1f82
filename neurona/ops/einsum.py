"""Einstein summation, differentiable: ``einsum("bij,bjk->bik", a, b)`` with NumPy's subscripts, ``...`` included.

One primitive, ``Einsum``, on subscripts with the ellipsis spelled out as
letters. The gradient of an operand is again an einsum, of the upstream
gradient and the other operands, onto that operand's letters:

    dL/dA_k[labels_k] = einsum(g[out], A_j[labels_j] (j != k) -> labels_k)

with two adjustments NumPy's einsum cannot express directly: a letter that
only this operand has (summed away in the forward pass) gets the gradient
broadcast along it, and a letter repeated in this operand (a diagonal, as in
``"ii->i"``) gets the gradient written onto that diagonal, zeros elsewhere.
Size-1 axes that broadcast against larger ones are summed back.
"""

import collections
import string

from ..arguments import shown
from ..autograd import Function
from ..backend import kernels, xp_of
from .convert import as_tensor


def _contract(inputs, output, arrays):
    # kernels.einsum: 16-bit operands (mixed precision) are summed in float32 and rounded once
    return kernels.einsum(",".join(inputs) + "->" + output, *arrays)


class Einsum(Function):
    """``einsum(inputs -> output)`` over explicit letter subscripts (one string per operand)."""

    def forward(self, *arrays, inputs=None, output=None):
        self.arrays, self.terms, self.output = arrays, inputs, output
        return _contract(inputs, output, arrays)

    def backward(self, g):
        return tuple(self._grad(k, g) if needed else None for k, needed in enumerate(self.needs_input_grad))

    def _grad(self, k, g):
        xp = xp_of(g)
        target, shape = self.terms[k], self.arrays[k].shape
        unique = "".join(dict.fromkeys(target))
        sizes = {c: shape[target.index(c)] for c in unique}
        terms = [self.output] + [s for j, s in enumerate(self.terms) if j != k]
        arrays = [g] + [a for j, a in enumerate(self.arrays) if j != k]
        present = set("".join(terms))
        reached = "".join(c for c in unique if c in present)
        grad = _contract(terms, reached, arrays)
        wide = tuple(i for i, c in enumerate(reached) if sizes[c] == 1 and grad.shape[i] != 1)
        if wide:  # this operand's size-1 axis was broadcast against a longer one
            grad = grad.sum(axis=wide, keepdims=True)
        grad = grad.reshape(tuple(sizes[c] if c in reached else 1 for c in unique))
        grad = xp.broadcast_to(grad, tuple(sizes[c] for c in unique))  # constant along letters only k has
        if len(unique) == len(target):
            return grad
        full = xp.zeros(shape, dtype=grad.dtype)  # a repeated letter: the gradient lives on the diagonal
        full[tuple(xp.arange(sizes[c]).reshape(tuple(-1 if u == c else 1 for u in unique)) for c in target)] = grad
        return full


def parse(subscripts, shapes):
    """``(inputs, output)``: one string of letters per operand and the output's, with ``...`` spelled out.

    Implicit mode (no ``->``) gives the ellipsis axes, then the letters that
    appear once, in alphabetical order, as NumPy.

    Raises:
        TypeError: ``subscripts`` is not a string.
        ValueError: the subscripts are malformed or do not fit the operands' shapes.
    """
    if not isinstance(subscripts, str):
        raise TypeError(f"einsum: subscripts must be a string such as 'ij,jk->ik', got {shown(subscripts)}")
    spec = subscripts.replace(" ", "")
    if spec.count("->") > 1 or any(not (c.isascii() and c.isalpha()) and c not in ".,->" for c in spec):
        raise ValueError(f"einsum: malformed subscripts {subscripts!r} (letters, ',', '...' and one '->')")
    lhs, arrow, out = spec.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: subscripts {subscripts!r} name {len(terms)} operands, got {len(shapes)}")
    free = [c for c in string.ascii_letters if c not in spec]
    ranks = []
    for i, (term, shape) in enumerate(zip(terms, shapes)):
        explicit = term.replace("...", "", 1)
        if "." in explicit or "-" in explicit or ">" in explicit:
            raise ValueError(f"einsum: malformed term {term!r} in {subscripts!r}")
        rank = len(shape) - len(explicit)
        if rank < 0 or (rank > 0 and "..." not in term):
            raise ValueError(f"einsum: term {term!r} names {len(explicit)} axes but operand {i} has shape {shape}")
        ranks.append(rank)
    ellipsis = "".join(free[: max(ranks, default=0)])
    inputs = [t.replace("...", ellipsis[len(ellipsis) - r:] if r else "") for t, r in zip(terms, ranks)]
    if not arrow:
        counts = collections.Counter("".join(t.replace("...", "") for t in terms))
        output = ellipsis + "".join(sorted(c for c, n in counts.items() if n == 1))
    else:
        if out.count("...") > 1 or "." in out.replace("...", "") or (ellipsis and "..." not in out):
            raise ValueError(f"einsum: the output {out!r} of {subscripts!r} must hold '...' once when the operands "
                             "have ellipsis axes, and nothing but letters otherwise")
        output = out.replace("...", ellipsis)
    _check(subscripts, inputs, output, shapes)
    return inputs, output


def _check(subscripts, inputs, output, shapes):
    if len(set(output)) != len(output) or not set(output) <= set("".join(inputs)):
        raise ValueError(f"einsum: output letters of {subscripts!r} must be distinct and each appear in an input")
    sizes = collections.defaultdict(set)
    for term, shape in zip(inputs, shapes):
        for c, n in zip(term, shape):
            sizes[c].add(n)
        for c in set(term):
            if len({n for t, n in zip(term, shape) if t == c}) > 1:
                raise ValueError(f"einsum: letter {c!r} repeats in one operand of {subscripts!r} along axes of "
                                 f"different sizes (shape {shape})")
    for c, found in sizes.items():
        if len(found - {1}) > 1:
            raise ValueError(f"einsum: letter {c!r} of {subscripts!r} stands for axes of sizes {sorted(found)} "
                             f"(operand shapes {[tuple(s) for s in shapes]})")


def einsum(subscripts, *operands, **kwargs):
    """Einstein summation over ``operands`` as NumPy's ``einsum``, differentiable in every operand.

    ``"ij,jk->ik"`` is a matrix product, ``"bij->bji"`` a transpose, ``"ii->"``
    a trace, ``"...ij,...jk->...ik"`` a batched product with broadcasting,
    ``"ij"`` (implicit mode) the operand itself.

    Args:
        subscripts: the letters of each operand's axes, comma-separated, and ``->`` the output's.
        *operands: Tensors or array-likes.
        **kwargs: ``optimize`` (accepted for Keras and NumPy; the contraction order is chosen here).

    Raises:
        TypeError: an unknown keyword, or subscripts that are not a string.
        ValueError: malformed subscripts, or ones that do not fit the operands.
    """
    unknown = set(kwargs) - {"optimize"}
    if unknown:
        raise TypeError(f"einsum: unexpected keyword arguments {sorted(unknown)} (only optimize is accepted)")
    if not operands:
        raise ValueError("einsum needs at least one operand")
    tensors = [as_tensor(o) for o in operands]
    inputs, output = parse(subscripts, [t.shape for t in tensors])
    return Einsum.apply(*tensors, inputs=tuple(inputs), output=output)
