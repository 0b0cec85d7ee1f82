"""One convolution layer, forward and backward, beside PyTorch's CPU build in the same run.

Times ``ops.conv2d(x, w, bias=b, activation="relu")`` (forward, then backward
to the input, kernel and bias) on the MNIST CNN's two convolutions with the
compiled kernels and with the NumPy references (``NEURONA_KERNELS=numba`` and
``numpy``, switched in this process), and PyTorch's ``relu(conv2d(x, w, b))``
on the same data (NCHW, its layout); the three are timed in turn, round after
round, and the medians and ratios printed. ``--no-fuse`` times the unfused
``relu(conv2d(...))`` instead.

    python benchmarks/conv_layer.py [--batch 128] [--reps 5] [--rounds 3] [--no-fuse]
"""

import argparse
import os
import statistics

import numpy as np
from timing import median_ms

import neurona as nr
from neurona import ops
from neurona.backend import kernels

LAYERS = {"conv1 (28x28x1 -> 32)": ((28, 28, 1), 32), "conv2 (26x26x32 -> 64)": ((26, 26, 32), 64)}


def neurona_step(x, w, b, g, fuse, input_grad):
    def run():
        xt = nr.Tensor(x, requires_grad=input_grad)
        wt, bt = nr.Tensor(w, requires_grad=True), nr.Tensor(b, requires_grad=True)
        out = ops.conv2d(xt, wt, bias=bt, activation="relu") if fuse else ops.relu(ops.conv2d(xt, wt, bias=bt))
        out.backward(g)

    def forward():
        with nr.no_grad():
            ops.conv2d(nr.Tensor(x), nr.Tensor(w), bias=nr.Tensor(b), activation="relu")

    return forward, run


def torch_step(x, w, b, g, input_grad):
    import torch

    tx = torch.from_numpy(x.transpose(0, 3, 1, 2).copy()).requires_grad_(input_grad)
    tw = torch.from_numpy(w.transpose(3, 2, 0, 1).copy()).requires_grad_(True)
    tb = torch.from_numpy(b).requires_grad_(True)
    tg = torch.from_numpy(g.transpose(0, 3, 1, 2).copy())

    def run():
        torch.relu(torch.nn.functional.conv2d(tx, tw, tb)).backward(tg)

    def forward():
        with torch.no_grad():
            torch.relu(torch.nn.functional.conv2d(tx, tw, tb))

    return forward, run


def with_kernels(choice, fn):
    def run():
        os.environ["NEURONA_KERNELS"] = choice
        fn()
    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-fuse", action="store_true")
    args = parser.parse_args()
    # every framework in this process runs with the allocator tuned, as Neurona's fit tunes it (backend/allocator.py)
    nr.backend.allocator.tune()
    import torch

    choices = ["numba", "numpy"] if kernels.numba_available() else ["numpy"]
    print(f"batch {args.batch}; PyTorch {torch.__version__} ({torch.get_num_threads()} threads); "
          f"medians of {args.rounds} rounds of {args.reps} calls, ms")
    rng = np.random.default_rng(0)
    for name, ((h, w_, c), filters) in LAYERS.items():
        x = rng.standard_normal((args.batch, h, w_, c), dtype=np.float32)
        w = rng.standard_normal((3, 3, c, filters), dtype=np.float32) * 0.1
        b = rng.standard_normal(filters, dtype=np.float32)
        g = rng.standard_normal((args.batch, h - 2, w_ - 2, filters), dtype=np.float32)
        input_grad = c > 1  # the first layer's input is the data: no gradient, as in training
        nf, nstep = neurona_step(x, w, b, g, not args.no_fuse, input_grad)
        tf, tstep = torch_step(x, w, b, g, input_grad)
        timed = {f"neurona {k} {part}": with_kernels(k, fn) for k in choices
                 for part, fn in (("forward", nf), ("forward+backward", nstep))}
        timed.update({"pytorch forward": tf, "pytorch forward+backward": tstep})
        times = {label: [] for label in timed}
        for _ in range(args.rounds):
            for label, fn in timed.items():
                times[label].append(median_ms(fn, args.reps, warmup=1))
        med = {label: statistics.median(t) for label, t in times.items()}
        print(name)
        for label, ms in med.items():
            part = label.rsplit(" ", 1)[1]
            print(f"  {label:36s} {ms:7.1f}   ratio to pytorch {ms / med['pytorch ' + part]:.2f}")
    os.environ.pop("NEURONA_KERNELS", None)


if __name__ == "__main__":
    main()
