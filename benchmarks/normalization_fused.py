"""Time the fused ``ops.standardize`` against the same normalization composed from primitive ops.

This is the measurement behind the choice of a fused op for layer, group and
instance normalization: forward + backward of
``gamma * (x - mean) / sqrt(var + eps) + beta`` on float32 batches, once with
``ops.standardize`` (one node, closed-form backward) and once as the chain
mean, sub, mul, mean, add, sqrt, div, mul, add (autograd through each node).

Cases: layer normalization of a (64, 128, 256) batch over the last axis, and
group normalization (32 groups) of a (128, 24, 24, 64) channels-last batch.

Run: python benchmarks/normalization_fused.py [--repeats 9]
"""

import argparse

import numpy as np
from timing import median_ms

import neurona as nr
from neurona import ops

EPS = 1e-3


def composed(x, gamma, beta, axes):
    mean = ops.mean(x, axis=axes, keepdims=True)
    centered = x - mean
    var = ops.mean(centered * centered, axis=axes, keepdims=True)
    return centered / ops.sqrt(var + EPS) * gamma + beta


def fused(x, gamma, beta, axes):
    return ops.standardize(x, axes, gamma, beta, epsilon=EPS)


def step(fn, x, gamma, beta, axes, dy):
    tensors = [nr.Tensor(a, requires_grad=True) for a in (x, gamma, beta)]
    out = fn(*tensors, axes)
    out.backward(dy)
    return out.data, tensors[0].grad


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    # every framework in this process runs with the allocator tuned, as Neurona's fit tunes it (backend/allocator.py)
    nr.backend.allocator.tune()
    rng = np.random.default_rng(0)
    cases = [
        ("layer norm (64, 128, 256), axis -1", (64, 128, 256), (2,), (256,)),
        ("group norm (128, 24, 24, 64), 32 groups", (128, 24, 24, 32, 2), (1, 2, 4), (32, 2)),
    ]
    for label, shape, axes, param_shape in cases:
        x = rng.normal(0.5, 2.0, shape).astype("float32")
        dy = rng.standard_normal(shape).astype("float32")
        gamma = rng.normal(1.0, 0.1, param_shape).astype("float32")
        beta = rng.normal(0.0, 0.1, param_shape).astype("float32")
        a, b = step(composed, x, gamma, beta, axes, dy), step(fused, x, gamma, beta, axes, dy)
        diff = max(float(np.abs(u - v).max()) for u, v in zip(a, b))
        inputs = (x, gamma, beta, axes, dy)
        t_composed = median_ms(lambda inputs=inputs: step(composed, *inputs), args.repeats)
        t_fused = median_ms(lambda inputs=inputs: step(fused, *inputs), args.repeats)
        print(f"{label}: composed {t_composed:7.1f} ms, fused {t_fused:7.1f} ms, "
              f"speed-up {t_composed / t_fused:4.1f}x (max |difference| {diff:.1e})")


if __name__ == "__main__":
    main()
