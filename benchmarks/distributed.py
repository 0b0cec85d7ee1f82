"""Data-parallel training on this machine (1 and 2 MPI processes), loopback allreduce, and a scaling model.

Measures, with ``mpirun`` from the mpich wheel (``pip install 'neurona[mpi]'``):

1. samples per second of ``fit`` for the MNIST MLP (784-128-10, Adam) and the Keras MNIST CNN
   (examples/mnist_cnn.py, Adadelta) at a global batch of 128: one plain process (no ``distribute``), and
   ``DataParallel()`` with 1 and 2 processes (each of the 2 gets one of the machine's 2 cores), with the
   gradient allreduce's share of the step time;
2. the allreduce of float32 buffers of 8 B to 64 MiB between 2 processes over loopback (shared memory), fitted
   as ``t(n) = 2 alpha + n / beta`` (a 2-process ring: one latency and the whole buffer each way);
3. a *model*, not a measurement, of the speed-up for 2 to 64 processes, one per machine, each like this
   one: a step costs the measured compute time of a local batch of ``128 / N`` rows (strong scaling: the
   global batch stays 128) or of 128 rows (weak scaling: the global batch grows to ``128 N``), plus a ring
   allreduce of the gradient, ``2 (N - 1) alpha + 2 (N - 1) / N * bytes / beta``, with alpha and beta from (2),
   and again with an assumed 10 Gb/s Ethernet (alpha 25 us, beta 1.1 GB/s) for machines on a network.

    NEURONA_DATA_DIR=../shared/data python benchmarks/distributed.py [--samples 12800] [--rounds 2]
"""

import argparse
import json
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "examples"))
BATCH = 128
ETHERNET = (25e-6, 1.1e9)  # assumed: alpha (s), beta (bytes/s) of 10 Gb/s Ethernet with MPI over TCP


# ---- the models -------------------------------------------------------------------------------------------
def build(name):
    import neurona as nr
    from neurona import layers, models

    nr.seed(0)
    if name == "mlp":
        model = models.Sequential([layers.Input((784,)), layers.Dense(128, activation="relu"),
                                   layers.Dense(10, activation="softmax")])
        model.compile(optimizer=nr.optimizers.Adam(2e-3), loss="categorical_crossentropy", metrics=["accuracy"])
        return model
    import mnist_cnn  # examples/mnist_cnn.py: the Keras example's model, compiled as there

    return mnist_cnn.build_model()


def load(name, samples):
    from neurona import datasets, utils

    (x, y), _ = datasets.mnist.load_data()
    x = x[:samples].astype(np.float32) / 255.0
    x = x.reshape(len(x), -1) if name == "mlp" else x[..., None]
    return x, utils.to_categorical(y[:samples], 10)


