"""Time ``Adam.apply`` against a hand-written in-place NumPy Adam on an MNIST MLP's weights.

Variables: a 784x128 kernel, 128 bias, 128x10 kernel and 10 bias, float32 (the MLP
of DESIGN.md). Both sides run the same number of steps on fresh copies of the same
weights and gradients; the script prints the median time per step of each and their
ratio (target: at most 1.1).

Run: python benchmarks/optimizer_step.py [--steps 2000] [--repeats 7]
"""

import argparse
import math
import time

import numpy as np

import neurona as nr
from neurona import optimizers

SHAPES = [(784, 128), (128,), (128, 10), (10,)]


def make_weights(seed=0):
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal(s).astype("float32") * 0.05 for s in SHAPES]
    grads = [rng.standard_normal(s).astype("float32") * 0.01 for s in SHAPES]
    return weights, grads


class NumpyAdam:
    """The loop one would write by hand: in-place moments, one expression for the update."""

    def __init__(self, params, lr=0.001, b1=0.9, b2=0.999, eps=1e-7):
        self.params, self.lr, self.b1, self.b2, self.eps, self.t = params, lr, b1, b2, eps, 0
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]

    def step(self, grads):
        self.t += 1
        b1, b2 = self.b1, self.b2
        alpha = self.lr * math.sqrt(1 - b2**self.t) / (1 - b1**self.t)
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * (g * g)
            p -= alpha * m / (np.sqrt(v) + self.eps)


def check_agreement(weights, grads, steps=10):
    """Largest weight difference after ``steps`` updates from the same start (float32 rounding only)."""
    variables = [nr.Variable(w.copy()) for w in weights]
    for var, g in zip(variables, grads):
        var.grad = g
    opt, reference = optimizers.Adam(), NumpyAdam([w.copy() for w in weights])
    for _ in range(steps):
        opt.apply(variables)
        reference.step(grads)
    return max(float(np.abs(v.data - p).max()) for v, p in zip(variables, reference.params))


def time_steps(step, steps):
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - start) / steps


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    # every framework in this process runs with the allocator tuned, as Neurona's fit tunes it (backend/allocator.py)
    nr.backend.allocator.tune()

    weights, grads = make_weights()
    variables = [nr.Variable(w.copy(), name=f"w{i}") for i, w in enumerate(weights)]
    for var, g in zip(variables, grads):
        var.grad = g
    opt = optimizers.Adam()
    reference = NumpyAdam([w.copy() for w in weights])

    ours, theirs = [], []
    for _ in range(args.repeats):  # interleaved so that machine noise hits both alike
        ours.append(time_steps(lambda: opt.apply(variables), args.steps))
        theirs.append(time_steps(lambda: reference.step(grads), args.steps))
    ours_s, theirs_s = float(np.median(ours)), float(np.median(theirs))
    drift = check_agreement(weights, grads)
    print(f"variables: {SHAPES} float32, {args.steps} steps x {args.repeats} repeats")
    print(f"neurona Adam.apply : {ours_s * 1e6:8.1f} us/step")
    print(f"hand-written NumPy : {theirs_s * 1e6:8.1f} us/step")
    print(f"ratio              : {ours_s / theirs_s:8.3f}  (target <= 1.1)")
    print(f"max |weight difference| after 10 steps from the same start: {drift:.1e} (float32 rounding)")


if __name__ == "__main__":
    main()
