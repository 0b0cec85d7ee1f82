"""The input-output Jacobian of a model on a batch, and its singular values (dynamical isometry).

Pennington, Schoenholz & Ganguli 2017, "Resurrecting the sigmoid in deep learning through dynamical isometry":
a deep network trains fast when the singular values of ``J = d output / d input`` concentrate near 1 for typical
inputs, so that every direction of the error signal reaches the first layers at the same scale. Orthogonal
weights with tanh near the edge of chaos achieve it; ReLU networks cannot (their spectrum spreads with depth).
The mean-field ``chi_1`` of ``mean_field.py`` predicts the *mean* squared singular value, this measures the
whole spectrum.
"""

import math

import numpy as np

from .. import backend
from ..arguments import is_int
from ..autograd import Tensor, enable_grad
from ..layers import Layer

DEFAULT_MAX_SIZE = 4_000_000  # Jacobian entries per sample: a 2000 x 2000 matrix, an SVD of about a second
_CHUNK_ENTRIES = 16_000_000  # entries held at once across the samples of one forward pass (128 MB in float64)


class JacobianTooLarge(ValueError):
    """The per-sample Jacobian has more entries than the ``max_size`` it may have."""


class NotDifferentiable(ValueError):
    """The model's output is not a differentiable function of its input (no gradient reaches the input)."""


def _check_positive_int(value, name):
    if not is_int(value) or value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def _batch(x, n_samples):
    data = x.numpy() if isinstance(x, Tensor) else np.asarray(x)
    if data.dtype.kind != "f" or data.ndim < 2 or data.shape[0] == 0:
        raise ValueError(f"x must be a floating-point batch (samples, features...) to differentiate, got dtype "
                         f"{data.dtype} and shape {data.shape}")
    return data[:n_samples]


def _output(model, inputs):
    out = model(inputs, training=False)  # inference: batch statistics frozen, dropout off, samples independent
    if not isinstance(out, Tensor):
        raise ValueError(f"model {model.name!r} returned {type(out).__name__}; the Jacobian needs a model with one "
                         "output tensor")
    if not out.requires_grad:
        raise NotDifferentiable(f"the output of model {model.name!r} does not depend differentiably on its "
                                "input (an Embedding's token ids, say)")
    return out


class _FrozenWeights:
    """Weights stop requiring gradients for the duration: backward computes input gradients only, and the
    ``.grad`` a training loop may hold on them is left as it was."""

    def __init__(self, model):
        self.weights = list(model.weights)

    def __enter__(self):
        self.saved = [w.requires_grad for w in self.weights]
        for w in self.weights:
            w.requires_grad = False
        return self

    def __exit__(self, *exc):
        for w, flag in zip(self.weights, self.saved):
            w.requires_grad = flag


def _chunk_jacobian(model, chunk):
    """(len(chunk), out_dim, in_dim) for one forward pass, one backward per output unit.

    Samples do not interact at inference, so ``d sum_i out[i, k] / d x`` holds row ``k`` of every sample's
    Jacobian at once: ``out_dim`` backward passes through one retained graph, whatever the number of samples.
    """
    inputs = Tensor(chunk, requires_grad=True)
    with enable_grad():
        out = _output(model, inputs)
    n, out_dim, in_dim = chunk.shape[0], out.data.size // chunk.shape[0], chunk[0].size
    xp = backend.xp_of(out.data)
    jac = np.empty((n, out_dim, in_dim))
    for k in range(out_dim):
        seed = xp.zeros((n, out_dim), dtype=out.data.dtype)
        seed[:, k] = 1
        inputs.grad = None
        out.backward(seed.reshape(out.shape), retain_graph=k < out_dim - 1)
        grad = inputs.grad
        jac[:, k, :] = 0.0 if grad is None else backend.asnumpy(grad).reshape(n, in_dim)
    return jac


def _check_size(out_dim, in_dim, max_size, model):
    if out_dim * in_dim > max_size:
        raise JacobianTooLarge(
            f"the Jacobian of model {model.name!r} has {out_dim} x {in_dim} = {out_dim * in_dim:,} entries per "
            f"sample, more than max_size={max_size:,}; it costs {out_dim} backward passes and an SVD of that size. "
            f"Pass max_size={out_dim * in_dim} (or more) to compute it anyway")


