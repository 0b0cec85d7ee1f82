"""Time ``Optimizer.apply`` (Adam, Adadelta) on the MNIST MLP's and CNN's variables, kernels against references.

Variable sets, float32:

- ``mlp``: 784x128, 128, 128x10, 10 (the MLP of DESIGN.md, Adam in benchmarks/mnist_mlp.py);
- ``cnn``: 3x3x1x32, 32, 3x3x32x64, 64, 9216x128, 128, 128x10, 10 (examples/mnist_cnn.py, Adadelta lr 1.0).

Contenders, timed in the same process, interleaved round by round so that machine noise hits them alike:

- ``kernels``: this tree's optimizers with the compiled kernels (``NEURONA_KERNELS=numba``);
- ``reference``: the same with ``NEURONA_KERNELS=numpy`` (the NumPy reference kernels);
- ``--against REV``: the optimizers of git revision REV (``git show REV:neurona/optimizers/...``, loaded from a
  temporary folder as a package beside this tree's ``neurona``), e.g. the commit before the kernels;
- for Adam on the MLP, a hand-written in-place NumPy Adam (the loop one would write by hand).

Prints the median time per step of each, its ratio to the first contender that is not ``kernels`` (REV when
given), and the largest weight difference from ``kernels`` after 10 steps from the same start (0 means
bit-identical).

Run: python benchmarks/optimizer_step.py [--against HEAD] [--steps 2000] [--repeats 7] [--sets mlp cnn]
"""

import argparse
import contextlib
import importlib
import math
import os
import subprocess
import sys
import tempfile
import time
import types

import numpy as np

import neurona as nr
from neurona import optimizers

