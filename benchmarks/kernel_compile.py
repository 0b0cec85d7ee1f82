"""What the compiled kernels cost before they pay: numba's import, first-call compilation (cold and cached),
and the first training steps, beside the NumPy reference kernels, each in fresh interpreters.

    python benchmarks/kernel_compile.py [--rounds 3]

Each round starts, in turn, one interpreter per setting:

- ``numpy``: ``NEURONA_KERNELS=numpy`` (numba never imported);
- ``numba cold``: ``NEURONA_KERNELS=numba`` with an empty numba cache (``NUMBA_CACHE_DIR`` a new folder), so
  every kernel the steps use is compiled;
- ``numba cached``: the same cache folder again, so the kernels are loaded from numba's cache.

In each it times ``import neurona``, then the first and second training steps (``model.train_step`` on a batch
of 128) of the MNIST MLP (784-128-10, Adam) and of the Keras MNIST CNN (examples/mnist_cnn.py: two convolutions,
max pooling, dropout, two dense layers, Adadelta) on random data, and, separately, the first and second steps
float64 (gradcheck's dtype, a second set of compiled signatures) of the CNN. Medians over the rounds.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PROBE = r"""
import json, sys, time
t0 = time.perf_counter()
import numpy as np
import neurona as nr
from neurona import layers, models, optimizers
t_import = time.perf_counter() - t0
sys.path.insert(0, sys.argv[1] + "/examples")
import mnist_cnn
report = {"import": t_import}

def steps(name, model, x, y):
    for i in (1, 2):
        t = time.perf_counter()
        model.train_step(x, y)
        report[f"{name} step {i}"] = time.perf_counter() - t

rng = np.random.default_rng(0)
nr.seed(0)
mlp = models.Sequential([layers.Input((784,)), layers.Dense(128, activation="relu"),
                         layers.Dense(10, activation="softmax")])
mlp.compile(optimizer=optimizers.Adam(), loss="categorical_crossentropy", metrics=["accuracy"])
y = np.eye(10, dtype="float32")[rng.integers(0, 10, 128)]
steps("mlp", mlp, rng.random((128, 784), dtype="float32"), y)
cnn = mnist_cnn.build_model()
steps("cnn", cnn, rng.random((128, 28, 28, 1), dtype="float32"), y)
nr.backend.set_floatx("float64")
cnn64 = mnist_cnn.build_model()
steps("cnn float64", cnn64, rng.random((128, 28, 28, 1)), y.astype("float64"))
report["implementation"] = nr.backend.kernels.implementation()
print(json.dumps(report))
"""


def run(env):
    result = subprocess.run([sys.executable, "-c", PROBE, HERE], capture_output=True, text=True, check=True,
                            env={**os.environ, "PYTHONPATH": HERE, **env}, cwd=HERE)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results = {"numpy": [], "numba cold": [], "numba cached": []}
    for r in range(args.rounds):
        with tempfile.TemporaryDirectory(prefix="numba-cache-") as cache:
            results["numpy"].append(run({"NEURONA_KERNELS": "numpy"}))
            results["numba cold"].append(run({"NEURONA_KERNELS": "numba", "NUMBA_CACHE_DIR": cache}))
            results["numba cached"].append(run({"NEURONA_KERNELS": "numba", "NUMBA_CACHE_DIR": cache}))
        firsts = "  ".join(f"{k}: cnn step 1 {v[-1]['cnn step 1']:.2f} s" for k, v in results.items())
        print(f"round {r + 1}: {firsts}", flush=True)
    keys = [k for k in results["numpy"][0] if k != "implementation"]
    print(f"\nmedian seconds over {args.rounds} rounds (python {sys.version.split()[0]}):")
    print(f"{'':22s}" + "".join(f"{name:>14s}" for name in results))
    for key in keys:
        print(f"{key:22s}" + "".join(f"{statistics.median(r[key] for r in runs):14.3f}" for runs in results.values()))
    print("implementations: " + ", ".join(f"{k}={v[0]['implementation']}" for k, v in results.items()))


if __name__ == "__main__":
    main()