# ---- worker modes (run under mpirun) ------------------------------------------------------------------------
def worker_fit(args):
    """One timed epoch over ``--samples`` rows after a warm-up; rank 0 prints a JSON line."""
    from neurona import distributed

    x, y = load(args.model, args.samples)
    model = build(args.model)
    strategy = distributed.DataParallel() if args.distribute else None
    model.fit(x[:BATCH * 4], y[:BATCH * 4], batch_size=BATCH, epochs=1, verbose=0, distribute=strategy)  # warm-up
    start = time.perf_counter()
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, distribute=strategy)
    seconds = time.perf_counter() - start
    steps = -(-len(x) // BATCH)
    grad_bytes = sum(w.data.nbytes for w in model.trainable_weights)
    if distributed.rank() == 0:
        allreduce = strategy.allreduce_seconds / max(strategy.allreduce_calls, 1) if strategy else 0.0
        print(json.dumps({"samples_per_s": len(x) / seconds, "step_ms": 1e3 * seconds / steps,
                          "allreduce_ms": 1e3 * allreduce, "gradient_bytes": grad_bytes,
                          "processes": distributed.size()}), flush=True)


def worker_allreduce(args):
    """Median time of an in-place allreduce of float32 buffers of 2**k bytes; rank 0 prints JSON."""
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    times = {}
    for power in range(3, 27):
        buffer = np.ones((2 ** power) // 4, dtype=np.float32)
        repeats = max(5, min(200, 2 ** 22 // 2 ** power * 20))
        samples = []
        for _ in range(3):
            comm.Barrier()
            start = time.perf_counter()
            for _ in range(repeats):
                comm.Allreduce(MPI.IN_PLACE, buffer, op=MPI.SUM)
            samples.append((time.perf_counter() - start) / repeats)
        times[2 ** power] = statistics.median(samples)
    if comm.Get_rank() == 0:
        print(json.dumps(times), flush=True)


def worker_compute(args):
    """The step time of one process for local batches of 128 / N rows, N = 1 ... 64 (rank 0 prints JSON)."""
    x, y = load(args.model, 4096)
    model = build(args.model)
    out = {}
    for n in (1, 2, 4, 8, 16, 32, 64):
        rows = BATCH // n
        batch = (x[:rows], y[:rows])
        for _ in range(3):
            model.train_step(batch)
        samples = []
        for _ in range(args.rounds * 3):
            start = time.perf_counter()
            for _ in range(10):
                model.train_step(batch)
            samples.append((time.perf_counter() - start) / 10)
        out[n] = statistics.median(samples)
    print(json.dumps(out), flush=True)


# ---- the driver -------------------------------------------------------------------------------------------
def launch(mode, processes=None, extra=()):
    command = [sys.executable, __file__, mode, *extra]
    if processes:
        mpirun = shutil.which("mpirun", path=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
        command = [mpirun, "-n", str(processes), "-launcher", "fork", *command]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")
    return json.loads([line for line in result.stdout.splitlines() if line.startswith("{")][-1])


def fit_alpha_beta(times):
    """Least squares of ``t = 2 alpha + n / beta`` over the measured sizes (weighted to relative error)."""
    sizes = np.array(sorted(times), dtype=float)
    t = np.array([times[s] for s in sorted(times)])
    design = np.stack([np.full_like(sizes, 2.0), sizes], axis=1) / t[:, None]
    (alpha, inverse_beta), *_ = np.linalg.lstsq(design, np.ones_like(t), rcond=None)
    return alpha, 1.0 / inverse_beta


def ring(n, nbytes, alpha, beta):
    return 0.0 if n == 1 else 2 * (n - 1) * alpha + 2 * (n - 1) / n * nbytes / beta


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", nargs="?", default="all", choices=["all", "fit", "allreduce", "compute"])
    parser.add_argument("--model", default="mlp", choices=["mlp", "cnn"])
    parser.add_argument("--samples", type=int, default=12800, help="rows of the timed epoch (default 12800)")
    parser.add_argument("--rounds", type=int, default=2, help="repeats of each timed run (default 2)")
    parser.add_argument("--distribute", action="store_true")
    args = parser.parse_args()
    if args.mode != "all":
        {"fit": worker_fit, "allreduce": worker_allreduce, "compute": worker_compute}[args.mode](args)
        return
    print(f"Data-parallel benchmark: global batch {BATCH}, {args.samples} MNIST rows per timed epoch, "
          f"{os.cpu_count()} CPUs, best of {args.rounds} rounds")
    times = launch("allreduce", 2)
    alpha, beta = fit_alpha_beta(times)
    print(f"\nloopback allreduce, 2 processes: alpha {alpha * 1e6:.1f} us, beta {beta / 1e9:.2f} GB/s "
          f"(8 B: {times['8'] * 1e6:.1f} us; 1 MiB: {times[str(2**20)] * 1e6:.0f} us; "
          f"64 MiB: {times[str(2**26)] * 1e3:.1f} ms)")
    for name in ("mlp", "cnn"):
        rows = {}
        for label, processes, distribute in (("1 process, no distribute", None, False),
                                             ("DataParallel, 1 process", 1, True),
                                             ("DataParallel, 2 processes", 2, True)):
            extra = ["--model", name, "--samples", str(args.samples)] + (["--distribute"] if distribute else [])
            runs = [launch("fit", processes, extra) for _ in range(args.rounds)]
            rows[label] = max(runs, key=lambda r: r["samples_per_s"])
        base = rows["1 process, no distribute"]["samples_per_s"]
        grad = rows["DataParallel, 2 processes"]["gradient_bytes"]
        print(f"\n{name.upper()} ({grad / 2**20:.2f} MiB of float32 gradients per step)")
        print(f"  {'run':28s} {'samples/s':>10s} {'vs plain':>9s} {'step ms':>8s} {'allreduce ms':>13s}")
        for label, r in rows.items():
            print(f"  {label:28s} {r['samples_per_s']:10.0f} {r['samples_per_s'] / base:9.2f} "
                  f"{r['step_ms']:8.2f} {r['allreduce_ms']:13.3f}")
        compute = {int(k): v for k, v in launch("compute", None, ["--model", name, "--rounds",
                                                                   str(args.rounds)]).items()}
        print("  model, one process per machine like this one (compute measured at 128/N rows; "
              "allreduce modelled):")
        print(f"  {'N':>4s} {'strong, loopback':>17s} {'strong, 10GbE':>14s} {'weak, loopback':>15s} "
              f"{'weak, 10GbE':>12s}")
        for n in (2, 4, 8, 16, 32, 64):
            cells = []
            for scaling in ("strong", "weak"):
                for link in ((alpha, beta), ETHERNET):
                    local = compute[n] if scaling == "strong" else compute[1]
                    step = local + ring(n, grad, *link)
                    cells.append(compute[1] / step * (1 if scaling == "strong" else n))
            print(f"  {n:4d} {cells[0]:16.2f}x {cells[1]:13.2f}x {cells[2]:14.2f}x {cells[3]:11.2f}x")


if __name__ == "__main__":
    main()