SETS = {
    "mlp": [(784, 128), (128,), (128, 10), (10,)],
    "cnn": [(3, 3, 1, 32), (32,), (3, 3, 32, 64), (64,), (9216, 128), (128,), (128, 10), (10,)],
}
OPTIMIZERS = {"adam": ("Adam", "adam", {}), "adadelta": ("Adadelta", "adadelta", {"learning_rate": 1.0})}
FILES = ("base", "adam", "adamw", "adadelta", "adagrad", "rmsprop", "sgd")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_revision(rev, folder):
    """The optimizer modules of git revision ``rev`` as ``neurona._optimizers_at_rev.<name>`` (its relative
    imports resolve to this tree's ``neurona``; its ``__init__`` is not run, so no registry is touched)."""
    for name in FILES:
        text = subprocess.run(["git", "show", f"{rev}:neurona/optimizers/{name}.py"], cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout
        with open(os.path.join(folder, f"{name}.py"), "w") as f:
            f.write(text)
    package = types.ModuleType("neurona._optimizers_at_rev")
    package.__path__ = [folder]
    sys.modules[package.__name__] = package
    return {name: importlib.import_module(f"{package.__name__}.{name}") for name in FILES}


class NumpyAdam:
    """The loop one would write by hand: in-place moments, one expression for the update."""

    def __init__(self, variables, lr=0.001, b1=0.9, b2=0.999, eps=1e-7):
        self.lr, self.b1, self.b2, self.eps, self.t = lr, b1, b2, eps, 0
        self.m = [np.zeros_like(v.data) for v in variables]
        self.v = [np.zeros_like(v.data) for v in variables]

    def apply(self, variables):
        self.t += 1
        b1, b2 = self.b1, self.b2
        alpha = self.lr * math.sqrt(1 - b2**self.t) / (1 - b1**self.t)
        for var, m, v in zip(variables, self.m, self.v):
            p, g = var.data, var.grad
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * (g * g)
            p -= alpha * m / (np.sqrt(v) + self.eps)


def make_variables(shapes, seed=0):
    rng = np.random.default_rng(seed)
    variables = []
    for i, shape in enumerate(shapes):
        var = nr.Variable((rng.standard_normal(shape) * 0.05).astype("float32"), name=f"w{i}")
        var.grad = (rng.standard_normal(shape) * 0.01).astype("float32")
        variables.append(var)
    return variables


@contextlib.contextmanager
def kernels_choice(choice):
    """``NEURONA_KERNELS=choice`` for the body (read at every kernel call), restored afterwards."""
    previous = os.environ.get("NEURONA_KERNELS")
    os.environ["NEURONA_KERNELS"] = choice
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("NEURONA_KERNELS", None)
        else:
            os.environ["NEURONA_KERNELS"] = previous


def run_steps(opt, variables, choice, steps):
    """Seconds per ``opt.apply(variables)`` over ``steps`` steps under ``NEURONA_KERNELS=choice``."""
    with kernels_choice(choice):
        start = time.perf_counter()
        for _ in range(steps):
            opt.apply(variables)
        return (time.perf_counter() - start) / steps


def contenders(opt_name, revision):
    """``[(label, make_optimizer, NEURONA_KERNELS)]``: each makes a fresh optimizer for a list of variables."""
    cls, module, kwargs = OPTIMIZERS[opt_name]
    rows = [("kernels", lambda vs: getattr(optimizers, cls)(**kwargs), "numba")]
    if revision is not None:
        rows.append(("at REV", lambda vs: getattr(revision[module], cls)(**kwargs), "numba"))
    rows.append(("reference", lambda vs: getattr(optimizers, cls)(**kwargs), "numpy"))
    if opt_name == "adam":
        rows.append(("hand NumPy", NumpyAdam, "numpy"))
    return rows


def bench(set_name, opt_name, revision, steps, repeats):
    shapes = SETS[set_name]
    rows = contenders(opt_name, revision)
    states = []
    for _, make, choice in rows:
        variables = make_variables(shapes)
        opt = make(variables)
        run_steps(opt, variables, choice, 1)  # slots created, kernels compiled or loaded from numba's cache
        states.append((opt, variables, choice))
    times = [[] for _ in rows]
    for _ in range(repeats):
        for k, (opt, variables, choice) in enumerate(states):
            times[k].append(run_steps(opt, variables, choice, steps))
    finals = []
    for _, make, choice in rows:  # 10 steps from the same start with the same gradients
        variables = make_variables(shapes)
        run_steps(make(variables), variables, choice, 10)
        finals.append([v.data for v in variables])
    medians = [float(np.median(t)) for t in times]
    base = 1 if len(rows) > 1 else 0
    total = sum(math.prod(s) for s in shapes)
    print(f"\n{OPTIMIZERS[opt_name][0]} on the {set_name.upper()}'s variables ({total} float32 values), "
          f"{steps} steps x {repeats} rounds; ratio to {rows[base][0]}")
    for (label, _, _), med, final in zip(rows, medians, finals):
        drift = max(float(np.abs(a - b).max()) for a, b in zip(final, finals[0]))
        print(f"  {label:<10} {med * 1e6:9.1f} us/step  ratio {med / medians[base]:6.3f}  "
              f"max |w - w_kernels| after 10 steps {drift:.1e}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", metavar="REV", help="also time the optimizers of this git revision")
    parser.add_argument("--steps", type=int, default=2000, help="steps per round on the MLP (a tenth on the CNN)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--sets", nargs="+", choices=sorted(SETS), default=["mlp", "cnn"])
    parser.add_argument("--optimizers", nargs="+", choices=sorted(OPTIMIZERS), default=["adam", "adadelta"])
    args = parser.parse_args()
    # every contender runs with the allocator tuned, as Neurona's fit tunes it (backend/allocator.py)
    nr.backend.allocator.tune()
    with tempfile.TemporaryDirectory() as folder:
        revision = load_revision(args.against, folder) if args.against else None
        print(f"threads: {nr.backend.parallel.num_threads()}" + (f"; REV = {args.against}" if args.against else ""))
        for set_name in args.sets:
            for opt_name in args.optimizers:
                steps = args.steps if set_name == "mlp" else max(1, args.steps // 10)
                bench(set_name, opt_name, revision, steps, args.repeats)


if __name__ == "__main__":
    main()