def _map_chunks(model, x, n_samples, max_size, reduce):
    """``reduce(J)`` of each chunk of samples, in order: only one chunk's Jacobians are held at a time."""
    if not isinstance(model, Layer):
        raise TypeError(f"model must be a neurona Model or Layer, got {type(model).__name__}")
    n_samples = _check_positive_int(n_samples, "n_samples")
    max_size = _check_positive_int(max_size, "max_size")
    data = _batch(x, n_samples)
    in_dim = data[0].size
    with _FrozenWeights(model):
        with enable_grad():  # the shape of one output, before any backward pass
            probe = _output(model, Tensor(data[:1], requires_grad=True))
        out_dim = probe.data.size
        _check_size(out_dim, in_dim, max_size, model)
        per_chunk = max(1, _CHUNK_ENTRIES // (out_dim * in_dim))
        return [reduce(_chunk_jacobian(model, data[start:start + per_chunk]))
                for start in range(0, data.shape[0], per_chunk)]


def input_output_jacobian(model, x, n_samples=32, max_size=DEFAULT_MAX_SIZE):
    """``J[i] = d model(x)[i] / d x[i]`` for the first ``n_samples`` samples, by Neurona's autograd.

    Each sample's input and output are flattened: ``J`` has shape ``(n, out_dim, in_dim)`` (float64). The model
    runs with ``training=False``; a layer that mixes samples even at inference would make the rows wrong.
    The weights' ``.grad`` are left untouched.

    Args:
        model: a neurona Model (or Layer) with one input and one output tensor.
        x: a floating-point batch ``(samples, ...)`` (array or Tensor).
        n_samples: how many of its samples to use (a positive int).
        max_size: the most entries ``out_dim * in_dim`` one sample's Jacobian may have.

    Raises:
        JacobianTooLarge: ``out_dim * in_dim > max_size`` (the message gives the size to pass to allow it).
    """
    return np.concatenate(_map_chunks(model, x, n_samples, max_size, lambda jac: jac), axis=0)


def _summary(values):
    flat = values.ravel()
    return {
        "mean": float(flat.mean()), "std": float(flat.std()), "min": float(flat.min()), "max": float(flat.max()),
        "mean_squared": float(np.mean(flat ** 2)),
        "fraction_within_10_percent_of_1": float(np.mean(np.abs(flat - 1) <= 0.1)),
    }


def jacobian_singular_values(model, x, n_samples=32, max_size=DEFAULT_MAX_SIZE):
    """The singular values of the input-output Jacobian on each of the first ``n_samples`` samples.

    Dynamical isometry (Pennington et al. 2017) is a spectrum concentrated at 1: ``mean`` near 1, small ``std``,
    ``fraction_within_10_percent_of_1`` near 1. ``mean_squared`` is ``tr(J J^T) / min(out_dim, in_dim)``, the
    quantity the mean-field recursion predicts as the product of the layers' ``chi_1`` (when
    ``out_dim <= in_dim``). Samples are processed in chunks of at most 16 million Jacobian entries, each
    SVD'd and dropped, so memory stays bounded whatever ``n_samples``.

    Args:
        model, x, n_samples, max_size: as ``input_output_jacobian``.

    Returns:
        ``{"singular_values": (n, min(out_dim, in_dim)) float64 array, each row in decreasing order,
        "n_samples", "input_dim", "output_dim", "mean", "std", "min", "max", "mean_squared",
        "fraction_within_10_percent_of_1", "condition_number"}``: everything but the array is a plain int or
        float (``condition_number``, the median over samples of ``max / min``, is None where a Jacobian is
        singular).
    """
    shape = []

    def spectrum(jac):
        shape[:] = jac.shape[1:]
        return np.linalg.svd(jac, compute_uv=False)

    values = np.concatenate(_map_chunks(model, x, n_samples, max_size, spectrum), axis=0)
    smallest, largest = values[:, -1], values[:, 0]
    condition = float(np.median(largest / smallest)) if np.all(smallest > 0) else math.inf
    return {"singular_values": values, "n_samples": int(values.shape[0]), "output_dim": int(shape[0]),
            "input_dim": int(shape[1]), **_summary(values),
            "condition_number": condition if math.isfinite(condition) else None}


__all__ = ["JacobianTooLarge", "DEFAULT_MAX_SIZE", "input_output_jacobian", "jacobian_singular_values"]
